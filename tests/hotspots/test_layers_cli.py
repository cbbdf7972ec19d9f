"""Hotspot map layers (legends, offline assets, empty input) and the report/hotspots CLI."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from gis.analytics.density import density_surface
from gis.analytics.forecast import backtest, cell_units, forecast, segment_units
from gis.analytics.gistar import gistar_cells, gistar_segments
from gis.analytics.selection import CaseFilter
from gis.cli import main
from gis.geography.crs import METRIC
from layers.basemap import new_map
from layers.hotspots import (
    backtest_note,
    density_image,
    density_layer,
    forecast_bands,
    forecast_layer,
    gistar_layer,
    heat_layer,
)
from tests.hotspots.synthetic import START, make_case_frame

EXTERNAL = re.compile(r"<(script|link)[^>]+(src|href)=[\"']?(https?:)?//", re.IGNORECASE)


def _html(m) -> str:
    return m.get_root().render()


def test_density_layer_image_and_cells(clustered_cases):
    s = density_surface(clustered_cases, cell_m=20)
    img, bounds = density_image(s, s.legend())
    assert img.dtype == np.uint8 and img.shape[2] == 4
    assert (img[..., 3] > 0).any() and (img[..., 3] == 0).any()  # zero cells stay transparent
    (south, west), (north, east) = bounds
    assert 39.9 < south < north < 40.0 and 116.3 < west < east < 116.5
    m = new_map()
    leg = density_layer(m, s, lang="en", mode="image")
    page = _html(m)
    assert "cases/km²/month" in page or json.dumps("cases/km²/month")[1:-1] in page
    assert EXTERNAL.search(page) is None and not leg.empty
    m = new_map()
    density_layer(m, s, lang="zh", mode="cells")
    assert "件/平方公里/月" in _html(m) or "\\u4ef6" in _html(m)


def test_empty_density_layer_says_no_cases(clustered_cases):
    s = density_surface(clustered_cases, CaseFilter(categories=("C29",)))
    m = new_map()
    leg = density_layer(m, s, lang="en")
    page = _html(m)
    assert leg.empty and "no cases in the selection" in page
    assert "L.imageOverlay(" not in page


def test_gistar_and_forecast_layers(nr_history):
    h = nr_history
    r = gistar_cells(h.cases, cell_m=100, permutations=199)
    m = new_map()
    leg = gistar_layer(m, r, lang="en")
    page = _html(m)
    assert any(lab.startswith("Hot spot") for lab in leg.labels)
    assert f"Not significant ({r.counts['ns']} cells)" in page
    rs = gistar_segments(h.cases, h.segments, permutations=199)
    gistar_layer(new_map(), rs, lang="zh")
    units = segment_units(h.segments)
    at = START + pd.Timedelta(days=200)
    f = forecast(h.cases, units, at=at)
    bt = backtest(h.cases[h.cases["reported_at"] < at], units)
    note = backtest_note(bt.summary, "near_repeat", lang="en", unit="segment")
    assert note.startswith("backtest PAI at 5% of street length: ")
    m = new_map()
    leg = forecast_layer(m, f, lang="en", score_note=note)
    assert leg.unit == "cases/km/week" and not leg.empty
    assert leg.labels[0].startswith("riskiest 1 % of street length (≥ ")
    assert "best possible" in _html(m)
    band = forecast_bands(f)
    length = f.geometry.length.to_numpy()
    top1 = length[band == 0].sum() / length.sum()
    top10 = length[band >= 0].sum() / length.sum()
    assert 0 < top1 <= 0.01 + length.max() / length.sum() and top10 <= 0.10 + 1e-9


def test_empty_forecast_layer_and_heat_offline(clustered_cases):
    units = cell_units(tuple(clustered_cases.total_bounds), 100.0, crs=METRIC)
    f = forecast(make_case_frame([], []), units, at=START)
    m = new_map()
    leg = forecast_layer(m, f, lang="zh")
    assert leg.empty and leg.labels == ("无历史案件，无法预测",)
    m = new_map()
    heat_layer(m, clustered_cases, lang="en")
    page = _html(m)
    assert "heatLayer" in page and EXTERNAL.search(page) is None and "cdn." not in page


@pytest.fixture
def case_file(tmp_path, nr_history):
    c = nr_history.cases.copy()
    path = tmp_path / "cases.geojson"
    c.to_file(path, driver="GeoJSON")
    return path


def test_cli_report_and_hotspots(case_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path / "no-geography"))
    out, csv_path = tmp_path / "r.html", tmp_path / "r.csv"
    rc = main(
        [
            "report",
            "weekly",
            "--cases",
            str(case_file),
            "--date",
            "2026-03-04",
            "--out",
            str(out),
            "--csv",
            str(csv_path),
            "--lang",
            "en",
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "2 Mar 2026 – 8 Mar 2026: reported" in text
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")
    gj = tmp_path / "g.geojson"
    rc = main(
        [
            "hotspots",
            "--cases",
            str(case_file),
            "--date",
            "2026-06-30",
            "--method",
            "gistar",
            "--out",
            str(gj),
        ]
    )
    assert rc == 0
    data = json.loads(gj.read_text(encoding="utf-8"))
    assert data["features"] and "gi_class" in data["features"][0]["properties"]
    rc = main(
        ["hotspots", "--cases", str(case_file), "--date", "2026-06-30", "--method", "forecast"]
    )
    assert rc == 0 and "PAI at 5%: last4" in capsys.readouterr().out
    page = tmp_path / "m.html"
    rc = main(
        [
            "hotspots",
            "--cases",
            str(case_file),
            "--date",
            "2026-06-30",
            "--method",
            "forecast",
            "--map",
            str(page),
            "--lang",
            "en",
        ]
    )
    assert rc == 0
    html_text = page.read_text(encoding="utf-8")
    assert "backtest PAI at 5% of area" in html_text and EXTERNAL.search(html_text) is None


def test_cli_bad_inputs(case_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path / "no-geography"))
    assert main(["report", "daily", "--cases", str(tmp_path / "missing.gpkg")]) == 2
    assert "file not found" in capsys.readouterr().err
    rc = main(
        [
            "hotspots",
            "--cases",
            str(case_file),
            "--date",
            "2099-01-01",  # after now on any day this code will run
            "--lang",
            "en",
            "--out",
            str(tmp_path / "e.geojson"),
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert text.startswith("0 cases over")
    assert "after now" in text and "no cases in the selection" in text
    rc = main(["hotspots", "--cases", str(case_file), "--method", "gistar", "--on", "segments"])
    assert rc == 2 and "needs the street geography" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "field", "value"),
    [
        (["report", "daily", "--date", "2026-13-01"], "--date", "2026-13-01"),
        (["report", "weekly", "--date", "yesterday"], "--date", "yesterday"),
        (["hotspots", "--date", "2026-02-30"], "--date", "2026-02-30"),
        (["hotspots", "--holiday", "xx"], "--holiday", "xx"),
    ],
)
def test_cli_bad_day_is_a_one_line_error(
    case_file, tmp_path, capsys, monkeypatch, argv, field, value
):
    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path / "no-geography"))
    assert main([*argv, "--cases", str(case_file)]) == 2
    err = capsys.readouterr().err
    assert f"'{value}' is not a valid day" in err
    assert f"field '{field}'" in err
    assert "YYYY-MM-DD" in err


def test_cli_assignment_file(case_file, tmp_path, capsys, monkeypatch):
    from gis.cli.report import read_assignment
    from gis.errors import ValidationError

    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path / "no-geography"))
    good = tmp_path / "a.csv"
    good.write_text("segment_id,person_id\nH001-01,张三\nH001-02,李四\n", encoding="utf-8-sig")
    assert read_assignment(good) == {"H001-01": "张三", "H001-02": "李四"}
    out = tmp_path / "r.html"
    rc = main(
        [
            "report",
            "monthly",
            "--cases",
            str(case_file),
            "--date",
            "2026-03-04",
            "--assignment",
            str(good),
            "--out",
            str(out),
        ]
    )
    assert rc == 0 and "张三" in out.read_text(encoding="utf-8")
    dup = tmp_path / "d.csv"
    dup.write_text("segment_id,person_id\nH001-01,张三\nH001-01,李四\n", encoding="utf-8")
    with pytest.raises(
        ValidationError, match="row 3, field 'segment_id': segment 'H001-01' is assigned twice"
    ):
        read_assignment(dup)
    bad = tmp_path / "b.csv"
    bad.write_text("segment,person\n", encoding="utf-8")
    assert main(["report", "daily", "--cases", str(case_file), "--assignment", str(bad)]) == 2
    assert "missing columns ['segment_id', 'person_id']" in capsys.readouterr().err


def test_gis_never_imports_folium_or_streamlit():
    """House rule: maps are built in layers/, the library stays UI-free."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "gis"
    pattern = re.compile(r"^\s*(import|from)\s+(folium|streamlit|branca)\b", re.MULTILINE)
    offenders = [
        str(p.relative_to(root.parent))
        for p in sorted(root.rglob("*.py"))
        if pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_write_hotspot_map_density_and_empty_forecast(clustered_cases, tmp_path):
    from layers.hotspots import write_hotspot_map

    s = density_surface(clustered_cases, cell_m=20)
    out = write_hotspot_map(tmp_path / "d.html", "density", s, lang="en")
    page = out.read_text(encoding="utf-8")
    assert "cases/km²/month" in page or json.dumps("cases/km²/month")[1:-1] in page
    assert EXTERNAL.search(page) is None
    assert not (tmp_path / "d.html.tmp").exists()
    units = cell_units(tuple(clustered_cases.total_bounds), 100.0, crs=METRIC)
    empty = forecast(clustered_cases.iloc[:0], units, at=START)
    empty_page = write_hotspot_map(tmp_path / "f.html", "forecast", empty.iloc[:0]).read_text(
        "utf-8"
    )
    # the result's extent is fitted only when there is one
    assert page.count("fitBounds") == empty_page.count("fitBounds") + 1
    with pytest.raises(ValueError, match="unknown hotspot map kind 'heat'"):
        write_hotspot_map(tmp_path / "x.html", "heat", s)


def test_cli_report_failure_leaves_the_previous_files_intact(
    case_file, tmp_path, capsys, monkeypatch
):
    import gis.analytics.report_files
    import gis.analytics.report_html

    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path / "no-geography"))
    out, csv_path = tmp_path / "r.html", tmp_path / "r.csv"
    out.write_text("<!DOCTYPE html>last week's report", encoding="utf-8")
    csv_path.write_text("last week's csv", encoding="utf-8")
    # a lone surrogate cannot be encoded: the write fails after the file would be opened
    monkeypatch.setattr(
        gis.analytics.report_html, "render_html", lambda *a, **k: "<!DOCTYPE html>\ud800"
    )
    monkeypatch.setattr(gis.analytics.report_files, "report_csv", lambda *a, **k: "部分\ud800")
    argv = ["report", "daily", "--cases", str(case_file), "--date", "2026-03-04"]
    # the failure is reported as a message (exit 3), never a traceback
    assert main([*argv, "--out", str(out)]) == 3
    assert "UnicodeEncodeError" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "<!DOCTYPE html>last week's report"
    assert main([*argv, "--csv", str(csv_path)]) == 3
    assert csv_path.read_text(encoding="utf-8") == "last week's csv"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
