"""The overview click names the person in force for the street (from dated assignments)."""

from __future__ import annotations

import datetime as dt

from shapely.geometry import Point

from gis.access.users import User
from gis.geography.place import Place
from gis.people.assignments import Assignment
from gis.settings import Settings
from gis.store.geopackage import GeoPackageStore
from ui import capabilities
from ui.common import Context


def test_responsible_person_is_named(tmp_path, monkeypatch, four_people):
    path = tmp_path / "p.gpkg"
    with GeoPackageStore(path) as s:
        s.people.save_people(four_people)
        s.people.assign([Assignment("S1", "P02", dt.date(2026, 5, 1))])
    monkeypatch.setenv("PATROL_CLOCK", "2026-05-06T10:00")
    c = Context(settings=Settings(database_url=str(path)), user=User("u", "leadership"), lang="zh")
    place = Place(lon=116.39, lat=39.94, point=Point(0, 0), inside=True, segment_id="S1")
    assert capabilities.responsible_person(c, place) == "钱示乙（P02）"
    monkeypatch.setenv("PATROL_CLOCK", "2026-04-30T10:00")  # before it was assigned
    assert capabilities.responsible_person(c, place) is None
