"""The session in Chromium: an HttpOnly cookie (never in the URL, unreadable by page scripts)
that survives a reload until expiry; logout revokes it in the store; expired, revoked and
tampered cookies log nobody in."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from gis.access.db import SqliteAccessDB
from gis.access.session_token import COOKIE_NAME, InvalidTokenError, SessionTokens
from gis.access.users import DEMO_PASSWORDS, utcnow
from gis.i18n import t
from tests.app.browser import settle

pytestmark = pytest.mark.browser

EXCEPTION = '[data-testid="stException"]'


def _cookie(page, *, present: bool = True, timeout_s: float = 60.0) -> dict | None:
    """The session cookie of the page's browser context, waited for (or waited away)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = [c for c in page.context.cookies() if c["name"] == COOKIE_NAME]
        if bool(found) == present:
            return found[0] if found else None
        if time.monotonic() > deadline:
            raise AssertionError(f"session cookie {'never set' if present else 'never removed'}")
        page.wait_for_timeout(100)


def _log_in(page, url: str, username: str) -> None:
    page.goto(url)
    page.locator(".st-key-login_username input").fill(username)
    page.locator(".st-key-login_password input").fill(DEMO_PASSWORDS[username])
    page.get_by_role("button", name=t("login.submit")).click()
    page.get_by_role("heading", name=t("overview.title")).wait_for(timeout=60_000)
    settle(page, maps=False)


def _logged_out(page) -> None:
    page.locator(".st-key-login_username input").wait_for(timeout=60_000)
    settle(page, maps=False)
    assert page.locator(EXCEPTION).count() == 0


def test_cookie_is_httponly_survives_reload_and_logout_revokes(live_app, offline_page) -> None:
    page = offline_page
    _log_in(page, live_app["url"], "leader")
    cookie = _cookie(page)
    assert cookie is not None
    token = cookie["value"]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/" and cookie["expires"] > time.time() + 3600
    assert token not in page.url and "s=" not in page.url
    assert token not in page.evaluate("document.cookie")  # page scripts cannot read it
    assert COOKIE_NAME not in page.evaluate("document.cookie")
    tokens = SessionTokens(SqliteAccessDB(live_app["store"]))
    assert tokens.verify(token, now=utcnow()).username == "leader"  # the store's session
    # a reload is a new Streamlit session: the cookie brings the login back
    page.reload()
    page.get_by_role("heading", name=t("overview.title")).wait_for(timeout=60_000)
    settle(page, maps=False)
    assert page.locator(EXCEPTION).count() == 0
    assert page.locator(".st-key-login_username").count() == 0
    assert token not in page.url
    # logout revokes the session in the store and the server deletes the cookie
    page.get_by_role("button", name=t("app.logout")).click()
    _logged_out(page)
    # a deliberate logout is not an expired session (the reloaded page still has the cookie
    # it opened with: the app must not try it again)
    assert page.get_by_text(t("login.expired")).count() == 0
    with pytest.raises(InvalidTokenError, match="logged out"):
        tokens.verify(token, now=utcnow())
    _cookie(page, present=False)
    # the old cookie put back by hand (a copy kept by an attacker) logs nobody in
    page.context.add_cookies([{**cookie, "value": token}])
    page.reload()
    _logged_out(page)
    assert page.get_by_text(t("login.expired")).count() == 1


@pytest.mark.parametrize("kind", ["expired", "tampered"])
def test_expired_and_tampered_cookies_are_refused(live_app, offline_page, kind) -> None:
    page = offline_page
    tokens = SessionTokens(SqliteAccessDB(live_app["store"]))
    now = utcnow()
    if kind == "expired":
        token = tokens.issue(
            "leader", issued_at=now - timedelta(hours=9), expires_at=now - timedelta(minutes=1)
        )
    else:
        good = tokens.issue("patrol1", issued_at=now, expires_at=now + timedelta(hours=1))
        head, sig = good.split(".")
        token = head + "." + ("A" if sig[0] != "A" else "B") + sig[1:]
    host = live_app["url"].split("//", 1)[1].split(":")[0]
    page.context.add_cookies(
        [
            {
                "name": COOKIE_NAME,
                "value": token,
                "domain": host,
                "path": "/",
                "httpOnly": True,
                "sameSite": "Strict",
            }
        ]
    )
    page.goto(live_app["url"])
    _logged_out(page)
    assert page.get_by_text(t("login.expired")).count() == 1
    # the refused cookie is deleted by the server, so the next visit is a plain login form
    _cookie(page, present=False)


def test_a_phone_reload_keeps_the_login_and_todays_ticked_route(live_app, chromium) -> None:
    """Regression of the phone journey: a reload logged the patrol member out and the route
    was gone. Now the cookie brings the login back and the store brings the route and ticks."""
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    try:
        page = context.new_page()
        _log_in(page, live_app["url"], "patrol1")
        _cookie(page)
        page.goto(f"{live_app['url']}/patrol")
        page.locator(".st-key-patrol_plan button").click()
        page.get_by_text("步行约").first.wait_for(timeout=60_000)
        settle(page)
        ticks = page.locator('[class*="st-key-patrol_done_"]')
        assert ticks.count() >= 2
        first = ticks.first
        key = next(c for c in first.get_attribute("class").split() if c.startswith("st-key-"))
        first.locator("label").click()
        settle(page)
        assert page.locator(f".{key} input").is_checked()
        page.reload()
        page.locator(f".{key}").wait_for(timeout=60_000)
        settle(page)
        assert page.locator(EXCEPTION).count() == 0
        assert page.locator(".st-key-login_username").count() == 0
        assert page.locator(f".{key} input").is_checked()
        done = page.locator('[class*="st-key-patrol_done_"] input:checked').count()
        assert done == 1
    finally:
        context.close()
