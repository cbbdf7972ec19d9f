"""Users, roles, login with rate limiting, session expiry and the one authorisation check.

Every page of the app calls :func:`authorize` before showing anything, and every request for
a zone, front, person or department that arrives through a widget, a URL path or a query
parameter is checked the same way, so changing the URL never widens what a user may see.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import bcrypt
import pandas as pd

from gis.errors import AuthError, ConflictError, NotFoundError, StoreError, ValidationError
from gis.settings import Settings

log = logging.getLogger(__name__)

#: Roles in the order they are shown to an administrator.
ROLES: tuple[str, ...] = ("leadership", "area_chief", "patrol", "liaison", "admin", "reporter")

#: The app's pages (url paths) in navigation order.
PAGES: tuple[str, ...] = (
    "overview",
    "districts",
    "patrol",
    "cases",
    "hotspots",
    "crowd",
    "users",
    "myday",
    "team",
    "staff",
    "coordination",
    "report",
)

#: Which pages each role may open. Data on a page is further limited by the user's scope.
ROLE_PAGES: Mapping[str, frozenset[str]] = {
    "leadership": frozenset({"overview", "districts", "patrol", "cases", "hotspots"})
    | {"team", "staff", "coordination", "crowd"},
    "area_chief": frozenset({"overview", "districts", "patrol", "cases", "hotspots"})
    | {"team", "coordination", "crowd"},
    "patrol": frozenset({"overview", "patrol", "cases"}) | {"myday", "coordination"},
    "liaison": frozenset({"overview", "cases"}) | {"coordination"},
    "admin": frozenset({"overview", "users"}) | {"staff"},
    # volunteers and residents (西城大妈, 网格员, 文明劝导队): their own reports only
    "reporter": frozenset({"report"}),
}

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
#: bcrypt work factor for new passwords (tests may pass a lower one).
BCRYPT_ROUNDS = 12
MIN_PASSWORD_LENGTH = 8

_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,32}$")


def utcnow() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class User:
    """A person who may log in, with a role and the scope that limits what they see.

    Scope by role: area chiefs have ``zones`` and/or ``fronts``; patrol members have a
    ``person_id`` (and optionally the ``zones`` of their district); liaisons have a
    ``department``; leadership and admin see everything.
    """

    username: str
    role: str
    display_name: str = ""
    zones: tuple[str, ...] = ()
    fronts: tuple[str, ...] = ()
    person_id: str | None = None
    department: str | None = None
    active: bool = True

    @property
    def sees_everything(self) -> bool:
        """True for roles without a data scope (leadership and admin)."""
        return self.role in ("leadership", "admin")


@dataclass(frozen=True)
class Resource:
    """The data a request touches; unset fields are not constrained.

    ``departments`` lists participating departments (the lead goes in ``lead_dept``).
    """

    zone_id: str | None = None
    front_id: str | None = None
    person_id: str | None = None
    lead_dept: str | None = None
    departments: tuple[str, ...] = ()
    reported_by: str | None = None


@dataclass(frozen=True)
class Session:
    """A logged-in session: who, and until when."""

    user: User
    started_at: datetime
    expires_at: datetime

    def expired(self, now: datetime | None = None) -> bool:
        """True once the session's time is up."""
        return (now or utcnow()) >= self.expires_at


def validate_user(user: User) -> User:
    """Check a user's name, role and that the scope fits the role; return it unchanged."""
    if not _USERNAME.match(user.username):
        raise ValidationError(
            f"user name {user.username!r} is not allowed",
            field="username",
            fix="use 2-32 letters, digits, '_', '.' or '-'",
        )
    if user.role not in ROLES:
        raise ValidationError(
            f"unknown role {user.role!r}", field="role", fix=f"use one of {list(ROLES)}"
        )
    texts = {
        "display_name": (user.display_name,),
        "zones": user.zones,
        "fronts": user.fronts,
        "person_id": (user.person_id or "",),
        "department": (user.department or "",),
    }
    for name, values in texts.items():
        for v in values:
            if len(v) > 64 or any(ord(ch) < 32 or ord(ch) == 127 for ch in v):
                raise ValidationError(
                    f"{name} {v[:40]!r} is longer than 64 characters or contains control "
                    "characters",
                    field=name,
                    fix="use at most 64 characters of plain text",
                )
    if user.role == "area_chief" and not (user.zones or user.fronts):
        raise ValidationError(
            f"area chief {user.username!r} has no zones or fronts",
            field="zones",
            fix="give the zones (15-digit ids) or fronts the chief answers for",
        )
    if user.role == "patrol" and not user.person_id:
        raise ValidationError(
            f"patrol member {user.username!r} has no person id",
            field="person_id",
            fix="give the person id used in districts and routes",
        )
    if user.role == "liaison" and not user.department:
        raise ValidationError(
            f"liaison {user.username!r} has no department",
            field="department",
            fix="give the member department, e.g. 城管",
        )
    return user


