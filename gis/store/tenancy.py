"""Subdistrict keys: which subdistrict's rows a store connection sees and writes.

Every stored row carries a ``subdistrict`` code (``'shichahai'``). A store is opened for one
subdistrict, or for the district level (``'*'``, reads every subdistrict, writes none).
PostGIS enforces it with row-level security (``sql/008_subdistricts.sql``); the GeoPackage
keys its rows the same way and the store API filters by the key (no RLS in SQLite).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from typing import Any

from gis.errors import StoreError, ValidationError

#: The subdistrict of the bundled geography, and of every row stored before keys existed.
DEFAULT_SUBDISTRICT = "shichahai"
#: The district level: sees every subdistrict's rows.
DISTRICT = "*"
#: GeoPackage schema version that keys every row.
GPKG_SUBDISTRICT_VERSION = 8

_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")

#: GeoPackage tables keyed by subdistrict (those present in a file are keyed).
GPKG_KEYED_TABLES: tuple[str, ...] = (
    "cases",
    "case_audit",
    "patrol_meta",
    "staff",
    "staff_assignments",
    "roster",
    "signins",
    "tracks",
    "crowd_places",
    "crowd_counts",
    "crowd_alerts",
    "coord_alerts",
    "coord_joint_actions",
    "coord_consultations",
    "coord_inspections",
    "coord_photos",
    "coord_reports",
)
#: The login tables (schema 7): keyed by the user they name, never filtered (version 9).
GPKG_ACCESS_KEYED: tuple[str, ...] = (
    "patrol_sessions",
    "patrol_login_clients",
    "patrol_login_failures",
)


def check_subdistrict(code: str, *, where: str = "subdistrict", district: bool = True) -> str:
    """A valid subdistrict code (lower-case letters, digits, ``_``), or ``'*'`` when
    ``district``; raises ValidationError naming the bad value."""
    text = str(code)
    if district and text == DISTRICT:
        return text
    if not _CODE.fullmatch(text):
        raise ValidationError(
            f"{text!r} is not a subdistrict code",
            source=where,
            field="subdistrict",
            fix="use lower-case letters, digits and _ (for example shichahai)"
            + (", or * for the district level" if district else ""),
        )
    return text


def writable_subdistrict(code: str) -> str:
    """The key new rows get; the district level cannot write (it belongs to no subdistrict)."""
    if code == DISTRICT:
        raise ValidationError(
            "the district level (*) reads every subdistrict but writes none",
            field="subdistrict",
            fix="open the store for the subdistrict the rows belong to (--subdistrict CODE)",
        )
    return check_subdistrict(code)


#: Tables whose unique keys become per subdistrict: (old unique clause, new one).
_REKEYED: dict[str, tuple[str, str]] = {
    "patrol_meta": ("key TEXT NOT NULL UNIQUE", "key TEXT NOT NULL"),
    "staff_assignments": (
        "UNIQUE (segment_id, valid_from)",
        "UNIQUE (subdistrict, segment_id, valid_from)",
    ),
}


def _rebuild_keyed(con: sqlite3.Connection, table: str, old: str, new: str) -> None:
    """Rebuild ``table`` with the key column and ``new`` in place of its ``old`` clause (the
    SQLite way to change a constraint), keeping every row, its rowid and the indexes."""
    (create,) = con.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    indexes = [
        r[0]
        for r in con.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            (table,),
        )
    ]
    body = " ".join(create.split())
    if old not in body:
        raise StoreError(f"cannot key table {table}: its definition is not the expected one")
    body = body.replace(old, new)
    column = f", subdistrict TEXT NOT NULL DEFAULT '{DEFAULT_SUBDISTRICT}'"
    # the column goes before the table constraints (SQLite wants them last)
    starts = [body.find(c) for c in (", CHECK", ", UNIQUE", ", PRIMARY KEY (", ", FOREIGN")]
    at = min([i for i in starts if i >= 0], default=body.rindex(")"))
    body = body[:at] + column + body[at:]
    if table == "patrol_meta":
        body = body[: body.rindex(")")] + ", UNIQUE (subdistrict, key))"
    cols = ", ".join(f'"{c}"' for c in _columns(con, table))
    con.execute(f'ALTER TABLE "{table}" RENAME TO "{table}_before_v8"')
    con.execute(body)
    con.execute(
        f'INSERT INTO "{table}" (rowid, {cols}) SELECT rowid, {cols} FROM "{table}_before_v8"'
    )
    con.execute(f'DROP TABLE "{table}_before_v8"')
    for stmt in indexes:
        con.execute(stmt)


def _columns(con: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]


def key_gpkg_tables(con: sqlite3.Connection) -> None:
    """Add the ``subdistrict`` column to every keyed table of a GeoPackage (inside its open
    write transaction); existing rows get the default subdistrict. ``patrol_meta`` is
    rebuilt so that its keys are unique per subdistrict."""
    present = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for table in GPKG_KEYED_TABLES:
        if table not in present or "subdistrict" in _columns(con, table):
            continue
        if table in _REKEYED:
            _rebuild_keyed(con, table, *_REKEYED[table])
            continue
        con.execute(
            f'ALTER TABLE "{table}" ADD COLUMN subdistrict TEXT NOT NULL '
            f"DEFAULT '{DEFAULT_SUBDISTRICT}'"
        )
    if "cases" in present:
        con.execute(
            "CREATE INDEX IF NOT EXISTS cases_subdistrict_time ON cases (subdistrict, reported_at)"
        )
    if "patrol_users" in present:
        _key_gpkg_access_tables(con, present)


def _key_gpkg_access_tables(con: sqlite3.Connection, present: set[str]) -> None:
    """Version 9: a user's subdistrict (``*``: the district level; existing users get the
    default), and the sessions, trusted clients and failed logins keyed by their user (a
    trigger of the file, as in PostGIS's ``sql/009_access_subdistricts.sql``)."""
    if "subdistrict" not in _columns(con, "patrol_users"):
        con.execute(
            "ALTER TABLE patrol_users ADD COLUMN subdistrict TEXT NOT NULL "
            f"DEFAULT '{DEFAULT_SUBDISTRICT}'"
        )
    for table in GPKG_ACCESS_KEYED:
        if table not in present or "subdistrict" in _columns(con, table):
            continue
        con.execute(
            f"ALTER TABLE {table} ADD COLUMN subdistrict TEXT NOT NULL "
            f"DEFAULT '{DEFAULT_SUBDISTRICT}'"
        )
        con.execute(
            f"UPDATE {table} SET subdistrict = (SELECT u.subdistrict FROM patrol_users u "
            f"WHERE u.username = {table}.username) WHERE username IN "
            "(SELECT username FROM patrol_users)"
        )
        con.execute(
            f"CREATE TRIGGER IF NOT EXISTS {table}_subdistrict AFTER INSERT ON {table} "
            f"BEGIN UPDATE {table} SET subdistrict = coalesce((SELECT u.subdistrict "
            "FROM patrol_users u WHERE u.username = NEW.username), subdistrict) "
            "WHERE rowid = NEW.rowid; END"
        )


def stamp_gpkg_rows(con: sqlite3.Connection, code: str) -> None:
    """Make every row this connection inserts carry ``code`` (TEMP triggers: they live and
    die with the connection and change nothing in the file). Rows of the default
    subdistrict need none: the column default is its key."""
    code = check_subdistrict(code)
    if code == DEFAULT_SUBDISTRICT:
        return
    present = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for table in GPKG_KEYED_TABLES:
        if table not in present or "subdistrict" not in _columns(con, table):
            continue
        if code == DISTRICT:  # the district level reads all and writes none
            con.execute(
                f'CREATE TEMP TRIGGER IF NOT EXISTS "subdistrict_{table}" BEFORE INSERT ON '
                f'main."{table}" BEGIN SELECT RAISE(ABORT, \'the district level (*) writes '
                "no rows: open the store for a subdistrict'); END"
            )
            continue
        # code matches [a-z][a-z0-9_]*: safe inside the trigger text (no parameters there)
        con.execute(
            f'CREATE TEMP TRIGGER IF NOT EXISTS "subdistrict_{table}" AFTER INSERT ON '
            f"main.\"{table}\" WHEN NEW.subdistrict = '{DEFAULT_SUBDISTRICT}' BEGIN "
            f"UPDATE \"{table}\" SET subdistrict = '{code}' WHERE rowid = NEW.rowid; END"
        )


_INSERT = re.compile(
    r"(?P<head>INSERT\s+(?:OR\s+\w+\s+)?INTO\s+(?P<table>\w+)\s*\()(?P<cols>[^)]*)"
    r"(?P<mid>\)\s*VALUES\s*\()(?P<vals>.*)\)",
    re.S | re.I,
)


def scope_sqlite(
    sql: str, params: Sequence[Any], scope: str | None, tables: Sequence[str]
) -> tuple[str, tuple[Any, ...]]:
    """``sql`` (``?`` placeholders) limited to the subdistrict ``scope`` on a GeoPackage.

    A SELECT reads each of ``tables`` it names (after FROM or JOIN) through a CTE of the
    same name holding that subdistrict's rows only; an UPDATE or DELETE, which must end in
    its WHERE clause, gets ``AND subdistrict = ?``; a one-row ``INSERT … (cols) VALUES
    (…)`` names the key. Other statements, or no scope, pass unchanged. The table names are this package's constants, never user text.
    """
    if not scope:
        return sql, tuple(params)
    head = sql.lstrip().split(None, 1)[0].upper()
    if head == "SELECT":
        used = [t for t in tables if re.search(rf"\b(?:FROM|JOIN)\s+{t}\b", sql)]
        if not used:
            return sql, tuple(params)
        ctes = ", ".join(f"{t} AS (SELECT * FROM main.{t} WHERE subdistrict = ?)" for t in used)
        return f"WITH {ctes} {sql}", (*([scope] * len(used)), *params)
    if head == "INSERT":  # the key explicit: unique keys that include it hold at once
        m = _INSERT.fullmatch(sql.strip())
        if m and m["table"] in tables:
            return f"{m['head']}{m['cols']}, subdistrict{m['mid']}{m['vals']}, ?)", (
                *params,
                scope,
            )
        return sql, tuple(params)
    if head in ("UPDATE", "DELETE"):
        if not re.search(r"\bWHERE\b", sql):
            sql += " WHERE 1"
        return sql + " AND subdistrict = ?", (*params, scope)
    return sql, tuple(params)
