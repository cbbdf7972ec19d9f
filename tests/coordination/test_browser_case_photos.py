"""Before/after photos and closing as 已整改 on the cases page in Chromium, checked on the store."""

from __future__ import annotations

import datetime as dt

import pytest

from gis.access.users import DEMO_PASSWORDS
from gis.i18n import t
from gis.store.geopackage import GeoPackageStore
from tests.app.browser import map_frame, open_page, shot
from tests.app.test_browser import log_in

from .browser_steps import ERROR, check, choose, choose_case, idle, keyed, press, seed_case
from .photos import jpeg

pytestmark = pytest.mark.browser

CASE = "PH1"


def _seed(store_path, tiny_geo) -> None:
    """A case in the chief's zone with its notice served."""
    now = seed_case(store_path, tiny_geo, CASE, age=dt.timedelta(hours=3), depts=("aic",))
    with GeoPackageStore(store_path) as store:
        version = store.get_case(CASE).version
        for i, action in enumerate(("register", "serve_notice")):
            version = store.apply_transition(CASE, action, who="desk", expected_version=version,
                                             at=now - dt.timedelta(hours=2 - i)).version  # fmt: skip


def _stored(store_path):
    with GeoPackageStore(store_path) as store:
        case = store.get_case(CASE)
        photos = store.coord_rows("coord_photos", {"case_id": CASE},
                                  columns=["kind", "uploaded_by"], order="uploaded_at")  # fmt: skip
    return case, [(p["kind"], p["uploaded_by"]) for p in photos]


def _shows_state(page, case) -> None:
    """The case header on the page names the stored state."""
    page.get_by_text(f" · {t(f'cases.state.{case.state}')}", exact=False).first.wait_for(
        timeout=30_000
    )


def _upload(page, kind: str, colour) -> None:
    form = f"cases_photo_{CASE}"
    idle(page)
    if kind == "after":
        keyed(page, f"{form}_kind").get_by_text(t("coordination.photo.after"), exact=True).click()
    keyed(page, f"{form}_file").locator('input[type="file"]').set_input_files(
        files=[{"name": f"{kind}.jpg", "mimeType": "image/jpeg", "buffer": jpeg(color=colour)}]
    )
    idle(page)
    press(page, f"{form}_file", t("coordination.add_photo"))
    page.get_by_text(f"已保存照片（案件 {CASE}").wait_for(timeout=60_000)
    check(page)


def _advance(page, store_path, action: str) -> None:
    case, _ = _stored(store_path)
    token = f"{CASE}_{case.version}"
    label = t(f"cases.action.{action}")
    choose(page, f"cases_action_{token}", label)
    press(page, f"cases_action_{token}", t("cases.apply"))


def test_before_after_photos_and_closing_as_rectified(live_app, offline_page, tiny_geo):
    store_path = live_app["store"]
    _seed(store_path, tiny_geo)
    page = offline_page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(page, live_app["url"], "chief", DEMO_PASSWORDS["chief"])
    open_page(page, t("page.cases"), t("cases.title"))
    check(page)
    choose_case(page, CASE)
    case, photos = _stored(store_path)
    _shows_state(page, case)

    _upload(page, "before", (200, 40, 40))  # 整改前
    case, photos = _stored(store_path)
    assert photos == [("before", "chief")]
    assert page.locator('[data-testid="stImage"]').count() == 1
    assert _popup_images(page) == [["整改前", 64, 48]]  # the case map's popup shows it

    _advance(page, store_path, "recheck")  # the recheck finds it rectified
    page.get_by_text(t("cases.advanced", case_id=CASE, state=t("cases.state.rechecking"))).wait_for(
        timeout=60_000
    )
    check(page)
    case, _ = _stored(store_path)
    assert case.state == "rechecking"
    _shows_state(page, case)

    _advance(page, store_path, "close_rectified")  # no after photo, no reason: refused
    page.locator(ERROR).filter(has_text=t("errors.transition.after_photo")).wait_for(timeout=60_000)
    check(page, errors=False)
    case, _ = _stored(store_path)
    assert case.state == "rechecking"
    shot(page, "case-close-needs-after-photo")

    _upload(page, "after", (40, 200, 40))  # 整改后
    case, photos = _stored(store_path)
    assert photos == [("before", "chief"), ("after", "chief")]
    assert page.locator('[data-testid="stImage"]').count() == 2
    assert _popup_images(page) == [["整改前", 64, 48], ["整改后", 64, 48]]

    _advance(page, store_path, "close_rectified")
    page.get_by_text(t("cases.advanced", case_id=CASE, state=t("cases.state.closed"))).wait_for(
        timeout=60_000
    )
    check(page)
    case, _ = _stored(store_path)
    assert case.state == "closed" and case.closed_at is not None
    _shows_state(page, case)
    assert keyed(page, f"cases_photo_{CASE}_file").count() == 0  # no upload once closed
    assert page.locator('[data-testid="stImage"]').count() == 2
    shot(page, "case-closed-rectified")
    assert dialogs == []
    assert page.network.blocked == []


#: Open the popup of the case's marker (from its cluster) and give its images once loaded.
POPUP_IMAGES_JS = """
(caseId) => new Promise((resolve) => {
    const map = window.map_div;
    if (!map) { resolve(null); return; }
    const pool = [];
    const visit = (l) => {
        if (l.feature) { pool.push(l); }
        if (l.getLayers) { l.getLayers().forEach(visit); }
    };
    map.eachLayer(visit);
    const target = pool.find(l => l.feature.properties.id === caseId && l.getPopup());
    if (!target) { resolve(null); return; }
    map.openPopup(target.getPopup(), target.getLatLng());  // also when clustered away
    const t0 = Date.now();
    const poll = () => {
        const imgs = Array.from(document.querySelectorAll('.leaflet-popup .pm-photo img'));
        const done = imgs.length && imgs.every(i => i.complete && i.naturalWidth > 0);
        if (done || Date.now() - t0 > 10000) {
            resolve(imgs.map(i => [i.alt, i.naturalWidth, i.naturalHeight]));
        } else { setTimeout(poll, 100); }
    };
    poll();
})
"""


def _popup_images(page) -> list:
    """The images in the popup of the case's marker on the page's map (after its redraw)."""
    for _ in range(20):
        try:
            got = map_frame(page).evaluate(POPUP_IMAGES_JS, CASE)
        except Exception:  # the map frame is being replaced
            got = None
        if got:
            return got
        page.wait_for_timeout(500)
    return []
