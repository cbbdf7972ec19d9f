"""Tiers change the handling; 吹哨报到 with inboxes and punctuality, on both stores."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from gis.coordination import alerts, dispatch, handling
from gis.coordination.policy import (
    HANDLING,
    deadline_hours,
    escalation_level,
    load_checklist,
    notice_params,
    people_within_walk,
    roster_from_assignment,
)
from gis.errors import AuthError, TransitionError, ValidationError

from .conftest import NOW

T0 = NOW - dt.timedelta(days=1)


def _case(loaded, case_id):
    return loaded.get_case(case_id)


def test_deadline_comes_from_category_and_tier(loaded, refs):
    c04 = _case(loaded, "T01")  # C04 外摆, patrol
    assert c04.category == "C04"
    assert deadline_hours(c04, refs) == 2.0
    c01 = _case(loaded, "T03")  # C01 违法建设: 168 h, capped by 重大 to 24 h
    assert deadline_hours(c01, refs) == 168.0
    assert deadline_hours(dataclasses.replace(c01, tier="major"), refs) == 24.0
    assert deadline_hours(dataclasses.replace(c01, tier="emergency"), refs) == 2.0


def test_hotline_cases_keep_their_limit(loaded, refs):
    hot = _case(loaded, "T02")  # 12345
    assert hot.source == "hotline_12345"
    assert deadline_hours(hot, refs) == 24.0
    seven = dataclasses.replace(hot, attributes={"hotline_hours": 168})
    assert deadline_hours(seven, refs) == 168.0


def test_changing_the_deadline_needs_a_reason(loaded, refs):
    c04 = _case(loaded, "T01")
    assert notice_params(c04, refs) == ({"hours": 2.0}, "")
    with pytest.raises(TransitionError, match="rules give 2 h.*say why"):
        notice_params(c04, refs, hours=72)
    params, note = notice_params(c04, refs, hours=72, reason="owner abroad")
    assert params == {"hours": 72.0} and "owner abroad" in note


def test_general_case_served_with_category_deadline(loaded, officer):
    handling.register_case(loaded, "T01", officer, at=T0)
    case = handling.serve_notice(loaded, "T01", officer, at=T0 + dt.timedelta(minutes=5))
    assert case.deadline_at - (T0 + dt.timedelta(minutes=5)) == dt.timedelta(hours=2)
    with pytest.raises(TransitionError, match="say why"):
        handling.serve_notice(loaded, "T09", officer, hours=10, at=T0)


def test_major_needs_approval_and_alerts_leadership(store, ten_reports, officer, chief, boss):
    zoned = [dataclasses.replace(r, zone_id=chief.zones[0]) for r in ten_reports]
    store.add_reports(zoned, received_by="desk1")
    loaded = store
    handling.register_case(loaded, "T03", officer, tier="major", at=T0)
    assert [a["kind"] for a in alerts.open_alerts(loaded, boss)] == ["major"]
    assert alerts.badge(loaded, chief) == 1
    with pytest.raises(TransitionError, match="area chief approves"):
        handling.serve_notice(loaded, "T03", officer, at=T0 + dt.timedelta(minutes=1))
    with pytest.raises(AuthError):
        handling.approve(loaded, "T03", officer)
    handling.approve(loaded, "T03", chief, at=T0 + dt.timedelta(minutes=2))
    case = handling.serve_notice(loaded, "T03", officer, at=T0 + dt.timedelta(minutes=3))
    assert case.deadline_at - case.updated_at == dt.timedelta(hours=24)
    assert handling.plan_missing(loaded, case)
    banner = alerts.open_alerts(loaded, boss)[0]
    alerts.acknowledge(loaded, banner["alert_id"], boss, at=T0 + dt.timedelta(minutes=4))
    assert alerts.badge(loaded, boss) == 0


def test_emergency_checklist_and_responders(loaded, officer):
    handling.register_case(
        loaded, "T08", officer, tier="emergency", at=T0, responders=lambda case: ["P01", "P02"]
    )
    rows = alerts.case_alerts(loaded, "T08")
    kinds = [r["kind"] for r in rows]
    assert kinds.count("checklist") == len(load_checklist())
    assert kinds.count("emergency_call") == 2
    assert [a["case_id"] for a in alerts.open_alerts(loaded, officer)] == ["T08"]
    done = handling.complete_step(
        loaded, "T08", "secure_scene", officer, at=T0 + dt.timedelta(minutes=7)
    )
    assert done["ack_at"] == T0 + dt.timedelta(minutes=7)
    with pytest.raises(ValidationError, match="no checklist step"):
        handling.complete_step(loaded, "T08", "nope", officer)


def test_escalation_to_chief_then_leadership(loaded, officer):
    handling.register_case(loaded, "T01", officer, at=T0)
    case = handling.serve_notice(loaded, "T01", officer, at=T0)
    assert escalation_level(case, T0 + dt.timedelta(hours=1)) == 0
    assert escalation_level(case, T0 + dt.timedelta(hours=3)) == 1
    assert escalation_level(case, T0 + dt.timedelta(hours=27)) == 2
    made = handling.escalate_overdue(loaded, now=T0 + dt.timedelta(hours=3))
    assert list(made.loc[made.case_id == "T01", "audience"]) == ["role:area_chief"]
    again = handling.escalate_overdue(loaded, now=T0 + dt.timedelta(hours=3))
    assert "T01" not in set(again.case_id)
    later = handling.escalate_overdue(loaded, now=T0 + dt.timedelta(hours=27))
    assert list(later.loc[later.case_id == "T01", "audience"]) == ["role:leadership"]
    assert loaded.get_case("T01").flags["escalated"]


def _to_joint(store, officer, case_id):
    handling.register_case(store, case_id, officer, at=T0)
    handling.serve_notice(store, case_id, officer, at=T0 + dt.timedelta(minutes=1))
    case = store.get_case(case_id)
    store.apply_transition(case_id, "recheck", who="p1", expected_version=case.version,
                           at=T0 + dt.timedelta(minutes=2))  # fmt: skip


def test_whistle_inbox_arrival_and_punctuality(loaded, officer, police_liaison):
    _to_joint(loaded, officer, "T01")
    called = T0 + dt.timedelta(minutes=10)
    case = dispatch.whistle(loaded, "T01", officer, depts=["城管", "police", "工商"], at=called)
    assert set(case.joint) == {"chengguan", "police", "aic"}
    box = dispatch.inbox(loaded, "police")
    assert list(box.case_id) == ["T01"]
    assert box.due_at.iloc[0] == called + dt.timedelta(minutes=30)
    with pytest.raises(AuthError, match="liaison of police"):
        dispatch.confirm_arrival(loaded, "T01", "aic", police_liaison)
    dispatch.confirm_arrival(
        loaded, "T01", "police", police_liaison, arrived_at=called + dt.timedelta(minutes=22),
        lon=116.39, lat=39.94,
    )  # fmt: skip
    boss = dataclasses.replace(police_liaison, role="leadership", department=None)
    dispatch.confirm_arrival(
        loaded, "T01", "aic", boss, arrived_at=called + dt.timedelta(minutes=41)
    )
    assert dispatch.inbox(loaded, "police").empty
    done = dispatch.inbox(loaded, "police", open_only=False)
    assert done.minutes.iloc[0] == pytest.approx(22.0) and bool(done.on_time.iloc[0])
    table = dispatch.punctuality(loaded).set_index("dept")
    assert table.loc["police", "on_time"] == 1 and table.loc["aic", "on_time"] == 0
    assert table.loc["chengguan", "arrivals"] == 0 and table.loc["chengguan", "calls"] == 1
    assert table.loc["police", "on_time_rate"] == 1.0


def test_unknown_department_calls_nobody(loaded, officer):
    _to_joint(loaded, officer, "T01")
    before = loaded.get_case("T01")
    with pytest.raises(ValidationError, match="unknown department 'moon police'"):
        dispatch.whistle(loaded, "T01", officer, depts=["police", "moon police"])
    after = loaded.get_case("T01")
    assert after.version == before.version and after.joint == {}
    assert dispatch.inbox(loaded, "police").empty


def test_arrival_before_the_call_is_refused(loaded, officer, police_liaison):
    _to_joint(loaded, officer, "T01")
    called = T0 + dt.timedelta(minutes=10)
    dispatch.whistle(loaded, "T01", officer, depts=["police"], at=called)
    version = loaded.get_case("T01").version
    with pytest.raises(TransitionError, match="before it was called"):
        dispatch.confirm_arrival(
            loaded, "T01", "police", police_liaison, arrived_at=called - dt.timedelta(minutes=5)
        )
    assert loaded.get_case("T01").version == version
    assert len(dispatch.inbox(loaded, "police")) == 1  # still waiting


def test_people_within_walk(segments):
    from shapely.geometry import Point

    from .conftest import lonlat  # noqa: F401

    seg = segments.copy()
    seg["length_m"] = seg.geometry.length
    ids = list(seg.segment_id)
    roster = roster_from_assignment({ids[0]: "near", ids[-1]: "far"})
    first = seg.geometry.iloc[0].interpolate(0.5, normalized=True)
    found = people_within_walk(seg, Point(first.x, first.y), roster, max_m=300)
    assert list(found.person_id) == ["near"]
    everyone = people_within_walk(seg, Point(first.x, first.y), roster, max_m=5000)
    assert list(everyone.person_id) == ["near", "far"]
    assert everyone.walk_m.iloc[1] > 300
    positions = roster.assign(x=[first.x + 1, None], y=[first.y, None]).iloc[:1]
    assert people_within_walk(seg, Point(first.x, first.y), positions).walk_m.iloc[0] < 5


def test_handling_table_differs_by_tier():
    assert HANDLING["general"].chief_approval is False
    assert HANDLING["major"].alert_leadership and HANDLING["major"].plan_required
    assert HANDLING["emergency"].emergency_checklist


def test_emergency_responders_from_the_duty_roster(store_factory, segments, refs):
    """On-duty people (shift or on call) with dated districts are found; resting ones not."""
    from gis.coordination.handling import duty_roster
    from gis.people.assignments import Assignment
    from gis.people.roster import RosterEntry

    store = store_factory()
    day = NOW.date()
    ids = list(segments.segment_id)
    from gis.people.staff import Person

    people = [Person(p, p, "A", "duty_officer", "chengguan", "resident", fictitious=True)
              for p in ("P01", "P02")]  # fmt: skip
    store.people.save_people(people)
    store.people.save_roster(
        [RosterEntry(day, "P01", "evening"), RosterEntry(day, "P02", "rest")],
        start=day,
        end=day,
    )
    store.people.assign([Assignment(ids[0], "P01", day), Assignment(ids[1], "P02", day)])
    roster = duty_roster(store, day)
    assert set(roster.person_id) == {"P01"}
    assert duty_roster(store, day + dt.timedelta(days=1)) is None
