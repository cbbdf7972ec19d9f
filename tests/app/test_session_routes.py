"""The two cookie routes of ui/server.py: the one-time code becomes an HttpOnly cookie once;
requests from other sites, without the page's header, or with a used code are refused."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from starlette.requests import Request

from gis.access.session_token import COOKIE_NAME, InvalidTokenError, SessionTokens
from gis.access.users import utcnow
from ui import server

HOST = "patrol.example:8443"


def _call(route, *, body: bytes = b"", headers: dict[str, str] | None = None):
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/auth/session",
        "headers": [(b"host", HOST.encode()), *raw],
        "scheme": "http",
        "server": ("127.0.0.1", 8501),
        "query_string": b"",
    }

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    # a thread of its own: the browser tests' Playwright keeps an event loop running in this
    # one for the whole session, where asyncio.run() refuses to start
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, route(Request(scope, receive))).result()


@pytest.fixture
def tokens(tmp_path, monkeypatch) -> SessionTokens:
    found = SessionTokens(tmp_path / "patrol.gpkg")
    monkeypatch.setattr(server, "tokens", lambda: found)
    return found


def _start(tokens: SessionTokens) -> tuple[str, str]:
    now = utcnow()
    return tokens.start("chief", issued_at=now, expires_at=now + timedelta(hours=2))


OURS = {server.LOGIN_HEADER: "1", "origin": f"http://{HOST}"}


def test_the_code_becomes_an_httponly_cookie_once(tokens) -> None:
    token, code = _start(tokens)
    res = _call(server.session_route, body=code.encode(), headers=OURS)
    assert res.status_code == 204
    cookie = res.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}={token};")
    attrs = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "samesite", "path", "max-age"} <= attrs and "secure" not in attrs
    assert "samesite=strict" in cookie.lower() and "path=/" in cookie.lower()
    max_age = int(cookie.lower().split("max-age=")[1].split(";")[0])
    assert 7000 < max_age <= 7200  # ends with the session
    again = _call(server.session_route, body=code.encode(), headers=OURS)
    assert again.status_code == 400 and "set-cookie" not in again.headers


def test_https_behind_the_proxy_makes_the_cookie_secure(tokens) -> None:
    _token, code = _start(tokens)
    headers = {**OURS, "x-forwarded-proto": "https", "origin": f"https://{HOST}"}
    res = _call(server.session_route, body=code.encode(), headers=headers)
    assert res.status_code == 204 and "secure" in res.headers["set-cookie"].lower()


@pytest.mark.parametrize(
    "headers",
    [
        {},  # a plain cross-site form cannot add the page's header
        {server.LOGIN_HEADER: "1", "origin": "https://evil.example"},
        {server.LOGIN_HEADER: "1", "origin": "http://patrol.example"},  # another port
    ],
)
def test_other_sites_cannot_use_a_code(tokens, headers) -> None:
    _token, code = _start(tokens)
    res = _call(server.session_route, body=code.encode(), headers=headers)
    assert res.status_code == 403 and "set-cookie" not in res.headers
    # the code is still unused: the real page can still trade it
    assert _call(server.session_route, body=code.encode(), headers=OURS).status_code == 204


def test_oversized_and_unknown_codes_are_refused(tokens) -> None:
    assert _call(server.session_route, body=b"x" * 500, headers=OURS).status_code == 413
    assert _call(server.session_route, body=b"not-a-code" * 3, headers=OURS).status_code == 400


def test_logout_route_revokes_and_deletes_the_cookie(tokens) -> None:
    token, _code = _start(tokens)
    res = _call(server.logout_route, headers={**OURS, "cookie": f"{COOKIE_NAME}={token}"})
    assert res.status_code == 204
    cookie = res.headers["set-cookie"].lower()
    assert cookie.startswith(f"{COOKIE_NAME}=") and "max-age=0" in cookie
    with pytest.raises(InvalidTokenError, match="logged out"):
        tokens.verify(token, now=utcnow())
    # from another site: refused, nothing revoked
    other, _ = _start(tokens)
    bad = _call(
        server.logout_route,
        headers={
            "origin": "https://evil.example",
            server.LOGIN_HEADER: "1",
            "cookie": f"{COOKIE_NAME}={other}",
        },
    )
    assert bad.status_code == 403
    assert tokens.verify(other, now=utcnow()).username == "chief"


def test_the_page_scripts_carry_only_the_code() -> None:
    code = "A" * 43
    script = server.handoff_script(code)
    assert "fetch('auth/session'" in script and code in script and server.LOGIN_HEADER in script
    with pytest.raises(ValueError):
        server.handoff_script("x'); alert(1); //")
    assert "fetch('auth/logout'" in server.logout_script()
