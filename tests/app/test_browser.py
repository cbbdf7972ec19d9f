"""The app in Debian's Chromium with the internet unreachable: login, pages, map, clicks."""

from __future__ import annotations

import pytest

from gis.access.authorization import allowed_pages
from gis.access.users import DEMO_PASSWORDS
from gis.i18n import t
from tests.app.browser import map_frame, map_stats, open_page, shot, wait_for_map

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
    "crowd": "crowd.title",
    "users": "users.title",
    "myday": "myday.title",
    "team": "team.title",
    "staff": "staff.title",
    "coordination": "coordination.title",
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
        if name not in ("users", "myday", "team", "staff", "coordination"):  # no map there
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
    from gis.access.users import demo_users

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
    page.get_by_text(t("auth.forbidden_scope", what=t("auth.person", id="巡查队员二"))).wait_for(
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


def _needs(*modules: str) -> None:
    """Skip when a capability this test drives is not part of the build yet."""
    import importlib.util

    for name in modules:
        if importlib.util.find_spec(name) is None:
            pytest.skip(f"{name} is not installed in this build")


def _click_map_at(page, frame, frac_x: float, frac_y: float) -> None:
    """Click the map at a fraction of the subdistrict's bounding box (0,0 = south-west)."""
    x, y = frame.evaluate(
        """([fx, fy]) => { const b = window.map_div.getBounds();
               const p = window.map_div.latLngToContainerPoint([
                   b.getSouth() + (b.getNorth() - b.getSouth()) * fy,
                   b.getWest() + (b.getEast() - b.getWest()) * fx]);
               return [p.x, p.y]; }""",
        [frac_x, frac_y],
    )
    box = page.locator('iframe[title="streamlit_folium.st_folium"]').first.bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


def test_report_a_case_by_clicking_the_map_then_advance_it(live_app, offline_page) -> None:
    _needs("gis.cases.intake", "gis.cases.workflow", "layers.violations")
    page = offline_page
    log_in(page, live_app["url"], "chief", DEMO_PASSWORDS["chief"])
    open_page(page, t("page.cases"), t("cases.title"))
    frame = map_frame(page)
    before = map_stats(frame)
    _click_map_at(page, frame, 0.5, 0.5)  # the map is fitted to the chief's own zones
    lon = page.get_by_label(t("cases.lon"))
    page.wait_for_function("(el) => el.value !== ''", arg=lon.element_handle(), timeout=30_000)
    page.get_by_label(t("cases.description")).fill("浏览器测试：店外经营")
    page.get_by_role("button", name=t("cases.submit")).click()
    page.get_by_text("已上报案件").wait_for(timeout=30_000)
    # the redrawn map shows the new case (a blank map would never get there)
    wait_for_map(page, lambda s: s["layers"] > before["layers"])
    shot(page, "chief-case-reported")
    page.get_by_role("button", name=t("cases.apply")).click()
    page.get_by_text(f"已转为“{t('cases.state.registered')}”").wait_for(timeout=30_000)
    shot(page, "chief-case-advanced")
    assert page.network.blocked == []


def test_click_outside_the_subdistrict_is_refused(live_app, offline_page) -> None:
    _needs("gis.cases.intake", "gis.cases.workflow", "layers.violations")
    page = offline_page
    log_in(page, live_app["url"], "chief", DEMO_PASSWORDS["chief"])
    open_page(page, t("page.cases"), t("cases.title"))
    frame = map_frame(page)
    frame.evaluate("() => window.map_div.setZoom(window.map_div.getZoom() - 2)")
    page.wait_for_timeout(500)
    _click_map_at(page, frame, 0.02, 0.02)
    # said at once, on the click (not only when the form is sent), and the form stays empty
    page.get_by_text("不在什刹海街道范围内：请在街道范围内点选").wait_for(timeout=30_000)
    assert page.get_by_label(t("cases.lon")).input_value() == ""
    shot(page, "chief-case-outside")


def test_patrol_member_downloads_a_gpx_of_todays_route(live_app, offline_page) -> None:
    _needs("gis.planning.routing", "gis.planning.route_sheet", "layers.route")
    page = offline_page
    log_in(page, live_app["url"], "patrol1", DEMO_PASSWORDS["patrol1"])
    open_page(page, t("page.patrol"), t("patrol.title"))
    page.get_by_role("button", name=t("patrol.plan")).click()
    page.get_by_text("步行约").first.wait_for(timeout=60_000)
    wait_for_map(page, lambda s: s["markers"] > 0)  # numbered steps and direction arrows
    with page.expect_download() as info:
        page.get_by_role("button", name=t("patrol.gpx")).first.click()
    gpx = info.value.path().read_text(encoding="utf-8")
    assert "<gpx" in gpx and "<trkpt" in gpx
    shot(page, "patrol1-route")
    assert page.network.blocked == []
