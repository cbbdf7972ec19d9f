"""The two HTTP routes that give the browser its session cookie and take it away.

The login form is a Streamlit form: it checks the password over the websocket, which cannot
set a cookie. On success the page receives a one-time code (valid one minute, stored hashed)
and posts it here; ``POST /auth/session`` exchanges it for the signed session token in a
cookie that is ``HttpOnly`` (page scripts cannot read it), ``SameSite=Strict``, ``Path=/``,
``Secure`` behind HTTPS, and expires with the session. ``POST /auth/logout`` revokes the
cookie's session in the store and deletes the cookie. Neither the token nor the code is ever
part of a URL. ``serve.py`` mounts these routes beside Streamlit's own (``st.App``).
"""

from __future__ import annotations

import functools
import logging
from datetime import UTC, datetime
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gis.access.session_token import COOKIE_NAME, InvalidTokenError, SessionTokens
from gis.access.users import access_db
from gis.errors import PatrolError
from gis.settings import Settings

log = logging.getLogger(__name__)

#: Header the page's script sends; a cross-site form cannot set it, and a cross-site script
#: would need a CORS permission this server never grants.
LOGIN_HEADER = "X-Patrol-Login"
SESSION_PATH = "/auth/session"
LOGOUT_PATH = "/auth/logout"
MAX_BODY = 200


@functools.lru_cache(maxsize=4)
def _tokens(database_url: str) -> SessionTokens:
    """The sessions of a store (one connection set per process and store)."""
    return SessionTokens(access_db(Settings(database_url=database_url)))


def tokens() -> SessionTokens:
    """The sessions of the configured store."""
    return _tokens(Settings.from_env().database_url)


def _same_origin(request: Request) -> bool:
    """True when the request carries our header and no foreign Origin."""
    if request.headers.get(LOGIN_HEADER) != "1":
        return False
    origin = request.headers.get("origin")
    if not origin:
        return True
    host = request.headers.get("x-forwarded-host") or request.headers.get("host") or ""
    return urlsplit(origin).netloc == host


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


async def session_route(request: Request) -> Response:
    """Exchange a one-time login code for the HttpOnly session cookie."""
    if not _same_origin(request):
        return Response("forbidden", status_code=403)
    body = await request.body()
    if len(body) > MAX_BODY:
        return Response("too large", status_code=413)
    code = body.decode("ascii", "replace").strip()
    now = datetime.now(UTC)
    try:
        token, expires_at = await run_in_threadpool(tokens().exchange, code, now=now)
    except InvalidTokenError as exc:
        log.info("login code refused: %s", exc)
        return Response("unknown or used login code", status_code=400)
    except PatrolError:
        log.exception("session store unavailable")
        return Response("store unavailable", status_code=503)
    response = Response(status_code=204)
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=max(int((expires_at - now).total_seconds()), 1),
        path="/",
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )
    return response


async def logout_route(request: Request) -> Response:
    """Revoke the cookie's session in the store and delete the cookie."""
    if not _same_origin(request):
        return Response("forbidden", status_code=403)
    token = request.cookies.get(COOKIE_NAME)
    if token:
        try:
            await run_in_threadpool(tokens().revoke, token, now=datetime.now(UTC))
        except PatrolError:
            log.exception("session store unavailable at logout")
    response = Response(status_code=204)
    response.headers["Cache-Control"] = "no-store"
    response.delete_cookie(
        COOKIE_NAME, path="/", secure=_secure(request), httponly=True, samesite="strict"
    )
    return response


def routes() -> list[BaseRoute]:
    """The session routes, for ``st.App(..., routes=routes())``."""
    return [
        Route(SESSION_PATH, session_route, methods=["POST"]),
        Route(LOGOUT_PATH, logout_route, methods=["POST"]),
    ]


def _script(path: str, body: str) -> str:
    # path is one of our constants and body is a server-made code of [A-Za-z0-9_-] (checked)
    if not all(ch.isalnum() or ch in "-_" for ch in body):
        raise ValueError("login code with unexpected characters")
    return (
        "<script>(function () { fetch('" + path.lstrip("/") + "', {method: 'POST', "
        "credentials: 'same-origin', headers: {'Content-Type': 'text/plain', '"
        + LOGIN_HEADER
        + "': '1'}, body: '"
        + body
        + "'}).catch(function () {}); })();</script>"
    )


def handoff_script(code: str) -> str:
    """The page script that trades a one-time login code for the cookie (no reload)."""
    return _script(SESSION_PATH, code)


def logout_script() -> str:
    """The page script that asks the server to delete the session cookie."""
    return _script(LOGOUT_PATH, "")
