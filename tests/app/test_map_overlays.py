"""In Chromium: a new route or new districts are swapped into the map the page already shows
(the same frame, the old overlays and their legend gone), not drawn into a rebuilt map."""

from __future__ import annotations

from typing import Any

import pytest

from gis.access.users import DEMO_PASSWORDS
from gis.i18n import t
from tests.app.browser import MAP_FRAME, open_page, settle, shot
from tests.app.test_browser import log_in

pytestmark = pytest.mark.browser

for _name in ("gis.planning.routing", "gis.planning.partition", "layers.route"):
    pytest.importorskip(_name, reason=f"{_name} is not part of this build")

EXCEPTION = '[data-testid="stException"]'


def _frame(page: Any) -> Any:
    return page.locator(MAP_FRAME).first.element_handle().content_frame()


def _state(page: Any) -> dict[str, Any]:
    """The mark set on the frame (gone if the frame was rebuilt), the overlays on the map and
    the rows of the districts legend."""
    return _frame(page).evaluate(
        """() => {
            const on = (window.feature_group || []).filter(g => window.map_div.hasLayer(g));
            const titles = Array.from(document.querySelectorAll('.pm-legend'));
            const people = titles.filter(l => l.querySelector('.pm-legend-title')
                && l.querySelector('.pm-legend-title').textContent.startsWith('责任人'));
            return {
                mark: window.__kept || null,
                overlays: on.length,
                legends: people.length,
                rows: people.length ? people[0].querySelectorAll('.pm-legend-row').length : 0,
            };
        }"""
    )


def _mark(page: Any) -> None:
    _frame(page).evaluate("() => { window.__kept = 'same map'; }")


def _click(page: Any, label: str) -> None:
    page.get_by_role("button", name=label).first.click()
    settle(page)
    page.wait_for_timeout(300)  # the kept frame draws its new overlays
    assert page.locator(EXCEPTION).count() == 0


def test_new_districts_replace_the_old_ones_in_the_same_map(live_app, offline_page) -> None:
    page = offline_page
    log_in(page, live_app["url"], "leader", DEMO_PASSWORDS["leader"])
    open_page(page, t("page.districts"), t("districts.title"))
    settle(page)
    _mark(page)
    page.locator(".st-key-districts_k input").fill("2")
    page.keyboard.press("Enter")
    settle(page)
    _click(page, t("districts.compute"))
    first = _state(page)
    assert first == {"mark": "same map", "overlays": 1, "legends": 1, "rows": 2}, first
    page.locator(".st-key-districts_k input").fill("3")
    page.keyboard.press("Enter")
    settle(page)
    _click(page, t("districts.compute"))
    second = _state(page)
    assert second == {"mark": "same map", "overlays": 1, "legends": 1, "rows": 3}, second
    shot(page, "overlays-districts")
    assert page.network.blocked == []


def test_a_new_route_replaces_the_old_one_in_the_same_map(live_app, offline_page) -> None:
    page = offline_page
    log_in(page, live_app["url"], "leader", DEMO_PASSWORDS["leader"])
    open_page(page, t("page.patrol"), t("patrol.title"))
    settle(page)
    _mark(page)
    _click(page, t("patrol.plan"))
    page.get_by_text("步行约").first.wait_for(timeout=60_000)
    one = _state(page)
    assert one["mark"] == "same map" and one["overlays"] == 1, one
    page.get_by_text(t("patrol.mode.k"), exact=True).first.click()
    settle(page)
    page.locator(".st-key-patrol_k input").fill("2")
    page.keyboard.press("Enter")
    settle(page)
    _click(page, t("patrol.plan"))
    page.get_by_text(t("patrol.team_member", n=2)).first.wait_for(timeout=60_000)
    two = _state(page)
    assert two["mark"] == "same map" and two["overlays"] == 2, two
    shot(page, "overlays-routes")
    assert page.network.blocked == []
