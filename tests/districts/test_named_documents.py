"""Signboards and route sheets name people from the store's staff, ids without it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gis.cli import main
from gis.geography.network import graph_from_segments, grid_segments
from gis.people.staff import Person, person_label, with_people
from gis.planning.postman import plan_postman_route
from gis.planning.route_sheet import route_sheet_html
from gis.planning.routing import required_segments
from gis.planning.signboards import write_signboards
from gis.store.geopackage import GeoPackageStore
from tests.tiny_geography import build_tiny_geography

#: Stored names differ from the bundled demo staff table's (赵示甲…), so a name on a document
#: shows it came from the store.
STORED = [
    Person("P01", "周存一", "一组", "duty_officer", "公安", "resident", "010-5555-0001"),
    Person("P02", "吴存二", "一组", "duty_officer", "城管", "resident", "010-5555-0002"),
    Person("P03", "郑存三", "二组", "duty_officer", "街道", "resident", ""),
]


def _store_with_staff(path: Path) -> Path:
    s = GeoPackageStore(path)
    try:
        s.people.save_people(STORED)
    finally:
        s.close()
    return path


def test_signboards_take_name_and_phone_from_the_store(tmp_path: Path) -> None:
    summary = pd.DataFrame({"person_id": ["P01", "P09"], "streets": ["甲街", "乙街"]})
    ids_only = pd.DataFrame({"person_id": ["P01", "P09"], "name": ["P01", "P09"], "phone": ""})
    named = write_signboards(summary, ids_only, tmp_path / "named", people=STORED)
    page = named[0].read_text(encoding="utf-8")
    assert "周存一" in page and "010-5555-0001" in page and "公安" in page
    other = named[1].read_text(encoding="utf-8")  # the store does not know P09: its id stays
    assert "P09" in other and "周存一" not in other
    bare = write_signboards(summary, ids_only, tmp_path / "bare")
    text = bare[0].read_text(encoding="utf-8")
    assert "周存一" not in text and "<td>P01</td>" in text


def test_with_people_keeps_table_values_the_store_leaves_empty() -> None:
    staff = pd.DataFrame({"person_id": ["P03"], "name": ["表三"], "phone": ["010-1"]})
    out = with_people(staff, STORED)
    assert out.loc[0, "name"] == "郑存三" and out.loc[0, "phone"] == "010-1"
    assert person_label("P03", STORED) == "郑存三（P03）" and person_label("P7", STORED) == "P7"


def test_route_sheet_names_the_person_escaped() -> None:
    G = graph_from_segments(grid_segments(2, 2, 100.0))
    route = plan_postman_route(G, required_segments(G), 0)
    page = route_sheet_html(G, route, person="周<b>存一</b>（P01）")
    assert "周&lt;b&gt;存一&lt;/b&gt;（P01）" in page and "责任人" in page
    assert "责任人" not in route_sheet_html(G, route)


@pytest.fixture
def tiny_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = build_tiny_geography(tmp_path / "geo")
    monkeypatch.setenv("PATROL_DATA_DIR", str(folder))
    monkeypatch.setenv("PATROL_DATABASE_URL", str(tmp_path / "patrol.gpkg"))
    return tmp_path


def test_cli_route_sheet_names_the_stored_person(tiny_env: Path) -> None:
    sheet = tiny_env / "r.html"
    assert main(["route", "--person", "P01", "--sheet", str(sheet)]) == 0
    assert "P01" in sheet.read_text(encoding="utf-8")
    assert "周存一" not in sheet.read_text(encoding="utf-8")
    assert not (tiny_env / "patrol.gpkg").exists()  # no store is created just to look
    _store_with_staff(tiny_env / "patrol.gpkg")
    assert main(["route", "--person", "P01", "--sheet", str(sheet)]) == 0
    assert "周存一（P01）" in sheet.read_text(encoding="utf-8")


def test_cli_signboards_name_the_stored_staff(
    tiny_geo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATROL_DATABASE_URL", str(tmp_path / "patrol.gpkg"))
    args = ["districts", "--people", "3", "--data", str(tiny_geo_dir), "--allow-front-crossing"]
    assert main([*args, "--signboards", str(tmp_path / "a"), "-q"]) == 0
    before = (tmp_path / "a" / "P01.html").read_text(encoding="utf-8")
    assert "周存一" not in before  # the staff table's name without stored staff
    _store_with_staff(tmp_path / "patrol.gpkg")
    assert main([*args, "--signboards", str(tmp_path / "b"), "-q"]) == 0
    after = (tmp_path / "b" / "P01.html").read_text(encoding="utf-8")
    assert "周存一" in after and "010-5555-0001" in after
