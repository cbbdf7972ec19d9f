"""``patrol staff`` and ``patrol roster`` against a GeoPackage store."""

from __future__ import annotations

import pytest

from gis.cli import main


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "patrol.gpkg"
    monkeypatch.setenv("PATROL_DATABASE_URL", str(path))
    monkeypatch.delenv("PATROL_SHIFT_HOURS", raising=False)
    return path


def test_staff_roster_round_trip(db, tmp_path, capsys):
    assert main(["staff", "import", "--demo"]) == 0
    assert "30 added" in capsys.readouterr().out
    assert main(["staff", "retire", "P24", "--last-day", "2026-05-15"]) == 0
    capsys.readouterr()
    assert main(["staff", "list", "--date", "2026-05-16"]) == 0
    out = capsys.readouterr().out
    assert "29 person(s)" in out and "P24" not in out
    (tmp_path / "a.csv").write_text("segment_id,person_id\nS1,P01\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("segment_id,person_id\nS1,P02\n", encoding="utf-8")
    assert main(["staff", "assign", str(tmp_path / "a.csv"), "--from", "2026-04-01"]) == 0
    assert main(["staff", "assign", str(tmp_path / "b.csv"), "--from", "2026-05-04"]) == 0
    capsys.readouterr()
    assert main(["staff", "who", "S1", "--date", "2026-05-03"]) == 0
    assert "S1 on 2026-05-03: P01 赵示甲" in capsys.readouterr().out
    assert main(["staff", "who", "S1", "--date", "2026-03-03"]) == 1

    assert main(["roster", "make", "--month", "2026-05"]) == 0
    made = capsys.readouterr()
    assert "roster 2026-05: 914 cells" in made.out  # P24 left on the 15th
    assert made.err == ""  # fair and rested
    assert main(["roster", "set", "P01", "2026-05-20", "leave", "--note", "病假"]) == 0
    capsys.readouterr()
    assert main(["roster", "show", "--month", "2026-05", "--person", "P01"]) == 0
    row = capsys.readouterr().out.splitlines()[1].split("\t")
    assert row[:3] == ["P01", "赵示甲", "一组"] and row[3 + 19] == "假"
    out = tmp_path / "r.csv"
    assert main(["roster", "export", "--month", "2026-05", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    # remaking the month keeps the leave entered by hand
    assert main(["roster", "make", "--month", "2026-05"]) == 0
    capsys.readouterr()
    assert main(["roster", "show", "--month", "2026-05", "--person", "P01"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split("\t")[3 + 19] == "假"


def test_bad_month_and_missing_roster(db, capsys):
    assert main(["roster", "make", "--month", "May"]) == 2
    assert "'May' is not a month" in capsys.readouterr().err
    assert main(["roster", "make", "--month", "2026-05"]) == 2
    assert "the staff table is empty" in capsys.readouterr().err
    assert main(["roster", "show", "--month", "2026-06"]) == 2
    assert "make it first: patrol roster make --month 2026-06" in capsys.readouterr().err
