"""The other 协同 flows in Chromium: 重大 approval and banner, joint action and consultation,
an inspection that opens a case, and a reporter who sees only their own reports."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from gis.access.users import DEMO_PASSWORDS, SqliteUserRepository, User, hash_password
from gis.i18n import t
from gis.store.geopackage import GeoPackageStore
from tests.app.browser import open_page, shot
from tests.app.test_browser import log_in

from .browser_steps import seed_case, zone_point

pytestmark = pytest.mark.browser

ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'


def _seed(store_path, tiny_geo, case_id: str, *, tier: str | None = None) -> None:
    """A reported case in the first zone; registered (with ``tier``) when a tier is given."""
    from gis.coordination import handling

    now = seed_case(store_path, tiny_geo, case_id, age=dt.timedelta(hours=1), depts=("aic",))
    if tier:
        with GeoPackageStore(store_path) as store:
            desk = User("desk", "leadership")
            handling.register_case(
                store, case_id, desk, tier=tier, at=now - dt.timedelta(minutes=50)
            )


def _settled(page, timeout_s: float = 60.0) -> None:
    """Wait for the rerun to finish, then check no exception or error is shown."""
    app = page.locator('[data-testid="stApp"]')
    deadline = time.monotonic() + timeout_s
    page.wait_for_timeout(300)
    while app.get_attribute("data-test-script-state") == "running":
        assert time.monotonic() < deadline, "the page kept running"
        page.wait_for_timeout(200)
    # open 重大/突发 alerts are red boxes too (🔔): page content, left by earlier tests
    errors = page.locator(ERRORS).filter(has_not_text="🔔")
    assert errors.count() == 0, errors.all_inner_texts()


def _row(page, alert: str):
    """The row of the alert ``alert`` (its text and its button)."""
    return page.locator('[data-testid="stHorizontalBlock"]').filter(has_text=alert)


def _leader_banner(store_path) -> str:
    """The banner text for what the store holds for leadership."""
    from gis.coordination import alerts
    from ui.coordination import BANNER_KINDS

    with GeoPackageStore(store_path) as store:
        n = len(alerts.open_alerts(store, User("leader", "leadership"), kinds=BANNER_KINDS))
    return t("coordination.banner", count=n)


def test_major_case_needs_chief_approval_and_banners_leadership(live_app, offline_page, tiny_geo):
    _seed(live_app["store"], tiny_geo, "M1", tier="major")
    page = offline_page
    log_in(page, live_app["url"], "leader", DEMO_PASSWORDS["leader"])
    banner = _leader_banner(live_app["store"])
    page.get_by_text(banner).wait_for(timeout=30_000)  # on the overview, not only on 协同
    _settled(page)
    page.get_by_role("button", name=t("app.logout")).click()

    log_in(page, None, "chief", DEMO_PASSWORDS["chief"], heading=t("app.title"))
    open_page(page, t("page.coordination"), t("coordination.title"))
    alert = t("coordination.alert", kind=t("coordination.kind.approval"), case="M1")
    page.get_by_text(alert).wait_for(timeout=30_000)
    _row(page, alert).get_by_role("button", name=t("coordination.approve")).click()
    page.get_by_text(alert).wait_for(state="detached", timeout=30_000)
    _settled(page)
    with GeoPackageStore(live_app["store"]) as store:
        row = store.coord_get("coord_alerts", "M1:approval")
        assert (row["ack_by"], row["note"]) == ("chief", "approved")
        assert store.coord_get("coord_alerts", "M1:major:leadership")["ack_at"] is None
    page.get_by_role("button", name=t("app.logout")).click()

    log_in(page, None, "leader", DEMO_PASSWORDS["leader"], heading=t("app.title"))
    page.get_by_text(banner).wait_for(timeout=30_000)  # still there until leadership confirms
    open_page(page, t("page.coordination"), t("coordination.title"))
    alert = t("coordination.alert", kind=t("coordination.kind.major"), case="M1")
    _row(page, alert).get_by_role("button", name=t("coordination.ack")).click()
    page.get_by_text(alert).wait_for(state="detached", timeout=30_000)
    _settled(page)
    after = _leader_banner(live_app["store"])
    assert after != banner and page.get_by_text(banner).count() == 0
    shot(page, "coordination-major-acknowledged")
    with GeoPackageStore(live_app["store"]) as store:
        assert store.coord_get("coord_alerts", "M1:major:leadership")["ack_by"] == "leader"
    assert page.network.blocked == []


def test_inspection_opens_a_case(live_app, offline_page, tiny_geo):
    lon, lat, _ = zone_point(tiny_geo)
    page = offline_page
    log_in(page, live_app["url"], "leader", DEMO_PASSWORDS["leader"])
    open_page(page, t("page.coordination"), t("coordination.title"))
    _settled(page)
    form = page.locator('[data-testid="stForm"]').filter(has_text=t("coordination.finding"))
    for _ in range(5):  # the expander opens once the page has settled
        page.get_by_text(t("coordination.record_inspection"), exact=True).click()
        try:
            form.get_by_label(t("coordination.target"), exact=True).wait_for(timeout=3_000)
            break
        except Exception:
            page.wait_for_timeout(500)
    form.get_by_label(t("coordination.target"), exact=True).fill("烟袋斜街")
    form.get_by_text(t("coordination.result.serious"), exact=True).click()
    form.get_by_label(t("coordination.finding")).fill("门前堆物未清（暗访）")
    form.get_by_text(t("coordination.insp_outcome.case"), exact=True).click()
    form.get_by_label(t("report.lon")).fill(f"{lon:.6f}")
    form.get_by_label(t("report.lat")).fill(f"{lat:.6f}")
    form.get_by_label(t("report.lat")).press("Tab")
    form.get_by_role("button", name=t("coordination.record")).click()
    page.get_by_text("已记录明察暗访，并立案 ").wait_for(timeout=30_000)
    _settled(page)
    with GeoPackageStore(live_app["store"]) as store:
        (row,) = [r for r in store.coord_rows("coord_inspections") if r["outcome"] == "case"]
        case = store.get_case(row["case_id"])
    assert case.source == "inspection" and row["target"] == "烟袋斜街"
    assert (row["result"], row["target_kind"]) == ("serious", "street")
    assert abs(case.lon - lon) < 1e-5 and abs(case.lat - lat) < 1e-5
    page.get_by_text(t("coordination.recorded_case", case=case.case_id)).wait_for()
    shot(page, "coordination-inspection-case")
    assert page.network.blocked == []


def test_reporter_sends_and_sees_only_own(live_app, offline_page, tiny_geo):
    lon, lat, _ = zone_point(tiny_geo)
    repo = SqliteUserRepository(live_app["store"])
    for name in ("dama_a", "dama_b"):
        repo.add(User(name, "reporter", "西城大妈"), hash_password("reporter-pw-1", rounds=4))
    page = offline_page
    log_in(page, live_app["url"], "dama_a", "reporter-pw-1", heading=t("app.title"))
    page.get_by_role("heading", name=t("report.title")).wait_for(timeout=30_000)
    page.get_by_label(t("report.lon")).fill(f"{lon:.6f}")
    page.get_by_label(t("report.lat")).fill(f"{lat:.6f}")
    page.get_by_label(t("report.sentence")).fill("门口六张桌子")
    page.get_by_label(t("report.sentence")).press("Tab")
    page.get_by_role("button", name=t("report.submit")).click()
    page.get_by_text("已上报，编号 ").wait_for(timeout=30_000)
    _settled(page)
    with GeoPackageStore(live_app["store"]) as store:
        (case,) = [k for k in store.query_cases(limit=10_000) if k.reporter == "dama_a"]
    page.get_by_text(t("report.sent", case_id=case.case_id)).wait_for()
    page.get_by_text(t("report.mine", count=1)).wait_for(timeout=30_000)
    assert page.get_by_text(case.case_id).count() >= 1
    shot(page, "report-sent")
    page.get_by_role("button", name=t("app.logout")).click()

    page.get_by_label(t("login.username")).wait_for(timeout=30_000)
    log_in(page, live_app["url"], "dama_b", "reporter-pw-1", heading=t("app.title"))
    page.get_by_text(t("report.mine", count=0)).wait_for(timeout=30_000)
    _settled(page)
    assert page.get_by_text(case.case_id).count() == 0
    assert page.network.blocked == []
