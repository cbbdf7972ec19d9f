"""Formula injection in the Excel-friendly CSVs: rejects file and case export."""

from __future__ import annotations

import csv

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from gis.cli.cases import export_frame
from gis.errors import ValidationError
from gis.io.csvsafe import safe_cell, safe_frame
from gis.io.intake_files import write_rejects


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+86 10 1234", "'+86 10 1234"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ("-12.5", "-12.5"),
        ("+3", "+3"),
        ("-1e-3", "-1e-3"),
        ("a=b", "a=b"),
        ("", ""),
        (-12.5, -12.5),
        (-3, -3),
        (None, None),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_safe_frame_leaves_numeric_columns_and_input_alone():
    df = pd.DataFrame({"x": [-1.5, 2.0], "s": ["=A1", "ok"], "n": [-3, 4]})
    out = safe_frame(df)
    assert out["s"].tolist() == ["'=A1", "ok"]
    assert out["x"].tolist() == [-1.5, 2.0] and out["n"].tolist() == [-3, 4]
    assert df["s"].tolist() == ["=A1", "ok"]


def test_rejects_file_escapes_formulas(tmp_path):
    exc = ValidationError("is not a category", source="b.csv", row=2, field="category", fix="x")
    raw = {"report_id": "@R1", "category": '=HYPERLINK("http://x.invalid")', "lon": "-116.4"}
    path = write_rejects([(exc, raw)], tmp_path / "rej.csv")
    (row,) = csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines())
    assert row["report_id"] == "'@R1"
    assert row["category"] == '\'=HYPERLINK("http://x.invalid")'
    assert row["lon"] == "-116.4"
    assert row["field"] == "category"


def test_case_export_csv_escapes_formulas(tmp_path):
    t = pd.Timestamp("2026-05-01 21:00", tz="Asia/Shanghai")
    frame = gpd.GeoDataFrame(
        {
            "case_id": ["C1"],
            "description": ["-1+1 酒吧外摆"],
            "reporter": ["=cmd|' /C calc'!A0"],
            "score": [-2.5],
            "reported_at": [t],
            "deadline_at": [pd.NaT],
            "closed_at": [pd.NaT],
        },
        geometry=[Point(446550.0, 4420302.0)],
        crs="EPSG:32650",
    )
    out = export_frame(frame, tmp_path / "cases.csv", "csv")
    (row,) = csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines())
    assert row["description"] == "'-1+1 酒吧外摆"
    assert row["reporter"] == "'=cmd|' /C calc'!A0"
    assert row["score"] == "-2.5"
    assert row["reported_at"] == "2026-05-01T21:00:00+08:00"
    assert float(row["lon"]) > 116
