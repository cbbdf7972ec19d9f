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
_AUDIT_COLUMNS = "case_id, seq, action, from_state, to_state, who, at, note, params"


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
    if not known_ids and not known_hashes and _all_distinct(cols):
        return keep
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


def _all_distinct(cols: Mapping[str, Any]) -> bool:
    """No id and no content hash repeats within the chunk (set sizes, at C speed)."""
    ids = cols["case_id"]
    hashes = [h for h in cols["content_hash"] if h]
    return len(set(ids)) == len(ids) and len(set(hashes)) == len(hashes)


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


def _column(cols: Mapping[str, Any], name: str, n: int) -> str | list[str]:
    """COPY text of one column; a single string when every row holds the same value."""
    if name == "geom":
        return ewkb_points_hex(cols["lon"], cols["lat"])
    v = cols[name]
    if name in _TIME or name in _FLOAT:
        arr = np.asarray(v, dtype="datetime64[us]" if name in _TIME else float)
        if name in _TIME:
            same = not np.isnat(arr[0]) and bool((arr == arr[0]).all())
        else:
            same = bool((arr == arr[0]).all()) or bool(np.isnan(arr).all())
        text = _escape(iso_utc(arr[:1] if same else arr) if name in _TIME else
                       floats_text(arr[:1] if same else arr))  # fmt: skip
        return text[0] if same else text
    if isinstance(v, np.ndarray):
        v = v.tolist()
    same = v.count(v[0]) == n  # identical values are compared by identity first: fast
    if same:
        v = v[:1]
    if name == "footprint":
        text = _escape(_ewkb_hex(v))
    elif name == "depts":
        text = ["{" + d.replace(";", ",") + "}" if d else "{}" for d in v]
    else:
        text = _escape(v)
    return text[0] if same else text


def _lines(columns: Sequence[str | list[str]], n: int) -> str:
    """Tab-separated lines from columns of text, built by one ``join``: the values of the
    columns are interleaved with the separators (and with the columns that hold one value
    for every row) by slice assignment, so no Python code runs per row."""
    pattern: list[str | list[str]] = []
    lit = ""
    for j, col in enumerate(columns):
        lit += "\t" if j else ""
        if isinstance(col, str):
            lit += col
        else:
            pattern += [lit, col]
            lit = ""
    pattern.append(lit + "\n")
    m = len(pattern)
    flat: list[str] = [""] * (m * n)
    for j, part in enumerate(pattern):
        flat[j::m] = [part] * n if isinstance(part, str) else part
    return "".join(flat)


def copy_text(cols: Mapping[str, Any], db_columns: Sequence[str]) -> str:
    """COPY text (tab-separated lines) of the rows in ``db_columns`` order (``geom`` built
    from ``lon``/``lat`` as EWKB hex)."""
    n = len(cols["case_id"])
    if not n:
        return ""
    return _lines([_column(cols, name, n) for name in db_columns], n)


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
    parts = [
        _column(cols, "case_id", n),
        "0\treport\t\\N\treported",
        _column(cols, "owner", n),
        _column(cols, "updated_at", n),
        "",
        _escape(_params(cols["source"], cols["reporter"])),
    ]
    return _lines(parts, n)


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