def department_code(value: str) -> str:
    """The member department's code (``城管`` → ``chengguan``) from the reference table.

    Cases record departments by code, so a liaison's scope must be a code too.
    """
    from gis.cases.intake import load_references

    try:
        return load_references().department(value).code
    except NotFoundError as exc:
        raise ValidationError(
            str(exc), field="department", fix="use a code or name from data/departments.csv"
        ) from None


def hash_password(password: str, *, rounds: int | None = None) -> str:
    """A bcrypt hash of a password (refuses passwords bcrypt would silently truncate).

    ``rounds`` defaults to :data:`BCRYPT_ROUNDS` (read at call time).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"password has {len(password)} characters",
            field="password",
            fix=f"use at least {MIN_PASSWORD_LENGTH}",
        )
    raw = password.encode("utf-8")
    if len(raw) > 72:
        raise ValidationError(
            "password is longer than 72 bytes", field="password", fix="use a shorter one"
        )
    cost = BCRYPT_ROUNDS if rounds is None else rounds
    return bcrypt.hashpw(raw, bcrypt.gensalt(rounds=cost)).decode("ascii")


def check_password(password: str, hashed: str) -> bool:
    """True when the password matches the bcrypt hash."""
    raw = password.encode("utf-8")
    if len(raw) > 72:
        return False
    try:
        return bcrypt.checkpw(raw, hashed.encode("ascii"))
    except ValueError:  # a corrupt hash never matches
        return False


class UserRepository(Protocol):
    """Where users and failed logins live (the embedded store file, later PostGIS too)."""

    def get(self, username: str) -> tuple[User, str]:
        """The user and their password hash; NotFoundError when unknown."""
        ...

    def list_users(self) -> list[User]:
        """Every user, sorted by name."""
        ...

    def add(self, user: User, password_hash: str) -> None:
        """Insert a new user; ConflictError when the name is taken."""
        ...

    def set_password(self, username: str, password_hash: str) -> None:
        """Replace a user's password hash."""
        ...

    def update(self, user: User) -> None:
        """Replace a user's role, scope and active flag."""
        ...

    def record_failure(self, username: str, at: datetime, *, client: str = "") -> None:
        """Remember one failed login for a user name (known or not) from a client."""
        ...

    def failures_since(
        self, username: str, since: datetime, *, client: str | None = None
    ) -> list[datetime]:
        """Failed logins for a user name at or after ``since`` (from one client, or all
        when ``client`` is None), oldest first."""
        ...

    def client_failures_since(self, client: str, since: datetime) -> list[datetime]:
        """Failed logins from a client, for any user name, at or after ``since``."""
        ...

    def clear_failures(self, username: str, *, client: str | None = None) -> None:
        """Forget a user name's failed logins (from one client, or all)."""
        ...

    def trust_client(self, username: str, client: str, at: datetime) -> None:
        """Remember that ``client`` logged in successfully as ``username`` at ``at``."""
        ...

    def is_trusted(self, username: str, client: str, since: datetime) -> bool:
        """True when ``client`` logged in as ``username`` at or after ``since``."""
        ...


_GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
_GPKG_USER_VERSION = 10400

_SCHEMA = """
CREATE TABLE IF NOT EXISTS patrol_users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    zones TEXT NOT NULL DEFAULT '',
    fronts TEXT NOT NULL DEFAULT '',
    person_id TEXT,
    department TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS patrol_login_failures (
    username TEXT NOT NULL,
    failed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS patrol_login_failures_user ON patrol_login_failures (username);
CREATE TABLE IF NOT EXISTS patrol_login_clients (
    username TEXT NOT NULL,
    client TEXT NOT NULL,
    last_ok TEXT NOT NULL,
    PRIMARY KEY (username, client)
);
"""
#: Added to files created before logins were throttled per client.
_MIGRATE_CLIENT = (
    "ALTER TABLE patrol_login_failures ADD COLUMN client TEXT NOT NULL DEFAULT ''",
    "CREATE INDEX IF NOT EXISTS patrol_login_failures_client ON patrol_login_failures (client)",
)

