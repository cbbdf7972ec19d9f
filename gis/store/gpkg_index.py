"""The GeoPackage RTree spatial index (the ``gpkg_rtree_index`` extension of the standard).

An SQLite R*Tree virtual table ``rtree_<table>_<column>`` holds each feature's envelope,
kept right by the standard's triggers and registered in ``gpkg_extensions``, so GDAL and
QGIS use it for bounding-box filters. The triggers call ``ST_IsEmpty`` and ``ST_MinX`` …
``ST_MaxY``; GDAL provides them to its own connections, and :func:`register_functions`
provides them to ours: every connection that writes a feature table must call it.

A bulk load of points does not pay those Python calls per row: :func:`bulk_point_index`
drops the insert trigger inside the caller's transaction, adds the envelopes of whole
chunks with one ``executemany`` each, and puts the trigger back before the commit (a
rollback puts it back too: SQLite's schema changes are transactional).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import re
import sqlite3
import struct
from collections.abc import Iterator
from typing import Any

import numpy as np
import shapely

#: The extension's definition URL, as GDAL writes it.
RTREE_DEFINITION = "http://www.geopackage.org/spec120/#extension_rtree"
_ENVELOPE_DOUBLES = {0: 0, 1: 4, 2: 6, 3: 6, 4: 8}
#: The standard's triggers, by suffix.
TRIGGERS = ("insert", "update1", "update2", "update3", "update4", "delete")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


#: GeoPackage binary header (little endian, no envelope, EPSG:4326) and the WKB point head.
_GP_POINT_HEAD = struct.pack("<2sBBi", b"GP", 0, 0b00000001, 4326) + b"\x01\x01\x00\x00\x00"
_GP_POINT = np.dtype([("head", f"V{len(_GP_POINT_HEAD)}"), ("x", "<f8"), ("y", "<f8")])


def gpkg_point_blobs(lon: Any, lat: Any) -> list[bytes]:
    """GeoPackage binary POINTs (EPSG:4326, 2-D, no envelope) for coordinate arrays.

    Built as one packed numpy record per point, so the only per-row work is the final
    ``tolist`` in C (a NaN coordinate gives the WKB of an empty point, as shapely writes it).
    """
    x = np.asarray(lon, dtype="<f8").ravel()
    y = np.asarray(lat, dtype="<f8").ravel()
    if x.shape != y.shape:
        raise ValueError(f"{len(x)} longitudes but {len(y)} latitudes")
    rec = np.empty(len(x), dtype=_GP_POINT)
    rec["head"] = np.void(_GP_POINT_HEAD)
    rec["x"] = x
    rec["y"] = y
    return rec.view(f"V{_GP_POINT.itemsize}").tolist()


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
    _check_names(table, column, fid)
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


def _check_names(*names: str) -> None:
    for name in names:
        if not _NAME.match(name):  # the names are ours, never user text; still checked
            raise ValueError(f"not a plain SQL name: {name!r}")


def next_fid(con: sqlite3.Connection, table: str, fid: str = "fid") -> int:
    """The first feature id an insert into ``table`` would get (AUTOINCREMENT: never reused)."""
    _check_names(table, fid)
    top = con.execute(f"SELECT coalesce(max({fid}), 0) FROM {table}").fetchone()[0]
    seq = con.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
    return int(max(top, seq[0] if seq else 0)) + 1


def add_point_envelopes(
    con: sqlite3.Connection, table: str, column: str, fids: Any, x: Any, y: Any
) -> int:
    """Add the index rows of points ``(fids, x, y)`` with one ``executemany``; returns how many.

    What the insert trigger would have written: a point's envelope is the point (the R*Tree
    rounds it outwards to 32-bit floats itself); points with a NaN coordinate are empty
    and get no row. The rows go in sorted by position, so the tree's pages are touched in
    order rather than at random.
    """
    r = rtree_name(table, column)
    _check_names(r)
    fids = np.asarray(fids, dtype=np.int64)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    order = np.flatnonzero(keep)
    order = order[np.lexsort((y[order], x[order]))]
    xs, ys = x[order].tolist(), y[order].tolist()
    con.executemany(
        f"INSERT OR REPLACE INTO {r} VALUES (?, ?, ?, ?, ?)",
        zip(fids[order].tolist(), xs, xs, ys, ys, strict=True),
    )
    return len(order)


#: Chunks of at least this many rows go into the index in bulk (fewer: the triggers do it).
BULK_MIN_ROWS = 256
#: The page cache of a bulk load, in KiB (the store's own is 64 MiB). The B-tree and R*Tree
#: pages of seven indexes and the table outgrow 64 MiB near 1M cases; then every insert
#: re-reads spilled pages from the WAL. 256 MiB took a synthetic 1M-row load from 110 s to
#: 60 s; it is a bound, not a size: pages are taken as they are needed, given back after.
BULK_CACHE_KIB = 262_144


@contextlib.contextmanager
def bulk_cache(con: sqlite3.Connection, kib: int | None = None) -> Iterator[None]:
    """The connection's page cache at least ``kib`` (default :data:`BULK_CACHE_KIB`) while
    the block runs, the previous size afterwards."""
    kib = BULK_CACHE_KIB if kib is None else int(kib)
    before = int(con.execute("PRAGMA cache_size").fetchone()[0])
    before_kib = (
        -before if before < 0 else before * con.execute("PRAGMA page_size").fetchone()[0] // 1024
    )
    if before_kib >= kib:
        yield
        return
    con.execute(f"PRAGMA cache_size=-{kib:d}")
    try:
        yield
    finally:
        con.execute(f"PRAGMA cache_size={before:d}")


class BulkPointIndex:
    """The index side of a bulk load of points (made by :func:`bulk_point_index`)."""

    def __init__(
        self, con: sqlite3.Connection, table: str, column: str, fid: str, min_rows: int
    ) -> None:
        self._con = con
        self.table, self.column, self.fid = table, column, fid
        self.min_rows = min_rows
        self.rtree = rtree_name(table, column)
        self.exists = bool(
            con.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                (self.rtree,),
            ).fetchone()[0]
        )
        #: Whether the insert trigger is dropped (until the end of the load).
        self.suspended = False

    def takes(self, n: int) -> bool:
        """Whether a chunk of ``n`` rows is loaded in bulk; if so the insert trigger is
        dropped now (first time), and the caller must insert the rows with explicit ids
        from :meth:`next_fid` and then give them to :meth:`add`."""
        if n < self.min_rows:
            return False
        if self.exists and not self.suspended:
            self._con.execute(f"DROP TRIGGER IF EXISTS {self.rtree}_insert")
            self.suspended = True
        return True

    def next_fid(self) -> int:
        """The first id of the next bulk chunk."""
        return next_fid(self._con, self.table, self.fid)

    def add(self, fids: Any, x: Any, y: Any) -> int:
        """Index rows for points just inserted in bulk (nothing when there is no index)."""
        if not self.exists:
            return 0
        if not self.suspended:
            raise RuntimeError("add() without takes(): the trigger has indexed these rows")
        return add_point_envelopes(self._con, self.table, self.column, fids, x, y)

    def restore(self) -> None:
        """Put the insert trigger back (the others were never dropped)."""
        if self.suspended:
            for stmt in _trigger_sql(self.table, self.column, self.fid):  # IF NOT EXISTS
                self._con.execute(stmt)
            self.suspended = False


@contextlib.contextmanager
def bulk_point_index(
    con: sqlite3.Connection,
    table: str,
    column: str,
    fid: str = "fid",
    *,
    min_rows: int | None = None,
) -> Iterator[BulkPointIndex]:
    """Within the caller's open transaction: insert chunks of point features without the
    per-row insert trigger, adding each chunk's index rows with one ``executemany``.

    For each chunk, ``index.takes(n)`` says whether it goes in bulk (``n >= min_rows``,
    default :data:`BULK_MIN_ROWS`); if so the rows are inserted with ids from
    ``index.next_fid()`` and then given to ``index.add(fids, x, y)``. The trigger
    ``rtree_<table>_<column>_insert`` is dropped at the first bulk chunk and created again
    on exit, both inside the transaction: other connections never see the file without
    it, and a rollback (an error, a killed process) restores it with the rows. The update
    and delete triggers stay, so anything else this transaction does keeps the index right.
    """
    if not con.in_transaction:
        raise RuntimeError("bulk_point_index needs an open write transaction")
    _check_names(table, column, fid)
    index = BulkPointIndex(con, table, column, fid, BULK_MIN_ROWS if min_rows is None else min_rows)
    ok = False
    try:
        yield index
        ok = True
    finally:
        try:
            index.restore()
        except sqlite3.Error:
            if ok:
                raise
            # the caller's error stands; its rollback restores the trigger


def bbox_fids(
    con: sqlite3.Connection,
    table: str,
    column: str,
    bounds: tuple[float, float, float, float],
) -> list[int]:
    """Feature ids whose envelope meets ``(minx, miny, maxx, maxy)``, from the index."""
    r = rtree_name(table, column)
    _check_names(r)
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    rows = con.execute(
        f"SELECT id FROM {r} WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?",
        (minx, maxx, miny, maxy),
    )
    return [int(x[0]) for x in rows]


def point_fids_within(
    con: sqlite3.Connection,
    table: str,
    column: str,
    area: shapely.Geometry,
    fid: str = "fid",
) -> np.ndarray:
    """Sorted ids of the point features of ``table`` inside ``area`` (same CRS), exactly.

    Answered from the index alone where it can be: the index holds each point as its
    coordinates rounded outwards to 32-bit floats (a box at most two float steps wide, under
    a metre in degrees), so a box's corner farther from the area's boundary than a few
    steps lies on the same side as the point. Only the points in that thin band along
    the boundary are read from the table and tested on their stored coordinates
    (``ST_Contains`` semantics: a point on the boundary is not inside). Two vectorised
    ``contains_xy`` calls; no Python per row and no join of the index to the table.
    Raises ValueError when an indexed box is wider than a point's (not a point layer).
    """
    r = rtree_name(table, column)
    _check_names(r, table, column, fid)
    if area is None or area.is_empty:
        return np.empty(0, dtype=np.int64)
    minx, miny, maxx, maxy = (float(v) for v in area.bounds)
    rows = con.execute(
        f"SELECT id, minx, maxx, miny, maxy FROM {r} "
        "WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?",
        (minx, maxx, miny, maxy),
    ).fetchall()
    if not rows:
        return np.empty(0, dtype=np.int64)
    arr = np.fromiter(itertools.chain.from_iterable(rows), dtype=float, count=5 * len(rows))
    arr = arr.reshape(-1, 5)
    ids = arr[:, 0].astype(np.int64)
    x, y = arr[:, 1], arr[:, 3]
    # one 32-bit float step at the largest magnitude the boxes can have here
    top = max(abs(minx), abs(maxx), abs(miny), abs(maxy)) + 1.0
    step = float(np.spacing(np.float32(top)))
    # SQLite rounds a point out to a box up to 2 steps wide; wider is not a point
    wide = (arr[:, 2] - x > 4 * step) | (arr[:, 4] - y > 4 * step)
    if wide.any():
        raise ValueError(
            f"{table}.{column} holds a feature wider than a point (fid {int(ids[wide][0])}); "
            "point_fids_within answers point layers only"
        )
    # a corner lies within the box's diagonal (< 4 * sqrt(2) steps) of its point
    band = area.boundary.buffer(6 * step)
    shapely.prepare(band)
    unsure = shapely.contains_xy(band, x, y)
    found = [ids[shapely.contains_xy(area, x, y) & ~unsure]]
    check = ids[unsure].tolist()
    for i in range(0, len(check), 900):
        part = check[i : i + 900]
        got = con.execute(
            f"SELECT {fid}, {column} FROM {table} WHERE {fid} IN ({','.join('?' * len(part))})",
            part,
        ).fetchall()
        fids: list[int] = []
        xy: list[tuple[float, float]] = []
        for f, blob in got:
            env = gpkg_envelope(bytes(blob)) if blob is not None else None
            if env is not None:  # a point: its envelope's corner is the point
                fids.append(int(f))
                xy.append((env[0], env[2]))
        if fids:
            pts = np.asarray(xy, dtype=np.float64)
            hit = shapely.contains_xy(area, pts[:, 0], pts[:, 1])
            found.append(np.asarray(fids, dtype=np.int64)[hit])
    return np.sort(np.concatenate(found))
