"""Login: password checks throttled per user name and per client, and session expiry."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from gis.access.users import User, UserRepository, check_password, hash_password, utcnow
from gis.errors import AuthError, NotFoundError
from gis.settings import Settings

log = logging.getLogger(__name__)

#: Failed logins that cost nothing: below this many (per user name from one client, and
#: per user name from all untrusted clients) every attempt is answered at once.
MAX_FAILURES = 5
#: A client (IP address, or the browser session when the address is unknown) may fail this
#: many times in total, for any user names, before it is slowed down (password spraying).
MAX_CLIENT_FAILURES = 10
#: Failures older than this are forgotten. Longer than the longest wait, so that waiting
#: out a delay does not reset the doubling.
FAILURE_WINDOW = timedelta(hours=24)
#: The first delay after the free failures; each further failure doubles it.
BASE_DELAY = timedelta(seconds=30)
#: Longest delay for one client (per name and in total): an attacker's own client waits this.
LOCK_DURATION = timedelta(minutes=15)
#: Longest delay the failures of *other* clients can impose on a user name: what an attacker
#: can cost the owner. Clients that logged in as that user before are not delayed at all.
NAME_MAX_DELAY = timedelta(seconds=60)
#: A client that logged in successfully as a user stays trusted for that user this long.
TRUST_DURATION = timedelta(days=30)


@dataclass(frozen=True)
class Session:
    """A logged-in session: who, and until when."""

    user: User
    started_at: datetime
    expires_at: datetime

    def expired(self, now: datetime | None = None) -> bool:
        """True once the session's time is up."""
        return (now or utcnow()) >= self.expires_at


class LockedError(AuthError):
    """Too many failed logins: this attempt must wait until ``until`` (a backoff, not a lock).

    ``reason`` says which count was exceeded: ``"name"`` (this user name from this client),
    ``"client"`` (this client, any names) or ``"name_all"`` (this user name from untrusted
    clients: at most :data:`NAME_MAX_DELAY`).
    """

    def __init__(self, username: str, until: datetime, reason: str = "name") -> None:
        self.username = username
        self.until = until
        self.reason = reason
        super().__init__(
            f"too many failed logins for {username!r}: try again after "
            f"{until.isoformat(timespec='seconds')}; each further failure doubles the wait"
        )


class BadCredentialsError(AuthError):
    """Unknown user name or wrong password (deliberately not saying which)."""

    def __init__(self, username: str, remaining: int) -> None:
        self.username = username
        self.remaining = remaining
        super().__init__(
            f"wrong user name or password for {username!r}; "
            f"{remaining} attempt(s) left before each further attempt has to wait"
        )


class SessionExpiredError(AuthError):
    """The session's time is up; log in again."""


def backoff(failures: list[datetime], free: int, cap: timedelta) -> datetime | None:
    """When the next attempt is allowed after ``failures`` (oldest first), or None.

    The first ``free`` failures cost nothing; then the wait after the last failure is
    :data:`BASE_DELAY` doubled for each failure beyond them, at most ``cap``.
    """
    extra = len(failures) - free
    if extra < 0:
        return None
    delay = min(BASE_DELAY * (2 ** min(extra, 30)), cap)
    return failures[-1] + delay


def throttled_until(
    repo: UserRepository, username: str, now: datetime, *, client: str = ""
) -> tuple[datetime, str] | None:
    """(when the next login attempt is allowed, which count) or None when it is now.

    Three counts, over :data:`FAILURE_WINDOW`: this user name from this client (free
    :data:`MAX_FAILURES`, then up to :data:`LOCK_DURATION`); this client for any user name
    (free :data:`MAX_CLIENT_FAILURES`, up to :data:`LOCK_DURATION`); and this user name from
    all clients (free :data:`MAX_FAILURES`, up to :data:`NAME_MAX_DELAY`), which is skipped
    for a client that logged in as this user within :data:`TRUST_DURATION`. So whoever
    fails a password slows down themselves; what they can cost the owner is a short wait
    on a new device, never a lock.
    """
    since = now - FAILURE_WINDOW
    waits: list[tuple[datetime, str]] = []
    pair = repo.failures_since(username, since, client=client)
    until = backoff(pair, MAX_FAILURES, LOCK_DURATION)
    if until is not None:
        waits.append((until, "name"))
    if client:
        until = backoff(
            repo.client_failures_since(client, since), MAX_CLIENT_FAILURES, LOCK_DURATION
        )
        if until is not None:
            waits.append((until, "client"))
    if not (client and repo.is_trusted(username, client, now - TRUST_DURATION)):
        until = backoff(repo.failures_since(username, since), MAX_FAILURES, NAME_MAX_DELAY)
        if until is not None:
            waits.append((until, "name_all"))
    waits = [w for w in waits if w[0] > now]
    return max(waits) if waits else None


def locked_until(
    repo: UserRepository, username: str, now: datetime, *, client: str = ""
) -> datetime | None:
    """When the next attempt for a user name (from ``client``) is allowed, or None."""
    found = throttled_until(repo, username, now, client=client)
    return found[0] if found else None


def login(
    repo: UserRepository,
    username: str,
    password: str,
    settings: Settings,
    *,
    now: datetime | None = None,
    client: str | None = None,
) -> Session:
    """Check a user name and password and open a session of ``settings.session_minutes``.

    ``client`` identifies where the attempt comes from (the IP address, or the browser
    session when the address is unknown); failures are throttled per user name and per
    client with a doubling wait (:func:`throttled_until`), never a hard lock.

    Raises :class:`LockedError` while an attempt must wait (without checking the password,
    and without counting it), :class:`BadCredentialsError` for an unknown name, a wrong
    password or an inactive user.
    """
    now = now or utcnow()
    # no real name is longer than 32 characters; a megabyte of "name" must not be stored
    username = username.strip()[:64]
    client = (client or "").strip()[:200]
    found = throttled_until(repo, username, now, client=client)
    if found is not None:
        log.warning("login for %r from %r must wait (%s)", username, client, found[1])
        raise LockedError(username, found[0], found[1])
    try:
        user, hashed = repo.get(username)
        ok = user.active and check_password(password, hashed)
    except NotFoundError:
        user, ok = None, False
        check_password(password, _dummy_hash())  # same cost for unknown names
    if not ok or user is None:
        repo.record_failure(username, now, client=client)
        found = throttled_until(repo, username, now, client=client)
        if found is not None:
            raise LockedError(username, found[0], found[1])
        recent = repo.failures_since(username, now - FAILURE_WINDOW, client=client)
        raise BadCredentialsError(username, max(MAX_FAILURES - len(recent), 0))
    repo.clear_failures(username, client=client)
    if client:
        repo.trust_client(username, client, now)
    log.info("user %r logged in", username)
    return Session(
        user=user,
        started_at=now,
        expires_at=now + timedelta(minutes=settings.session_minutes),
    )


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("not-a-real-password")


def check_session(session: Session | None, *, now: datetime | None = None) -> User:
    """The session's user, or AuthError when not logged in / SessionExpiredError when expired."""
    if session is None:
        raise AuthError("not logged in; log in first")
    if session.expired(now):
        raise SessionExpiredError(
            f"the session of {session.user.username!r} expired at "
            f"{session.expires_at.isoformat(timespec='minutes')}; log in again"
        )
    return session.user
