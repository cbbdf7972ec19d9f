"""The app in Debian's Chromium with the internet unreachable: login, pages, map, clicks."""

from __future__ import annotations

import pytest

from gis.auth import DEMO_PASSWORDS, allowed_pages
from gis.i18n import t
from tests.app.browser import map_frame, map_stats, open_page, shot

pytestmark = pytest.mark.browser

ROLES = {
    "leader": "leadership",
    "chief": "area_chief",
    "patrol1": "patrol",
    "liaison": "liaison",
    "admin": "admin",
}
PAGE_TITLES = {
    "overview": "overview.title",
    "districts": "districts.title",
    "patrol": "patrol.title",
    "cases": "cases.title",
    "hotspots": "hotspots.title",
    "users": "users.title",
}
CATALOGUE_LAYERS = 7  # boundary, fronts, zones, lakes, main streets, hutongs, POIs


def log_in(page, url, username: str, password: str, heading: str | None = None) -> None:
    """Open the app (unless url is None) and log in through the form."""
    if url is not None:
        page.goto(url)
    page.get_by_label(t("login.username")).fill(username)
    page.get_by_label(t("login.password")).fill(password)
    page.get_by_role("button", name=t("login.submit")).click()
    page.get_by_role("heading", name=heading or t("overview.title")).wait_for(timeout=60_000)


def test_wrong_password_is_refused_in_chinese(live_app, offline_page) -> None:
    page = offline_page
    page.goto(live_app["url"])
    page.get_by_label(t("login.username")).fill("chief")
    page.get_by_label(t("login.password")).fill("not-the-password")
    page.get_by_role("button", name=t("login.submit")).click()
    page.get_by_text("用户名或密码错误").wait_for(timeout=30_000)
    shot(page, "login-wrong-password")
    assert page.network.blocked == []


@pytest.mark.parametrize("username", list(ROLES))
def test_each_role_loads_each_page_with_an_offline_map(live_app, offline_page, username) -> None:
    page = offline_page
    log_in(page, live_app["url"], username, DEMO_PASSWORDS[username])
    pages = allowed_pages(_user(username))
    for name in pages:
        open_page(page, t(f"page.{name}"), t(PAGE_TITLES[name]))
        if name != "users":
            frame = map_frame(page)
            stats = map_stats(frame)
            assert stats["leaflet"] == 1, name
            assert stats["overlays"] >= CATALOGUE_LAYERS, (name, stats)
            assert stats["vectors"] >= 6, (name, stats)
            assert stats["canvases"] >= 1, (name, stats)
        shot(page, f"{username}-{name}")
    leaflet = [u for u in page.network.local if u.endswith("/app/static/leaflet/leaflet.js")]
    assert leaflet, "Leaflet was not loaded from the app's static folder"
    assert page.network.blocked == []


def _user(username: str):
    from gis.auth import demo_users

    return {u.username: u for u, _ in demo_users(["110102012001001", "110102012001002"])}[username]


def test_patrol_member_cannot_open_the_users_page_by_url(live_app, offline_page) -> None:
    page = offline_page
    page.goto(f"{live_app['url']}/users")
    log_in(page, None, "patrol1", DEMO_PASSWORDS["patrol1"], heading=t("app.title"))
    refusal = t("auth.forbidden_page", role=t("role.patrol"), page=t("page.users"))
    page.get_by_text(refusal).wait_for(timeout=30_000)
    assert page.get_by_role("heading", name=t("users.title")).count() == 0
    assert page.locator('[data-testid="stSidebar"] a[href$="/users"]').count() == 0
    shot(page, "patrol1-users-by-url")


def test_patrol_member_cannot_open_another_route_by_query(live_app, offline_page) -> None:
    page = offline_page
    page.goto(f"{live_app['url']}/patrol?person=P02")
    log_in(page, None, "patrol1", DEMO_PASSWORDS["patrol1"], heading=t("patrol.title"))
    page.get_by_text(t("auth.forbidden_scope", what=t("auth.person", id="P02"))).wait_for(
        timeout=30_000
    )
    shot(page, "patrol1-tampered-person")


def test_click_on_the_map_names_the_zone_and_street(live_app, offline_page) -> None:
    page = offline_page
    log_in(page, live_app["url"], "leader", DEMO_PASSWORDS["leader"])
    frame = map_frame(page)
    # the centre of the west half: convert a lat/lng to a container point in the browser
    x, y = frame.evaluate(
        """() => { const b = window.map_div.getBounds();
                   const p = window.map_div.latLngToContainerPoint(
                       [(b.getSouth()+b.getNorth())/2, b.getWest()+(b.getEast()-b.getWest())*0.3]);
                   return [p.x, p.y]; }"""
    )
    box = page.locator('iframe[title="streamlit_folium.st_folium"]').bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.get_by_text("片区：").wait_for(timeout=30_000)
    shot(page, "leader-overview-click")
    assert page.network.blocked == []


def test_pan_and_zoom_do_not_rerun_the_page(live_app, offline_page) -> None:
    page = offline_page
    runs = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda f: runs.append(f)))
    log_in(page, live_app["url"], "leader", DEMO_PASSWORDS["leader"])
    frame = map_frame(page)
    page.wait_for_timeout(1500)
    assert runs, "the websocket listener saw no traffic at all"
    before = len(runs)
    frame.evaluate("() => { window.map_div.setZoom(window.map_div.getZoom() + 1); }")
    frame.evaluate("() => { window.map_div.panBy([120, 80]); }")
    page.wait_for_timeout(2000)
    assert len(runs) == before, "pan/zoom sent a rerun request to the server"
