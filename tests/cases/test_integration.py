"""One path over real geography: the tiny foundation fixture always, the bundled data once present."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from gis.cases.batch import read_batch
from gis.cases.demo_history import generate_demo_history, write_demo_history
from gis.cases.snapping import locate_reports
from gis.errors import DatumError
from gis.geography.crs import wgs84_to_gcj02
from gis.geography.layers import load_geography
from gis.localtime import LOCAL_TZ as TZ
from gis.store.geopackage import GeoPackageStore
from layers.violations import violations_layer
from tests.tiny_geography import build_tiny_geography

_TO_WGS = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)
NOW = dt.datetime(2026, 6, 1, tzinfo=TZ)


SHICHAHAI = Path(__file__).resolve().parents[2] / "data" / "shichahai"


def _bundled():
    if not SHICHAHAI.is_dir():
        pytest.skip("bundled Shichahai geography (data/shichahai) is not in this checkout")
    return load_geography(SHICHAHAI)  # present but broken data must fail, not skip


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return load_geography(build_tiny_geography(tmp_path_factory.mktemp("tiny")))


def _street_points_csv(geo, path, n=20, gcj=False, seed=3):
    rng = np.random.default_rng(seed)
    segs = geo.segments.iloc[rng.choice(len(geo.segments), n, replace=True)]
    pts = shapely.line_interpolate_point(
        segs.geometry.values, rng.uniform(0.1, 0.9, n), normalized=True
    )
    lon, lat = _TO_WGS.transform(shapely.get_x(pts), shapely.get_y(pts))
    if gcj:
        lon, lat = wgs84_to_gcj02(lon, lat)
    rows = ["report_id,category,lon,lat,reported_at"]
    rows += [f"S{i},C21,{lon[i]:.7f},{lat[i]:.7f},2026-05-01 10:00" for i in range(n)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path, segs


def test_tiny_geography_snaps_main_street_reports_to_zone_polygons(tiny, tmp_path, refs):
    path, segs = _street_points_csv(tiny, tmp_path / "r.csv")
    res = read_batch(path, refs=refs, now=NOW, gdf_segments=tiny.segments)
    assert res.rejects == []
    located = locate_reports(res.reports, tiny.segments, gdf_zones=tiny.zones)
    assert [r.segment_id for r in located] == segs["segment_id"].tolist()
    assert all(r.zone_id in set(tiny.zones["zone_id"]) for r in located)
    fronts = {r.front_id for r in located}
    assert fronts <= set(tiny.fronts["front_id"])


def test_tiny_geography_detects_gcj02(tiny, tmp_path, refs):
    path, _ = _street_points_csv(tiny, tmp_path / "amap.csv", gcj=True)
    from gis.cases.intake import default_area

    with pytest.raises(DatumError, match="--datum gcj02"):
        read_batch(
            path, refs=refs, now=NOW, gdf_segments=tiny.segments, area=default_area().buffer(1500)
        )


def test_bundled_geography_end_to_end(tmp_path, refs):
    geo = _bundled()
    path, segs = _street_points_csv(geo, tmp_path / "amap.csv", gcj=True, n=30)
    with pytest.raises(DatumError, match="--datum gcj02"):
        read_batch(path, refs=refs, now=NOW, gdf_segments=geo.segments)
    ok = read_batch(path, refs=refs, now=NOW, datum="gcj02", gdf_segments=geo.segments)
    located = locate_reports(ok.reports, geo.segments, gdf_zones=geo.zones)
    assert [r.segment_id for r in located] == segs["segment_id"].tolist()
    history = generate_demo_history(geo.segments, geo.pois, seed=11, end=NOW, days=30)
    store = GeoPackageStore(tmp_path / "demo.gpkg", refs=refs)
    assert write_demo_history(store, history) == len(history.cases)
    frame = store.cases_frame()
    assert frame["zone_id"].dropna().isin(set(geo.zones["zone_id"])).all()
    assert frame["segment_id"].isin(set(geo.segments["segment_id"])).all()
    html_group = violations_layer(frame, since=NOW - dt.timedelta(days=7))
    assert html_group is not None
    store.close()
