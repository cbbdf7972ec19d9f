"""The cases page registers 重大/突发 cases; approval scope, banner and the navigation count."""

from __future__ import annotations

from gis.access.users import DEMO_PASSWORDS
from gis.i18n import t
from gis.settings import Settings
from gis.store import open_store
from tests.app.apptest_helpers import click_button, goto, log_in, new_app
from tests.app.test_app_cases import WEST, action_box, chief_on_cases, report
from ui.common import PAGES_KEY

from .conftest import _app

app_env = _app.app_env
demo_repo = _app.demo_repo
repo = _app.repo


def _store(app_env):
    return open_store(Settings(database_url=app_env["PATROL_DATABASE_URL"]))


def _only_case(app_env):
    with _store(app_env) as s:
        (case,) = s.query_cases()
        return case, s.coord_rows("coord_alerts", {"case_id": case.case_id}, order="created_at")


def _register(at, app_env, tier: str):
    """Choose the tier (its consequences are said first), then register."""
    case, _ = _only_case(app_env)
    box = at.radio(key=f"cases_tier_{case.case_id}_{case.version}")
    box.set_value(tier).run()
    hours = "2"  # C04 外摆: 2 h whatever the tier
    assert t(f"tier.what.{tier}", hours=hours, walk="800") in [c.value for c in at.caption]
    action_box(at).set_value("register")
    return click_button(at, t("cases.apply"))


def _nav_title(at) -> str:
    return at.session_state[PAGES_KEY]["coordination"].title


def test_major_from_the_case_form_needs_the_zones_chief(app_env) -> None:
    at = report(chief_on_cases(), *WEST)
    at = _register(at, app_env, "major")
    assert not at.exception and not at.error
    case, rows = _only_case(app_env)
    assert (case.state, case.tier) == ("registered", "major")
    assert at.success[0].value == t("tier.registered_major", case_id=case.case_id)
    assert {r["alert_id"] for r in rows} == {
        f"{case.case_id}:major:leadership",
        f"{case.case_id}:approval",
    }
    # the notice is refused until the chief approves, and nothing changes
    action_box(at).set_value("serve_notice")
    at = click_button(at, t("cases.apply"))
    assert [e.value for e in at.error] == [t("tier.needs_approval")]
    assert _only_case(app_env)[0].state == "registered"
    # the chief answers for the case's zone: the page offers the approval, the nav counts it
    assert _nav_title(at) == t("page.coordination_count", count=1)
    at = click_button(at, t("coordination.approve"))
    assert not at.exception and not at.error
    _, rows = _only_case(app_env)
    approval = next(r for r in rows if r["kind"] == "approval")
    assert (approval["ack_by"], approval["note"]) == ("chief", "approved")
    assert _nav_title(at) == t("page.coordination")
    assert any(m.value.startswith("已由 景区片区长 于 ") for m in at.caption)
    action_box(at).set_value("serve_notice")
    at = click_button(at, t("cases.apply"))
    assert _only_case(app_env)[0].state == "notice_served"


def test_another_zones_chief_gets_no_approval(app_env) -> None:
    _register(report(chief_on_cases(), *WEST), app_env, "major")
    case, _ = _only_case(app_env)
    other = goto(log_in(new_app(), "streets", DEMO_PASSWORDS["streets"]), "coordination")
    assert not other.exception
    assert _nav_title(other) == t("page.coordination")
    assert t("coordination.approve") not in [b.label for b in other.button]
    # the case page refuses the case itself (outside the chief's fronts)
    other.query_params["case"] = case.case_id
    other = goto(other, "cases")
    assert t("coordination.approve") not in [b.label for b in other.button]
    assert handling_state(app_env) is None


def handling_state(app_env):
    from gis.coordination import handling

    with _store(app_env) as s:
        (case,) = s.query_cases()
        return handling.is_approved(s, case.case_id)


def test_leadership_banner_and_count_until_acknowledged(app_env) -> None:
    _register(report(chief_on_cases(), *WEST), app_env, "major")
    case, _ = _only_case(app_env)
    at = log_in(new_app(), "leader", DEMO_PASSWORDS["leader"])
    assert _nav_title(at) == t("page.coordination_count", count=1)
    assert t("coordination.banner", count=1) in [w.value for w in at.warning]
    at = goto(at, "coordination")
    # a legitimate alert is a warning, not an error box
    assert not at.error
    at = click_button(at, t("coordination.ack"))
    assert not at.exception and not at.error
    assert _nav_title(at) == t("page.coordination")
    assert t("coordination.banner", count=1) not in [w.value for w in at.warning]
    with _store(app_env) as s:
        row = s.coord_get("coord_alerts", f"{case.case_id}:major:leadership")
    assert row["ack_by"] == "leader"


