"""重大 in Chromium: the area chief registers a case as 重大 on the case page, leadership
sees the banner and the count on 协同, acknowledges, and the count goes; all against the store."""

from __future__ import annotations

import datetime as dt
import re
import time

import geopandas as gpd
import pytest

from gis.access.users import DEMO_PASSWORDS, SqliteUserRepository
from gis.cases.workflow import Case
from gis.i18n import t
from gis.localtime import LOCAL_TZ as TZ
from gis.store.geopackage import GeoPackageStore
from tests.app.browser import open_page, shot

pytestmark = pytest.mark.browser

ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
CASE = "TIER1"


def key_class(key: str) -> str:
    """The CSS class Streamlit gives a keyed element (characters outside [A-Za-z0-9_-] → -)."""
    return ".st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key)


def idle(page, timeout_s: float = 90.0) -> None:
    """Wait for the rerun to finish (slow on a loaded machine), then: no error on the page."""
    app = page.locator('[data-testid="stApp"]')
    page.wait_for_timeout(300)
    deadline = time.monotonic() + timeout_s
    while app.get_attribute("data-test-script-state") == "running":
        assert time.monotonic() < deadline, "the page kept running"
        page.wait_for_timeout(200)
    assert page.locator(ERRORS).count() == 0, page.locator(ERRORS).all_inner_texts()


def _seed(store_path, tiny_geo) -> None:
    """A reported C04 case in the first zone (the demo chief's), newest of all."""
    zone = tiny_geo.zones.iloc[0]
    pt = gpd.GeoSeries([zone.geometry.representative_point()], crs=tiny_geo.zones.crs)
    lonlat = pt.to_crs(4326).iloc[0]
    now = dt.datetime.now(TZ)
    case = Case(
        case_id=CASE, category="C04", tier="general", state="reported", source="patrol",
        reported_at=now - dt.timedelta(minutes=5), lon=lonlat.x, lat=lonlat.y,
        lead_dept="chengguan", owner="desk", zone_id=zone.zone_id,
        updated_at=now - dt.timedelta(minutes=5), updated_by="desk",
    )  # fmt: skip
    with GeoPackageStore(store_path) as store:
        store.add_cases([case])


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
    idle(page)


def _pick_case(page, case_id: str) -> None:
    """Choose the case in the case page's list (by its widget key, typing its id and taking
    the option with the keyboard: a list opened upwards lies over the case table, whose canvas
    takes the pointer). Retried while the page settles after its last rerun."""
    detail = page.get_by_text(t("cases.codes", case_id=case_id, code="C04"))
    box = page.locator(key_class("cases_pick")).locator("input")
    options = page.locator('[role="option"]').filter(has_text=case_id)
    for _ in range(6):
        if detail.count():  # already the case shown (the only one, or chosen before)
            break
        idle(page)
        box.click()
        page.keyboard.type(case_id)
        try:
            options.first.wait_for(timeout=5_000)
        except Exception:
            page.keyboard.press("Escape")
            box.evaluate("e => e.blur()")
            page.wait_for_timeout(500)
            continue
        page.keyboard.press("Enter")
        idle(page)
        try:
            detail.wait_for(timeout=15_000)
        except Exception:
            continue
    detail.wait_for(timeout=60_000)
    idle(page)


def test_major_registered_by_the_chief_alerts_leadership_until_acknowledged(
    live_app, offline_page, tiny_geo
) -> None:
    store_path = live_app["store"]
    _seed(store_path, tiny_geo)
    page = offline_page

    # the area chief registers the case as 重大 on the case page
    _log_in(page, live_app["url"], "chief")
    open_page(page, t("page.cases"), t("cases.title"))
    idle(page)
    _pick_case(page, CASE)
    tier = page.locator(key_class(f"cases_tier_{CASE}_1"))
    tier.get_by_text(t("tier.major"), exact=True).click()
    idle(page)
    page.get_by_text(t("tier.what.major", hours="2", walk="800")).wait_for(timeout=60_000)
    page.get_by_role("button", name=t("cases.apply")).click()
    page.get_by_text(t("tier.registered_major", case_id=CASE)).wait_for(timeout=90_000)
    idle(page)
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
    idle(page)
    ack = page.locator(key_class(f"ack_{CASE}:major:leadership")).get_by_role("button")
    ack.click()
    idle(page)
    after = before - 1
    _nav_shows(page, after)
    if after:
        page.get_by_text(t("coordination.banner", count=after)).wait_for(timeout=60_000)
    assert page.get_by_text(t("coordination.banner", count=before)).count() == 0
    assert page.locator(key_class(f"ack_{CASE}:major:leadership")).count() == 0
    with GeoPackageStore(store_path) as store:
        row = store.coord_get("coord_alerts", f"{CASE}:major:leadership")
    assert row["ack_by"] == "leader" and row["ack_at"] is not None
    assert _count(store_path, "leader") == after
    shot(page, "tiers-leader-acknowledged")
    assert page.network.blocked == []
