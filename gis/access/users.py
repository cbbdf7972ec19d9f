"""Users: who may log in, their role and scope, passwords, and the user table of the store.

Users live in the store (GeoPackage or PostGIS, :mod:`gis.access.db`); each row carries a
version, and an update names the version it was read at, so two administrators (or two app
instances) cannot silently overwrite each other's change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import bcrypt

from gis.access.db import AccessDB, PostgresAccessDB, SqliteAccessDB
from gis.errors import ConflictError, NotFoundError, ValidationError
from gis.settings import Settings

#: Roles in the order they are shown to an administrator.
ROLES: tuple[str, ...] = ("leadership", "area_chief", "patrol", "liaison", "admin", "reporter")
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
    ``department``; leadership and admin see everything. ``version`` is the stored row's
    version when the user was read (0 for a user not read from the store).
    """

    username: str
    role: str
    display_name: str = ""
    zones: tuple[str, ...] = ()
    fronts: tuple[str, ...] = ()
    person_id: str | None = None
    department: str | None = None
    active: bool = True
    version: int = field(default=0, compare=False)
    #: The subdistrict whose rows the user sees and writes, or ``*`` (the district level).
    subdistrict: str = "shichahai"

    @property
    def sees_everything(self) -> bool:
        """True for roles without a data scope (leadership and admin)."""
        return self.role in ("leadership", "admin")


class StaleUserError(ConflictError):
    """The user row changed since it was read (another administrator or app instance)."""

    def __init__(self, username: str, expected: int, found: int) -> None:
        self.username = username
        self.expected = expected
        self.found = found
        super().__init__(
            f"user {username!r} was changed by someone else since it was read (version "
            f"{expected}, now {found}); reload the user and apply the change again"
        )


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
    from gis.store.tenancy import check_subdistrict

    check_subdistrict(user.subdistrict, where=f"user {user.username}")
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
    from gis.cases.categories import load_references

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
    """Where users and failed logins live (the store: GeoPackage or PostGIS)."""

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
        """Replace a user's role, scope and active flag (StaleUserError when the row
        changed since ``user.version``)."""
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


def _join(values: Iterable[str]) -> str:
    return ",".join(v.strip() for v in values if v and v.strip())


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(v for v in (text or "").split(",") if v)


_COLUMNS = (
    "username, role, display_name, zones, fronts, person_id, department, active, "
    "password_hash, version, subdistrict"
)


