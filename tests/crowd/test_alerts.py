"""Alerts: levels crossed with lead time, one episode per level, acknowledge and escalate."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from gis.crowd.alerts import Alert, acknowledge, escalated, evaluate_alerts
from gis.crowd.response import SHIFT_HOURS, case_report_for, on_duty
from gis.errors import TransitionError, ValidationError
from gis.localtime import LOCAL_TZ as TZ

NOW = dt.datetime(2026, 10, 5, 12, 0, tzinfo=TZ)


def _inputs(places, ydq_now: float, ydq_path: list[float]):
    """Series with one value per place at NOW and a forecast of YDQ (others flat at 0)."""
    ids = list(places["place_id"])
    series = pd.DataFrame({p: [0.0] for p in ids}, index=[pd.Timestamp(NOW)])
    series["YDQ"] = ydq_now
    times = [pd.Timestamp(NOW) + pd.Timedelta(minutes=5 * (i + 1)) for i in range(24)]
    rows = []
    for p in ids:
        vals = ydq_path if p == "YDQ" else [0.0] * 24
        for t, v in zip(times, vals, strict=True):
            rows.append({"place_id": p, "at": t, "mean": v, "lo": v * 0.9, "hi": v * 1.1})
    return series, pd.DataFrame(rows)


def test_levels_crossed_with_their_lead_times(places):
    # capacity of 银锭桥 is 630: 黄 from 504, 橙 from 630, 红 from 756
    path = list(np.linspace(400, 700, 24))  # crosses 504 at step 9 and 630 at step 19
    series, fc = _inputs(places, 400, path)
    alerts = evaluate_alerts(places, series, fc, NOW)
    assert [(a.place_id, a.level) for a in alerts] == [("YDQ", "yellow"), ("YDQ", "orange")]
    y, o = alerts
    first_y = int(np.flatnonzero(np.array(path) >= 504)[0]) + 1
    first_o = int(np.flatnonzero(np.array(path) >= 630)[0]) + 1
    assert y.lead_min == 5 * first_y and o.lead_min == 5 * first_o
    assert y.expected_at == NOW + dt.timedelta(minutes=5 * first_y)
    assert y.alert_id == "CW-YDQ-202610051200-yellow"
    assert len(y.detail["curve"]) == 24 and y.detail["threshold"] == 504.0
    # the same episode raises again only above the levels already raised
    again = evaluate_alerts(places, series, fc, NOW + dt.timedelta(minutes=5), recent=alerts)
    assert again == []
    higher = list(np.linspace(640, 800, 24))
    s2, f2 = _inputs(places, 640, higher)
    later = evaluate_alerts(places, s2, f2, NOW + dt.timedelta(minutes=5), recent=alerts)
    assert [a.level for a in later] == ["red"]
    # already above a level: lead time zero
    s3, f3 = _inputs(places, 640, [600.0] * 24)
    now_hit = evaluate_alerts(places, s3, f3, NOW)
    assert [(a.level, a.lead_min) for a in now_hit] == [("yellow", 0.0), ("orange", 0.0)]


def test_acknowledge_and_escalate_rules(places):
    series, fc = _inputs(places, 520, [520.0] * 24)
    (a,) = evaluate_alerts(places, series, fc, NOW)
    ack = acknowledge(a, who="leader1", at=NOW)
    assert (ack.state, ack.acted_by, ack.version) == ("acknowledged", "leader1", 2)
    with pytest.raises(TransitionError, match="already acknowledged"):
        acknowledge(ack, who="leader2")
    esc = escalated(ack, who="leader1", case_id="C29-x", at=NOW)
    with pytest.raises(TransitionError, match="already case C29-x"):
        escalated(esc, who="leader2", case_id="y")
    with pytest.raises(ValidationError, match="major.*emergency"):
        case_report_for(a, places, tier="general", who="leader1", at=NOW)
    r = case_report_for(a, places, tier="emergency", who="leader1", at=NOW)
    assert (r.category, r.tier, r.source) == ("C29", "emergency", "video")
    assert r.attributes["persons"] == 520
    assert "银锭桥" in r.description and a.alert_id in r.description


def test_alert_validation():
    with pytest.raises(ValidationError, match="unknown alert level"):
        Alert("x", "YDQ", "purple", NOW, NOW, 0, 0, 0, 1)


def test_shifts_on_duty():
    staff = pd.DataFrame(
        {"person_id": ["A", "B", "C"], "shift": ["morning", "evening", "rotating"]}
    )
    assert list(on_duty(staff, NOW)["person_id"]) == ["A", "C"]
    late = NOW.replace(hour=23)
    assert list(on_duty(staff, late)["person_id"]) == ["B", "C"]
    assert SHIFT_HOURS["morning"] == (9, 19)
