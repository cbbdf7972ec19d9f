"""Joint actions and consultations on both stores: plan, brief, close; log; bad inputs."""

from __future__ import annotations

import datetime as dt

import pytest
from shapely.geometry import box

from gis.access.users import User
from gis.coordination import consultations as cons
from gis.coordination import joint
from gis.errors import TransitionError, ValidationError

from .conftest import NOW, lonlat

CHIEF = User(username="chief1", role="area_chief", zones=("z",))


def _advance(store, case_id, actions, t):
    case = store.get_case(case_id)
    for i, a in enumerate(actions):
        case = store.apply_transition(case_id, a, who="p1", expected_version=case.version,
                                      at=t + dt.timedelta(minutes=i))  # fmt: skip
    return case


def test_plan_by_area_brief_and_close(loaded):
    lon0, lat0 = lonlat(-10, -10)
    lon1, lat1 = lonlat(120, 160)  # around T01 (50, 0) and T02 (100, 150)
    plan = joint.plan_joint_action(
        loaded, CHIEF, title="后海酒吧街 <script>alert(1)</script>", planned_at=NOW,
        depts=["城管", "police"], staff="P01;P02", area=box(lon0, lat0, lon1, lat1), at=NOW,
    )  # fmt: skip
    assert plan["target_cases"] == "T01;T02"
    assert plan["depts"] == "chengguan;police"
    from gis.coordination import evidence

    from .photos import jpeg

    evidence.add_photo(loaded, "T01", jpeg(), CHIEF, kind="before")
    html = joint.briefing_sheet(loaded, plan["action_id"])
    assert html.count("data:image/jpeg;base64,") == 1
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.count("<circle") == 2 and "<polygon" in html
    t = NOW - dt.timedelta(hours=5)
    _advance(loaded, "T01", ["register", "serve_notice", "recheck", "call_joint"], t)
    closed = joint.close_joint_action(loaded, plan["action_id"], CHIEF, {"T01": "handle"}, at=NOW)
    assert closed["state"] == "closed"
    assert joint.outcomes_of(closed) == {"T01": "handle", "T02": "none"}
    assert loaded.get_case("T01").state == "handled"
    assert list(joint.joint_actions(loaded).state) == ["closed"]


def test_bad_outcome_changes_nothing(loaded):
    plan = joint.plan_joint_action(loaded, CHIEF, title="x", planned_at=NOW,
                                   depts=["police"], target_cases=["T01", "T03"])  # fmt: skip
    t = NOW - dt.timedelta(hours=5)
    _advance(loaded, "T01", ["register", "serve_notice", "recheck", "call_joint"], t)
    with pytest.raises(TransitionError, match="nothing changed"):
        joint.close_joint_action(loaded, plan["action_id"], CHIEF,
                                 {"T01": "handle", "T03": "verify_close"}, at=NOW)  # fmt: skip
    assert loaded.get_case("T01").state == "joint_enforcement"
    assert joint.get_joint_action(loaded, plan["action_id"])["state"] == "planned"
    with pytest.raises(ValidationError, match="not a target"):
        joint.close_joint_action(loaded, plan["action_id"], CHIEF, {"T09": "handle"})


def test_plan_refuses_unknown_things(loaded):
    with pytest.raises(ValidationError, match="unknown department"):
        joint.plan_joint_action(loaded, CHIEF, title="x", planned_at=NOW, depts=["nobody"],
                                target_cases=["T01"])  # fmt: skip
    with pytest.raises(ValidationError, match="'NOPE' does not exist"):
        joint.plan_joint_action(loaded, CHIEF, title="x", planned_at=NOW, depts=["police"],
                                target_cases=["T01", "NOPE"])  # fmt: skip
    with pytest.raises(ValidationError, match="target cases or a target area"):
        joint.plan_joint_action(loaded, CHIEF, title="x", planned_at=NOW, depts=["police"])
    assert joint.joint_actions(loaded).empty


def test_consultations(loaded):
    row = cons.log_consultation(
        loaded, CHIEF, held_at=NOW - dt.timedelta(hours=2), level="district_special",
        topic="烟袋斜街外摆", attendees=["副区长", "城管", "工商"], decisions="统一整治",
        cases=["T01"], contingency="节假日加岗", at=NOW,
    )  # fmt: skip
    assert row["attendees"] == "副区长;城管;工商"
    with pytest.raises(ValidationError, match="unknown level"):
        cons.log_consultation(loaded, CHIEF, held_at=NOW, level="galactic", topic="t",
                              attendees="a", decisions="d", at=NOW)  # fmt: skip
    with pytest.raises(ValidationError, match="'T99' does not exist"):
        cons.log_consultation(loaded, CHIEF, held_at=NOW, level="center", topic="t",
                              attendees="a", decisions="d", cases="T99", at=NOW)  # fmt: skip
    got = cons.consultations(loaded, since=NOW - dt.timedelta(days=1), until=NOW)
    assert list(got.consult_id) == [row["consult_id"]]
    assert cons.consultations(loaded, since=NOW).empty
