"""Counts done in PostGIS equal the Python counts of the store's case frame.

The bundled Shichahai geography (UTM 50N) and the tiny geography moved to Seattle (UTM 10N)
are loaded into a throwaway PostGIS database with the same cases; grid cells, linear bins and
street segments counted in SQL must equal what the frame gives, for several filters, and the
hotspot layers and the report's map must come out the same on both paths.
"""

from __future__ import annotations

import datetime as dt
import uuid

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from gis.analytics import report_html
from gis.analytics.counts import FrameCounts
from gis.analytics.grid import GridSpec
from gis.analytics.kpis import DISCARDED_STATES
from gis.analytics.selection import CaseFilter, select_cases
from gis.cases.categories import load_references
from gis.cases.intake import validate_record
from gis.geography.crs import WGS84, to_metric
from gis.geography.layers import load_bundled_geography, load_geography
from gis.services import HotspotRequest, ReportRequest, hotspot_layer, produce_report
from gis.services.hotspots import database_counts
from gis.store.pg_counts import PostGISCaseCounts
from gis.store.pg_spatial import PostGISSpatial
from gis.store.postgis import PostGISStore
from tests.hotspots.anywhere import geography_at

pytestmark = pytest.mark.postgis

TZ = "Asia/Shanghai"
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
CATS = ["C01", "C04", "C07", "C09"]


@pytest.fixture(scope="module", params=["shichahai", "seattle"])
def loaded(request, pg_cluster, tmp_path_factory):
    """A PostGIS store holding the geography's layers and ~500 cases inside it."""
    if request.param == "shichahai":
        geo = load_bundled_geography()
    else:
        geo = load_geography(geography_at(tmp_path_factory.mktemp("sea") / "sea", -122.335, 47.6))
    url = pg_cluster.create_database(f"h_{uuid.uuid4().hex[:12]}")
    refs = load_references()
    store = PostGISStore(url, refs=refs)
    PostGISSpatial(store).load_geography(geo)
    _add_cases(store, refs, geo)
    yield store, geo
    store.close()