# The minimum a GeoPackage needs (OGC 12-128r18 §1.1.2-1.1.3), so that a store opened later by
# GDAL accepts the file that the user table created first.
_GPKG_CORE = """
CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
    srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
    organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES
    ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian'),
    ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic'),
    ('WGS 84 geodetic', 4326, 'EPSG', 4326, 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]', 'longitude/latitude on WGS 84');
CREATE TABLE IF NOT EXISTS gpkg_contents (
    table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
    description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT
    (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE,
    max_y DOUBLE, srs_id INTEGER,
    CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
    table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
    srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
    CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
    CONSTRAINT uk_gc_table_name UNIQUE (table_name),
    CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
    CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
"""


def _join(values: Iterable[str]) -> str:
    return ",".join(v.strip() for v in values if v and v.strip())


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(v for v in (text or "").split(",") if v)


class SqliteUserRepository:
    """Users in plain attribute tables of a SQLite file (the embedded GeoPackage store).

    A new file is created as an empty but valid GeoPackage, and the tables are registered
    in ``gpkg_contents`` as attributes, so GIS tools and the case store can share the file.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            (app_id,) = con.execute("PRAGMA application_id").fetchone()
            (tables,) = con.execute("SELECT count(*) FROM sqlite_master").fetchone()
            if tables == 0:
                con.execute(f"PRAGMA application_id = {_GPKG_APPLICATION_ID}")
                con.execute(f"PRAGMA user_version = {_GPKG_USER_VERSION}")
                app_id = _GPKG_APPLICATION_ID
            if app_id == _GPKG_APPLICATION_ID:
                con.executescript(_GPKG_CORE)
            con.executescript(_SCHEMA)
            cols = {r[1] for r in con.execute("PRAGMA table_info(patrol_login_failures)")}
            if "client" not in cols:
                con.execute(_MIGRATE_CLIENT[0])
            con.execute(_MIGRATE_CLIENT[1])
            if app_id == _GPKG_APPLICATION_ID:
                for table in ("patrol_users", "patrol_login_failures", "patrol_login_clients"):
                    con.execute(
                        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier)"
                        " VALUES (?, 'attributes', ?)",
                        (table, table),
                    )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30.0)
        try:
            with con:  # one transaction per call: commit on success, roll back on error
                yield con
        except sqlite3.IntegrityError:
            raise
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"user table in {self.path}: {exc}") from exc
        finally:
            con.close()

    @staticmethod
    def _user(row: tuple) -> tuple[User, str]:
        name, role, display, zones, fronts, person, dept, active, pw = row
        user = User(
            username=name,
            role=role,
            display_name=display,
            zones=_split(zones),
            fronts=_split(fronts),
            person_id=person,
            department=dept,
            active=bool(active),
        )
        return user, pw

    _COLUMNS = (
        "username, role, display_name, zones, fronts, person_id, department, active, password_hash"
    )

    def get(self, username: str) -> tuple[User, str]:
        with self._connect() as con:
            row = con.execute(
                f"SELECT {self._COLUMNS} FROM patrol_users WHERE username = ?", (username,)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no user called {username!r}")
        return self._user(row)

    def list_users(self) -> list[User]:
        with self._connect() as con:
            rows = con.execute(
                f"SELECT {self._COLUMNS} FROM patrol_users ORDER BY username"
            ).fetchall()
        return [self._user(r)[0] for r in rows]

    def add(self, user: User, password_hash: str) -> None:
        validate_user(user)
        try:
            with self._connect() as con:
                con.execute(
                    f"INSERT INTO patrol_users ({self._COLUMNS}, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        user.username,
                        user.role,
                        user.display_name,
                        _join(user.zones),
                        _join(user.fronts),
                        user.person_id,
                        user.department,
                        int(user.active),
                        password_hash,
                        utcnow().isoformat(),
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise ConflictError(
                f"user {user.username!r} already exists; choose another name"
            ) from exc

    def set_password(self, username: str, password_hash: str) -> None:
        with self._connect() as con:
            cur = con.execute(
                "UPDATE patrol_users SET password_hash = ? WHERE username = ?",
                (password_hash, username),
            )
        if cur.rowcount == 0:
            raise NotFoundError(f"no user called {username!r}")

    def update(self, user: User) -> None:
        validate_user(user)
        with self._connect() as con:
            cur = con.execute(
                "UPDATE patrol_users SET role = ?, display_name = ?, zones = ?, fronts = ?, "
                "person_id = ?, department = ?, active = ? WHERE username = ?",
                (
                    user.role,
                    user.display_name,
                    _join(user.zones),
                    _join(user.fronts),
                    user.person_id,
                    user.department,
                    int(user.active),
                    user.username,
                ),
            )
        if cur.rowcount == 0:
            raise NotFoundError(f"no user called {user.username!r}")

    def record_failure(self, username: str, at: datetime, *, client: str = "") -> None:
        with self._connect() as con:
            con.execute(
                "INSERT INTO patrol_login_failures (username, failed_at, client) VALUES (?, ?, ?)",
                (username, at.astimezone(UTC).isoformat(), client),
            )

    def failures_since(
        self, username: str, since: datetime, *, client: str | None = None
    ) -> list[datetime]:
        sql = "SELECT failed_at FROM patrol_login_failures WHERE username = ? AND failed_at >= ?"
        params: list[str] = [username, since.astimezone(UTC).isoformat()]
        if client is not None:
            sql += " AND client = ?"
            params.append(client)
        with self._connect() as con:
            rows = con.execute(sql + " ORDER BY failed_at", params).fetchall()
        return [datetime.fromisoformat(r[0]) for r in rows]

    def client_failures_since(self, client: str, since: datetime) -> list[datetime]:
        with self._connect() as con:
            rows = con.execute(
                "SELECT failed_at FROM patrol_login_failures WHERE client = ? "
                "AND failed_at >= ? ORDER BY failed_at",
                (client, since.astimezone(UTC).isoformat()),
            ).fetchall()
        return [datetime.fromisoformat(r[0]) for r in rows]

    def clear_failures(self, username: str, *, client: str | None = None) -> None:
        with self._connect() as con:
            if client is None:
                con.execute("DELETE FROM patrol_login_failures WHERE username = ?", (username,))
            else:
                con.execute(
                    "DELETE FROM patrol_login_failures WHERE username = ? AND client = ?",
                    (username, client),
                )

    def trust_client(self, username: str, client: str, at: datetime) -> None:
        with self._connect() as con:
            con.execute(
                "INSERT INTO patrol_login_clients (username, client, last_ok) VALUES (?, ?, ?) "
                "ON CONFLICT (username, client) DO UPDATE SET last_ok = excluded.last_ok",
                (username, client, at.astimezone(UTC).isoformat()),
            )

    def is_trusted(self, username: str, client: str, since: datetime) -> bool:
        with self._connect() as con:
            row = con.execute(
                "SELECT 1 FROM patrol_login_clients WHERE username = ? AND client = ? "
                "AND last_ok >= ?",
                (username, client, since.astimezone(UTC).isoformat()),
            ).fetchone()
        return row is not None


def user_store_path(settings: Settings) -> Path:
    """The file holding the user table: the embedded store file itself.

    With PostGIS configured, users stay in a SQLite file beside the working directory's
    ``var/`` folder until the PostGIS store grows a user table.
    """
    if settings.uses_postgis:
        return Path("var") / "patrol-users.sqlite"
    return Path(settings.database_url)


def open_user_repository(settings: Settings) -> SqliteUserRepository:
    """The user repository for these settings."""
    return SqliteUserRepository(user_store_path(settings))


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


class ForbiddenError(AuthError):
    """The user's role or scope does not allow this page or data."""

    def __init__(self, user: User, what: str) -> None:
        self.user = user
        self.what = what
        super().__init__(f"user {user.username!r} ({user.role}) may not open {what}")


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


