"""A report's text, tables, CSV and hotspot map tell the same numbers; no chart without data."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from gis.analytics.kpis import compute_kpis
from gis.analytics.periods import default_report_day, period_for
from gis.analytics.report_files import report_csv
from gis.analytics.report_html import map_caption, render_html
from gis.analytics.report_map import period_surface
from gis.analytics.selection import CaseFilter
from gis.services import ReportRequest, produce_report
from tests.hotspots.synthetic import make_case_frame

TZ = "Asia/Shanghai"
NOW = pd.Timestamp("2026-12-01 10:00", tz=TZ)
X0, Y0 = 448_000.0, 4_421_000.0


def _frame() -> pd.DataFrame:
    """October to December: 31 November cases (3 rejected or duplicate), others around it."""
    rows = []
    for i in range(31):  # one a day in November, in two categories and places
        rows.append(
            ((X0 + 10 * (i % 7), Y0 + 15 * (i % 5)), f"2026-11-{1 + i % 30:02d} 09:{i:02d}")
        )
    rows.append(((X0 + 900, Y0 + 900), "2026-10-31 23:59"))  # the day before
    rows.append(((X0 + 900, Y0 + 900), "2026-12-01 00:00"))  # the day after
    xy, times = zip(*rows, strict=True)
    n = len(rows)
    states = ["registered"] * n
    states[2], states[5], states[8] = "rejected", "duplicate", "closed"
    cats = ["C04" if i % 3 else "C07" for i in range(n)]
    zones = ["Z1" if i % 2 else "Z2" for i in range(n)]
    return make_case_frame(list(xy), list(times), state=states, category=cats, zone_id=zones)


def test_a_window_reads_as_its_last_day():
    """Regression: the November map said "2026-11-01 to 2026-12-01" (the exclusive end)."""
    month = CaseFilter(start="2026-11-01", end="2026-12-01")
    assert month.describe() == "2026-11-01 to 2026-11-30"
    day = CaseFilter(start="2026-11-30", end="2026-12-01")
    assert day.describe() == "2026-11-30 to 2026-11-30"
    evening = CaseFilter(start="2026-11-30 18:00", end="2026-11-30 22:00")
    assert evening.describe() == "2026-11-30 18:00 to 2026-11-30 22:00"


@pytest.mark.parametrize(
    ("kind", "start", "end"),
    [
        ("daily", "2026-11-30", "2026-12-01"),
        ("weekly", "2026-11-23", "2026-11-30"),
        ("monthly", "2026-11-01", "2026-12-01"),
    ],
)
def test_default_periods_are_complete(kind, start, end):
    period = period_for(kind, default_report_day(kind, NOW.date()))
    assert (str(period.start.date()), str(period.end.date())) == (start, end)
    assert period.end <= NOW  # over, so as_of is its end: the figures are final
    notes = compute_kpis(_frame(), period, now=NOW).notes
    assert not any(n.startswith("the period is still running") for n in notes)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_monthly_text_tables_csv_and_map_agree(lang, monkeypatch):
    from gis.analytics import report_html

    frame = _frame()
    seen: dict[str, object] = {}
    real = report_html.render_html

    def spy(kpis, **kw):
        seen.update(kpis=kpis, surface=kw["surface"])
        return real(kpis, **kw)

    monkeypatch.setattr(report_html, "render_html", spy)
    day = default_report_day("monthly", NOW.date())
    produced = produce_report(None, frame, ReportRequest("monthly", day, lang=lang))
    k, surface, text = produced.kpis, seen["surface"], str(produced.html)
    assert k.reported == 29  # 31 in November, less one rejected and one duplicate
    november = frame["reported_at"].between(
        pd.Timestamp("2026-11-01", tz=TZ), pd.Timestamp("2026-12-01", tz=TZ), inclusive="left"
    )
    live = ~frame["state"].isin(["rejected", "duplicate"])
    assert k.reported == int((november & live).sum())
    # tables and the daily series add up to the headline
    assert int(k.by_category["reported"].sum()) == k.reported
    assert int(k.by_zone["reported"].sum()) == k.reported
    assert int(k.daily["reported"].sum()) == k.reported
    assert len(k.daily) == 30 and k.daily["date"].iloc[-1] == dt.date(2026, 11, 30)
    # the map holds the same cases, and says so
    assert surface.n_cases == k.reported
    assert surface.integral() == pytest.approx(k.reported, rel=1e-9)
    caption = map_caption(k, surface, lang)
    assert caption in text.replace("&#x27;", "'")
    assert (
        f"新报案件 {k.reported} 件" if lang == "zh" else f"{k.reported} reported cases"
    ) in caption
    assert "2026-12-01" not in text
    # the CSV carries the same figures
    csv = report_csv(k, lang)
    label = "新报案件" if lang == "zh" else "reported"
    assert f",{label},{k.reported}\r\n" in csv


def test_the_map_says_which_cases_it_leaves_out():
    frame = _frame()
    period = period_for("monthly", "2026-11-10")
    k = compute_kpis(frame, period, now=NOW)
    # an extent that holds only part of the cases
    surface = period_surface(frame, period, bounds=(X0 - 50, Y0 - 50, X0 + 35, Y0 + 100))
    assert 0 < surface.n_cases < k.reported
    left = k.reported - surface.n_cases
    assert f"另有 {left} 件无位置或在图幅外" in map_caption(k, surface, "zh")
    assert f"{left} more have no location" in map_caption(k, surface, "en")


def test_no_chart_without_data():
    frame = _frame()
    empty = period_for("monthly", "2026-08-10")
    k = compute_kpis(frame, empty, now=NOW)
    text = render_html(k, lang="zh", surface=period_surface(frame, empty), scorecard=pd.DataFrame())
    assert k.reported == 0 and "<svg" not in text and "<img" not in text
    assert "本期无案件，无热点图" in text
    assert "命中率 =" not in text  # the forecast help only beside figures
    daily = period_for("daily", "2026-11-05")
    k = compute_kpis(frame, daily, now=NOW)
    text = render_html(k, lang="zh", surface=period_surface(frame, daily))
    assert k.reported == 1 and "每日新报与结案" not in text  # one day: no trend chart
    assert "<img" in text  # but its map
    month = period_for("monthly", "2026-11-10")
    k = compute_kpis(frame, month, now=NOW)
    text = render_html(k, lang="zh")
    assert "每日新报与结案" in text and text.count("<svg") == 4  # trend + 3 group charts
