"""The holiday replay through the CLI: counts rise at 银锭桥, 黄 then 橙, a leader raises it to a
case, and the daily report lists it."""

from __future__ import annotations

import re

import pytest

from gis.cli import main


@pytest.mark.slow
def test_holiday_replay_through_the_cli(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATROL_DATABASE_URL", str(tmp_path / "patrol.gpkg"))
    assert main(["crowd", "demo", "--day", "2026-10-05", "--weeks", "2", "--replay", "120"]) == 0
    out = capsys.readouterr().out
    assert "seeded synthetic counts up to 2026-10-05 10:00" in out
    ydq = [line for line in out.splitlines() if line.startswith("CW-YDQ-")]
    levels = [re.search(r"-(yellow|orange|red)\s", line).group(1) for line in ydq]
    assert levels[:2] == ["yellow", "orange"]
    lead = [float(re.search(r"提前 (\d+) 分钟", line).group(1)) for line in ydq[:2]]
    assert all(x >= 30 for x in lead)
    assert "最近: " in ydq[0]
    orange = ydq[1].split()[0]

    assert main(["crowd", "forecast", "--at", "2026-10-05 12:00"]) == 0
    fc = capsys.readouterr().out
    assert re.search(r"^YDQ  银锭桥  630  \d+", fc, re.M)

    assert main(["crowd", "alerts", "--raise", orange, "--tier", "major", "--who", "leader1"]) == 0
    out = capsys.readouterr().out
    case_id = f"C29-{orange}"
    assert f"raised {orange} to case {case_id} (C29, major)" in out
    # a second click loses cleanly
    assert main(["crowd", "alerts", "--raise", orange, "--who", "leader2", "--version", "1"]) == 2
    assert "changed by leader1" in capsys.readouterr().err

    report = tmp_path / "daily.html"
    assert main(["report", "daily", "--date", "2026-10-05", "--out", str(report)]) == 0
    html = report.read_text(encoding="utf-8")
    assert "客流预警记录" in html
    row = next(r for r in html.split("<tr>") if case_id in r)
    assert "银锭桥" in row and "橙" in row and "已立案" in row and "leader1" in row


def test_places_and_bad_options(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATROL_DATABASE_URL", str(tmp_path / "patrol.gpkg"))
    assert main(["crowd", "places", "--per-person", "YDQ=0.5", "--levels", "0.5,0.7,0.9,1.1"]) == 0
    out = capsys.readouterr().out
    assert "YDQ  银锭桥  630  0.5  1260  630/882/1134/1386" in out
    assert main(["crowd", "places", "--levels", "0.5,0.7"]) == 2
    assert "--levels" in capsys.readouterr().err
    bad = tmp_path / "c.csv"
    bad.write_text("counter_id,at,occupancy\nYDQ-CAM1,2026-10-05 14:00,-1\n", encoding="utf-8")
    assert main(["crowd", "ingest", str(bad)]) == 2
    assert "file c.csv, row 2" in capsys.readouterr().err


def test_follow_through_the_cli(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATROL_DATABASE_URL", str(tmp_path / "patrol.gpkg"))
    feed = tmp_path / "export.csv"
    lines = [f"QHBY-CAM1,2026-10-05 20:{m:02d},{300 + m}" for m in range(5)]
    feed.write_text("counter_id,at,occupancy\n" + "\n".join(lines) + "\n", encoding="gbk")
    args = ["crowd", "follow", str(feed), "--poll", "0.05", "--idle-seconds", "0.5"]
    assert main([*args, "--max-seconds", "5"]) == 0
    out = capsys.readouterr().out
    assert "+5 rows up to 2026-10-05 20:04" in out
    assert "followed export.csv: 1 batches, 5 rows" in out
    # followed again from the start: rows already stored are not stored twice
    assert main([*args, "--max-seconds", "5"]) == 0
    assert "+0 rows up to 2026-10-05 20:04" in capsys.readouterr().out
