"""The patrol page's route sheet names whose district the route walks."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

import ui.patrol as patrol
from gis.people.staff import Person
from gis.store.geopackage import GeoPackageStore


@pytest.fixture
def stored(tmp_path: Path):
    s = GeoPackageStore(tmp_path / "patrol.gpkg")
    yield s
    s.close()


def test_sheet_person_from_the_store_then_the_staff_table_then_the_id(
    stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = SimpleNamespace()
    monkeypatch.setattr(patrol.capabilities, "store", lambda _c: stored)
    monkeypatch.setattr(patrol, "people", lambda _c: {"P02": "表乙"})
    assert patrol._sheet_person(c, "") == ""
    assert patrol._sheet_person(c, "P01") == "P01"
    assert patrol._sheet_person(c, "P02") == "表乙（P02）"
    stored.people.save_people(
        [Person("P01", "周存一", "一组", "duty_officer", "公安", "resident", "010-1")]
    )
    assert patrol._sheet_person(c, "P01") == "周存一（P01）"