class StoreUserRepository:
    """Users, failed logins and trusted clients in the store's tables (either backend)."""

    def __init__(self, db: AccessDB) -> None:
        self.db = db

    @staticmethod
    def _user(row: tuple[Any, ...]) -> tuple[User, str]:
        name, role, display, zones, fronts, person, dept, active, pw, version, sub = row
        user = User(
            username=name,
            role=role,
            display_name=display,
            zones=_split(zones),
            fronts=_split(fronts),
            person_id=person,
            department=dept,
            active=bool(active),
            version=int(version),
            subdistrict=sub or "shichahai",
        )
        return user, pw

    def get(self, username: str) -> tuple[User, str]:
        with self.db.tx() as cur:
            row = cur.execute(
                f"SELECT {_COLUMNS} FROM patrol_users WHERE username = ?", (username,)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no user called {username!r}")
        return self._user(row)

    def list_users(self) -> list[User]:
        with self.db.tx() as cur:
            rows = cur.execute(f"SELECT {_COLUMNS} FROM patrol_users ORDER BY username").fetchall()
        return [self._user(r)[0] for r in rows]

    def add(self, user: User, password_hash: str) -> None:
        validate_user(user)
        now = self.db.time(utcnow())
        try:
            with self.db.tx() as cur:
                cur.execute(
                    "INSERT INTO patrol_users (username, role, display_name, zones, fronts, "
                    "person_id, department, active, password_hash, created_at, version, "
                    "updated_at, subdistrict) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
                    (
                        user.username,
                        user.role,
                        user.display_name,
                        _join(user.zones),
                        _join(user.fronts),
                        user.person_id,
                        user.department,
                        bool(user.active),
                        password_hash,
                        now,
                        now,
                        user.subdistrict,
                    ),
                )
        except ConflictError as exc:
            raise ConflictError(
                f"user {user.username!r} already exists; choose another name"
            ) from exc

    def _version(self, cur: Any, username: str) -> int:
        row = cur.execute(
            "SELECT version FROM patrol_users WHERE username = ?", (username,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no user called {username!r}")
        return int(row[0])

    def set_password(self, username: str, password_hash: str) -> None:
        with self.db.tx() as cur:
            cur.execute(
                "UPDATE patrol_users SET password_hash = ?, version = version + 1, "
                "updated_at = ? WHERE username = ?",
                (password_hash, self.db.time(utcnow()), username),
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"no user called {username!r}")

    def update(self, user: User) -> None:
        """Replace role, scope and active flag. A user read from the store (``version`` > 0)
        is written only if the row still has that version (:class:`StaleUserError`)."""
        validate_user(user)
        sql = (
            "UPDATE patrol_users SET role = ?, display_name = ?, zones = ?, fronts = ?, "
            "person_id = ?, department = ?, active = ?, version = version + 1, updated_at = ?, "
            "subdistrict = ? WHERE username = ?"
        )
        params: list[Any] = [
            user.role,
            user.display_name,
            _join(user.zones),
            _join(user.fronts),
            user.person_id,
            user.department,
            bool(user.active),
            self.db.time(utcnow()),
            user.subdistrict,
            user.username,
        ]
        if user.version:
            sql += " AND version = ?"
            params.append(user.version)
        with self.db.tx() as cur:
            cur.execute(sql, params)
            if cur.rowcount == 0:
                found = self._version(cur, user.username)  # NotFoundError when gone
                raise StaleUserError(user.username, user.version, found)

    def record_failure(self, username: str, at: datetime, *, client: str = "") -> None:
        with self.db.tx() as cur:
            cur.execute(
                "INSERT INTO patrol_login_failures (username, failed_at, client) VALUES (?, ?, ?)",
                (username, self.db.time(at), client),
            )

    def failures_since(
        self, username: str, since: datetime, *, client: str | None = None
    ) -> list[datetime]:
        sql = "SELECT failed_at FROM patrol_login_failures WHERE username = ? AND failed_at >= ?"
        params: list[Any] = [username, self.db.time(since)]
        if client is not None:
            sql += " AND client = ?"
            params.append(client)
        with self.db.tx() as cur:
            rows = cur.execute(sql + " ORDER BY failed_at", params).fetchall()
        return [t for r in rows if (t := self.db.read_time(r[0])) is not None]

    def client_failures_since(self, client: str, since: datetime) -> list[datetime]:
        with self.db.tx() as cur:
            rows = cur.execute(
                "SELECT failed_at FROM patrol_login_failures WHERE client = ? "
                "AND failed_at >= ? ORDER BY failed_at",
                (client, self.db.time(since)),
            ).fetchall()
        return [t for r in rows if (t := self.db.read_time(r[0])) is not None]

    def clear_failures(self, username: str, *, client: str | None = None) -> None:
        with self.db.tx() as cur:
            if client is None:
                cur.execute("DELETE FROM patrol_login_failures WHERE username = ?", (username,))
            else:
                cur.execute(
                    "DELETE FROM patrol_login_failures WHERE username = ? AND client = ?",
                    (username, client),
                )

    def trust_client(self, username: str, client: str, at: datetime) -> None:
        with self.db.tx() as cur:
            cur.execute(
                "INSERT INTO patrol_login_clients (username, client, last_ok) VALUES (?, ?, ?) "
                "ON CONFLICT (username, client) DO UPDATE SET last_ok = excluded.last_ok",
                (username, client, self.db.time(at)),
            )

    def is_trusted(self, username: str, client: str, since: datetime) -> bool:
        with self.db.tx() as cur:
            row = cur.execute(
                "SELECT 1 FROM patrol_login_clients WHERE username = ? AND client = ? "
                "AND last_ok >= ?",
                (username, client, self.db.time(since)),
            ).fetchone()
        return row is not None


class SqliteUserRepository(StoreUserRepository):
    """The user tables of a GeoPackage store file (created, or upgraded, on first use)."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(SqliteAccessDB(path))
        self.path = Path(path)


def access_db(settings: Settings) -> AccessDB:
    """The user and session tables of the configured store."""
    if settings.uses_postgis:
        return PostgresAccessDB(settings.database_url)
    return SqliteAccessDB(settings.database_url)


def open_user_repository(settings: Settings) -> StoreUserRepository:
    """The user repository of the configured store (GeoPackage file or PostGIS)."""
    return StoreUserRepository(access_db(settings))


def user_store_path(settings: Settings) -> Path:
    """The GeoPackage file holding the users (the store itself). With PostGIS the users are
    in the database; this is then where older releases kept them (``patrol db migrate``
    imports that file)."""
    if settings.uses_postgis:
        return LEGACY_USERS_FILE
    return Path(settings.database_url)


#: Where releases before schema version 7 kept the users of a PostGIS deployment (relative
#: to the app's working directory).
LEGACY_USERS_FILE = Path("var") / "patrol-users.sqlite"

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
