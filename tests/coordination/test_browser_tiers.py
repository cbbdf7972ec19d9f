"""重大 in Chromium: the area chief registers a case as 重大 on the case page, leadership
sees the banner and the count on 协同, acknowledges, and the count goes; all against the store."""

from __future__ import annotations

import datetime as dt

import pytest

from gis.access.users import DEMO_PASSWORDS, SqliteUserRepository
from gis.i18n import t
from gis.store.geopackage import GeoPackageStore
from tests.app.browser import open_page, shot

from .browser_steps import check, choose_case, keyed, seed_case

pytestmark = pytest.mark.browser

CASE = "TIER1"


def _count(store_path, username: str) -> int:
    """The open banner alerts the store holds for this account (what the page must show)."""
    from gis.coordination import alerts
    from ui.coordination import BANNER_KINDS

    user, _ = SqliteUserRepository(store_path).get(username)
    with GeoPackageStore(store_path) as store:
        return len(alerts.open_alerts(store, user, kinds=BANNER_KINDS))


def _nav_title(n: int) -> str:
    return t("page.coordination_count", count=n) if n else t("page.coordination")


def _nav_shows(page, n: int) -> None:
    side = page.locator('[data-testid="stSidebar"]')
    side.get_by_role("link", name=_nav_title(n), exact=True).wait_for(timeout=60_000)


def _log_in(page, url, username: str) -> None:
    if url is not None:
        page.goto(url)
    page.get_by_label(t("login.username")).wait_for(timeout=60_000)
    page.get_by_label(t("login.username")).fill(username)
    page.get_by_label(t("login.password")).fill(DEMO_PASSWORDS[username])
    page.get_by_role("button", name=t("login.submit")).click()
    page.get_by_role("button", name=t("app.logout")).wait_for(timeout=90_000)
    check(page)


def test_major_registered_by_the_chief_alerts_leadership_until_acknowledged(
    live_app, offline_page, tiny_geo
) -> None:
    store_path = live_app["store"]
    seed_case(store_path, tiny_geo, CASE, age=dt.timedelta(minutes=5))  # newest of all
    page = offline_page

    # the area chief registers the case as 重大 on the case page
    _log_in(page, live_app["url"], "chief")
    open_page(page, t("page.cases"), t("cases.title"))
    check(page)
    choose_case(page, CASE)
    tier = keyed(page, f"cases_tier_{CASE}_1")
    tier.get_by_text(t("tier.major"), exact=True).click()
    check(page)
    page.get_by_text(t("tier.what.major", hours="2", walk="800")).wait_for(timeout=60_000)
    page.get_by_role("button", name=t("cases.apply")).click()
    page.get_by_text(t("tier.registered_major", case_id=CASE)).wait_for(timeout=90_000)
    check(page)
    with GeoPackageStore(store_path) as store:
        case = store.get_case(CASE)
        assert (case.state, case.tier) == ("registered", "major")
        lead = store.coord_get("coord_alerts", f"{CASE}:major:leadership")
        assert lead["ack_at"] is None
        assert store.coord_get("coord_alerts", f"{CASE}:approval")["ack_at"] is None
    page.get_by_text(t("tier.awaiting_approval")).wait_for(timeout=60_000)
    _nav_shows(page, _count(store_path, "chief"))  # the approval counts for the chief
    shot(page, "tiers-major-registered")
    page.get_by_role("button", name=t("app.logout")).click()

    # leadership: the banner and the count on every page, as the store holds them
    page.get_by_role("heading", name=t("login.title")).wait_for(timeout=60_000)
    _log_in(page, None, "leader")
    before = _count(store_path, "leader")
    assert before >= 1
    page.get_by_text(t("coordination.banner", count=before)).wait_for(timeout=60_000)
    _nav_shows(page, before)
    shot(page, "tiers-leader-banner")
    open_page(page, t("page.coordination"), t("coordination.title"))
    check(page)
    ack = keyed(page, f"ack_{CASE}:major:leadership").get_by_role("button")
    ack.click()
    check(page)
    after = before - 1
    _nav_shows(page, after)
    if after:
        page.get_by_text(t("coordination.banner", count=after)).wait_for(timeout=60_000)
    assert page.get_by_text(t("coordination.banner", count=before)).count() == 0
    assert keyed(page, f"ack_{CASE}:major:leadership").count() == 0
    with GeoPackageStore(store_path) as store:
        row = store.coord_get("coord_alerts", f"{CASE}:major:leadership")
    assert row["ack_by"] == "leader" and row["ack_at"] is not None
    assert _count(store_path, "leader") == after
    shot(page, "tiers-leader-acknowledged")
    assert page.network.blocked == []