def allowed_pages(user: User) -> tuple[str, ...]:
    """The pages a user may open, in navigation order."""
    pages = ROLE_PAGES.get(user.role, frozenset())
    return tuple(p for p in PAGES if p in pages)


def in_scope(user: User, resource: Resource) -> bool:
    """True when the resource lies inside the user's scope (see :class:`User`)."""
    if user.sees_everything:
        return True
    if user.role == "area_chief":
        return bool(
            (resource.zone_id and resource.zone_id in user.zones)
            or (resource.front_id and resource.front_id in user.fronts)
        )
    if user.role == "patrol":
        return bool(
            (resource.person_id and resource.person_id == user.person_id)
            or (resource.reported_by and resource.reported_by == user.username)
            or (resource.zone_id and resource.zone_id in user.zones)
        )
    if user.role == "liaison":
        return bool(
            user.department
            and (resource.lead_dept == user.department or user.department in resource.departments)
        )
    return False


def authorize(user: User, page: str, resource: Resource | None = None) -> User:
    """Allow a user onto a page (and to a resource), or raise :class:`ForbiddenError`.

    Every page calls this first with its own name, and again for each zone, front, person
    or department that a request names, wherever the name came from.
    """
    if not user.active:
        raise ForbiddenError(user, f"page {page!r} (account disabled)")
    if page not in ROLE_PAGES.get(user.role, frozenset()):
        raise ForbiddenError(user, f"page {page!r}")
    if resource is not None and not in_scope(user, resource):
        raise ForbiddenError(user, _describe(resource))
    return user


