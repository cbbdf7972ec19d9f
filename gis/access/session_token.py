"""Signed, expiring sessions kept in the store: a reload keeps a person logged in until expiry.

A token is ``<payload>.<signature>``: the payload is base64url JSON ``{"v", "u", "sid", "iat",
"exp"}`` (version, user name, a random session id, issued and expiry times in Unix seconds);
the signature is HMAC-SHA256 of the payload under a server secret that never leaves the
server. The token carries no password, hash or scope: the user's role and zones are read from
the user table again on every restore, so a disabled account or a changed scope takes effect at
once. Every session is a row of ``patrol_sessions`` in the store (GeoPackage or PostGIS), and the
secret is a row of ``patrol_session_secret``, so every app instance on one store accepts the
sessions of the others; logging out marks the row revoked.

The browser holds the token in an HttpOnly cookie that page scripts cannot read and that never
appears in a URL. The Streamlit form that checks the password cannot set a cookie (it talks over
a websocket), so the login hands the browser a one-time code instead, valid for
:data:`HANDOFF_SECONDS`; a small server route (:mod:`ui.server`) exchanges it, once, for the
cookie. Only the code's hash is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gis.access.db import AccessDB, SqliteAccessDB
from gis.errors import AuthError

log = logging.getLogger(__name__)

TOKEN_VERSION = 1
#: Bytes of the server secret.
SECRET_BYTES = 32
#: Tokens longer than this are refused before any decoding.
MAX_TOKEN_CHARS = 512
#: How long the one-time code that turns a login into a cookie stays valid.
HANDOFF_SECONDS = 60
#: The cookie's name.
COOKIE_NAME = "patrol_session"


class InvalidTokenError(AuthError):
    """A token that is malformed, forged, expired or revoked (the app then asks to log in)."""


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token says."""

    username: str
    session_id: str
    issued_at: datetime
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest())


