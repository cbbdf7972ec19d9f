"""Driving the real app.py with streamlit.testing.v1.AppTest."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from tests.app.conftest import REPO_ROOT


def _scan_components_once() -> None:
    """Each new AppTest scans every installed distribution's metadata for Streamlit
    components (about 0.3 s, hundreds of times a test run); nothing is installed while tests
    run, so the first scan's answer serves every later app of this process (each app still
    registers the components in its own manager)."""
    from streamlit.components.v2 import manifest_scanner

    if getattr(manifest_scanner.scan_component_manifests, "scanned_once", False):
        return
    found = manifest_scanner.scan_component_manifests()

    def scan_once(max_workers: int | None = None) -> list:
        return list(found)

    scan_once.scanned_once = True  # type: ignore[attr-defined]
    manifest_scanner.scan_component_manifests = scan_once


def new_app() -> AppTest:
    """The app, not yet run."""
    _scan_components_once()
    return AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)


def click_button(at: AppTest, label: str) -> AppTest:
    """Click the (form) button with this label and rerun."""
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r}: {[b.label for b in at.button]}"
    return matches[0].click().run()


def log_in(at: AppTest, username: str, password: str) -> AppTest:
    """Fill the login form and submit it."""
    at.run()
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    return click_button(at, "登录" if at.session_state["patrol_lang"] == "zh" else "Log in")


def goto(at: AppTest, url_path: str) -> AppTest:
    """Request a page by its URL path, as a browser does when the user edits the URL."""
    at._page_hash = calc_hash(url_path)  # AppTest.switch_page only knows file pages
    return at.run()


def texts(at: AppTest) -> str:
    """Every visible text of the last run, joined (for 'the page says X' checks)."""
    parts = []
    for kind in (
        "title",
        "subheader",
        "markdown",
        "caption",
        "error",
        "warning",
        "info",
        "success",
    ):
        parts.extend(str(e.value) for e in getattr(at, kind))
    return "\n".join(parts)
