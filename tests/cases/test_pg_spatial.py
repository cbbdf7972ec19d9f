"""Spatial SQL on PostGIS gives the same answers as the in-memory geopandas code, on the
bundled Shichahai geography."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer

from gis.analytics.counts import case_segments
from gis.analytics.grid import GridSpec
from gis.cases.intake import validate_record
from gis.cli import main
from gis.geography.layers import load_bundled_geography
from gis.geography.place import metric_point, place_at
from gis.store.pg_spatial import PostGISSpatial
from gis.store.postgis import PostGISStore

from .conftest import NOW

pytestmark = pytest.mark.postgis

CATS = ["C01", "C03", "C04", "C07", "C09", "C12"]


@pytest.fixture(scope="module")
def geo():
    return load_bundled_geography()


@pytest.fixture
def loaded(pg_url, refs, geo, capsys):
    assert main(["db", "load-geography", "--url", pg_url]) == 0
    assert "segments: 651" in capsys.readouterr().out
    store = PostGISStore(pg_url, refs=refs)
    yield store, PostGISSpatial(store)
    store.close()


def _sample_points(geo, n: int = 18) -> list[tuple[float, float]]:
    """A regular grid over the boundary (and a margin), POIs, and points beside streets."""
    minx, miny, maxx, maxy = geo.boundary.total_bounds
    xs = np.linspace(minx - 150, maxx + 150, n)
    ys = np.linspace(miny - 150, maxy + 150, n)
    pts = [(float(x), float(y)) for x in xs for y in ys]
    pts += [(p.x, p.y) for p in geo.pois.geometry]
    mids = geo.segments.geometry.interpolate(0.5, normalized=True)
    pts += [(p.x + 7.0, p.y - 3.0) for p in mids.iloc[::25]]
    return pts


def test_what_is_here_equals_place_at(loaded, geo):
    _, spatial = loaded
    to_wgs = Transformer.from_crs(geo.crs, "EPSG:4326", always_xy=True)
    checked = inside = 0
    for x, y in _sample_points(geo):
        lon, lat = to_wgs.transform(x, y)
        mem = place_at(geo, lon, lat)
        _, _, pt = metric_point(lon, lat, crs=geo.crs)
        db = spatial.place_at(pt.x, pt.y)
        assert db.inside == mem.inside, (x, y)
        assert (db.front_id, db.zone_id) == (mem.front_id, mem.zone_id), (x, y)
        if mem.distance_m is None:
            assert db.segment_id is None, (x, y)
        else:
            assert db.distance_m == pytest.approx(mem.distance_m, abs=0.06)
            assert db.segment_id == mem.segment_id, (x, y)
        checked += 1
        inside += mem.inside
    assert checked > 300 and 50 < inside < checked


def test_zones_of_many_points_in_one_statement(loaded, geo):
    _, spatial = loaded
    pts = _sample_points(geo)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    import shapely

    want = [geo.zone_for_point(shapely.Point(x, y)) for x, y in pts]
    got = spatial.zones_at(xs, ys)
    assert got == want and len({z for z in want if z}) >= 10


def _add_cases(store, refs, geo, n: int = 400) -> None:
    rng = np.random.default_rng(16)
    minx, miny, maxx, maxy = geo.boundary.total_bounds
    to_wgs = Transformer.from_crs(geo.crs, "EPSG:4326", always_xy=True)
    import shapely

    xs, ys = rng.uniform(minx, maxx, 3 * n), rng.uniform(miny, maxy, 3 * n)
    area = geo.boundary.union_all().buffer(-10.0)
    keep = shapely.contains_xy(area, xs, ys)
    lon, lat = to_wgs.transform(xs[keep][:n], ys[keep][:n])
    reports = [
        validate_record(
            {
                "report_id": f"S{i:04d}",
                "category": CATS[i % len(CATS)],
                "lon": float(lon[i]),
                "lat": float(lat[i]),
                "reported_at": f"2026-05-{1 + i % 28:02d} {8 + i % 12:02d}:00",
                "source": "patrol",
            },
            refs=refs,
            now=NOW,
        )
        for i in range(n)
    ]
    store.add_reports(reports, received_by="desk1")
    with store._tx() as cur:  # some cases carry a stored segment, one an unknown id
        seg = geo.segments["segment_id"].iloc[3]
        cur.execute("UPDATE cases SET segment_id = %s WHERE case_id LIKE 'S00%%'", (seg,))
        cur.execute("UPDATE cases SET segment_id = 'ghost' WHERE case_id = 'S0100'")


def _segment_counts(frame, segments, reach: float = 200.0) -> dict[str, int]:
    """case_segments' rule with ties (points beside a junction) to the lowest segment id."""
    import shapely

    ids = segments["segment_id"].to_numpy()
    sid = frame["segment_id"].astype(object).where(frame["segment_id"].isin(set(ids)))
    missing = sid.isna().to_numpy()
    tree = shapely.STRtree(segments.geometry.values)
    idx, dist = tree.query_nearest(
        frame.geometry.values[missing], return_distance=True, max_distance=reach, all_matches=True
    )
    best: dict[int, tuple[float, str]] = {}
    for i, j, d in zip(idx[0], idx[1], dist, strict=True):
        key = (round(float(d), 9), str(ids[j]))
        best[int(i)] = min(best.get(int(i), key), key)
    filled = np.full(int(missing.sum()), None, dtype=object)
    for i, (_, s) in best.items():
        filled[i] = s
    sid = sid.copy()
    sid.loc[missing] = filled
    return sid.dropna().value_counts().to_dict()


