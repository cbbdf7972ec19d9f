"""New cases as columns into either store: which rows are new, and their rows or COPY text.

:class:`gis.cases.columns.CaseColumns` chunks come from the batch intake; each store writes
them in its own single transaction (PostGIS ``COPY``, GeoPackage ``executemany``). The
formatting here is done column by column (numpy and C-level string work), so the client
keeps up with the database.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import shapely

from gis.cases.columns import CaseColumns, floats_text, iso_utc
from gis.errors import ValidationError
from gis.store.base import CASE_COLUMNS
from gis.store.gpkg_index import bulk_cache, bulk_point_index, gpkg_point_blobs

#: User text columns that could hold a NUL byte (refused at intake; checked again here).
_TEXT = ("case_id", "owner", "reporter", "description", "updated_by", "zone_id", "segment_id")
_FLOAT = ("src_lon", "src_lat", "lon", "lat", "deadline_hours")
_TIME = ("reported_at", "updated_at")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def check_nul(cols: Mapping[str, Any]) -> None:
    """Refuse a chunk holding a NUL byte in any text: both stores then keep the same."""
    for name in _TEXT:
        values = [v for v in cols[name] if v]
        if "\x00" in "".join(values):
            raise ValidationError(
                f"{name} contains a NUL byte",
                field=name,
                fix="remove control characters from the text; nothing was stored",
            )


def new_rows(
    cols: Mapping[str, Any], known_ids: set[str], known_hashes: Mapping[str, str] | set[str]
) -> np.ndarray:
    """Mask of the rows to insert: id and content hash not stored and not earlier in the chunk."""
    keep = np.ones(len(cols["case_id"]), dtype=bool)
    seen_ids = set(known_ids)
    seen_hashes = set(known_hashes)
    for i, (cid, h) in enumerate(zip(cols["case_id"], cols["content_hash"], strict=True)):
        if cid in seen_ids or (h and h in seen_hashes):
            keep[i] = False
            continue
        seen_ids.add(cid)
        if h:
            seen_hashes.add(h)
    return keep


def _take(values: Any, idx: np.ndarray) -> Any:
    if isinstance(values, np.ndarray):
        return values[idx]
    return [values[i] for i in idx]


def select(cols: Mapping[str, Any], keep: np.ndarray) -> dict[str, Any]:
    """The kept rows of every column."""
    idx = np.flatnonzero(keep)
    return {k: _take(v, idx) for k, v in cols.items()}


def _escape(values: Sequence[Any]) -> list[str]:
    """COPY text of a column (``\\N`` for None), escaped only when a value needs it."""
    kinds = set(map(type, values))
    if kinds <= {str, type(None)}:
        text = list(values)
    else:
        text = [None if v is None else str(v) for v in values]
    joined = "".join(filter(None, text))
    if any(c in joined for c in "\\\t\n\r"):
        text = [None if t is None else t.translate(_COPY_ESCAPES) for t in text]
    if type(None) in kinds:
        return ["\\N" if t is None else t for t in text]
    return text


def _ewkb_hex(wkb: Sequence[bytes | None]) -> list[str | None]:
    out: list[str | None] = [None] * len(wkb)
    idx = [i for i, w in enumerate(wkb) if w is not None]
    if idx:
        geoms = shapely.set_srid(shapely.from_wkb([wkb[i] for i in idx]), 4326)
        for i, h in zip(idx, shapely.to_wkb(geoms, hex=True, include_srid=True), strict=True):
            out[i] = h
    return out


def copy_text(cols: Mapping[str, Any], db_columns: Sequence[str]) -> str:
    """COPY text (tab-separated lines) of the rows in ``db_columns`` order (``geom`` built
    from ``lon``/``lat`` as EWKB hex)."""
    n = len(cols["case_id"])
    if not n:
        return ""
    parts: list[list[str]] = []
    for name in db_columns:
        if name == "geom":
            parts.append(ewkb_points_hex(cols["lon"], cols["lat"]))
        elif name == "footprint":
            parts.append(_escape(_ewkb_hex(cols[name])))
        elif name in _TIME:
            parts.append(_escape(iso_utc(cols[name])))
        elif name in _FLOAT:
            parts.append(_escape(floats_text(np.asarray(cols[name], dtype=float))))
        elif name == "depts":
            parts.append(["{" + d.replace(";", ",") + "}" if d else "{}" for d in cols[name]])
        else:
            parts.append(_escape(cols[name]))
    return "\n".join(map("\t".join, zip(*parts, strict=True))) + "\n"


def ewkb_points_hex(lon: Any, lat: Any) -> list[str]:
    """EWKB hex of POINT(lon lat) with SRID 4326, written straight from the coordinates."""
    xy = np.column_stack([np.asarray(lon, "<f8"), np.asarray(lat, "<f8")])
    hexed = xy.tobytes().hex()
    head = "0101000020e6100000"  # little endian, point with SRID, 4326
    return [head + hexed[i : i + 32] for i in range(0, len(hexed), 32)]


def _params(source: Sequence[str], reporter: Sequence[str]) -> list[str]:
    """The creation entry's params as JSON text (json.dumps, fast for plain text)."""
    from gis.cases.columns import json_safe

    safe = json_safe(list(reporter))
    return [
        f'{{"source": "{s}", "reporter": "{r}"}}'
        if ok
        else json.dumps({"source": s, "reporter": r}, ensure_ascii=False)
        for s, r, ok in zip(source, reporter, safe, strict=True)
    ]