def test_emergency_checklist_from_the_case_page(app_env) -> None:
    at = _register(report(chief_on_cases(), *WEST), app_env, "emergency")
    assert not at.exception and not at.error
    case, rows = _only_case(app_env)
    assert case.tier == "emergency"
    steps = [r for r in rows if r["kind"] == "checklist"]
    assert len(steps) == 6
    calls = [r for r in rows if r["kind"] == "emergency_call"]
    assert at.success[0].value == t(
        "tier.registered_emergency", case_id=case.case_id, count=len(calls)
    )
    table = next(tb.value for tb in at.table if t("tier.step") in tb.value.columns)
    assert list(table[t("tier.done_at")]) == ["—"] * 6
    at.selectbox(key=f"cases_step_{case.case_id}").set_value("secure_scene")
    at = click_button(at, t("tier.tick"))
    assert not at.exception
    with _store(app_env) as s:
        row = s.coord_get("coord_alerts", f"{case.case_id}:step:secure_scene")
    assert row["ack_by"] == "chief" and row["ack_at"] is not None
    table = next(tb.value for tb in at.table if t("tier.step") in tb.value.columns)
    done = table.set_index(t("tier.step")).loc["到场控制现场、疏散人员"]
    assert done[t("tier.done_at")] != "—" and done[t("tier.by")] == "景区片区长"


def test_liaison_inbox_count_until_the_arrival(app_env) -> None:
    """A whistle puts a count on the liaison's 协同 link; confirming the arrival removes it."""
    import datetime as dt

    from gis.access.users import User
    from gis.cases.workflow import Case
    from gis.coordination import dispatch
    from gis.localtime import LOCAL_TZ as TZ

    now = dt.datetime.now(TZ)
    with _store(app_env) as s:
        s.add_cases([Case(
            case_id="W1", category="C04", tier="general", state="reported", source="patrol",
            reported_at=now - dt.timedelta(hours=1), lon=WEST[0], lat=WEST[1],
            lead_dept="chengguan", owner="desk", zone_id="110102012001001",
            updated_at=now - dt.timedelta(hours=1), updated_by="desk",
        )])  # fmt: skip
        s.apply_transition("W1", "register", who="desk", expected_version=1,
                           at=now - dt.timedelta(minutes=50))  # fmt: skip
        dispatch.whistle(s, "W1", User("leader", "leadership"), depts=["chengguan", "police"],
                         at=now - dt.timedelta(minutes=10))  # fmt: skip
    at = log_in(new_app(), "liaison", DEMO_PASSWORDS["liaison"])
    assert _nav_title(at) == t("page.coordination_count", count=1)  # 城管's call only
    at = goto(at, "coordination")
    assert not at.exception and not at.error
    at = click_button(at, t("coordination.arrive"))
    assert not at.exception and not at.error
    assert _nav_title(at) == t("page.coordination")
    with _store(app_env) as s:
        assert s.coord_get("coord_alerts", "W1:dispatch:chengguan")["ack_by"] == "liaison"
        assert s.coord_get("coord_alerts", "W1:dispatch:police")["ack_at"] is None


def test_emergency_calls_the_on_duty_person_nearby_and_times_the_response(
    app_env, tiny_geo
) -> None:
    """With saved districts, the person whose streets are near is called; their 确认 on 协同
    is the response time the case page shows."""
    import json

    from gis.coordination.handling import ASSIGNMENT_META

    with _store(app_env) as s:  # P01 answers for every street of the west half, P02 for none
        west = tiny_geo.segments[
            tiny_geo.segments.geometry.centroid.x < tiny_geo.segments.total_bounds[0] + 300
        ]
        s.set_meta(ASSIGNMENT_META, json.dumps({str(k): "P01" for k in west.segment_id}))
    at = _register(report(chief_on_cases(), *WEST), app_env, "emergency")
    case, rows = _only_case(app_env)
    calls = [r for r in rows if r["kind"] == "emergency_call"]
    assert [r["audience"] for r in calls] == ["person:P01"]
    assert at.success[0].value == t("tier.registered_emergency", case_id=case.case_id, count=1)
    table = next(tb.value for tb in at.table if t("tier.responded_at") in tb.value.columns)
    assert list(table[t("tier.responded_at")]) == ["—"]
    # patrol1 is P01: the call counts on their 协同 link until they acknowledge it
    me = log_in(new_app(), "patrol1", DEMO_PASSWORDS["patrol1"])
    assert _nav_title(me) == t("page.coordination_count", count=1)
    me = goto(me, "coordination")
    me = click_button(me, t("coordination.ack"))
    assert not me.exception and not me.error
    assert _nav_title(me) == t("page.coordination")
    with _store(app_env) as s:
        row = s.coord_get("coord_alerts", f"{case.case_id}:call:P01")
    assert row["ack_by"] == "patrol1" and row["ack_at"] >= row["created_at"]
    at.run()
    table = next(tb.value for tb in at.table if t("tier.responded_at") in tb.value.columns)
    from gis.i18n import format_datetime

    assert list(table[t("tier.responded_at")]) == [format_datetime(row["ack_at"], "zh")]
