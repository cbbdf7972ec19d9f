"""Fixtures for the crowd tests: the bundled places, a small synthetic feed, both stores."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gis.crowd.places import bundled_places_path, load_places
from gis.crowd.synthetic import generate_counts
from gis.localtime import LOCAL_TZ as TZ
from gis.store.geopackage import GeoPackageStore

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
#: A Saturday before the 2026 Mid-Autumn holiday (25–27 Sep) and National Day (1–7 Oct).
START = dt.datetime(2026, 9, 12, tzinfo=TZ)


@pytest.fixture(scope="session")
def places():
    return load_places(bundled_places_path(DATA))


@pytest.fixture(scope="session")
def feed(places):
    """Four weeks of 1-minute synthetic counts up to 2026-10-10 (both holidays inside)."""
    return generate_counts(places, START, dt.datetime(2026, 10, 10, tzinfo=TZ), seed=3)


@pytest.fixture(params=["geopackage", pytest.param("postgis", marks=pytest.mark.postgis)])
def store(request, tmp_path, refs):  # noqa: F811
    if request.param == "geopackage":
        s = GeoPackageStore(tmp_path / "patrol.gpkg", refs=refs)
    else:
        from gis.store.postgis import PostGISStore

        s = PostGISStore(request.getfixturevalue("pg_url"), refs=refs)
    yield s
    s.close()
