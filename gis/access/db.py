"""Where users, failed logins and sessions live: tables of the store, on either backend.

The GeoPackage (embedded default) keeps them as attribute tables of the store file; PostGIS
keeps them in the tables of migration ``007_users_sessions.sql``. Both use the same table and
column names, so one set of SQL statements (``?`` parameters) serves both; :class:`AccessDB`
hides the differences (parameter style, times as text or ``timestamptz``, integrity errors).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gis.errors import ConflictError, StoreError
from gis.localtime import parse_stored_instant

#: The user and session tables (both backends), in creation order.
ACCESS_TABLES: tuple[str, ...] = (
    "patrol_users",
    "patrol_login_failures",
    "patrol_login_clients",
    "patrol_sessions",
    "patrol_session_secret",
)

_GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
_GPKG_USER_VERSION = 10400

#: GeoPackage (SQLite) tables of schema version 7; PostGIS: gis/store/sql/007_users_sessions.sql.
GPKG_ACCESS_SCHEMA: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS patrol_users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    zones TEXT NOT NULL DEFAULT '',
    fronts TEXT NOT NULL DEFAULT '',
    person_id TEXT,
    department TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT)""",
    """CREATE TABLE IF NOT EXISTS patrol_login_failures (
    username TEXT NOT NULL,
    failed_at TEXT NOT NULL,
    client TEXT NOT NULL DEFAULT '')""",
    """CREATE TABLE IF NOT EXISTS patrol_login_clients (
    username TEXT NOT NULL,
    client TEXT NOT NULL,
    last_ok TEXT NOT NULL,
    PRIMARY KEY (username, client))""",
    """CREATE TABLE IF NOT EXISTS patrol_sessions (
    sid TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    handoff_hash TEXT UNIQUE,
    handoff_expires TEXT)""",
    """CREATE TABLE IF NOT EXISTS patrol_session_secret (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret BLOB NOT NULL)""",
)
#: Columns added to files written before version 7 (name, table, definition).
_GPKG_ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("patrol_login_failures", "client", "TEXT NOT NULL DEFAULT ''"),
    ("patrol_users", "version", "INTEGER NOT NULL DEFAULT 1"),
    ("patrol_users", "updated_at", "TEXT"),
    # version 9: the user's subdistrict, or * for the district level (gis/store/tenancy.py)
    ("patrol_users", "subdistrict", "TEXT NOT NULL DEFAULT 'shichahai'"),
)
_GPKG_INDEXES: tuple[str, ...] = (
    "CREATE INDEX IF NOT EXISTS patrol_login_failures_user ON patrol_login_failures (username)",
    "CREATE INDEX IF NOT EXISTS patrol_login_failures_client ON patrol_login_failures (client)",
    "CREATE INDEX IF NOT EXISTS patrol_sessions_user ON patrol_sessions (username)",
)

# The minimum a GeoPackage needs (OGC 12-128r18 §1.1.2-1.1.3), so that a store opened later by
# GDAL accepts a file whose user tables were created first.
_GPKG_CORE: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
    srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
    organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)""",
    """INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES
    ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian'),
    ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic'),
    ('WGS 84 geodetic', 4326, 'EPSG', 4326, 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]', 'longitude/latitude on WGS 84')""",  # noqa: E501
    """CREATE TABLE IF NOT EXISTS gpkg_contents (
    table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
    description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT
    (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE,
    max_y DOUBLE, srs_id INTEGER,
    CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
    table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
    srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
    CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
    CONSTRAINT uk_gc_table_name UNIQUE (table_name),
    CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
    CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
)


def ensure_gpkg_access_tables(con: sqlite3.Connection) -> None:
    """Create (or upgrade to version 7) the user and session tables of a GeoPackage, inside
    the caller's transaction: new columns get defaults, so no existing row is lost."""
    for stmt in GPKG_ACCESS_SCHEMA:
        con.execute(stmt)
    for table, column, definition in _GPKG_ADDED_COLUMNS:
        cols = {r[1] for r in con.execute(f"PRAGMA table_info({table})")}
        if column not in cols:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
    for stmt in _GPKG_INDEXES:
        con.execute(stmt)
    has_contents = con.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'gpkg_contents'"
    ).fetchone()[0]
    if has_contents:
        for table in ACCESS_TABLES:
            con.execute(
                "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier) "
                "VALUES (?, 'attributes', ?)",
                (table, table),
            )


