"""The GeoPackage RTree spatial index (the ``gpkg_rtree_index`` extension of the standard).

An SQLite R*Tree virtual table ``rtree_<table>_<column>`` holds each feature's envelope,
kept right by the standard's triggers and registered in ``gpkg_extensions``, so GDAL and
QGIS use it for bounding-box filters. The triggers call ``ST_IsEmpty`` and ``ST_MinX`` …
``ST_MaxY``; GDAL provides them to its own connections, and :func:`register_functions`
provides them to ours: every connection that writes a feature table must call it.
"""

from __future__ import annotations

import functools
import math
import re
import sqlite3
import struct

import shapely

#: The extension's definition URL, as GDAL writes it.
RTREE_DEFINITION = "http://www.geopackage.org/spec120/#extension_rtree"
_ENVELOPE_DOUBLES = {0: 0, 1: 4, 2: 6, 3: 6, 4: 8}
#: The standard's triggers, by suffix.
TRIGGERS = ("insert", "update1", "update2", "update3", "update4", "delete")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@functools.lru_cache(maxsize=8)
def gpkg_envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a GeoPackage binary geometry; None when empty or NULL."""
    if blob is None or len(blob) < 8 or blob[:2] != b"GP":
        return None
    flags = blob[3]
    if flags & 0b10000:  # the empty-geometry flag
        return None
    order = "<" if flags & 1 else ">"
    kind = (flags >> 1) & 0b111
    n = _ENVELOPE_DOUBLES.get(kind)
    if n is None:
        return None
    if n:
        minx, maxx, miny, maxy = struct.unpack_from(f"{order}4d", blob, 8)
        return minx, maxx, miny, maxy
    wkb = blob[8:]
    if len(wkb) == 21:  # a 2-D point: read it without shapely
        border = "<" if wkb[0] == 1 else ">"
        (gtype,) = struct.unpack_from(f"{border}I", wkb, 1)
        if gtype == 1:
            x, y = struct.unpack_from(f"{border}2d", wkb, 5)
            if math.isnan(x) or math.isnan(y):
                return None
            return x, x, y, y
    geom = shapely.from_wkb(wkb)
    if geom is None or geom.is_empty:
        return None
    minx, miny, maxx, maxy = geom.bounds
    return minx, maxx, miny, maxy


def _part(i: int):
    def f(blob: bytes | None) -> float | None:
        env = gpkg_envelope(bytes(blob) if blob is not None else None)
        return None if env is None else env[i]

    return f


def _is_empty(blob: bytes | None) -> int | None:
    if blob is None:
        return None
    return 1 if gpkg_envelope(bytes(blob)) is None else 0


def register_functions(con: sqlite3.Connection) -> None:
    """Give ``con`` the SQL functions the RTree triggers call."""
    con.create_function("ST_IsEmpty", 1, _is_empty, deterministic=True)
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        con.create_function(name, 1, _part(i), deterministic=True)


def rtree_name(table: str, column: str) -> str:
    """The index table's name for ``table``.``column``."""
    return f"rtree_{table}_{column}"


def _trigger_sql(t: str, c: str, i: str) -> list[str]:
    r = rtree_name(t, c)
    ins = (
        f"INSERT OR REPLACE INTO {r} VALUES (NEW.{i}, ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), "
        f"ST_MinY(NEW.{c}), ST_MaxY(NEW.{c}));"
    )
    return [
        f"CREATE TRIGGER IF NOT EXISTS {r}_insert AFTER INSERT ON {t} "
        f"WHEN (NEW.{c} NOT NULL AND NOT ST_IsEmpty(NEW.{c})) BEGIN {ins} END",
        f"CREATE TRIGGER IF NOT EXISTS {r}_update1 AFTER UPDATE OF {c} ON {t} "
        f"WHEN OLD.{i} = NEW.{i} AND (NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c})) "
        f"BEGIN {ins} END",
        f"CREATE TRIGGER IF NOT EXISTS {r}_update2 AFTER UPDATE OF {c} ON {t} "
        f"WHEN OLD.{i} = NEW.{i} AND (NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c})) "
        f"BEGIN DELETE FROM {r} WHERE id = OLD.{i}; END",
        f"CREATE TRIGGER IF NOT EXISTS {r}_update3 AFTER UPDATE ON {t} "
        f"WHEN OLD.{i} != NEW.{i} AND (NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c})) "
        f"BEGIN DELETE FROM {r} WHERE id = OLD.{i}; {ins} END",
        f"CREATE TRIGGER IF NOT EXISTS {r}_update4 AFTER UPDATE ON {t} "
        f"WHEN OLD.{i} != NEW.{i} AND (NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c})) "
        f"BEGIN DELETE FROM {r} WHERE id IN (OLD.{i}, NEW.{i}); END",
        f"CREATE TRIGGER IF NOT EXISTS {r}_delete AFTER DELETE ON {t} "
        f"WHEN OLD.{c} NOT NULL BEGIN DELETE FROM {r} WHERE id = OLD.{i}; END",
    ]


def ensure_rtree(con: sqlite3.Connection, table: str, column: str, fid: str = "fid") -> bool:
    """Create, fill and register the RTree index of ``table``.``column`` if it is missing.

    Runs inside the caller's write transaction; ``con`` needs :func:`register_functions`.
    Returns True when the index was created now.
    """
    for name in (table, column, fid):
        if not _NAME.match(name):  # the names are ours, never user text; still checked
            raise ValueError(f"not a plain SQL name: {name!r}")
    r = rtree_name(table, column)
    exists = con.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (r,)
    ).fetchone()[0]
    con.execute(
        "CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, "
        "extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL, "
        "CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))"
    )
    names = [f"{r}_{t}" for t in TRIGGERS]
    triggers = con.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? "
        f"AND name IN ({','.join('?' * len(names))})",
        (table, *names),
    ).fetchone()[0]
    if not exists:
        con.execute(f"CREATE VIRTUAL TABLE {r} USING rtree(id, minx, maxx, miny, maxy)")
    elif triggers < len(TRIGGERS):  # the table was rebuilt without them: the index may be stale
        con.execute(f"DELETE FROM {r}")
    if not exists or triggers < len(TRIGGERS):
        con.execute(
            f"INSERT OR REPLACE INTO {r} SELECT {fid}, ST_MinX({column}), ST_MaxX({column}), "
            f"ST_MinY({column}), ST_MaxY({column}) FROM {table} "
            f"WHERE {column} NOT NULL AND NOT ST_IsEmpty({column})"
        )
    for stmt in _trigger_sql(table, column, fid):
        con.execute(stmt)
    con.execute(
        "INSERT OR IGNORE INTO gpkg_extensions VALUES (?, ?, 'gpkg_rtree_index', ?, 'write-only')",
        (table, column, RTREE_DEFINITION),
    )
    return not exists


def bbox_fids(
    con: sqlite3.Connection,
    table: str,
    column: str,
    bounds: tuple[float, float, float, float],
) -> list[int]:
    """Feature ids whose envelope meets ``(minx, miny, maxx, maxy)``, from the index."""
    r = rtree_name(table, column)
    if not _NAME.match(r):
        raise ValueError(f"not a plain SQL name: {r!r}")
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    rows = con.execute(
        f"SELECT id FROM {r} WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?",
        (minx, maxx, miny, maxy),
    )
    return [int(x[0]) for x in rows]
