"""Steps for Streamlit pages in Chromium that hold under load.

Every step waits for the app to be idle first, finds its widget afresh by the widget's
``.st-key-<key>`` class (an element found before a rerun may be detached after it), and
retries the part a rerun can interrupt (opening a list).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from typing import Any

EXCEPTION = '[data-testid="stException"]'
#: A chosen option of a multiselect (a tag in its tags container).
TAGS = '[data-testid="stMultiSelectTagsContainer"]'
ERROR = '[data-testid="stAlertContentError"]'


def idle(page: Any, *, timeout_s: float = 90.0, settle_ms: int = 300) -> None:
    """Wait until no script run is going on (and none starts within ``settle_ms``)."""
    app = page.locator('[data-testid="stApp"]')
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    while True:
        running = app.get_attribute("data-test-script-state") == "running" or (
            page.locator('[data-testid="stStatusWidget"]').count() > 0
            and page.locator('[data-testid="stStatusWidget"]').get_by_text("Stop").count() > 0
        )
        now = time.monotonic()
        if running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif (now - quiet_since) * 1000 >= settle_ms:
            return
        assert now < deadline, "the app kept running"
        page.wait_for_timeout(100)


def check(page: Any, *, errors: bool = True) -> None:
    """Idle, then no exception box (and no error box unless ``errors`` is False)."""
    idle(page)
    assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).all_inner_texts()
    if errors:
        assert page.locator(ERROR).count() == 0, page.locator(ERROR).all_inner_texts()


def keyed(page: Any, key: str) -> Any:
    """The element of the widget (or form) with key ``key`` (Streamlit writes characters
    outside ``[A-Za-z0-9_-]`` of the key as ``-`` in the class)."""
    return page.locator(".st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key))


def choose(page: Any, key: str, text: str) -> None:
    """Pick the option showing ``text`` in the selectbox with key ``key``."""
    from playwright.sync_api import expect

    for attempt in range(6):
        idle(page)
        box = keyed(page, key).locator("input").first
        box.click()
        page.keyboard.type(text)
        option = page.locator('[role="option"]').filter(has_text=text).first
        try:
            option.wait_for(timeout=3_000)
            option.click()
            expect(keyed(page, key).locator("input").first).to_have_value(
                re.compile(re.escape(text)), timeout=5_000
            )
            break
        except Exception:
            if attempt == 5:
                raise
            page.keyboard.press("Escape")
            page.wait_for_timeout(500)
    idle(page)


def add_options(page: Any, key: str, texts: list[str]) -> None:
    """Add each of ``texts`` to the multiselect with key ``key`` (inside a form: no rerun)."""
    for text in texts:
        for attempt in range(6):
            idle(page)
            box = keyed(page, key)
            if box.locator(TAGS).filter(has_text=text).count():
                break
            box.locator("input").first.click()
            page.keyboard.type(text)
            option = page.locator('[role="option"]').filter(has_text=text).first
            try:
                option.wait_for(timeout=3_000)
                option.click()
                keyed(page, key).locator(TAGS).filter(has_text=text).first.wait_for(timeout=5_000)
                break
            except Exception:
                if attempt == 5:
                    from tests.app.browser import shot

                    shot(page, f"multiselect-{key}-failed")
                    raise
                page.keyboard.press("Escape")
                page.wait_for_timeout(500)
        page.keyboard.press("Escape")
        keyed(page, key).locator("input").first.fill("")  # the typed filter, not a choice


def fill(page: Any, key: str, text: str) -> None:
    """Type ``text`` into the text input/area with key ``key``."""
    idle(page)
    field = keyed(page, key).locator("input, textarea").first
    field.fill(text)
    field.press("Tab")


def form_of(page: Any, key: str) -> Any:
    """The form holding the widget with key ``key`` (forms carry no key class)."""
    return page.locator('[data-testid="stForm"]').filter(has=keyed(page, key))


def press(page: Any, key: str | None, label: str) -> None:
    """Click the button ``label`` in the form of the widget ``key`` (anywhere when None)."""
    idle(page)
    scope = form_of(page, key) if key else page
    scope.get_by_role("button", name=label, exact=True).first.click()


def zone_point(tiny_geo: Any) -> tuple[float, float, str]:
    """A point (lon, lat) inside the tiny geography's first zone (the demo chief's), and
    that zone's id."""
    import geopandas as gpd

    zone = tiny_geo.zones.iloc[0]
    pt = gpd.GeoSeries([zone.geometry.representative_point()], crs=tiny_geo.zones.crs)
    lonlat = pt.to_crs(4326).iloc[0]
    return float(lonlat.x), float(lonlat.y), str(zone.zone_id)


def seed_case(
    store_path: Path | str,
    tiny_geo: Any,
    case_id: str,
    *,
    age: dt.timedelta,
    depts: tuple[str, ...] = (),
) -> dt.datetime:
    """Store a reported C04 case (lead 城管, participating ``depts``) in the first zone,
    reported ``age`` ago; returns the "now" it was made at."""
    from gis.cases.workflow import Case
    from gis.localtime import now_local
    from gis.store.geopackage import GeoPackageStore

    lon, lat, zone_id = zone_point(tiny_geo)
    now = now_local()
    case = Case(
        case_id=case_id, category="C04", tier="general", state="reported", source="patrol",
        reported_at=now - age, lon=lon, lat=lat, lead_dept="chengguan", owner="desk",
        depts=depts, zone_id=zone_id, updated_at=now - age, updated_by="desk",
    )  # fmt: skip
    with GeoPackageStore(store_path) as store:
        store.add_cases([case])
    return now


def choose_case(page: Any, case_id: str, *, category: str = "C04") -> None:
    """Choose the case in the case page's list until its detail shows (other tests of the
    session may have added cases). By its widget key, typing its id and taking the option
    with the keyboard: a list opened upwards lies over the case table, whose canvas takes
    the pointer. Retried while the page settles after its last rerun."""
    from gis.i18n import t

    detail = page.get_by_text(t("cases.codes", case_id=case_id, code=category))
    box = keyed(page, "cases_pick").locator("input")
    options = page.locator('[role="option"]').filter(has_text=case_id)
    for _ in range(6):
        if detail.count():  # already the case shown (the only one, or chosen before)
            break
        check(page)
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
        check(page)
        try:
            detail.wait_for(timeout=15_000)
        except Exception:
            continue
    detail.wait_for(timeout=60_000)
    check(page)
