"""The reporter's phone form at 390×844 in Chromium: the phone's position and a map tap.

The browser context is granted geolocation and given positions (inside, outside the
subdistrict) by Playwright; a refused permission falls back with a message; a tap on the
map (a real click at the place's pixel) fills the point; the stored case is where the
form said.
"""

from __future__ import annotations

import pytest
from pyproj import Transformer

from gis.access.users import SqliteUserRepository, User, hash_password
from gis.geography.place import place_at
from gis.i18n import t
from gis.store.geopackage import GeoPackageStore
from tests.app.browser import MAP_FRAME, Network, map_frame, shot
from tests.app.test_browser import log_in
from tests.tiny_geography import STEP, X0, Y0

from .browser_steps import ERROR, check, idle, keyed, press

pytestmark = pytest.mark.browser

#: Requests the third-party geolocation component makes by itself (its page links a CDN
#: stylesheet it does not need); everything else must stay on the machine.
COMPONENT_CDN = "https://cdnjs.cloudflare.com/ajax/libs/twitter-bootstrap/"
TO_WGS = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)


def _wgs(x: float, y: float) -> tuple[float, float]:
    lon, lat = TO_WGS.transform(x, y)
    return float(lon), float(lat)


INSIDE = _wgs(X0 + 75, Y0 + 2 * STEP + 3)  # on 横2胡同, west zone
OUTSIDE = _wgs(X0 - 400, Y0 + STEP)  # 400 m west of the boundary


@pytest.fixture
def phone_page(chromium):
    """A 390×844 phone page allowed to share its position (set per test)."""
    context = chromium.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        geolocation={"longitude": OUTSIDE[0], "latitude": OUTSIDE[1]},
        permissions=["geolocation"],
    )
    page = context.new_page()
    net = Network()
    page.route("**/*", net.handler)
    page.network = net  # type: ignore[attr-defined]
    yield page
    context.close()


def _inputs(page) -> tuple[str, str]:
    return (
        keyed(page, "report_lon").locator("input").first.input_value(),
        keyed(page, "report_lat").locator("input").first.input_value(),
    )


def _gps(page) -> None:
    press(page, None, t("report.gps"))
    idle(page)


def _tap(page, lon: float, lat: float) -> None:
    """Click the report map at (lon, lat): zoomed out one step first so the place shows."""
    frame = map_frame(page)
    box = page.locator(MAP_FRAME).first.bounding_box()
    point = frame.evaluate(
        """([lat, lon]) => new Promise((resolve) => {
            const map = window.map_div;
            map.setZoom(map.getZoom() - 1, {animate: false});
            setTimeout(() => {
                const p = map.latLngToContainerPoint([lat, lon]);
                const r = map.getContainer().getBoundingClientRect();
                resolve({x: r.left + p.x, y: r.top + p.y});
            }, 400);
        })""",
        [lat, lon],
    )
    assert 0 < point["x"] < box["width"] and 0 < point["y"] < box["height"], point
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    idle(page)


def test_reporter_point_from_phone_and_map(live_app, phone_page, tiny_geo):
    repo = SqliteUserRepository(live_app["store"])
    repo.add(User("dama_gps", "reporter", "西城大妈"), hash_password("reporter-pw-1", rounds=4))
    page = phone_page
    context = page.context
    log_in(page, live_app["url"], "dama_gps", "reporter-pw-1", heading=t("report.title"))
    check(page)

    # 1. the phone is outside the subdistrict: refused, the form keeps no point
    _gps(page)
    msg = t("report.outside", lon=f"{OUTSIDE[0]:.6f}", lat=f"{OUTSIDE[1]:.6f}")
    page.locator(ERROR).filter(has_text=msg).wait_for(timeout=60_000)
    check(page, errors=False)
    assert _inputs(page) == ("", "")

    # 2. inside: the phone's position fills the point
    context.set_geolocation({"longitude": INSIDE[0], "latitude": INSIDE[1]})
    _gps(page)
    lon, lat = f"{INSIDE[0]:.6f}", f"{INSIDE[1]:.6f}"
    page.get_by_text(t("report.point_gps", lon=lon, lat=lat)).wait_for(timeout=60_000)
    check(page)
    assert _inputs(page) == (lon, lat)
    shot(page, "report-phone-gps")

    # 3. permission withdrawn: a clear fallback message, the point stays
    context.clear_permissions()
    _gps(page)
    denied = t("report.gps_failed", reason=t("report.gps.denied"))
    page.get_by_text(denied).wait_for(timeout=60_000)
    check(page)
    assert _inputs(page) == (lon, lat)

    # 4. a tap outside the boundary is refused, a tap inside is taken
    _tap(page, *OUTSIDE)
    page.locator(ERROR).filter(has_text="不在什刹海街道范围内，未采用").wait_for(timeout=60_000)
    check(page, errors=False)
    assert _inputs(page) == (lon, lat)
    target = _wgs(X0 + 2 * STEP + 60, Y0 + STEP + 40)  # east zone, off the lake
    _tap(page, *target)
    page.get_by_text("已采用地图点选位置：").wait_for(timeout=60_000)
    check(page)
    tapped = tuple(float(v) for v in _inputs(page))
    assert abs(tapped[0] - target[0]) < 3e-4 and abs(tapped[1] - target[1]) < 3e-4
    assert place_at(tiny_geo, tapped[0], tapped[1], "wgs84").inside
    shot(page, "report-phone-tap")

    # 5. send: the case is stored at the form's point
    keyed(page, "report_sentence").locator("input").first.fill("桥边六张桌子")
    press(page, "report_sentence", t("report.submit"))
    page.get_by_text("已上报，编号 ").wait_for(timeout=60_000)
    check(page)
    with GeoPackageStore(live_app["store"]) as store:
        (case,) = [k for k in store.query_cases(limit=10_000) if k.reporter == "dama_gps"]
    assert (round(case.lon, 6), round(case.lat, 6)) == tapped
    assert case.description == "桥边六张桌子"
    page.get_by_text(t("report.sent", case_id=case.case_id)).wait_for(timeout=30_000)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the phone page scrolls sideways ({width} px)"
    assert all(u.startswith(COMPONENT_CDN) for u in page.network.blocked), page.network.blocked
