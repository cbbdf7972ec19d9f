"""Steps for Streamlit pages in Chromium that hold under load.

Every step waits for the app to be idle first, finds its widget afresh by the widget's
``.st-key-<key>`` class (an element found before a rerun may be detached after it), and
retries the part a rerun can interrupt (opening a list).
"""

from __future__ import annotations

import re
import time
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
    """The element of the widget (or form) with key ``key``."""
    return page.locator(f".st-key-{key}")


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