def _prepared(chunks: Iterable[Any], db_columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    """Each chunk with its new rows (repeats within the chunk dropped) and their COPY text
    for ``cases`` and ``case_audit``: built here, in the producer thread of
    :func:`gis.cases.batch.prefetched` (which also reads, validates and snaps the chunk),
    while the database takes in the chunk before."""
    for chunk in chunks:
        c = chunk.columns
        if not len(chunk):
            continue
        check_nul(c)
        keep = new_rows(c, set(), set())
        new = c if keep.all() else select(c, keep)
        yield (
            len(chunk),
            new,
            copy_text(new, db_columns).encode("utf-8"),
            audit_copy_text(new).encode("utf-8"),
        )


def add_to_postgis(store: Any, chunks: Iterable[Any]) -> tuple[int, int]:
    """COPY chunks of new cases, given as columns, straight into ``cases`` in ONE
    transaction; their creation entries follow into ``case_audit``. Any error rolls back all.

    The COPY text of the next chunk is built in a thread while the database takes in this
    one. A chunk is copied straight into ``cases`` under a savepoint; when a unique key
    refuses it (an id or content already stored, also by an earlier chunk or a racing
    writer) the savepoint is rolled back and the chunk goes through a staging table,
    ``INSERT … ON CONFLICT DO NOTHING``: the rows already stored are skipped, and only the
    inserted ones get their audit entry.
    """
    from gis.cases.batch import prefetched
    from gis.store.postgis import _DB_COLUMNS, _psycopg2

    psycopg2, sql = _psycopg2()
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in _DB_COLUMNS)
    # a login owning the tables drops patrol_app for the two COPYs of a chunk at once (as
    # PostGISStore._copy_into does for each): fewer round trips, same rows
    owner = store._copy_mode == "owner"
    added = skipped = 0
    with store._tx() as cur:
        names = cols.as_string(cur)
        utf8 = cur.connection.encoding in ("UTF8", "UNICODE")

        def copy(table: str, columns: str, data: bytes) -> None:
            reader, size = _reader(data, utf8)
            if owner:
                cur.copy_expert(f"COPY {table} ({columns}) FROM STDIN", reader, size=size)
            else:
                store._copy_into(cur, table, columns, reader, size=size)

        for n_in, new, text, audit in prefetched(_prepared(chunks, _DB_COLUMNS)):
            n = len(new["case_id"])
            if n:
                cur.execute("SAVEPOINT case_columns" + ("; SET LOCAL ROLE NONE" if owner else ""))
                try:
                    copy("cases", names, text)
                    cur.execute("RELEASE SAVEPOINT case_columns")
                except psycopg2.errors.UniqueViolation:
                    cur.execute("ROLLBACK TO SAVEPOINT case_columns")  # (and to patrol_app)
                    ids = stage_and_insert(cur, sql, cols, *_reader(text, utf8))
                    new = select(new, np.array([i in ids for i in new["case_id"]], dtype=bool))
                    audit = audit_copy_text(new).encode("utf-8")
                    n = len(new["case_id"])
                    if owner:
                        cur.execute("SET LOCAL ROLE NONE")
                copy("case_audit", _AUDIT_COLUMNS, audit)
                if owner:
                    cur.execute("SET LOCAL ROLE patrol_app")
            added += n
            skipped += n_in - n
    return added, skipped


def _reader(data: bytes, utf8: bool) -> tuple[Any, int]:
    """A file over COPY text and the size to read it in: all at once, so that the thread
    talking to the database needs the interpreter lock once per COPY, not per block (the
    text is built as UTF-8; a connection in another encoding gets str, which psycopg2
    encodes)."""
    size = max(1, min(len(data), 1 << 30))
    return (io.BytesIO(data) if utf8 else io.StringIO(data.decode("utf-8"))), size


def stage_and_insert(cur: Any, sql: Any, cols: Any, reader: Any, size: int = 8192) -> set[str]:
    """COPY a chunk into a staging table and insert what no unique key refuses; returns
    the ids inserted (the first of rows repeating a key within the chunk wins)."""
    cur.execute(
        "CREATE TEMP TABLE IF NOT EXISTS case_cols_stage "
        "(LIKE cases INCLUDING DEFAULTS) ON COMMIT DROP"
    )
    cur.execute("TRUNCATE case_cols_stage")
    stage = sql.SQL("COPY case_cols_stage ({}) FROM STDIN").format(cols)
    cur.copy_expert(stage.as_string(cur), reader, size=size)
    cur.execute(
        sql.SQL(
            "INSERT INTO cases ({cols}) SELECT {cols} FROM case_cols_stage "
            "ON CONFLICT DO NOTHING RETURNING case_id"
        ).format(cols=cols)
    )
    return {r[0] for r in cur.fetchall()}


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