def _describe(resource: Resource) -> str:
    parts = [
        f"{k} {v!r}"
        for k, v in (
            ("zone", resource.zone_id),
            ("front", resource.front_id),
            ("person", resource.person_id),
            ("department", resource.lead_dept),
        )
        if v
    ]
    return ", ".join(parts) or "this data"


#: Roles that may move cases through the workflow / import batches of reports.
ADVANCE_ROLES = frozenset({"leadership", "area_chief", "liaison"})
IMPORT_ROLES = frozenset({"leadership", "area_chief"})


def scope_mask(user: User, frame: pd.DataFrame) -> pd.Series:
    """Which rows of a case frame the user may see (the vectorised :func:`in_scope`).

    Uses the frame's zone_id, front_id, person_id, lead_dept and, when present, ``depts``
    (participating departments, ';'-separated) and ``reporter``.
    """
    index = frame.index
    if user.sees_everything:
        return pd.Series(True, index=index)
    false = pd.Series(False, index=index)

    def col(name: str) -> pd.Series:
        return frame[name].astype(object) if name in frame.columns else false.astype(object)

    if user.role == "area_chief":
        return col("zone_id").isin(user.zones) | col("front_id").isin(user.fronts)
    if user.role == "patrol":
        mask = col("person_id").eq(user.person_id) | col("zone_id").isin(user.zones)
        return mask | col("reporter").eq(user.username)
    if user.role == "liaison" and user.department:
        depts = col("depts").fillna("").astype(str).str.split(";")
        return col("lead_dept").eq(user.department) | depts.map(lambda ds: user.department in ds)
    return false


def scope_zones(user: User, zones: Mapping[str, str]) -> list[str]:
    """The zone ids (of ``zones``: zone_id → front_id) that a user may see, in input order."""
    return [z for z, f in zones.items() if in_scope(user, Resource(zone_id=z, front_id=f))]


#: Demo accounts for the bundled Shichahai data; the passwords are published in the docs,
#: so these accounts are for demonstrations only.
DEMO_PASSWORDS: Mapping[str, str] = {
    "admin": "admin-demo-1",
    "leader": "leader-demo-1",
    "chief": "chief-demo-1",
    "streets": "streets-demo-1",
    "patrol1": "patrol-demo-1",
    "patrol2": "patrol-demo-2",
    "liaison": "liaison-demo-1",
}


def demo_users(zone_ids: list[str]) -> list[tuple[User, str]]:
    """The demo accounts and their passwords, scoped to the given scenic zones.

    The area chief ``chief`` answers for the first half of the zones, ``streets`` for the two
    street fronts; ``patrol1``/``patrol2`` are persons ``P01``/``P02``; ``liaison`` is 城管.
    """
    half = zone_ids[: max(1, (len(zone_ids) + 1) // 2)]
    users = [
        User("admin", "admin", "系统管理员"),
        User("leader", "leadership", "中心领导"),
        User("chief", "area_chief", "景区片区长", zones=tuple(half), fronts=()),
        User("streets", "area_chief", "大街片区长", fronts=("main_streets", "gulou_west")),
        User("patrol1", "patrol", "巡查队员一", person_id="P01", zones=tuple(half)),
        User("patrol2", "patrol", "巡查队员二", person_id="P02"),
        User("liaison", "liaison", "城管联络员", department=department_code("城管")),
    ]
    return [(u, DEMO_PASSWORDS[u.username]) for u in users]


def seed_demo_users(
    repo: UserRepository, zone_ids: list[str], *, rounds: int | None = None
) -> list[str]:
    """Add the demo accounts that do not exist yet; return the names added."""
    existing = {u.username for u in repo.list_users()}
    added = []
    for user, password in demo_users(zone_ids):
        if user.username in existing:
            continue
        repo.add(user, hash_password(password, rounds=rounds))
        added.append(user.username)
    return added


def with_scope(user: User, **changes: object) -> User:
    """A copy of a user with a changed scope (validated)."""
    return validate_user(replace(user, **changes))  # type: ignore[arg-type]