class AccessDB:
    """Transactions on the user and session tables of one store (see the module docstring).

    ``tx()`` yields a cursor whose ``execute`` takes ``?`` parameters on both backends.
    """

    style: str = "sqlite"
    where: str = ""

    def tx(self) -> contextlib.AbstractContextManager[Any]:
        """One transaction: commit on success, roll back on error."""
        raise NotImplementedError

    def time(self, value: datetime) -> Any:
        """A time as this backend stores it (UTC text for SQLite)."""
        if self.style == "sqlite":
            return value.astimezone(UTC).isoformat()
        return value

    @staticmethod
    def read_time(value: Any) -> datetime | None:
        """A stored time as an aware datetime (local; naive means UTC)."""
        return parse_stored_instant(value)


class SqliteAccessDB(AccessDB):
    """The user and session tables in an SQLite file: the GeoPackage store's own file.

    A new file is made an empty but valid GeoPackage, and the tables are registered in
    ``gpkg_contents`` as attributes, so GIS tools and the case store can share it.
    """

    style = "sqlite"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.where = str(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.tx() as cur:
            con = cur.connection
            (app_id,) = con.execute("PRAGMA application_id").fetchone()
            (tables,) = con.execute("SELECT count(*) FROM sqlite_master").fetchone()
            if tables == 0:
                con.execute(f"PRAGMA application_id = {_GPKG_APPLICATION_ID}")
                con.execute(f"PRAGMA user_version = {_GPKG_USER_VERSION}")
                app_id = _GPKG_APPLICATION_ID
            if app_id == _GPKG_APPLICATION_ID:
                for stmt in _GPKG_CORE:
                    con.execute(stmt)
            ensure_gpkg_access_tables(con)

    @contextlib.contextmanager
    def tx(self) -> Iterator[sqlite3.Cursor]:
        con = sqlite3.connect(self.path, timeout=30.0)
        try:
            with con:  # one transaction per call: commit on success, roll back on error
                yield con.cursor()
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"{exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"user and session tables in {self.path}: {exc}") from exc
        finally:
            con.close()


class _PgCursor:
    """A psycopg2 cursor taking ``?`` parameters (no statement here holds a literal ``?``
    or ``%``)."""

    def __init__(self, cur: Any) -> None:
        self._cur = cur

    def execute(self, text: str, params: Sequence[Any] = ()) -> _PgCursor:
        self._cur.execute(text.replace("?", "%s"), tuple(params))
        return self

    def executemany(self, text: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cur.executemany(text.replace("?", "%s"), [tuple(r) for r in rows])

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cur.fetchall())

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)


class PostgresAccessDB(AccessDB):
    """The user and session tables in PostGIS (migration 007), on a small connection pool
    of their own; the schema is brought up to date on first use."""

    style = "pg"

    def __init__(self, url: str, *, maxconn: int = 4) -> None:
        import psycopg2
        import psycopg2.pool

        from gis.store.migrate import migrate_postgis, redact

        self.url = url
        self.where = redact(url)
        try:
            self._pool = psycopg2.pool.ThreadedConnectionPool(1, maxconn, dsn=url)
        except psycopg2.Error as exc:
            raise StoreError(f"cannot connect to PostGIS ({self.where}): {exc}") from exc
        migrate_postgis(self._raw_tx, url)

    @contextlib.contextmanager
    def _raw_tx(self) -> Iterator[Any]:
        import psycopg2

        con = self._pool.getconn()
        try:
            with con, con.cursor() as cur:
                yield cur
        except psycopg2.IntegrityError as exc:
            raise ConflictError(str(exc).strip().splitlines()[0]) from exc
        except psycopg2.Error as exc:
            raise StoreError(f"user and session tables in {self.where}: {exc}") from exc
        finally:
            self._pool.putconn(con)

    @contextlib.contextmanager
    def tx(self) -> Iterator[_PgCursor]:
        with self._raw_tx() as cur:
            yield _PgCursor(cur)

    def close(self) -> None:
        """Close the pool's connections."""
        self._pool.closeall()
