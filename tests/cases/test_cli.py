"""The patrol command for cases, imports, exports and the demo history."""

from __future__ import annotations

import csv
from pathlib import Path

import pyogrio
import pytest

from gis.cli import main

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture
def gpkg(tmp_path, monkeypatch):
    path = tmp_path / "cli.gpkg"
    monkeypatch.setenv("PATROL_DATABASE_URL", str(path))
    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path / "no-geography"))
    return path


def test_import_policy_and_idempotence(gpkg, tmp_path, capsys):
    assert main(["import", str(CORPUS / "bad_rows.csv")]) == 2
    assert "11 bad row(s), nothing stored" in capsys.readouterr().err
    rej = tmp_path / "rej.csv"
    assert main(["import", str(CORPUS / "bad_rows.csv"), "--keep-good", "--rejects", str(rej)]) == 0
    assert "1 report(s) stored, 0 already present, 11 rejected" in capsys.readouterr().out
    assert len(list(csv.DictReader(rej.read_text(encoding="utf-8-sig").splitlines()))) == 11
    assert main(["import", str(CORPUS / "excel_gbk.csv")]) == 0
    assert main(["import", str(CORPUS / "excel_gbk.csv")]) == 0
    assert "0 report(s) stored, 2 already present" in capsys.readouterr().out


def test_new_advance_show_and_conflict(gpkg, capsys):
    args = ["cases", "new", "--category", "C07", "--lon", "116.38", "--lat", "39.935"]
    assert (
        main(
            [*args, "--by", "duty-01", "--attr", "db=85", "--id", "N1", "--at", "2026-05-01 23:00"]
        )
        == 0
    )
    assert (
        main(["cases", "advance", "N1", "register", "--by", "duty-01", "--at", "2026-05-01 23:10"])
        == 0
    )
    assert (
        main(
            [
                "cases",
                "advance",
                "N1",
                "serve_notice",
                "--by",
                "duty-01",
                "--hours",
                "2",
                "--at",
                "2026-05-01 23:20",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert (
        main(["cases", "advance", "N1", "reject", "--by", "bob", "--version", "2", "--note", "x"])
        == 2
    )
    assert "changed by duty-01 at 2026-05-01 23:20:00; reload" in capsys.readouterr().err
    capsys.readouterr()
    early = ["cases", "advance", "N1", "recheck", "--by", "duty-01", "--at", "2026-05-01 23:15"]
    assert main(early) == 2
    assert "before its last change" in capsys.readouterr().err
    bad = ["cases", "advance", "N1", "recheck", "--by", "duty-01", "--at", "yesterday"]
    assert main(bad) == 2
    assert "field '--at': 'yesterday' is not a date and time" in capsys.readouterr().err
    assert main([*args, "--by", "duty-01", "--id", "N2", "--at", "2026-05-01 25:00"]) == 2
    assert "field '--at': '2026-05-01 25:00' is not a date" in capsys.readouterr().err
    assert main(["cases", "show", "N1"]) == 0
    out = capsys.readouterr().out
    assert "deadline 2026-05-02 01:20" in out
    assert "registered -> notice_served" in out
    assert "next: recheck, escalate" in out


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "csv", "kml"])
def test_export_formats(gpkg, tmp_path, fmt):
    assert main(["import", str(CORPUS / "good_utf8.csv")]) == 0
    out = tmp_path / f"cases.{fmt}"
    assert main(["export", str(out), "--format", fmt, "--category", "C07"]) == 0
    if fmt in ("gpkg", "geojson"):
        df = pyogrio.read_dataframe(out)
        assert df["case_id"].tolist() == ["G2"]
        assert df.crs.to_epsg() == 4326
    elif fmt == "csv":
        raw = out.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
        assert [(r["case_id"], r["description"]) for r in rows] == [("G2", "酒吧音响声音太大")]
    else:
        text = out.read_text(encoding="utf-8")
        assert text.count("<Placemark>") == 1 and "<name>G2 C07</name>" in text


def test_demo_history_on_a_grid(gpkg, capsys):
    assert main(["demo-history", "--synthetic-grid", "--seed", "3", "--days", "10"]) == 0
    out = capsys.readouterr().out
    assert "synthetic demo history (seed 3)" in out and "[演示数据 DEMO]" in out
    assert main(["demo-history", "--synthetic-grid", "--seed", "3", "--days", "10"]) == 0
    assert ", 0 new;" in capsys.readouterr().out