def test_segment_counts_equal_case_segments(loaded, refs, geo):
    store, spatial = loaded
    _add_cases(store, refs, geo)
    frame = store.cases_frame()
    want = _segment_counts(frame, geo.segments)
    got = spatial.segment_counts()
    assert got == want and sum(got.values()) > 300
    # case_segments itself agrees but for the cases beside a junction (ties)
    mem = case_segments(frame, geo.segments).dropna().value_counts().to_dict()
    assert sum(mem.values()) == sum(got.values())
    assert sum(abs(mem.get(k, 0) - got.get(k, 0)) for k in set(mem) | set(got)) <= 6
    # the same filters as the store's queries
    frame_c01 = store.cases_frame(category="C01")
    assert spatial.segment_counts(category="C01") == _segment_counts(frame_c01, geo.segments)


def test_grid_counts_equal_binning(loaded, refs, geo):
    store, spatial = loaded
    _add_cases(store, refs, geo)
    frame = store.cases_frame()
    spec = GridSpec.covering(tuple(geo.boundary.total_bounds), 100.0, crs=geo.crs)
    idx = spec.index_of(frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy())
    want = np.bincount(idx[idx >= 0], minlength=spec.nx * spec.ny)
    got = spatial.grid_counts(spec)
    assert got.sum() == len(frame) and np.array_equal(got, want)
    since = NOW.replace(month=5, day=15)
    sub = store.cases_frame(since=since)
    idx = spec.index_of(sub.geometry.x.to_numpy(), sub.geometry.y.to_numpy())
    want = np.bincount(idx[idx >= 0], minlength=spec.nx * spec.ny)
    assert np.array_equal(spatial.grid_counts(spec, since=since), want)


def test_queries_use_the_gist_indexes(loaded):
    store, _ = loaded
    with store._tx() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute(
            "EXPLAIN SELECT feature_id FROM geo_features WHERE layer = 'zones' "
            "AND ST_Contains(geom, ST_SetSRID(ST_MakePoint(446500, 4420300), 32650))"
        )
        plan = " ".join(r[0] for r in cur.fetchall())
    assert "geo_zones_gist" in plan


def test_load_geography_into_a_geopackage(tmp_path, capsys):
    from gis.store.geopackage import GeoPackageStore

    target = tmp_path / "x.gpkg"
    assert main(["db", "load-geography", "--url", str(target), "--subdistrict", "xinjiekou"]) == 0
    out = capsys.readouterr().out
    assert "of subdistrict xinjiekou" in out and "segments: 651" in out
    with GeoPackageStore(target, subdistrict="xinjiekou") as s:
        assert s.geography_subdistricts() == ["xinjiekou"]
        assert len(s.read_geography().segments) == 651
