"""Signed, expiring session tokens: a reload keeps a person logged in until the session ends.

A token is ``<payload>.<signature>``: the payload is base64url JSON ``{"v", "u", "sid", "iat",
"exp"}`` (version, user name, a random session id, issued and expiry times in Unix seconds);
the signature is HMAC-SHA256 of the payload under a server secret that never leaves the
server. The token carries no password, hash or scope: the user's role and zones are read from
the user table again on every restore, so a disabled account or a changed scope takes effect at
once. Logging out records the session id as revoked until its expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gis.errors import AuthError

log = logging.getLogger(__name__)

TOKEN_VERSION = 1
#: Bytes of the server secret.
SECRET_BYTES = 32
#: Tokens longer than this are refused before any decoding.
MAX_TOKEN_CHARS = 512


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
    """The server side of the tokens: the secret and the revoked session ids, in one SQLite
    file (created with owner-only permissions; the secret never leaves it)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        new = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if new:  # create it owner-only before the secret is written into it
            fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        con = sqlite3.connect(self.path, timeout=10)
        con.execute("CREATE TABLE IF NOT EXISTS token_secret (id INTEGER PRIMARY KEY, key BLOB)")
        con.execute(
            "CREATE TABLE IF NOT EXISTS revoked_sessions (sid TEXT PRIMARY KEY, exp INTEGER)"
        )
        return con

    def secret(self) -> bytes:
        """The server secret, made on first use."""
        with closing(self._connect()) as con, con:
            con.execute(
                "INSERT OR IGNORE INTO token_secret (id, key) VALUES (1, ?)",
                (secrets.token_bytes(SECRET_BYTES),),
            )
            row = con.execute("SELECT key FROM token_secret WHERE id = 1").fetchone()
        return bytes(row[0])

    def issue(self, username: str, *, issued_at: datetime, expires_at: datetime) -> str:
        """A token for a session that has just started."""
        return issue_token(self.secret(), username, issued_at=issued_at, expires_at=expires_at)

    def verify(self, token: str, *, now: datetime) -> TokenClaims:
        """Claims of a valid, unrevoked token; InvalidTokenError otherwise."""
        claims = read_token(self.secret(), token, now=now)
        with closing(self._connect()) as con:
            hit = con.execute(
                "SELECT 1 FROM revoked_sessions WHERE sid = ?", (claims.session_id,)
            ).fetchone()
        if hit:
            raise InvalidTokenError("this session was logged out; log in")
        return claims

    def revoke(self, token: str, *, now: datetime) -> None:
        """Log a token's session out (a forged or expired token needs nothing)."""
        try:
            claims = read_token(self.secret(), token, now=now)
        except InvalidTokenError:
            return
        with closing(self._connect()) as con, con:
            con.execute(
                "INSERT OR REPLACE INTO revoked_sessions (sid, exp) VALUES (?, ?)",
                (claims.session_id, int(claims.expires_at.timestamp())),
            )
            # forget revocations whose tokens have expired anyway
            con.execute("DELETE FROM revoked_sessions WHERE exp < ?", (int(now.timestamp()),))


def token_store_path(user_store: Path) -> Path:
    """Where the secret and revocations live: beside the user table's file."""
    return Path(user_store).with_name("session-tokens.sqlite")
