"""Fixtures shared by every test folder: the one Chromium of the browser tests.

Playwright's sync API runs one instance per thread, so the browser is a single session
fixture here rather than one per test folder.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    from tests.app.browser import CHROMIUM, CHROMIUM_ARGS, playwright_or_skip

    sync_api = playwright_or_skip()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def offline_page(chromium):
    """A fresh browser page whose non-localhost requests are all aborted (and recorded)."""
    from tests.app.browser import Network

    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    net = Network()
    page.route("**/*", net.handler)
    page.network = net  # type: ignore[attr-defined]
    yield page
    context.close()
