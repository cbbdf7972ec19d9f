"""Subdistrict keys: which subdistrict's rows a store connection sees and writes.

Every stored row carries a ``subdistrict`` code (``'shichahai'``). A store is opened for one
subdistrict, or for the district level (``'*'``, reads every subdistrict, writes none).
PostGIS enforces it with row-level security (``sql/008_subdistricts.sql``); the GeoPackage
keys its rows the same way and the store API filters by the key (no RLS in SQLite).
"""

from __future__ import annotations

import re
import sqlite3

from gis.errors import ValidationError

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
    "users",
    "sessions",
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
        if table == "patrol_meta":
            con.execute("ALTER TABLE patrol_meta RENAME TO patrol_meta_before_v8")
            con.execute(
                "CREATE TABLE patrol_meta (fid INTEGER PRIMARY KEY AUTOINCREMENT, "
                "key TEXT NOT NULL, value TEXT, "
                f"subdistrict TEXT NOT NULL DEFAULT '{DEFAULT_SUBDISTRICT}', "
                "UNIQUE (subdistrict, key))"
            )
            con.execute(
                "INSERT INTO patrol_meta (fid, key, value) "
                "SELECT fid, key, value FROM patrol_meta_before_v8 ORDER BY fid"
            )
            con.execute("DROP TABLE patrol_meta_before_v8")
            continue
        con.execute(
            f'ALTER TABLE "{table}" ADD COLUMN subdistrict TEXT NOT NULL '
            f"DEFAULT '{DEFAULT_SUBDISTRICT}'"
        )
    if "cases" in present:
        con.execute(
            "CREATE INDEX IF NOT EXISTS cases_subdistrict_time ON cases (subdistrict, reported_at)"
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
