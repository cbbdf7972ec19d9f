"""Fixtures for people: a few named staff, and both stores (GeoPackage and PostGIS)."""

from __future__ import annotations

import datetime as dt

import pytest

from gis.localtime import LOCAL_TZ as TZ
from gis.people.staff import Person
from gis.store.geopackage import GeoPackageStore

MAY3 = dt.date(2026, 5, 3)


@pytest.fixture
def four_people() -> list[Person]:
    """Four fictitious people in two teams; P04 left on 31 May."""
    return [
        Person("P01", "赵示甲", "一组", "duty_officer", "公安", "resident", "010-0000-0001"),
        Person("P02", "钱示乙", "一组", "duty_officer", "城管", "resident", "010-0000-0002"),
        Person("P03", "孙示丙", "二组", "auxiliary", "街道", "auxiliary", "010-0000-0003"),
        Person(
            "P04",
            "李示丁",
            "二组",
            "duty_officer",
            "食药",
            "resident",
            "",
            active_from=dt.date(2026, 1, 1),
            active_to=dt.date(2026, 5, 31),
        ),
    ]


@pytest.fixture(params=["geopackage", pytest.param("postgis", marks=pytest.mark.postgis)])
def store(request, tmp_path, refs):  # noqa: F811 - the imported fixture
    """An empty store of each backend."""
    if request.param == "geopackage":
        s = GeoPackageStore(tmp_path / "patrol.gpkg", refs=refs)
    else:
        from gis.store.postgis import PostGISStore

        s = PostGISStore(request.getfixturevalue("pg_url"), refs=refs)
    yield s
    s.close()


def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    """A Beijing time on ``day``."""
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=TZ)