def audit_copy_text(cols: Mapping[str, Any]) -> str:
    """COPY text of the creation audit rows (``gis.cases.workflow.creation_entry``)."""
    n = len(cols["case_id"])
    if not n:
        return ""
    params = _params(cols["source"], cols["reporter"])
    parts = [
        _escape(cols["case_id"]),
        ["0"] * n,
        ["report"] * n,
        ["\\N"] * n,
        ["reported"] * n,
        _escape(cols["owner"]),
        _escape(iso_utc(cols["updated_at"])),
        [""] * n,
        _escape(params),
    ]
    return "\n".join(map("\t".join, zip(*parts, strict=True))) + "\n"


def gpkg_rows(cols: Mapping[str, Any], blobs: Sequence[bytes]) -> list[tuple[Any, ...]]:
    """Rows ``(geom, *CASE_COLUMNS)`` for the GeoPackage insert (times as GeoPackage text)."""
    out: list[Any] = [blobs]
    for name in CASE_COLUMNS:
        v = cols[name]
        if name in _TIME:
            out.append(iso_utc(v, unit="ms", suffix="Z"))
        elif name in ("deadline_at", "closed_at"):
            out.append([None] * len(blobs))
        elif name in _FLOAT:
            out.append([None if x != x else x for x in np.asarray(v, dtype=float).tolist()])
        else:
            out.append(v)
    return list(zip(*out, strict=True))


