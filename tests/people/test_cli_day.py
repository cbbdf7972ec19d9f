"""The day through the CLI on the bundled data: plan, sign in, upload a track, coverage."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import LineString

from gis.cli import main
from gis.localtime import LOCAL_TZ as TZ
from gis.people.tracks import Track, gpx_text

DAY = "2026-05-06"


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("PATROL_DATABASE_URL", str(tmp_path / "patrol.gpkg"))
    return tmp_path


def _walk_gpx(line_lonlat, start: dt.datetime) -> str:
    to_m = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)
    to_w = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)
    xs, ys = to_m.transform(*zip(*line_lonlat, strict=True))
    line = LineString(zip(xs, ys, strict=True))
    d = np.arange(0, line.length, 1.25 * 5)
    pts = shapely.line_interpolate_point(line, d)
    lon, lat = to_w.transform(shapely.get_x(pts), shapely.get_y(pts))
    times = tuple(start + dt.timedelta(seconds=5 * i) for i in range(len(d)))
    day = dt.date.fromisoformat(DAY)
    return gpx_text(Track("x", "P", day, times, tuple(lon), tuple(lat)))


@pytest.mark.slow  # the whole day through the CLI: plan, sign in, tracks, coverage
def test_plan_sign_in_track_and_coverage(db, capsys):
    from gis.geography.layers import load_bundled_geography
    from gis.people.service import plan_day
    from gis.settings import Settings
    from gis.store import open_store

    assert main(["staff", "import", "--demo"]) == 0
    assert main(["roster", "make", "--month", "2026-05"]) == 0
    html = db / "day.html"
    assert main(["plan", "day", "--date", DAY, "--draw-districts", "--html", str(html)]) == 0
    out = capsys.readouterr().out
    assert "segments assigned to the resident duty officers" in out
    assert "people on duty on 2026-05-06" in out
    assert html.read_text(encoding="utf-8").count('<section class="person">') >= 10

    with open_store(Settings.from_env()) as store:
        plans = plan_day(store, load_bundled_geography(), dt.date.fromisoformat(DAY))
    midday = next(p for p in plans if p.shift == "midday" and p.kind == "postman")
    gpx = db / "walk.gpx"
    start = dt.datetime(2026, 5, 6, 12, 5, tzinfo=TZ)
    gpx.write_text(_walk_gpx(midday.line, start), encoding="utf-8")
    args = ["tracks", "import", str(gpx), "--person", midday.person_id, "--date", DAY]
    assert main(args) == 0
    assert ": stored" in capsys.readouterr().out
    assert main(args) == 0
    assert "already stored (nothing stored twice)" in capsys.readouterr().out
    wrong_day = [*args[:-1], "2026-05-07"]
    assert main(wrong_day) == 2
    assert "not 2026-05-07: another day's track" in capsys.readouterr().err

    assert main(["tracks", "report", "--date", DAY]) == 0
    line = next(
        ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(midday.person_id)
    )
    covered = int(line.split("(")[1].split("%")[0])
    assert covered >= 90, line

    pid = midday.person_id
    assert main(["signin", "record", pid, "--at", f"{DAY}T09:03", "--by", "chief"]) == 0
    assert main(["signin", "record", pid, "--at", f"{DAY}T09:04", "--by", "chief"]) == 2
    assert "nothing was stored twice" in capsys.readouterr().err
    assert main(["signin", "show", "--date", DAY, "--by", "team"]) == 0
    shown = capsys.readouterr().out
    assert f"{DAY} morning {pid}" in shown and "signed" in shown

    report = db / "weekly.html"
    assert main(["report", "weekly", "--date", DAY, "--out", str(report)]) == 0
    text = report.read_text(encoding="utf-8")
    assert "出勤（签到）" in text and "巡查覆盖与在岗" in text
    # the person who signed in counts as on time in their team's row
    assert f'<td class="t">{pid}</td>' in text
