"""A consultation and a joint action (plan, then close) on the 协同 page in Chromium.

Each step waits for the app to be idle, finds its widget afresh by key and checks the
page against the store; the several inputs of each record sit in one form (one rerun).
"""

from __future__ import annotations

import datetime as dt

import pytest

from gis.access.users import DEMO_PASSWORDS
from gis.i18n import t
from gis.localtime import LOCAL_TZ as TZ
from gis.store.geopackage import GeoPackageStore
from tests.app.browser import open_page, shot
from tests.app.test_browser import log_in

from .browser_steps import add_options, check, choose, fill, idle, keyed, press
from .test_browser_flows import _seed

pytestmark = pytest.mark.browser

CASE = "JC1"
TOPIC = "外摆整治会商"
TITLE = "烟袋斜街联合执法"


def _month_line(store_path) -> str:
    """The month's joint actions and consultations against their targets, from the store."""
    from gis.coordination import consultations as cons
    from gis.coordination import joint

    now = dt.datetime.now(TZ)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    with GeoPackageStore(store_path) as store:
        actions = joint.joint_actions(store, since=start)
        meetings = cons.consultations(store, since=start)
    return t("coordination.month", joint=len(actions), joint_target=joint.JOINT_ACTIONS_PER_MONTH,
             consult=len(meetings), consult_target=cons.CONSULTATIONS_PER_MONTH)  # fmt: skip


def _open_expander(page, label: str, inner_key: str) -> None:
    """Open the expander ``label`` until the widget ``inner_key`` inside it is visible."""
    for _ in range(8):
        idle(page)
        if keyed(page, inner_key).first.is_visible():
            return
        page.locator('[data-testid="stExpander"] summary').filter(has_text=label).first.click()
        try:
            keyed(page, inner_key).first.wait_for(state="visible", timeout=3_000)
            return
        except Exception:
            page.wait_for_timeout(300)
    raise AssertionError(f"the expander {label!r} did not open")


def test_consultation_then_joint_action_planned_and_closed(live_app, offline_page, tiny_geo):
    store_path = live_app["store"]
    _seed(store_path, tiny_geo, CASE)
    with GeoPackageStore(store_path) as store:
        dept = {k: d.name_zh for k, d in store.refs.departments.items()}
        before = {r["consult_id"] for r in store.coord_rows("coord_consultations")}
        planned = {r["action_id"] for r in store.coord_rows("coord_joint_actions")}
    page = offline_page
    log_in(page, live_app["url"], "chief", DEMO_PASSWORDS["chief"])
    open_page(page, t("page.coordination"), t("coordination.title"))
    check(page)
    page.get_by_text(_month_line(store_path)).wait_for(timeout=30_000)

    # 会商: four inputs and a linked case in one form, one submit
    _open_expander(page, t("coordination.log_consult"), "coord_ktopic")
    fill(page, "coord_ktopic", TOPIC)
    fill(page, "coord_kpeople", "城管,工商,派出所")
    fill(page, "coord_kdec", "本周联合清理外摆")
    add_options(page, "coord_kcases", [CASE])
    press(page, "coord_ktopic", t("coordination.log"))
    page.get_by_text("已记录会商 ").wait_for(timeout=60_000)
    check(page)
    with GeoPackageStore(store_path) as store:
        (row,) = [
            r for r in store.coord_rows("coord_consultations") if r["consult_id"] not in before
        ]
    assert (row["topic"], row["cases"], row["level"]) == (TOPIC, CASE, "center")
    assert row["attendees"] == "城管;工商;派出所" and row["decisions"] == "本周联合清理外摆"
    page.get_by_text(t("coordination.logged", id=row["consult_id"])).wait_for(timeout=30_000)
    page.get_by_text(_month_line(store_path)).wait_for(timeout=30_000)

    # 联合执法: title, two departments and a target case in one form
    _open_expander(page, t("coordination.plan_joint"), "coord_jtitle")
    fill(page, "coord_jtitle", TITLE)
    add_options(page, "coord_jdepts", [dept["chengguan"], dept["police"]])
    add_options(page, "coord_jcases", [CASE])
    press(page, "coord_jtitle", t("coordination.plan"))
    page.get_by_text("已计划联合执法 ").wait_for(timeout=60_000)
    check(page)
    with GeoPackageStore(store_path) as store:
        (action,) = [
            r for r in store.coord_rows("coord_joint_actions") if r["action_id"] not in planned
        ]
    assert (action["title"], action["state"], action["target_cases"]) == (TITLE, "planned", CASE)
    assert set(action["depts"].split(";")) == {"chengguan", "police"}
    aid = action["action_id"]
    page.get_by_text(t("coordination.planned", id=aid)).wait_for(timeout=30_000)
    page.get_by_text(_month_line(store_path)).wait_for(timeout=30_000)

    # close it: the planned action is picked by id (other tests may have planned some)
    choose(page, "coord_jpick", aid)
    out_key = f"coord_out_{aid}_{CASE}"
    keyed(page, out_key).first.wait_for(timeout=30_000)
    assert keyed(page, out_key).locator("input").first.input_value() == t(
        "coordination.outcome.none"
    )
    fill(page, "coord_jnote", "现场已清理")
    press(page, out_key, t("coordination.close_joint"))
    page.get_by_text(t("coordination.closed", id=aid)).wait_for(timeout=60_000)
    check(page)
    with GeoPackageStore(store_path) as store:
        row = store.coord_get("coord_joint_actions", aid)
        case = store.get_case(CASE)
    assert row["state"] == "closed" and case.state == "reported"  # outcome "none": unchanged
    assert page.locator(".st-key-coord_jpick input").count() == 0 or aid not in (
        page.locator(".st-key-coord_jpick input").first.input_value()
    )
    page.get_by_text(_month_line(store_path)).wait_for(timeout=30_000)
    shot(page, "coordination-joint-consult")
    assert page.network.blocked == []
