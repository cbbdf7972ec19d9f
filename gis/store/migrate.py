"""Store versions, upgrades, backup and restore for both stores (``patrol db …``).

Long because: it is the one upgrade path of both stores (version checks, GeoPackage
steps, PostGIS files, backup and restore), which must be read together to see that no
row is lost on the way.

The two stores share one version numbering: the numbered PostGIS schema files
``gis/store/sql/NNN_*.sql``. PostGIS applies every file not yet recorded in
``schema_version``, in order, all in one transaction (a failure leaves the database as it
was). The GeoPackage creates its tables idempotently each time it is opened and records the
version reached in ``patrol_meta.schema_version``. A store that records a version this code
does not know (made by a newer release) is refused rather than guessed at.

Backups: ``pg_dump --format=custom`` / ``pg_restore`` for PostGIS; the SQLite online backup
API for the GeoPackage (a consistent copy, even while the app writes). A restore refuses a
target that already holds data unless told to replace it.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gis.errors import StoreError

SQL_DIR = Path(__file__).resolve().parent / "sql"
#: Advisory lock key held while PostGIS migrations run (one migrating process at a time).
_MIGRATION_LOCK = 4242001
#: What each GeoPackage version adds (versions without an entry only change PostGIS).
GPKG_STEPS: dict[int, str] = {
    1: "cases, case_audit and patrol_meta",
    3: "staff, staff_assignments, roster, signins and tracks",
    5: "coordination tables; cases.source takes the community sources",
    6: "RTree spatial index on cases.geom (gpkg_rtree_index)",
    7: "users with row versions, failed logins, trusted clients and sessions in the store",
    8: "a subdistrict key on every row (existing rows: shichahai)",
    9: "users, sessions, trusted clients and failed logins keyed by subdistrict",
    11: "geography layers per subdistrict (geo_layers and geo_<subdistrict>_<layer> tables); "
    "staff.shift",
}
#: A schema file holding this line is idempotent and runs again when a file numbered below
#: it is applied after it (its work then covers the tables that file creates).
RERUN_MARK = "-- patrol: runs again after an earlier-numbered file applied late"
#: Tables whose rows ``patrol db status`` counts, when present.
COUNTED_TABLES: tuple[str, ...] = (
    "cases",
    "case_audit",
    "staff",
    "tracks",
    "geo_features",
    "geo_layers",
    "patrol_users",
    "patrol_sessions",
)


def migrations(sql_dir: Path = SQL_DIR) -> list[tuple[int, Path]]:
    """Schema files as (version, path), in version order."""
    out = []
    for p in sorted(sql_dir.glob("*.sql")):
        m = re.match(r"(\d+)_", p.name)
        if m:
            out.append((int(m.group(1)), p))
    seen: dict[int, Path] = {}
    for v, p in out:
        if v in seen:
            raise StoreError(f"two schema files share version {v}: {seen[v].name} and {p.name}")
        seen[v] = p
    return out


def code_version(sql_dir: Path = SQL_DIR) -> int:
    """The newest store version this code knows."""
    found = migrations(sql_dir)
    return found[-1][0] if found else 0


def gpkg_code_version(sql_dir: Path = SQL_DIR) -> int:
    """The newest GeoPackage version this code writes (the same numbering; a number used
    by one store only is skipped by the other)."""
    return max(code_version(sql_dir), max(GPKG_STEPS))


def redact(url: str) -> str:
    """A database URL without its password."""
    return re.sub(r"//([^:@/]+):[^@/]*@", r"//\1:***@", url)


def _newer_than_code(where: str, versions: list[int], known: int) -> StoreError:
    listed = ", ".join(str(v) for v in versions)
    return StoreError(
        f"{where} has schema version {listed}, newer than this code knows (up to {known}): "
        "it was upgraded by a newer release. Run that release, or restore a backup made "
        "before the upgrade (patrol db restore); nothing was changed"
    )


# -- PostGIS ---------------------------------------------------------------------------
def migrate_postgis(
    tx: Callable[[], AbstractContextManager[Any]], url: str, sql_dir: Path = SQL_DIR
) -> int:
    """Apply every schema file not yet recorded, in order, in ONE transaction.

    ``tx`` opens a transaction and yields a cursor. Returns the version now in force.
    Raises StoreError when the database records versions this code does not know.
    """
    files = migrations(sql_dir)
    known = {v for v, _ in files}
    with tx() as cur:
        # up to date: nothing to create (an app login may not create tables in the schema)
        cur.execute("SELECT to_regclass('schema_version') IS NOT NULL")
        if cur.fetchone()[0]:
            cur.execute("SELECT version FROM schema_version ORDER BY version")
            applied = [int(r[0]) for r in cur.fetchall()]
            unknown = [v for v in applied if v not in known]
            if unknown:
                raise _newer_than_code(
                    f"the database {redact(url)}", unknown, max(known, default=0)
                )
            if known <= set(applied):
                return max(applied, default=0)
    with tx() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        cur.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            "version integer PRIMARY KEY, name text NOT NULL, "
            "applied_at timestamptz NOT NULL DEFAULT now())"
        )
        cur.execute("SELECT version FROM schema_version ORDER BY version")
        applied = [int(r[0]) for r in cur.fetchall()]
        unknown = [v for v in applied if v not in known]
        if unknown:
            raise _newer_than_code(f"the database {redact(url)}", unknown, max(known, default=0))
        before = set(applied)
        late: list[int] = []
        for version, path in files:
            if version in applied:
                continue
            cur.execute(path.read_text(encoding="utf-8"))
            cur.execute(
                "INSERT INTO schema_version (version, name) VALUES (%s, %s)",
                (version, path.name),
            )
            applied.append(version)
            if before and version < max(before):
                late.append(version)
        # a file that landed below ones already applied (parallel work merged late) may
        # create tables that later, idempotent files extend: those run again after it
        for version, path in files:
            text = path.read_text(encoding="utf-8")
            if late and version in before and version > min(late) and RERUN_MARK in text:
                cur.execute(text)
    return max(applied, default=0)


@dataclass(frozen=True)
class StoreStatus:
    """What ``patrol db status`` reports about a store, read without changing it."""

    kind: str
    location: str
    exists: bool
    version: int
    code_version: int
    pending: tuple[str, ...] = ()
    unknown: tuple[int, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    #: Cases per subdistrict key (version 8 on), and a note per subdistrict (its geography).
    subdistricts: dict[str, int] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    #: PostGIS: whether the role patrol_app exists (None: not asked, a GeoPackage).
    app_role: bool | None = None

    @property
    def initialised(self) -> bool:
        """Whether the store has a schema at all."""
        return self.version > 0

    @property
    def newer_than_code(self) -> bool:
        """Whether the store was upgraded by a release newer than this code."""
        return bool(self.unknown)

    def lines(self) -> list[str]:
        """Human-readable status lines."""
        out = [f"store: {self.kind} {self.location}"]
        if not self.exists:
            out.append("state: does not exist yet (patrol db init creates it)")
            return out
        if not self.initialised:
            out.append("state: empty, no schema (patrol db init creates it)")
            return out
        out.append(f"schema version: {self.version} (this code: {self.code_version})")
        if self.unknown:
            out.append(
                "state: NEWER than this code (versions "
                + ", ".join(map(str, self.unknown))
                + "); use the newer release"
            )
        elif self.pending:
            out.append("pending: " + "; ".join(self.pending) + " (patrol db migrate)")
        else:
            out.append("state: up to date")
        for table, n in self.counts.items():
            out.append(f"{table}: {n} rows")
        if self.subdistricts or self.notes:
            keys = sorted(set(self.subdistricts) | set(self.notes))
            out.append(
                "subdistricts: "
                + ", ".join(
                    f"{k} {self.subdistricts.get(k, 0)} cases"
                    + (f" ({self.notes[k]})" if k in self.notes else "")
                    for k in keys
                )
            )
        if self.app_role is not None:
            out.append(
                "row-level security: role patrol_app present"
                if self.app_role
                else "row-level security: role patrol_app MISSING, create it (docs/store.md)"
            )
        return out


def _pg_connect(url: str) -> Any:
    try:
        import psycopg2
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise StoreError("psycopg2 is not installed: pip install psycopg2-binary") from exc
    try:
        return psycopg2.connect(url)
    except psycopg2.Error as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(
            f"cannot connect to PostGIS ({redact(url)}): {msg}. Check host, port, database "
            "name and credentials in PATROL_DATABASE_URL (postgresql://user:pw@host:5432/db)"
        ) from None


def _pg_user_tables(cur: Any) -> list[str]:
    """Tables in the database that no extension owns (PostGIS's own tables excluded)."""
    cur.execute(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', "
        "'information_schema') AND n.nspname NOT LIKE 'pg\\_%' AND NOT EXISTS ("
        "SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
        "AND d.objid = c.oid AND d.deptype = 'e') ORDER BY 1"
    )
    return [r[0] for r in cur.fetchall()]


def _pg_subdistricts(cur: Any) -> tuple[dict[str, int], dict[str, str], bool]:
    """Cases per subdistrict, each subdistrict's stored geography, and whether patrol_app
    exists (as the login sees them: an app login under RLS sees its own rows only)."""
    cur.execute("SELECT subdistrict, count(*) FROM cases GROUP BY 1 ORDER BY 1")
    keyed = {r[0]: int(r[1]) for r in cur.fetchall()}
    cur.execute("SELECT subdistrict, max(srid), count(*) FROM geo_layers GROUP BY 1 ORDER BY 1")
    notes = {r[0]: f"geography EPSG:{r[1]}" for r in cur.fetchall()}
    cur.execute("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'patrol_app')")
    return keyed, notes, bool(cur.fetchone()[0])


def postgis_status(url: str, sql_dir: Path = SQL_DIR) -> StoreStatus:
    """The version and row counts of a PostGIS database, read only."""
    files = migrations(sql_dir)
    known = {v for v, _ in files}
    with closing(_pg_connect(url)) as con, con, con.cursor() as cur:
        cur.execute("SELECT to_regclass('public.schema_version') IS NOT NULL")
        applied: list[int] = []
        if cur.fetchone()[0]:
            cur.execute("SELECT version FROM schema_version ORDER BY version")
            applied = [int(r[0]) for r in cur.fetchall()]
        counts: dict[str, int] = {}
        for table in COUNTED_TABLES:
            cur.execute("SELECT to_regclass(%s) IS NOT NULL", (f"public.{table}",))
            if cur.fetchone()[0]:
                from psycopg2 import sql

                cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
                counts[table] = int(cur.fetchone()[0])
        keyed, notes, app_role = _pg_subdistricts(cur) if 8 in applied else ({}, {}, None)
    return StoreStatus(
        kind="PostGIS",
        location=redact(url),
        exists=True,
        version=max(applied, default=0),
        code_version=max(known, default=0),
        pending=tuple(p.name for v, p in files if v not in applied) if applied else (),
        unknown=tuple(v for v in applied if v not in known),
        counts=counts,
        subdistricts=keyed,
        notes=notes,
        app_role=app_role,
    )


def _pg_tool(name: str) -> str:
    from gis.store.testing import pg_bin_dir

    found = shutil.which(name)
    if found:
        return found
    bindir = pg_bin_dir()
    if bindir is not None and (bindir / name).is_file():
        return str(bindir / name)
    raise StoreError(
        f"{name} was not found: install the PostgreSQL client tools (Debian: apt install "
        f"postgresql-client) or set PATROL_PG_BIN to the directory holding {name}"
    )


def _run_tool(args: list[str], what: str, url: str) -> None:
    res = subprocess.run(args, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        detail = (res.stderr or res.stdout).strip().replace(url, redact(url))
        raise StoreError(f"{what} failed ({Path(args[0]).name} exit {res.returncode}): {detail}")


def backup_postgis(url: str, dest: Path) -> Path:
    """``pg_dump --format=custom`` of the database into ``dest``."""
    pg_dump = _pg_tool("pg_dump")
    with closing(_pg_connect(url)):
        pass  # a clear message for a bad URL before pg_dump's own
    tmp = dest.with_name(dest.name + ".partial")
    _run_tool(
        [pg_dump, "--format=custom", "--no-owner", "--file", str(tmp), "--dbname", url],
        "backup",
        url,
    )
    os.replace(tmp, dest)
    return dest


def restore_postgis(url: str, src: Path, *, replace: bool = False) -> None:
    """``pg_restore`` a custom-format dump into the database, in one transaction.

    Refuses a database that already has tables unless ``replace`` (then the dump's objects
    are dropped and recreated; tables the dump does not hold are left alone).
    """
    with src.open("rb") as fh:
        if fh.read(5) != b"PGDMP":
            raise StoreError(
                f"{src} is not a PostgreSQL custom-format dump (made by patrol db backup "
                "or pg_dump --format=custom)"
            )
    pg_restore = _pg_tool("pg_restore")
    with closing(_pg_connect(url)) as con, con, con.cursor() as cur:
        tables = _pg_user_tables(cur)
    if tables and not replace:
        raise StoreError(
            f"the database {redact(url)} is not empty ({len(tables)} tables, e.g. "
            f"{', '.join(tables[:3])}): restore into an empty database, or pass --replace "
            "to drop and recreate the backed-up tables"
        )
    args = [pg_restore, "--no-owner", "--single-transaction", "--exit-on-error"]
    if tables:
        args += ["--clean", "--if-exists"]
    _run_tool([*args, "--dbname", url, str(src)], "restore", url)


#: Tables of the user file that releases before version 7 kept beside a PostGIS deployment,
#: with the columns copied (a column missing from an older file takes the default).
_SIDECAR_TABLES: dict[str, tuple[tuple[str, str | None], ...]] = {
    "patrol_users": (
        ("username", None),
        ("role", None),
        ("display_name", "''"),
        ("zones", "''"),
        ("fronts", "''"),
        ("person_id", "NULL"),
        ("department", "NULL"),
        ("active", "1"),
        ("password_hash", None),
        ("created_at", None),
    ),
    "patrol_login_failures": (("username", None), ("failed_at", None), ("client", "''")),
    "patrol_login_clients": (("username", None), ("client", None), ("last_ok", None)),
}


def import_sidecar_users(url: str, sidecar: Path) -> dict[str, int]:
    """Copy the users, failed logins and trusted clients of a pre-7 user file into PostGIS,
    in one transaction; rows already there (same user name, same failure) are kept as they
    are, so running it again adds nothing. Returns, per table, the file's rows now in the store."""
    if not sidecar.is_file():
        return {}
    with closing(_gpkg_open_ro(sidecar)) as src:
        present = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "patrol_users" not in present:
            return {}
        rows: dict[str, list[tuple]] = {}
        for table, cols in _SIDECAR_TABLES.items():
            if table not in present:
                continue
            have = {r[1] for r in src.execute(f"PRAGMA table_info({table})")}
            exprs = []
            for col, default in cols:
                if col in have:
                    exprs.append(col)
                elif default is not None:
                    exprs.append(f"{default} AS {col}")
                else:
                    raise StoreError(
                        f"{sidecar}: table {table} has no column {col}; it is not a user file "
                        "of this system"
                    )
            rows[table] = src.execute(  # noqa: S608 - fixed names
                f"SELECT {', '.join(exprs)} FROM {table} ORDER BY rowid"
            ).fetchall()
    added: dict[str, int] = {}
    with closing(_pg_connect(url)) as con, con, con.cursor() as cur:
        users = rows.get("patrol_users", [])
        cur.executemany(
            "INSERT INTO patrol_users (username, role, display_name, zones, fronts, person_id, "
            "department, active, password_hash, created_at) VALUES (%s, %s, %s, %s, %s, %s, "
            "%s, %s, %s, %s) ON CONFLICT (username) DO NOTHING",
            [(*r[:7], bool(r[7]), *r[8:]) for r in users],
        )
        cur.execute(
            "SELECT count(*) FROM patrol_users WHERE username = ANY(%s)", ([r[0] for r in users],)
        )
        added["patrol_users"] = int(cur.fetchone()[0])
        failures = rows.get("patrol_login_failures", [])
        cur.executemany(
            "INSERT INTO patrol_login_failures (username, failed_at, client) "
            "SELECT %s, %s, %s WHERE NOT EXISTS (SELECT 1 FROM patrol_login_failures "
            "WHERE username = %s AND failed_at = %s::timestamptz AND client = %s)",
            [(*r, *r) for r in failures],
        )
        added["patrol_login_failures"] = len(failures)
        clients = rows.get("patrol_login_clients", [])
        cur.executemany(
            "INSERT INTO patrol_login_clients (username, client, last_ok) VALUES (%s, %s, %s) "
            "ON CONFLICT (username, client) DO UPDATE SET last_ok = "
            "greatest(patrol_login_clients.last_ok, excluded.last_ok)",
            clients,
        )
        added["patrol_login_clients"] = len(clients)
    return added


# -- GeoPackage ------------------------------------------------------------------------
def gpkg_stored_version(con: sqlite3.Connection, where: str) -> int:
    """The ``schema_version`` a GeoPackage records (0 when it has no patrol tables)."""
    has_meta = con.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'patrol_meta'"
    ).fetchone()[0]
    if not has_meta:
        return 0
    row = con.execute("SELECT value FROM patrol_meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        return 1
    try:
        return int(row[0])
    except (TypeError, ValueError):
        raise StoreError(
            f"{where} records an unknown schema version {str(row[0])[:40]!r} in patrol_meta; "
            "it was not written by this system. Restore a backup (patrol db restore)"
        ) from None


def check_gpkg_version(con: sqlite3.Connection, where: str) -> int:
    """Refuse a GeoPackage made by a newer release; returns its stored version."""
    stored = gpkg_stored_version(con, where)
    known = gpkg_code_version()
    if stored > known:
        raise _newer_than_code(where, [stored], known)
    return stored


def finish_gpkg_schema(con: sqlite3.Connection) -> None:
    """Last GeoPackage step, inside the opening write transaction: the spatial index, then
    the version this code writes."""
    from gis.access.db import ensure_gpkg_access_tables
    from gis.store.gpkg_geography import ensure_geography_catalogue
    from gis.store.gpkg_index import ensure_rtree
    from gis.store.tenancy import key_gpkg_tables

    ensure_gpkg_access_tables(con)  # 7: users and sessions
    ensure_rtree(con, "cases", "geom")
    key_gpkg_tables(con)
    ensure_geography_catalogue(con)  # 11: the geography layers, and the staff's shift
    if "shift" not in [r[1] for r in con.execute("PRAGMA table_info(staff)")]:
        con.execute("ALTER TABLE staff ADD COLUMN shift TEXT NOT NULL DEFAULT ''")
    known = str(gpkg_code_version())
    con.execute(
        "UPDATE patrol_meta SET value = ? WHERE key = 'schema_version' "
        "AND CAST(value AS INTEGER) < ?",
        (known, int(known)),
    )


def _gpkg_open_ro(path: Path) -> sqlite3.Connection:
    try:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path}: {exc}") from exc


def _gpkg_check_file(con: sqlite3.Connection, path: Path) -> None:
    try:
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not an SQLite/GeoPackage file: {exc}") from None
    if app_id != 0x47504B47 and con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        raise StoreError(f"{path} is an SQLite file but not a GeoPackage")


def _gpkg_data_tables(con: sqlite3.Connection) -> Iterator[str]:
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        if name.startswith(("gpkg_", "rtree_", "sqlite_")) or name == "patrol_meta":
            continue
        quoted = '"' + name.replace('"', '""') + '"'
        if con.execute(f"SELECT 1 FROM {quoted} LIMIT 1").fetchone():  # noqa: S608 - quoted
            yield name


def gpkg_status(path: Path) -> StoreStatus:
    """The version and row counts of a GeoPackage store, read only."""
    known = gpkg_code_version()
    if not path.exists():
        return StoreStatus("GeoPackage", str(path), False, 0, known)
    with closing(_gpkg_open_ro(path)) as con:
        _gpkg_check_file(con, path)
        stored = gpkg_stored_version(con, str(path))
        counts = {}
        present = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        for table in COUNTED_TABLES:
            if table in present:
                counts[table] = int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        keyed: dict[str, int] = {}
        if "cases" in present and any(
            r[1] == "subdistrict" for r in con.execute("PRAGMA table_info(cases)")
        ):
            keyed = {
                r[0]: int(r[1])
                for r in con.execute(
                    "SELECT subdistrict, count(*) FROM cases GROUP BY 1 ORDER BY 1"
                )
            }
        notes: dict[str, str] = {}
        if "geo_layers" in present:
            notes = {
                r[0]: f"geography {r[1]}"
                for r in con.execute(
                    "SELECT subdistrict, max(crs) FROM geo_layers GROUP BY 1 ORDER BY 1"
                )
            }
    pending = tuple(
        f"{v}: {what}" for v, what in GPKG_STEPS.items() if stored and stored < v <= known
    )
    if stored and stored < known and not pending:
        pending = (f"version {known}",)
    return StoreStatus(
        kind="GeoPackage",
        location=str(path),
        exists=True,
        version=stored,
        code_version=known,
        pending=pending,
        unknown=(stored,) if stored > known else (),
        counts=counts,
        subdistricts=keyed,
        notes=notes,
    )


def copy_sqlite(path: Path, dest: Path) -> Path:
    """A consistent single-file copy of an SQLite file (online backup API), checked."""
    tmp = dest.with_name(dest.name + ".partial")
    tmp.unlink(missing_ok=True)
    with closing(_gpkg_open_ro(path)) as src:
        _gpkg_check_file(src, path)
        with closing(sqlite3.connect(tmp)) as out:
            src.backup(out)
            out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            ok = out.execute("PRAGMA integrity_check").fetchone()[0]
    if ok != "ok":
        tmp.unlink(missing_ok=True)
        raise StoreError(f"the copy of {path} failed its integrity check: {ok}")
    os.replace(tmp, dest)
    return dest


def backup_gpkg(path: Path, dest: Path) -> Path:
    """A consistent single-file copy of the GeoPackage (SQLite online backup API)."""
    if not path.exists():
        raise StoreError(f"no GeoPackage at {path} to back up")
    return copy_sqlite(path, dest)


def sqlite_has_rows(path: Path) -> list[str]:
    """Data tables of an SQLite/GeoPackage file that hold rows (none when it is absent)."""
    if not path.exists():
        return []
    with closing(_gpkg_open_ro(path)) as con:
        _gpkg_check_file(con, path)
        return list(_gpkg_data_tables(con))


def restore_sqlite(path: Path, src: Path, *, replace: bool = False) -> None:
    """Copy an SQLite backup over ``path`` (backup API, one transaction); refuses a target
    holding rows unless ``replace``."""
    with closing(_gpkg_open_ro(src)) as s:
        _gpkg_check_file(s, src)
        if s.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise StoreError(f"{src} is damaged (integrity check failed); nothing restored")
        filled = sqlite_has_rows(path)
        if filled and not replace:
            raise StoreError(
                f"{path} is not empty (rows in {', '.join(filled[:3])}): pass --replace "
                "to overwrite it"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(path, timeout=30.0)) as t:
            s.backup(t)


def restore_gpkg(path: Path, src: Path, *, replace: bool = False) -> None:
    """Copy a GeoPackage backup over ``path`` with the backup API (one transaction).

    Refuses a target holding rows unless ``replace``, and a backup newer than this code.
    """
    if not src.is_file():
        raise StoreError(f"no backup file at {src}")
    with closing(_gpkg_open_ro(src)) as s:
        _gpkg_check_file(s, src)
        if gpkg_stored_version(s, str(src)) == 0:
            raise StoreError(f"{src} is a GeoPackage without patrol tables, not a backup")
        check_gpkg_version(s, str(src))
        if s.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise StoreError(f"{src} is damaged (integrity check failed); nothing restored")
        if path.exists():
            with closing(sqlite3.connect(path, timeout=30.0)) as t:
                _gpkg_check_file(t, path)
                filled = list(_gpkg_data_tables(t))
                if filled and not replace:
                    raise StoreError(
                        f"{path} is not empty (rows in {', '.join(filled[:3])}): restore "
                        "into a new file, or pass --replace to overwrite it"
                    )
                s.backup(t)
                return
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(path)) as t:
            s.backup(t)