def _add_cases(store, refs, geo, n: int = 500) -> None:
    rng = np.random.default_rng(11)
    minx, miny, maxx, maxy = geo.boundary.total_bounds
    xs, ys = rng.uniform(minx, maxx, 3 * n), rng.uniform(miny, maxy, 3 * n)
    # a cluster too, so that Gi* finds something
    cx, cy = minx + 0.3 * (maxx - minx), miny + 0.6 * (maxy - miny)
    xs[: n // 3] = cx + rng.normal(0, 40, n // 3)
    ys[: n // 3] = cy + rng.normal(0, 40, n // 3)
    keep = shapely.contains_xy(geo.boundary.union_all().buffer(-5.0), xs, ys)
    lon, lat = Transformer.from_crs(geo.crs, WGS84, always_xy=True).transform(
        xs[keep][:n], ys[keep][:n]
    )
    to_store = Transformer.from_crs(WGS84, "EPSG:32650", always_xy=True)
    sx, sy = to_store.transform(lon, lat)
    area = shapely.box(sx.min() - 100, sy.min() - 100, sx.max() + 100, sy.max() + 100)
    start = pd.Timestamp("2026-03-01", tz=TZ)
    reports = [
        validate_record(
            {
                "report_id": f"H{i:04d}",
                "category": CATS[i % len(CATS)],
                "lon": float(lon[i]),
                "lat": float(lat[i]),
                "reported_at": (
                    start + pd.Timedelta(hours=int(rng.integers(0, 24 * 90)))
                ).isoformat(),
            },
            refs=refs,
            now=NOW,
            area=area,
        )
        for i in range(len(lon))
    ]
    store.add_reports(reports, received_by="test")
    with store._tx() as cur:  # rejected and duplicate reports; stored segments, one unknown
        seg = str(geo.segments["segment_id"].iloc[3])
        cur.execute("UPDATE cases SET state = 'rejected' WHERE case_id LIKE '%%7'")
        cur.execute("UPDATE cases SET state = 'duplicate' WHERE case_id LIKE '%%3'")
        cur.execute("UPDATE cases SET segment_id = %s WHERE case_id LIKE '%%11'", (seg,))
        cur.execute("UPDATE cases SET segment_id = 'ghost' WHERE case_id LIKE '%%22'")


FILTERS = {
    "all": (CaseFilter(), ()),
    "window": (CaseFilter(start="2026-04-01", end="2026-05-01"), ()),
    "live in window": (CaseFilter(start="2026-03-15", end="2026-05-20"), DISCARDED_STATES),
    "categories and hours": (CaseFilter(categories=("C04", "C09"), hours=(8, 9, 20, 21, 22)), ()),
    "weekends and holidays": (
        CaseFilter(day_type="weekend_holiday", holidays=frozenset({dt.date(2026, 4, 6)})),
        (),
    ),
    "weekdays": (
        CaseFilter(day_type="weekday", holidays=frozenset({dt.date(2026, 4, 6)})),
        ("rejected",),
    ),
}


def _frame_counts(store, geo, flt, exclude) -> FrameCounts:
    frame = to_metric(store.cases_frame(), crs=geo.crs, source="cases")
    frame = frame[~frame["state"].isin(list(exclude))]
    return FrameCounts(select_cases(frame, flt))


@pytest.mark.parametrize("name", list(FILTERS))
def test_sql_counts_equal_python_counts(loaded, name):
    store, geo = loaded
    flt, exclude = FILTERS[name]
    py = _frame_counts(store, geo, flt, exclude)
    db = PostGISCaseCounts(store, flt, crs=geo.crs, exclude_states=exclude)
    assert db.crs == py.crs == geo.crs
    assert db.total() == py.total() > 20
    assert db.span() == py.span()
    assert db.extent() == pytest.approx(py.extent(), abs=1e-6)
    bounds = tuple(geo.boundary.total_bounds)
    for cell in (100.0, 37.0):
        grid = GridSpec.covering(bounds, cell, crs=geo.crs)
        assert np.array_equal(db.per_cell(grid), py.per_cell(grid))
    # a grid smaller than the area: cases outside are not counted, and not binned
    minx, miny, maxx, maxy = bounds
    part = GridSpec.covering((minx, miny, (minx + maxx) / 2, maxy), 20.0, crs=geo.crs)
    assert np.array_equal(db.per_cell(part), py.per_cell(part))
    got, n_db = db.binned(part)
    want, n_py = py.binned(part)
    assert n_db == n_py and 0 < n_db < py.total()
    # the frame reaches the geography's CRS through the store's (EPSG:32650), the database
    # in one step: positions agree within a micrometre, bin weights within 1e-7
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-7)
    assert got.sum() == pytest.approx(n_db, rel=1e-12)
    assert np.array_equal(db.per_segment(geo.segments), py.per_segment(geo.segments))


def test_layers_and_report_map_are_the_same_from_sql(loaded, monkeypatch):
    store, geo = loaded
    frame = store.cases_frame()
    end = pd.Timestamp("2026-05-31 12:00", tz=TZ)
    for kind in ("density", "gistar"):
        req = HotspotRequest(kind, 60, end)
        py = hotspot_layer(geo, frame, req)
        db = hotspot_layer(geo, frame, req, store=store)
        if kind == "density":
            assert db.n_cases == py.n_cases > 0 and db.months == py.months
            np.testing.assert_allclose(db.values, py.values, rtol=1e-6, atol=1e-9)
        else:
            assert db.gdf["count"].tolist() == py.gdf["count"].tolist()
            assert db.gdf["gi_class"].tolist() == py.gdf["gi_class"].tolist()
            assert db.counts == py.counts and db.n_significant > 0
    seen: list[object] = []
    real = report_html.render_html

    def spy(kpis, **kw):
        seen.append(kw.get("surface"))
        return real(kpis, **kw)

    monkeypatch.setattr(report_html, "render_html", spy)
    request = ReportRequest("monthly", "2026-04-10", lang="zh", with_scorecard=False)
    produce_report(geo, frame, request, store=store)
    produced = produce_report(geo, frame, request, store=store, cases_are_the_store=True)
    py_map, db_map = seen
    assert db_map.n_cases == py_map.n_cases == produced.kpis.reported > 0
    np.testing.assert_allclose(db_map.values, py_map.values, rtol=1e-6, atol=1e-9)


def test_only_postgis_counts_in_the_database(loaded, tmp_path):
    from gis.store.geopackage import GeoPackageStore

    store, geo = loaded
    assert isinstance(database_counts(store, geo, CaseFilter()), PostGISCaseCounts)
    assert database_counts(None, geo, CaseFilter()) is None
    gpkg = GeoPackageStore(str(tmp_path / "x.gpkg"))
    assert database_counts(gpkg, geo, CaseFilter()) is None


def test_segments_of_another_geography_are_refused(loaded):
    from gis.errors import StoreError

    store, geo = loaded
    db = PostGISCaseCounts(store, CaseFilter(), crs=geo.crs)
    other = geo.segments.iloc[:-1]
    with pytest.raises(StoreError, match="load-geography"):
        db.per_segment(other)


def test_counts_see_only_their_own_subdistrict(loaded):
    """Another subdistrict's session counts none of these cases, on no path."""
    store, geo = loaded
    other = store.scoped("other_sub")
    db = PostGISCaseCounts(other, CaseFilter(), crs=geo.crs)
    grid = GridSpec.covering(tuple(geo.boundary.total_bounds), 100.0, crs=geo.crs)
    assert PostGISCaseCounts(store, CaseFilter(), crs=geo.crs).per_cell(grid).sum() > 0
    assert db.total() == 0 and db.per_cell(grid).sum() == 0
    assert db.binned(grid)[1] == 0
    from gis.errors import StoreError

    with pytest.raises(StoreError, match="load-geography"):  # its geography is not loaded
        db.per_segment(geo.segments)


def test_hotspots_page_counts_in_postgis(pg_cluster, tmp_path, monkeypatch):
    """The app on a PostGIS store (Seattle geography): the leader's density and Gi* layers
    are counted in the database, and equal what the frame gives."""
    from gis.access.db import PostgresAccessDB
    from gis.access.users import DEMO_PASSWORDS, StoreUserRepository, seed_demo_users
    from gis.services import hotspots as service
    from tests.app.apptest_helpers import goto, log_in, new_app

    folder = geography_at(tmp_path / "sea", -122.335, 47.6)
    geo = load_geography(folder)
    url = pg_cluster.create_database(f"app_{uuid.uuid4().hex[:12]}")
    refs = load_references()
    store = PostGISStore(url, refs=refs)
    PostGISSpatial(store).load_geography(geo)
    _add_cases(store, refs, geo, n=120)
    with store._tx() as cur:  # into the page's window: the last weeks
        cur.execute("UPDATE cases SET reported_at = now() - (random() * interval '20 days')")
    frame = store.cases_frame()
    store.close()
    db = PostgresAccessDB(url)
    seed_demo_users(StoreUserRepository(db), list(geo.zones["zone_id"]), rounds=4)
    db.close()
    for k, v in {
        "PATROL_DATA_DIR": str(folder),
        "PATROL_DATABASE_URL": url,
        "PATROL_LANG": "zh",
        "PATROL_BASEMAP": "none",
    }.items():
        monkeypatch.setenv(k, v)
    made: list[object] = []
    real = service.database_counts

    def spy(*a, **kw):
        out = real(*a, **kw)
        made.append(out)
        return out

    monkeypatch.setattr(service, "database_counts", spy)
    import gis.services

    results: dict[str, object] = {}
    real_layer = gis.services.hotspot_layer

    def layer_spy(g, cases, request, **kw):
        out = real_layer(g, cases, request, **kw)
        results[request.kind] = (out, real_layer(g, cases, request))  # SQL and Python
        return out

    monkeypatch.setattr(gis.services, "hotspot_layer", layer_spy)
    at = log_in(new_app(), "leader", DEMO_PASSWORDS["leader"])
    goto(at, "hotspots")
    for kind in ("density", "gistar"):
        at.radio(key="hotspots_layer").set_value(kind).run()
        assert not at.exception, at.exception
        assert not at.error, [e.value for e in at.error]
    assert any(isinstance(m, PostGISCaseCounts) for m in made)
    sql, py = results["density"]
    assert sql.n_cases == py.n_cases == len(frame)
    np.testing.assert_allclose(sql.values, py.values, rtol=1e-6, atol=1e-9)
    sql, py = results["gistar"]
    assert sql.gdf["count"].tolist() == py.gdf["count"].tolist()
    assert sql.gdf["count"].sum() == len(frame)