def issue_token(
    secret: bytes,
    username: str,
    *,
    issued_at: datetime,
    expires_at: datetime,
    session_id: str | None = None,
) -> str:
    """A signed token for ``username`` valid until ``expires_at`` (aware datetimes)."""
    claims = {
        "v": TOKEN_VERSION,
        "u": username,
        "sid": session_id or secrets.token_urlsafe(16),
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return f"{payload}.{_sign(secret, payload)}"


def read_token(secret: bytes, token: str, *, now: datetime) -> TokenClaims:
    """The claims of a token whose signature and expiry check out.

    Raises
    ------
    InvalidTokenError
        Malformed, signed with another secret, altered, or expired at ``now``.
    """
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise InvalidTokenError("no usable session token; log in")
    payload, _, signature = token.partition(".")
    if not payload or not signature:
        raise InvalidTokenError("malformed session token; log in")
    # compare in constant time before trusting a single byte of the payload
    if not hmac.compare_digest(_sign(secret, payload), signature):
        raise InvalidTokenError("session token signature does not match; log in")
    try:
        claims = json.loads(_unb64(payload))
        username = str(claims["u"])
        sid = str(claims["sid"])
        iat = datetime.fromtimestamp(int(claims["iat"]), UTC)
        exp = datetime.fromtimestamp(int(claims["exp"]), UTC)
        version = int(claims["v"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidTokenError("unreadable session token; log in") from exc
    if version != TOKEN_VERSION:
        raise InvalidTokenError("session token of another version; log in")
    if now >= exp:
        raise InvalidTokenError(f"session token expired at {exp.isoformat(timespec='minutes')}")
    return TokenClaims(username=username, session_id=sid, issued_at=iat, expires_at=exp)


class SessionTokens:
    """The server side of the sessions: the secret and one row per session, in the store."""

    def __init__(self, db: AccessDB | str | Path) -> None:
        self.db = db if isinstance(db, AccessDB) else SqliteAccessDB(db)
        self._secret: bytes | None = None

    def secret(self) -> bytes:
        """The server secret, made on first use by whichever instance comes first."""
        if self._secret is None:
            with self.db.tx() as cur:
                cur.execute(
                    "INSERT INTO patrol_session_secret (id, secret) VALUES (1, ?) "
                    "ON CONFLICT (id) DO NOTHING",
                    (secrets.token_bytes(SECRET_BYTES),),
                )
                row = cur.execute(
                    "SELECT secret FROM patrol_session_secret WHERE id = 1"
                ).fetchone()
            self._secret = bytes(row[0])
        return self._secret

    def start(self, username: str, *, issued_at: datetime, expires_at: datetime) -> tuple[str, str]:
        """Open a session: (its token, a one-time code that the login route exchanges for
        the cookie within :data:`HANDOFF_SECONDS`)."""
        sid = secrets.token_urlsafe(16)
        code = secrets.token_urlsafe(32)
        token = issue_token(
            self.secret(), username, issued_at=issued_at, expires_at=expires_at, session_id=sid
        )
        handoff_until = min(issued_at + timedelta(seconds=HANDOFF_SECONDS), expires_at)
        with self.db.tx() as cur:
            cur.execute(
                "INSERT INTO patrol_sessions (sid, username, issued_at, expires_at, "
                "handoff_hash, handoff_expires) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    sid,
                    username,
                    self.db.time(issued_at),
                    self.db.time(expires_at),
                    _digest(code),
                    self.db.time(handoff_until),
                ),
            )
            # forget sessions that ended more than a day ago
            cur.execute(
                "DELETE FROM patrol_sessions WHERE expires_at < ?",
                (self.db.time(issued_at - timedelta(days=1)),),
            )
        return token, code

    def issue(self, username: str, *, issued_at: datetime, expires_at: datetime) -> str:
        """A token for a session that has just started."""
        return self.start(username, issued_at=issued_at, expires_at=expires_at)[0]

    def exchange(self, code: str, *, now: datetime) -> tuple[str, datetime]:
        """The token (and its expiry) for a one-time login code; the code is used up.

        Raises InvalidTokenError for an unknown, used or late code.
        """
        if not isinstance(code, str) or not 20 <= len(code) <= 100:
            raise InvalidTokenError("no usable login code; log in")
        with self.db.tx() as cur:
            row = cur.execute(
                "SELECT sid, username, issued_at, expires_at FROM patrol_sessions "
                "WHERE handoff_hash = ? AND handoff_expires > ? AND revoked_at IS NULL",
                (_digest(code), self.db.time(now)),
            ).fetchone()
            cur.execute(
                "UPDATE patrol_sessions SET handoff_hash = NULL, handoff_expires = NULL "
                "WHERE handoff_hash = ?",
                (_digest(code),),
            )
        if row is None:
            raise InvalidTokenError("the login code is unknown, used or too old; log in")
        sid, username, issued, expires = row
        issued_at, expires_at = self.db.read_time(issued), self.db.read_time(expires)
        assert issued_at is not None and expires_at is not None  # NOT NULL columns
        token = issue_token(
            self.secret(), username, issued_at=issued_at, expires_at=expires_at, session_id=sid
        )
        return token, expires_at

    def verify(self, token: str, *, now: datetime) -> TokenClaims:
        """Claims of a valid token whose session is in the store and not logged out;
        InvalidTokenError otherwise."""
        claims = read_token(self.secret(), token, now=now)
        with self.db.tx() as cur:
            row = cur.execute(
                "SELECT username, revoked_at, expires_at FROM patrol_sessions WHERE sid = ?",
                (claims.session_id,),
            ).fetchone()
        if row is None or row[0] != claims.username:
            raise InvalidTokenError("this session is not known to the store; log in")
        if row[1] is not None:
            raise InvalidTokenError("this session was logged out; log in")
        expires = self.db.read_time(row[2])
        if expires is None or now >= expires:
            raise InvalidTokenError("this session has expired; log in")
        return claims

    def revoke(self, token: str, *, now: datetime) -> None:
        """Log a token's session out (a forged or expired token needs nothing)."""
        try:
            claims = read_token(self.secret(), token, now=now)
        except InvalidTokenError:
            return
        with self.db.tx() as cur:
            cur.execute(
                "UPDATE patrol_sessions SET revoked_at = ?, handoff_hash = NULL "
                "WHERE sid = ? AND revoked_at IS NULL",
                (self.db.time(now), claims.session_id),
            )

    def revoke_user(self, username: str, *, now: datetime) -> int:
        """Log every open session of a user out (a disabled account, a new password)."""
        with self.db.tx() as cur:
            cur.execute(
                "UPDATE patrol_sessions SET revoked_at = ?, handoff_hash = NULL "
                "WHERE username = ? AND revoked_at IS NULL",
                (self.db.time(now), username),
            )
            return cur.rowcount


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode("ascii", "replace")).hexdigest()


__all__ = [
    "COOKIE_NAME",
    "HANDOFF_SECONDS",
    "InvalidTokenError",
    "SessionTokens",
    "TokenClaims",
    "issue_token",
    "read_token",
]
