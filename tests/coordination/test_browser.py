"""吹哨报到 in Chromium: the leader calls departments, the liaison sees the inbox and arrives."""

from __future__ import annotations

import datetime as dt

import pytest

from gis.access.users import DEMO_PASSWORDS
from gis.i18n import t
from gis.store.geopackage import GeoPackageStore
from tests.app.browser import open_page, shot
from tests.app.test_browser import log_in

from .browser_steps import seed_case

pytestmark = pytest.mark.browser


def _seed_case(store_path, tiny_geo) -> None:
    now = seed_case(store_path, tiny_geo, "W1", age=dt.timedelta(hours=1), depts=("aic", "fda"))
    with GeoPackageStore(store_path) as store:
        store.apply_transition("W1", "register", who="desk", expected_version=1,
                               at=now - dt.timedelta(minutes=50))  # fmt: skip


def pick_case(page, key: str, case_id: str) -> None:
    """Choose ``case_id`` in the case selectbox with widget key ``key`` on the 协同 page.

    By key, not by position: the whistle's box disappears once no case can be called.
    """
    box = page.locator(f".st-key-{key}").locator('[data-testid="stSelectbox"]')
    options = page.locator('[role="option"]').filter(has_text=case_id)
    for _ in range(5):  # the list opens once the element has settled after the last rerun
        box.first.locator("input").click()
        page.keyboard.type(case_id)
        try:
            options.first.wait_for(timeout=3_000)
            break
        except Exception:
            page.keyboard.press("Escape")
            box.first.locator("input").evaluate("e => e.blur()")
            page.wait_for_timeout(500)
    options.first.click()
    from playwright.sync_api import expect

    expect(box.first.locator("input")).to_have_value(case_id, timeout=30_000)
    page.wait_for_timeout(500)
    app = page.locator('[data-testid="stApp"]')
    while app.get_attribute("data-test-script-state") == "running":
        page.wait_for_timeout(200)


def test_whistle_inbox_arrival(live_app, offline_page, tiny_geo) -> None:
    _seed_case(live_app["store"], tiny_geo)
    page = offline_page
    log_in(page, live_app["url"], "leader", DEMO_PASSWORDS["leader"])
    open_page(page, t("page.coordination"), t("coordination.title"))
    pick_case(page, "coord_case", "W1")  # other tests of the session may have registered cases too
    page.get_by_role("button", name=t("coordination.call"), exact=True).click()
    page.get_by_text(t("coordination.called", count=3, case="W1")).wait_for(timeout=30_000)
    shot(page, "coordination-whistle")
    # an after photo for the case (整改后), through the page's uploader
    from tests.coordination.photos import jpeg

    pick_case(page, "coord_pcase", "W1")
    page.locator('input[type="file"]').set_input_files(
        files=[{"name": "after.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}]
    )
    page.get_by_text(t("coordination.photo.after"), exact=True).first.click()
    page.get_by_role("button", name=t("coordination.add_photo")).click()
    page.get_by_text("已保存照片（案件 W1").wait_for(timeout=30_000)
    page.locator('[data-testid="stImage"]').first.wait_for(timeout=30_000)
    shot(page, "coordination-photo")
    page.get_by_role("button", name=t("app.logout")).click()
    # the login form must be back (not the leader's page still rerunning) before it is filled,
    # and the liaison logged in (the title is on the login page too) before the banner is due
    page.get_by_role("heading", name=t("login.title")).wait_for(timeout=30_000)
    log_in(page, None, "liaison", DEMO_PASSWORDS["liaison"], heading=t("app.title"))
    page.get_by_role("button", name=t("app.logout")).wait_for(timeout=60_000)
    page.get_by_text(t("coordination.banner", count=1)).wait_for(timeout=30_000)
    open_page(page, t("page.coordination"), t("coordination.title"))
    page.get_by_text(t("coordination.inbox", count=1)).wait_for(timeout=30_000)
    assert page.get_by_text(t("coordination.kind.dispatch"), exact=False).count() == 1
    page.get_by_role("button", name=t("coordination.arrive")).click()
    page.get_by_text("已确认到场（案件 W1").wait_for(timeout=30_000)
    page.get_by_text(t("coordination.inbox_empty")).wait_for(timeout=30_000)
    assert page.get_by_text(t("coordination.banner", count=1)).count() == 0
    shot(page, "coordination-arrival")
    assert page.locator('[data-testid="stException"]').count() == 0
    with GeoPackageStore(live_app["store"]) as store:
        case = store.get_case("W1")
        assert case.state == "joint_enforcement"
        assert case.joint["chengguan"]["arrived_at"] is not None
        assert case.joint["aic"]["arrived_at"] is None
        assert store.coord_get("coord_alerts", "W1:dispatch:chengguan")["ack_by"] == "liaison"
        photos = store.coord_rows("coord_photos", {"case_id": "W1"})
        assert [(p["kind"], p["uploaded_by"]) for p in photos] == [("after", "leader")]
    assert page.network.blocked == []
