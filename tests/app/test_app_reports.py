"""Reports in the app: sensible default periods, and text, tables, chart and map that agree."""

from __future__ import annotations

import datetime as dt
import importlib.util

import pandas as pd
import pytest

from gis.access.users import DEMO_PASSWORDS
from tests.app.apptest_helpers import goto, log_in, new_app

for _name in (
    "gis.analytics.report_html",
    "gis.analytics.density",
    "gis.cases.intake",
    "layers.hotspots",
):
    if importlib.util.find_spec(_name) is None:
        pytest.skip(f"{_name} is not part of this build", allow_module_level=True)

from gis.analytics import kpis as kp  # noqa: E402
from gis.analytics import periods as pr  # noqa: E402
from gis.analytics import report_html as rp  # noqa: E402


@pytest.mark.parametrize(
    ("kind", "today", "start", "end"),
    [
        ("daily", dt.date(2026, 12, 1), "2026-11-30", "2026-12-01"),
        ("weekly", dt.date(2026, 12, 1), "2026-11-23", "2026-11-30"),  # Tue → last Mon–Sun
        ("weekly", dt.date(2026, 11, 30), "2026-11-23", "2026-11-30"),  # a Monday
        ("monthly", dt.date(2026, 12, 1), "2026-11-01", "2026-12-01"),
        ("monthly", dt.date(2026, 1, 15), "2025-12-01", "2026-01-01"),
    ],
)
def test_default_period_is_the_last_complete_one(kind, today, start, end) -> None:
    period = pr.period_for(kind, pr.default_report_day(kind, today))
    assert (str(period.start.date()), str(period.end.date())) == (start, end)


def _seed(app_env, days: int = 60) -> int:
    """One case a day for ``days`` days; returns how many fall in last calendar month."""
    from gis.cases.intake import validate_record
    from gis.settings import Settings
    from gis.store import open_store
    from tests.app.test_app_cases import WEST

    now = dt.datetime.now(dt.UTC)
    with open_store(Settings(database_url=app_env["PATROL_DATABASE_URL"])) as s:
        reports = [
            validate_record(
                {
                    "report_id": f"M{i}",
                    "category": "C04" if i % 3 else "C07",
                    "lon": WEST[0] + 0.0002 * (i % 5),
                    "lat": WEST[1],
                    "reported_at": (now - dt.timedelta(days=i, hours=1)).isoformat(),
                },
                refs=s.refs,
                now=now,
            )
            for i in range(days)
        ]
        s.add_reports(reports, received_by="test")
        frame = s.cases_frame()
    today = pd.Timestamp.now(tz="Asia/Shanghai").date()
    period = pr.period_for("monthly", pr.default_report_day("monthly", today))
    t = frame["reported_at"]
    return int(((t >= period.start) & (t < period.end)).sum())


def test_monthly_report_agrees_with_its_figures(app_env, monkeypatch) -> None:
    """Regression: the monthly report said 本期无案件 beside its own case count, and the
    default date (today) made it cover a month that had barely begun."""
    in_month = _seed(app_env)
    assert in_month > 20
    seen: dict[str, object] = {}
    real = rp.render_html

    def spy(kpis, **kw):
        text = real(kpis, **kw)
        seen.update(kpis=kpis, surface=kw.get("surface"), html=text)
        return text

    monkeypatch.setattr(rp, "render_html", spy)
    at = log_in(new_app(), "leader", DEMO_PASSWORDS["leader"])
    goto(at, "hotspots")
    at.radio(key="hotspots_kind").set_value("monthly").run()
    assert not at.exception, at.exception
    kpis = seen["kpis"]
    assert kpis.period.kind == "monthly"
    assert kpis.reported == in_month
    html_text = str(seen["html"])
    assert "本期无案件" not in html_text
    assert seen["surface"] is not None and "<img" in html_text
    shown = dict(at.dataframe[0].value.itertuples(index=False, name=None))
    assert shown["新报案件"] == f"{in_month:,}"


def test_category_chart_has_names_and_no_empty_axis() -> None:
    """Regression: a chart of zeros drew a single ``0.000000`` axis; codes instead of names."""
    from ui.hotspots import category_chart_data

    empty = pd.DataFrame({"category": ["C04", "C07"], "reported": [0, 0], "closed": [0, 0]})
    assert category_chart_data(empty, {}) is None
    data = pd.DataFrame({"category": ["C04", "C07"], "reported": [3, 5], "closed": [1, 0]})
    chart = category_chart_data(data, {"C04": "店外经营", "C07": "噪声扰民"})
    assert list(chart.index) == ["噪声扰民", "店外经营"]
    assert list(chart["reported"]) == [5, 3]


def test_report_without_a_map_does_not_claim_there_were_no_cases() -> None:
    from gis.cases.workflow import cases_to_frame

    frame = cases_to_frame([])
    period = pr.period_for("daily", dt.date(2026, 11, 30))
    k = kp.compute_kpis(frame, period)
    assert "本期无案件" in rp.render_html(k, lang="zh")
    from dataclasses import replace

    busy = replace(k, reported=12)
    text = rp.render_html(busy, lang="zh")
    assert "本期无案件" not in text and "未生成热点图" in text