def gpkg_audit_rows(cols: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Creation audit rows for the GeoPackage ``case_audit`` insert."""
    at = iso_utc(cols["updated_at"], unit="ms", suffix="Z")
    params = _params(cols["source"], cols["reporter"])
    return [
        (cid, 0, "report", None, "reported", owner, t, "", p)
        for cid, owner, t, p in zip(cols["case_id"], cols["owner"], at, params, strict=True)
    ]


def records(batch: CaseColumns) -> Iterator[dict[str, Any]]:
    """Row records of a chunk as :func:`gis.store.base.case_from_record` reads them."""
    cols = dict(batch.columns)
    for name in _TIME:
        cols[name] = iso_utc(cols[name])
    for name in _FLOAT:
        cols[name] = [None if x != x else x for x in np.asarray(cols[name], dtype=float).tolist()]
    for i in range(len(batch)):
        yield {k: v[i] for k, v in cols.items()}


def add_to_postgis(store: Any, chunks: Iterable[Any]) -> tuple[int, int]:
    """COPY chunks of new cases, given as columns, straight into ``cases`` in ONE
    transaction (ids and content hashes already stored are skipped first; a racing
    writer sends a chunk through the staging table instead). Any error rolls back all.
    """
    from gis.store.postgis import _DB_COLUMNS, _psycopg2

    psycopg2, sql = _psycopg2()
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in _DB_COLUMNS)
    added = skipped = 0
    with store._tx() as cur:
        for chunk in chunks:
            c = chunk.columns
            if not len(chunk):
                continue
            check_nul(c)
            cur.execute(
                "SELECT case_id, content_hash FROM cases WHERE case_id = ANY(%s) "
                "OR content_hash = ANY(%s)",
                (list(c["case_id"]), [h for h in c["content_hash"] if h]),
            )
            rows = cur.fetchall()
            keep = new_rows(c, {r[0] for r in rows}, {r[1] for r in rows if r[1]})
            new = select(c, keep)
            text = copy_text(new, _DB_COLUMNS)
            cur.execute("SAVEPOINT case_columns")
            try:
                store._copy_into(cur, "cases", cols.as_string(cur), io.StringIO(text))
                cur.execute("RELEASE SAVEPOINT case_columns")
            except psycopg2.errors.UniqueViolation:  # a racing writer stored some
                cur.execute("ROLLBACK TO SAVEPOINT case_columns")
                cur.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS case_cols_stage "
                    "(LIKE cases INCLUDING DEFAULTS) ON COMMIT DROP"
                )
                cur.execute("TRUNCATE case_cols_stage")
                stage = sql.SQL("COPY case_cols_stage ({}) FROM STDIN").format(cols)
                cur.copy_expert(stage.as_string(cur), io.StringIO(text))
                cur.execute(
                    sql.SQL(
                        "INSERT INTO cases ({cols}) SELECT {cols} FROM case_cols_stage "
                        "ON CONFLICT DO NOTHING RETURNING case_id"
                    ).format(cols=cols)
                )
                ids = {r[0] for r in cur.fetchall()}
                new = select(new, np.array([i in ids for i in new["case_id"]], dtype=bool))
            store._copy_into(
                cur,
                "case_audit",
                "case_id, seq, action, from_state, to_state, who, at, note, params",
                io.StringIO(audit_copy_text(new)),
            )
            added += len(new["case_id"])
            skipped += len(chunk) - len(new["case_id"])
    return added, skipped


def add_to_geopackage(store: Any, chunks: Iterable[Any]) -> tuple[int, int]:
    """Insert chunks of new cases, given as columns, with ``executemany`` in one
    ``BEGIN IMMEDIATE`` transaction; ids and content hashes already stored are skipped.

    The RTree index gets each chunk's points in one ``executemany`` instead of its insert
    trigger calling Python five times per row (:func:`gis.store.gpkg_index.bulk_point_index`);
    the rows get explicit feature ids for that, the ones AUTOINCREMENT would have given.
    """
    added = skipped = 0
    cols = ["fid", "geom", *CASE_COLUMNS]
    insert = f"INSERT INTO cases ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})"
    with (
        store._lock,  # the connection is shared by the app's threads
        bulk_cache(store._con),
        store._write(),
        bulk_point_index(store._con, "cases", "geom", min_rows=1) as index,
    ):
        for chunk in chunks:
            c = chunk.columns
            if not len(chunk):
                continue
            check_nul(c)
            known_ids, known_hashes = store._existing(
                list(c["case_id"]), [h for h in c["content_hash"] if h]
            )
            new = select(c, new_rows(c, known_ids, known_hashes))
            n = len(new["case_id"])
            if n and index.takes(n):
                fid = index.next_fid()
                fids = range(fid, fid + n)
                blobs = gpkg_point_blobs(new["lon"], new["lat"])
                store._con.executemany(
                    insert,
                    ((f, *row) for f, row in zip(fids, gpkg_rows(new, blobs), strict=True)),
                )
                index.add(np.arange(fid, fid + n), new["lon"], new["lat"])
                store._con.executemany(
                    "INSERT INTO case_audit (case_id, seq, action, from_state, to_state, "
                    "who, at, note, params) VALUES (?,?,?,?,?,?,?,?,?)",
                    gpkg_audit_rows(new),
                )
            added += n
            skipped += len(chunk) - n
        if added:
            store._con.execute(
                "UPDATE gpkg_contents SET last_change=strftime('%Y-%m-%dT%H:%M:%fZ','now') "
                "WHERE table_name IN ('cases','case_audit')"
            )
    return added, skipped
