"""The state machine itself: legal moves, parameters, tiers, deadlines and arrivals."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from gis.cases.intake import case_from_report
from gis.cases.workflow import (
    OPEN_STATES,
    STATES,
    TERMINAL_STATES,
    TRANSITIONS,
    allowed_actions,
    apply_action,
    arrivals_frame,
    cases_to_frame,
    overdue_mask,
    tier_flags,
)
from gis.errors import TransitionError, ValidationError
from gis.localtime import LOCAL_TZ as TZ

from .conftest import NOW

T0 = dt.datetime(2026, 5, 1, 18, 0, tzinfo=TZ)


@pytest.fixture
def case(refs, ten_reports):
    return case_from_report(ten_reports[0], refs, received_by="desk1")  # C04 外摆


def test_transition_table_is_closed():
    assert set(TRANSITIONS) == set(STATES)
    for state, moves in TRANSITIONS.items():
        assert set(moves.values()) <= set(STATES), state
    for s in TERMINAL_STATES:
        assert TRANSITIONS[s] == {}
    assert "closed" not in OPEN_STATES
    # every state is reachable from reported
    seen, todo = {"reported"}, ["reported"]
    while todo:
        for nxt in TRANSITIONS[todo.pop()].values():
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(STATES)


def test_new_case_from_category(case):
    assert (case.state, case.tier, case.lead_dept, case.depts) == (
        "reported",
        "general",
        "chengguan",
        ("aic", "fda"),
    )
    assert case.owner == "desk1"
    assert case.deadline_hours == 2.0
    assert case.flags == {"contingency_plan": False, "immediate_plan": False, "escalated": False}


def test_serve_notice_uses_category_deadline_and_overdue(case):
    c, _ = apply_action(case, "register", who="a", at=T0)
    c, entry = apply_action(c, "serve_notice", who="a", at=T0)
    assert c.deadline_at == T0 + dt.timedelta(hours=2)
    assert entry.params == {"deadline": "2026-05-01T12:00:00+00:00"}
    assert not c.is_overdue(T0 + dt.timedelta(hours=1))
    assert c.is_overdue(T0 + dt.timedelta(hours=3))
    frame = cases_to_frame([case, c])
    assert overdue_mask(frame, T0 + dt.timedelta(hours=3)).tolist() == [False, True]
    closed, _ = apply_action(
        apply_action(c, "recheck", who="a", at=T0)[0], "close_rectified", who="a", at=T0
    )
    assert not closed.is_overdue(T0 + dt.timedelta(days=9))


def test_explicit_deadline_must_be_later(case):
    c, _ = apply_action(case, "register", who="a", at=T0)
    with pytest.raises(TransitionError, match="is not after"):
        apply_action(c, "serve_notice", who="a", at=T0, params={"deadline": T0})
    with pytest.raises(ValidationError, match="has no time zone"):
        apply_action(c, "serve_notice", who="a", at=dt.datetime(2026, 5, 1))


def test_major_and_emergency_tiers(case):
    assert tier_flags("major") == {
        "contingency_plan": True,
        "immediate_plan": False,
        "escalated": False,
    }
    c, entry = apply_action(case, "register", who="a", at=T0, params={"tier": "emergency"})
    assert c.tier == "emergency" and entry.params == {"tier": "emergency"}
    assert c.flags == {"contingency_plan": True, "immediate_plan": True, "escalated": True}
    # emergencies may call joint enforcement straight away
    c, entry = apply_action(c, "call_joint", who="a", at=T0)
    assert c.state == "joint_enforcement"
    assert entry.params == {"depts": ["chengguan", "aic", "fda"]}
    with pytest.raises(ValidationError, match="unknown tier 'huge'"):
        tier_flags("huge")


def test_arrivals_within_thirty_minutes(case):
    c, _ = apply_action(case, "register", who="a", at=T0)
    c, _ = apply_action(c, "call_joint", who="a", at=T0, params={"depts": ["police", "aic"]})
    c, e1 = apply_action(
        c,
        "record_arrival",
        who="b",
        at=T0,
        params={"dept": "police", "arrived_at": T0 + dt.timedelta(minutes=30)},
    )
    assert (e1.params["minutes"], e1.params["within_limit"]) == (30.0, True)
    with pytest.raises(TransitionError, match="'fire' was not called"):
        apply_action(c, "record_arrival", who="b", at=T0, params={"dept": "fire"})
    with pytest.raises(TransitionError, match="before it was called"):
        apply_action(
            c,
            "record_arrival",
            who="b",
            at=T0,
            params={"dept": "aic", "arrived_at": T0 - dt.timedelta(minutes=1)},
        )
    c, _ = apply_action(
        c, "record_arrival", who="b", at=T0 + dt.timedelta(minutes=31), params={"dept": "aic"}
    )
    frame = arrivals_frame(c)
    assert frame["dept"].tolist() == ["police", "aic"]
    assert frame["minutes"].tolist() == [30.0, 31.0]
    assert frame["within_limit"].tolist() == [True, False]


def test_reject_needs_note_and_duplicate_needs_target(case):
    with pytest.raises(TransitionError, match="needs a note"):
        apply_action(case, "reject", who="a", at=T0)
    with pytest.raises(TransitionError, match="needs duplicate_of"):
        apply_action(case, "mark_duplicate", who="a", at=T0)
    d, e = apply_action(case, "mark_duplicate", who="a", at=T0, params={"duplicate_of": "T09"})
    assert (d.state, d.closed_at, e.params) == ("duplicate", T0, {"duplicate_of": "T09"})
    assert allowed_actions("duplicate") == ()


def test_escalate_keeps_state_and_apply_is_pure(case):
    before = dataclasses.asdict(case)
    c, e = apply_action(case, "escalate", who="lead", at=T0, note="会商")
    assert (c.state, c.flags["escalated"], c.version) == ("reported", True, 2)
    assert (e.from_state, e.to_state, e.note) == ("reported", "reported", "会商")
    assert dataclasses.asdict(case) == before
    with pytest.raises(TransitionError, match="needs who did it"):
        apply_action(case, "register", who="", at=T0)
    with pytest.raises(TransitionError, match="unknown state"):
        allowed_actions("lost")


def test_steps_cannot_predate_the_report_or_the_last_step(case):
    assert case.reported_at == dt.datetime(2026, 5, 1, 17, 20, tzinfo=TZ)
    with pytest.raises(TransitionError, match=r"before the case was reported \(2026-05-01T17:20"):
        apply_action(case, "register", who="a", at=dt.datetime(2020, 1, 1, tzinfo=TZ))
    # the report time itself is fine, and a back-dated paper record may be typed in later
    c, _ = apply_action(case, "register", who="a", at=case.reported_at)
    c, _ = apply_action(c, "serve_notice", who="a", at=T0)
    with pytest.raises(TransitionError, match=r"before its last change \(2026-05-01T18:00"):
        apply_action(c, "recheck", who="a", at=T0 - dt.timedelta(minutes=1))
    c, entry = apply_action(c, "recheck", who="a", at=T0)  # same minute is in order
    assert entry.at == T0


def test_frame_is_metric_and_local_time(case):
    frame = cases_to_frame([case], extra=True)
    assert frame.crs.to_string() == "EPSG:32650"
    assert str(frame["reported_at"].dt.tz) == "Asia/Shanghai"
    assert frame.loc[0, "owner"] == "desk1"
    assert NOW > frame.loc[0, "reported_at"]


def test_sql_literals_match_the_terminal_states():
    import re
    from pathlib import Path

    import gis.store.postgis as pg

    root = Path(pg.__file__).parent
    texts = [(root / "sql" / "002_open_cases_index.sql").read_text(), Path(pg.__file__).read_text()]
    for text in texts:
        (found,) = re.findall(r"state NOT IN \(([^)]*)\)", text)
        assert {s.strip(" '") for s in found.split(",")} == set(TERMINAL_STATES)
