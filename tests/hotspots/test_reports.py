"""KPIs and periodic reports on a hand-made toy frame with known answers."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from gis.analytics.kpis import compute_kpis
from gis.analytics.periods import period_for
from gis.analytics.report_files import report_csv, write_csv
from gis.analytics.report_html import render_html
from gis.analytics.report_map import period_surface
from gis.errors import ValidationError
from gis.geography.network import grid_segments
from tests.hotspots.synthetic import make_case_frame

NaT = pd.NaT
P = (448050.0, 4421050.0)
# id: reported, deadline, closed, state, zone, dept, category, person, segment
ROWS = {
    "A": (
        "2026-11-24 10:00",
        "2026-11-26 10:00",
        "2026-11-25 10:00",
        "closed",
        "Z1",
        "城管",
        "C04",
        "p1",
        "S1",
    ),
    "B": (
        "2026-11-24 12:00",
        "2026-11-25 12:00",
        "2026-11-27 12:00",
        "closed",
        "Z1",
        "城管",
        "C04",
        "p1",
        "S1",
    ),
    "C": (
        "2026-11-25 09:00",
        "2026-11-28 09:00",
        NaT,
        "notice_served",
        "Z2",
        "环保",
        "C07",
        "p2",
        "S2",
    ),
    "D": (
        "2026-11-26 09:00",
        "2026-12-03 09:00",
        NaT,
        "registered",
        "Z2",
        "环保",
        "C07",
        "p2",
        "S2",
    ),
    "E": (
        "2026-11-27 22:00",
        "2026-11-29 22:00",
        NaT,
        "joint_enforcement",
        "Z1",
        "公安",
        "C08",
        "p1",
        "S1",
    ),
    "F": ("2026-11-28 10:00", "2026-12-01 10:00", NaT, "rejected", "Z1", "城管", "C04", "p1", "S1"),
    "G": (
        "2026-11-10 00:00",
        "2026-11-20 00:00",
        "2026-11-24 08:00",
        "closed",
        "Z2",
        "城管",
        "C01",
        "p2",
        "S2",
    ),
    "H": (
        "2026-11-15 00:00",
        "2026-12-15 00:00",
        NaT,
        "registered",
        "Z1",
        "城管",
        "C21",
        "p1",
        "S1",
    ),
    "I": (
        "2026-11-29 09:00",
        "2026-12-02 09:00",
        "2026-12-01 08:00",
        "closed",
        "Z2",
        "城管",
        "C04",
        "p2",
        "S2",
    ),
}
NOW = pd.Timestamp("2026-12-01 12:00", tz="Asia/Shanghai")


@pytest.fixture
def toy():
    cols = list(zip(*ROWS.values(), strict=True))
    return make_case_frame(
        [P] * len(ROWS),
        cols[0],
        case_id=list(ROWS),
        deadline_at=cols[1],
        closed_at=[pd.Timestamp(x) if x is not NaT else NaT for x in cols[2]],
        state=cols[3],
        zone_id=cols[4],
        lead_dept=cols[5],
        category=cols[6],
        person_id=cols[7],
        segment_id=cols[8],
    )


def test_periods_and_labels():
    w = period_for("weekly", "2026-11-29")
    assert (w.start.date(), w.end.date()) == (date(2026, 11, 23), date(2026, 11, 30))
    assert w.label("zh") == "2026年11月23日—29日"
    assert w.label("en") == "23 Nov 2026 – 29 Nov 2026"
    assert period_for("daily", "2026-11-29").label("zh") == "2026年11月29日"
    m = period_for("monthly", "2026-11-29")
    assert (m.start.date(), m.end.date(), m.label("zh")) == (
        date(2026, 11, 1),
        date(2026, 12, 1),
        "2026年11月",
    )
    assert period_for("monthly", "2026-12-31").end.date() == date(2027, 1, 1)
    with pytest.raises(ValidationError, match="unknown report kind 'yearly'"):
        period_for("yearly", "2026-11-29")


def test_kpis_exact_on_toy(toy):
    k = compute_kpis(toy, period_for("weekly", "2026-11-29"), now=NOW)
    assert k.as_of == pd.Timestamp("2026-11-30", tz="Asia/Shanghai")
    assert (k.reported, k.open, k.overdue, k.closed, k.rejected) == (6, 5, 2, 3, 1)
    assert k.closure_rate == pytest.approx(2 / 6)
    assert k.median_hours_to_close == 72.0  # 24 h, 72 h, 344 h
    assert k.within_deadline_rate == pytest.approx(1 / 3)  # B 48 h and G 4 days late
    strict = compute_kpis(toy, period_for("weekly", "2026-11-29"), now=NOW, grace_hours=0)
    assert strict.within_deadline_rate == pytest.approx(1 / 3)
    lenient = compute_kpis(toy, period_for("weekly", "2026-11-29"), now=NOW, grace_hours=48)
    assert lenient.within_deadline_rate == pytest.approx(2 / 3)  # B exactly 48 h late
    assert (k.joint_actions, k.consultations, k.joint_source) == (1, None, "states")
    assert k.expected_joint_actions == pytest.approx(10 * 7 / 30.4375)
    z = k.by_zone.set_index("zone_id")
    assert z.loc["Z1"].tolist() == [3, 2, 1, 2]  # reported, open, overdue, closed
    assert z.loc["Z2"].tolist() == [3, 3, 1, 1]
    d = k.by_dept.set_index("lead_dept")
    assert d.loc["城管", "reported"] == 3 and d.loc["城管", "closed"] == 3
    assert d.loc["环保"].tolist() == [2, 2, 1, 0]
    c = k.by_category.set_index("category")
    assert c.loc["C04"].tolist() == [3, 1, 0, 2]
    assert k.daily["reported"].tolist() == [0, 2, 1, 1, 1, 0, 1]
    assert k.daily["closed"].tolist() == [0, 1, 1, 0, 1, 0, 0]
    late = k.overdue_list
    assert late["case_id"].tolist() == ["C", "E"]  # C: since 11-28 09:00, E: since 11-29 22:00
    assert late["days_overdue"].tolist() == [1.6, 0.1]
    assert late["deadline_at"].tolist() == ["2026-11-28 09:00", "2026-11-29 22:00"]


def test_kpis_with_audit_trail_and_districts(toy):
    events = pd.DataFrame(
        {
            "case_id": ["A", "B", "X"],
            "at": pd.to_datetime(["2026-11-26 10:00", "2026-11-27 10:00", "2026-11-01 10:00"]),
            "kind": ["joint_enforcement", "consultation", "joint_enforcement"],
        }
    )
    segs = grid_segments(1, 1, 100.0).assign(segment_id=["S1", "S2", "S3", "S4"])
    assignment = {"S1": "p1", "S2": "p2", "S3": "p3", "S4": "p3"}
    k = compute_kpis(
        toy,
        period_for("weekly", "2026-11-29"),
        now=NOW,
        events=events,
        assignment=assignment,
        gdf_segments=segs,
    )
    assert (k.joint_actions, k.consultations, k.joint_source) == (1, 1, "events")
    p = k.by_person.set_index("person_id")
    assert p["reported"].tolist() == [3, 3, 0]
    assert p["street_km"].tolist() == [0.1, 0.1, 0.2]
    assert p["reported_per_km"].tolist() == [30.0, 30.0, 0.0]
    assert p["load_vs_mean"].tolist() == [1.5, 1.5, 0.0]


def test_html_report_zh_and_en(toy):
    period = period_for("weekly", "2026-11-29")
    k = compute_kpis(toy, period, now=NOW)
    surface = period_surface(toy, period, now=NOW)
    zh = render_html(k, lang="zh", surface=surface, names={"category": {"C04": "店外经营"}})
    assert "2026年11月23日—29日" in zh and "截至: 2026年11月30日" in zh
    assert "<td>结案率</td><td>33.3%</td>" in zh
    assert "<td>结案用时中位数</td><td>72.0 小时</td>" in zh
    assert "超期案件（超期最久的在前）" in zh and '<td class="t">C</td>' in zh
    assert "店外经营" in zh and "data:image/png;base64," in zh and "<svg" in zh
    assert "http://" not in zh.replace('xmlns="http://www.w3.org/2000/svg"', "")
    en = render_html(k, lang="en", surface=surface)
    assert "<td>Overdue</td><td>2</td>" in en
    assert "1 (estimated from case states) (usual ≈ 2.3)" in en
    assert "not recorded" in en


def test_csv_has_bom_and_exact_figures(toy, tmp_path):
    k = compute_kpis(toy, period_for("weekly", "2026-11-29"), now=NOW)
    text = report_csv(k, "en")
    assert "kpi,,reported,6\r\n" in text
    assert "kpi,,closure_rate,0.3333\r\n" in text
    assert "zone_id,Z2,open,3\r\n" in text
    path = tmp_path / "r.csv"
    write_csv(k, str(path), "zh", names={"category": {"C04": "C04 店外经营", "C07": "噪声扰民"}})
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.startswith("部分,项,指标,数值\r\n")
    assert "指标汇总,,结案率,0.3333\r\n" in text
    assert "类别,C04 店外经营,新报案件,3\r\n" in text
    assert "类别,C07 噪声扰民,超期案件,1\r\n" in text
    assert "主责单位,城管,结案,3\r\n" in text


def test_empty_and_future_periods_render(toy):
    future = period_for("monthly", "2030-01-15")
    k = compute_kpis(toy, future, now=NOW)
    assert (k.reported, k.closed) == (0, 0)
    assert k.closure_rate is None and k.median_hours_to_close is None
    assert any("future" in n for n in k.notes)
    html_text = render_html(k, lang="zh", surface=period_surface(toy, future, now=NOW))
    assert "本期无案件，无热点图" in html_text and "—" in html_text
    assert "统计期尚未开始，暂无案件" in html_text
    empty = make_case_frame([], [])
    k = compute_kpis(empty, period_for("daily", "2026-11-29"), now=NOW)
    assert (k.reported, k.open, k.overdue) == (0, 0, 0)
    assert "no cases were reported in this period" in k.notes
    assert "<td>新报案件</td><td>0</td>" in render_html(k, lang="zh")
    assert report_csv(k, "en").count("\r\n") > 5


def test_events_from_audit_entries(toy):
    from types import SimpleNamespace as E

    from gis.analytics.kpis import events_from_audit

    at = pd.Timestamp("2026-11-26 10:00", tz="Asia/Shanghai")
    entries = [
        E(case_id="A", action="register", at=at),
        E(case_id="A", action="call_joint", at=at),
        E(case_id="B", action="escalate", at=at + pd.Timedelta(days=1)),
        E(case_id="C", action="escalate", at=pd.Timestamp("2026-12-05", tz="Asia/Shanghai")),
    ]
    ev = events_from_audit(entries)
    assert ev["kind"].tolist() == ["joint_enforcement", "consultation", "consultation"]
    k = compute_kpis(toy, period_for("weekly", "2026-11-29"), now=NOW, events=ev)
    assert (k.joint_actions, k.consultations) == (1, 1)
    assert events_from_audit([]).empty


def test_forecast_scorecard_in_report(toy):
    from gis.analytics.report_html import forecast_scorecard

    summary = pd.DataFrame(
        {
            "method": ["near_repeat", "hindsight"],
            "coverage": [0.05, 0.05],
            "weeks": [10, 10],
            "cases": [100.0, 100.0],
            "hits": [30.0, 70.0],
            "hit_rate": [0.3, 0.7],
            "area_share": [0.05, 0.05],
            "pai": [6.0, 14.0],
        }
    )
    card = forecast_scorecard(summary, "zh")
    assert card.values.tolist() == [
        ["近重复模型", "5%", 10, "30.0%", 6.0],
        ["事后最优", "5%", 10, "70.0%", 14.0],
    ]
    k = compute_kpis(toy, period_for("weekly", "2026-11-29"), now=NOW)
    page = render_html(k, lang="zh", scorecard=card)
    assert "热点预测可信度（滚动回测）" in page and '<td class="t">近重复模型</td>' in page
    assert forecast_scorecard(summary.iloc[0:0]).empty


def test_svg_columns_scale():
    from gis.analytics.charts import svg_columns

    svg = svg_columns(["a", "b"], {"x": [0, 4], "y": [2, 1]}, height=180)
    # plot height 180 - 34 - 12 = 134; the 4 is full height, the 2 half of it
    assert 'height="134.0"' in svg and 'height="67.0"' in svg
    assert svg_columns([], {"x": []}) == ""


def test_csv_escapes_formula_text_but_not_numbers(toy):
    evil = '=HYPERLINK("http://x.invalid","点我")'
    k = compute_kpis(
        toy.assign(zone_id=toy["zone_id"].replace("Z2", evil)),
        period_for("weekly", "2026-11-29"),
        now=NOW,
    )
    text = report_csv(k, "en")
    assert 'zone_id,"\'=HYPERLINK(""http://x.invalid"",""点我"")",open,3\r\n' in text
    assert "\n=" not in text and ",=" not in text
    assert "kpi,,reported,6\r\n" in text
