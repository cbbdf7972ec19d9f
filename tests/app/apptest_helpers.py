"""Driving the real app.py with streamlit.testing.v1.AppTest."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from tests.app.conftest import REPO_ROOT


def new_app() -> AppTest:
    """The app, not yet run."""
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
