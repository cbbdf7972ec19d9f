"""Version 11 upgrades a GeoPackage written by the code before it (commit 5322c81) without
losing or changing a row, and the upgraded file then keeps geography layers and staff shifts.

``tests/fixtures/store_5322c81/patrol.gpkg`` was written by ``make_fixture.py`` there, run
against that commit's code: cases on every workflow path with their audit rows, named
values, staff, dated assignments, roster, sign-ins, tracks, crowd places and counts, a
coordination row, users and a session, in two subdistricts.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pyogrio
import pytest

from gis.cli import main
from gis.settings import Settings
from gis.store import migrate
from gis.store.geopackage import GeoPackageStore

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "store_5322c81" / "patrol.gpkg"


def _tables(path: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every table's columns and rows (the R*Tree's shadow tables aside)."""
    con = sqlite3.connect(path)
    try:
        out = {}
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            if name.startswith("rtree_") and not name.endswith("_geom"):
                continue
            cols = [r[1] for r in con.execute(f'PRAGMA table_info("{name}")')]
            rows = con.execute(f'SELECT * FROM "{name}" ORDER BY rowid').fetchall()
            out[name] = (cols, rows)
        return out
    finally:
        con.close()


def _project(cols: list[str], rows: list[tuple], keep: list[str]) -> list[tuple]:
    at = [cols.index(c) for c in keep]
    return [tuple(r[i] for i in at) for r in rows]


@pytest.fixture
def old_file(tmp_path: Path) -> Path:
    path = tmp_path / "patrol.gpkg"
    shutil.copy(FIXTURE, path)
    return path


def test_the_fixture_is_a_version_9_file_with_rows(old_file: Path) -> None:
    tables = _tables(old_file)
    meta = dict(_project(*tables["patrol_meta"], ["key", "value"]))
    assert meta["schema_version"] == "9"
    assert "geo_layers" not in tables and "shift" not in tables["staff"][0]
    counts = {t: len(rows) for t, (_, rows) in tables.items()}
    for table in ("cases", "case_audit", "staff", "staff_assignments", "roster", "signins"):
        assert counts[table] > 0, table
    for table in ("tracks", "crowd_places", "crowd_counts", "coord_reports", "patrol_users"):
        assert counts[table] > 0, table
    assert counts["patrol_sessions"] == 1
    assert {r[0] for r in _project(*tables["cases"], ["subdistrict"])} == {
        "shichahai",
        "xinjiekou",
    }


def test_migrate_keeps_every_row(old_file: Path, capsys) -> None:
    before = _tables(old_file)
    assert main(["db", "migrate", "--url", str(old_file)]) == 0
    assert str(migrate.gpkg_code_version()) in capsys.readouterr().out
    after = _tables(old_file)
    assert set(before) <= set(after)
    assert {"geo_layers"} <= set(after) - set(before)
    for table, (cols, rows) in before.items():
        new_cols, new_rows = after[table]
        assert new_cols[: len(cols)] == cols, table  # columns are only ever added at the end
        kept = _project(new_cols, new_rows, cols)
        if table == "patrol_meta":
            at = cols.index("key")
            version = [r for r in kept if r[at] == "schema_version"]
            assert [r[cols.index("value")] for r in version] == [str(migrate.gpkg_code_version())]
            kept = [r for r in kept if r[at] != "schema_version"]
            rows = [r for r in rows if r[at] != "schema_version"]
        if table == "sqlite_sequence":  # SQLite's AUTOINCREMENT counters never go back
            assert all(dict(kept)[t] >= n for t, n in rows), table
            continue
        if table.startswith("gpkg_"):  # the registry gains the new tables' entries
            assert set(rows) <= set(kept), table
            continue
        assert kept == rows, table
    staff_cols, staff_rows = after["staff"]
    assert {r[staff_cols.index("shift")] for r in staff_rows} == {""}
    # running it again changes nothing
    assert main(["db", "migrate", "--url", str(old_file)]) == 0
    assert _tables(old_file) == after


def test_the_upgraded_file_works_through_the_store_and_gdal(old_file: Path, refs) -> None:
    from gis.geography.layers import load_bundled_geography
    from gis.people.staff import Person
    from gis.services.subdistricts import subdistrict_geography, subdistrict_people

    with GeoPackageStore(old_file, refs=refs) as a:
        assert a.count_cases() == 24
        assert [p.person_id for p in a.people.list_people()] == ["A1", "A2", "A3"]
        assert {p.shift for p in a.people.list_people()} == {""}
        assert a.geography_subdistricts() == []
        # the bundled subdistrict's layers are stored at first use; its staff stay its own
        geo = subdistrict_geography(a, Settings())
        assert a.geography_subdistricts() == ["shichahai"]
        assert len(a.read_geography().segments) == len(load_bundled_geography().segments)
        assert len(geo.zones) == len(a.read_geography().zones)
        assert [p.person_id for p in subdistrict_people(a, Settings())] == ["A1", "A2", "A3"]
        a.people.save_people(
            [Person("A4", "新人", "一组", "duty_officer", "公安", "resident", shift="day")]
        )
        assert a.people.get_person("A4").shift == "day"
    with GeoPackageStore(old_file, refs=refs, subdistrict="xinjiekou") as b:
        assert b.count_cases() == 5
        assert [p.person_id for p in b.people.list_people()] == ["B1", "B2", "B3"]
    info = pyogrio.read_info(old_file, layer="cases")
    assert info["features"] == 29 and info["capabilities"]["fast_spatial_filter"]
    assert pyogrio.read_info(old_file, layer="geo_shichahai_zones")["crs"] == "EPSG:32650"
