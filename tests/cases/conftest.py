"""Fixtures for the cases area: a street grid inside Shichahai, reports, and both stores."""

from __future__ import annotations

import datetime as dt

import pytest
from pyproj import Transformer

from gis.cases.intake import validate_record
from gis.geography.network import grid_segments
from gis.localtime import LOCAL_TZ as TZ
from gis.store.geopackage import GeoPackageStore

#: The grid origin used by the corpus files (tests/cases/corpus/make_corpus.py).
ORIGIN = (446500.0, 4420300.0)
ZONE_W = "110102012001001"
ZONE_E = "110102012001002"
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=TZ)
_TO_WGS = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)


def lonlat(dx: float, dy: float) -> tuple[float, float]:
    """WGS 84 of a point ``dx``, ``dy`` metres from the grid origin."""
    lon, lat = _TO_WGS.transform(ORIGIN[0] + dx, ORIGIN[1] + dy)
    return float(lon), float(lat)


@pytest.fixture
def now():
    return NOW


@pytest.fixture(scope="session")
def segments():
    """5×5 cells of 100 m; west half zone W, east half zone E, all on the scenic front."""
    gdf = grid_segments(5, 5, 100.0, origin=ORIGIN)
    mid_x = gdf.geometry.centroid.x
    gdf["zone_id"] = [ZONE_W if x < ORIGIN[0] + 250 else ZONE_E for x in mid_x]
    return gdf


@pytest.fixture
def ten_reports(refs):
    """Ten valid reports on the grid: categories, sources, times and zones vary."""
    spec = [
        ("C04", 50, 0, "2026-05-01 17:20", "patrol"),
        ("C07", 100, 150, "2026-05-01 23:40", "hotline_12345"),
        ("C01", 250, 300, "2026-04-20 09:15", "inspection"),
        ("C09", 400, 420, "2026-05-02 15:00", "video"),
        ("C21", 330, 100, "2026-05-03 08:00", "complaint"),
        ("C12", 0, 260, "2026-05-03 10:30", "patrol"),
        ("C07", 150, 500, "2026-05-20 22:10", "hotline_12345"),
        ("C29", 500, 50, "2026-05-25 16:00", "video"),
        ("C03", 20, 400, "2026-05-28 17:00", "patrol"),
        ("C19", 460, 300, "2026-05-30 11:00", "inspection"),
    ]
    out = []
    for i, (cat, dx, dy, t, src) in enumerate(spec, start=1):
        lon, lat = lonlat(dx, dy)
        out.append(
            validate_record(
                {
                    "report_id": f"T{i:02d}",
                    "category": cat,
                    "lon": lon,
                    "lat": lat,
                    "reported_at": t,
                    "source": src,
                    "reporter": f"r{i}",
                    "description": f"report {i}",
                },
                refs=refs,
                now=NOW,
            )
        )
    return out


@pytest.fixture(params=["geopackage", pytest.param("postgis", marks=pytest.mark.postgis)])
def store_factory(request, tmp_path, refs):
    """Opens stores on one shared location: call it twice for two concurrent users."""
    opened = []
    if request.param == "geopackage":
        target = str(tmp_path / "patrol.gpkg")

        def make():
            s = GeoPackageStore(target, refs=refs)
            opened.append(s)
            return s
    else:
        from gis.store.postgis import PostGISStore

        target = request.getfixturevalue("pg_url")

        def make():
            s = PostGISStore(target, refs=refs)
            opened.append(s)
            return s

    make.backend = request.param  # type: ignore[attr-defined]
    make.target = target  # type: ignore[attr-defined]
    yield make
    for s in opened:
        s.close()


@pytest.fixture
def store(store_factory):
    return store_factory()
