"""The embedded store: one OGC GeoPackage file (sqlite3, WAL) that QGIS and pyogrio open.

Long because: it is the whole GeoPackage form of the Store interface (cases, audit,
named values, the subdistrict key, columnar intake), read beside postgis.py method for
method; the people, crowd and coordination tables already live in modules of their own.

Layers: ``cases`` (features, POINT, EPSG:4326), ``case_audit`` and ``patrol_meta``
(attribute tables). Geometry is GeoPackage binary (a ``GP`` header, then WKB). Times are
GeoPackage DATETIME text in UTC (``YYYY-MM-DDTHH:MM:SS.SSSZ``), so text order is time order.
Every write is one ``BEGIN IMMEDIATE`` transaction: a killed process leaves the file as it
was before the write began.

"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np

from gis.cases.categories import References
from gis.cases.workflow import SOURCES, STATES, TIERS, AuditEntry, Case
from gis.errors import NotFoundError, StoreError
from gis.store.base import (
    CASE_COLUMNS,
    TIME_COLUMNS,
    AddResult,
    CaseQuery,
    Store,
    as_list,
    case_from_record,
    case_to_record,
    check_case_text,
    check_text,
    creation_entries,
    default_refs,
    frame_from_columns,
    make_query,
)
from gis.store.coordination import Exec, ensure_gpkg_schema
from gis.store.crowd import (
    GPKG_CROWD_VERSION,
    GeoPackageCrowd,
    gpkg_crowd_contents,
    gpkg_crowd_schema,
)
from gis.store.gpkg_index import (  # noqa: F401 (gpkg_point_blobs: read here by tests and tools)
    BulkPointIndex,
    bulk_cache,
    bulk_point_index,
    gpkg_point_blobs,
    register_functions,
)
from gis.store.migrate import check_gpkg_version, finish_gpkg_schema
from gis.store.people import PeopleStore, create_gpkg_people_tables
from gis.store.tenancy import (
    DEFAULT_SUBDISTRICT,
    DISTRICT,
    check_subdistrict,
    stamp_gpkg_rows,
    writable_subdistrict,
)

if TYPE_CHECKING:
    from gis.geography.layers import Geography

log = logging.getLogger(__name__)

SCHEMA_VERSION = GPKG_CROWD_VERSION  # 4: crowd tables
_APPLICATION_ID = 0x47504B47  # "GPKG"
_USER_VERSION = 10300  # GeoPackage 1.3
_SRS_4326 = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)

_COLUMN_TYPES = {
    "case_id": "TEXT NOT NULL UNIQUE",
    "category": "TEXT NOT NULL",
    "state": "TEXT NOT NULL CHECK (state IN ({}))".format(", ".join(f"'{s}'" for s in STATES)),
    "tier": "TEXT NOT NULL CHECK (tier IN ({}))".format(", ".join(f"'{t}'" for t in TIERS)),
    "source": "TEXT NOT NULL CHECK (source IN ({}))".format(", ".join(f"'{s}'" for s in SOURCES)),
    "reported_at": "DATETIME NOT NULL",
    "content_hash": "TEXT UNIQUE",
    "src_lon": "REAL",
    "src_lat": "REAL",
    "lon": "REAL NOT NULL",
    "lat": "REAL NOT NULL",
    "deadline_hours": "REAL",
    "version": "INTEGER NOT NULL",
    "footprint": "BLOB",
    **{c: "DATETIME" for c in TIME_COLUMNS if c != "reported_at"},
}


def gpkg_time(value: dt.datetime | None) -> str | None:
    """GeoPackage DATETIME text (UTC, milliseconds)."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def _schema_sql() -> list[str]:
    cols = ",\n  ".join(f"{c} {_COLUMN_TYPES.get(c, 'TEXT')}" for c in CASE_COLUMNS)
    return [
        """CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
          srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
          organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
          definition TEXT NOT NULL, description TEXT)""",
        """CREATE TABLE IF NOT EXISTS gpkg_contents (
          table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
          identifier TEXT UNIQUE, description TEXT DEFAULT '',
          last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
          min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
          CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
        """CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
          table_name TEXT NOT NULL, column_name TEXT NOT NULL,
          geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
          z TINYINT NOT NULL, m TINYINT NOT NULL,
          CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
          CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
          CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
        f"""CREATE TABLE IF NOT EXISTS cases (
          fid INTEGER PRIMARY KEY AUTOINCREMENT,
          geom POINT,
          {cols})""",
        "CREATE INDEX IF NOT EXISTS cases_zone_time ON cases (zone_id, reported_at)",
        "CREATE INDEX IF NOT EXISTS cases_state ON cases (state)",
        "CREATE INDEX IF NOT EXISTS cases_category_time ON cases (category, reported_at)",
        "CREATE INDEX IF NOT EXISTS cases_lead_time ON cases (lead_dept, reported_at)",
        "CREATE INDEX IF NOT EXISTS cases_time ON cases (reported_at)",
        """CREATE TABLE IF NOT EXISTS case_audit (
          fid INTEGER PRIMARY KEY AUTOINCREMENT,
          case_id TEXT NOT NULL, seq INTEGER NOT NULL, action TEXT NOT NULL,
          from_state TEXT, to_state TEXT NOT NULL, who TEXT NOT NULL, at DATETIME NOT NULL,
          note TEXT, params TEXT, UNIQUE (case_id, seq))""",
        """CREATE TABLE IF NOT EXISTS patrol_meta (
          fid INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, value TEXT)""",
    ]


class GeoPackageStore(GeoPackageCrowd, Store):
    """Cases in a single GeoPackage file; safe for several processes (WAL, immediate locks)."""

    def __init__(
        self,
        path: str | Path,
        *,
        refs: References | None = None,
        subdistrict: str = DEFAULT_SUBDISTRICT,
    ) -> None:
        self.path = Path(path)
        self.refs = default_refs(refs)
        #: The subdistrict whose rows this store reads and writes ('*': reads all, writes none).
        self.subdistrict = check_subdistrict(subdistrict)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open GeoPackage {self.path}: {exc}") from exc
        self._con.row_factory = sqlite3.Row
        register_functions(self._con)  # the RTree index triggers call ST_MinX …
        # one connection shared by threads (an app process): serialise its use
        self._lock = threading.RLock()
        # The GeoPackage header must be in the main file (readers check it before the WAL).
        if self._con.execute("PRAGMA application_id").fetchone()[0] == 0:
            self._con.execute(f"PRAGMA application_id={_APPLICATION_ID}")
            self._con.execute(f"PRAGMA user_version={_USER_VERSION}")
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=NORMAL")
        self._con.execute("PRAGMA cache_size=-65536")  # 64 MiB: index updates of big imports
        self._con.execute("PRAGMA foreign_keys=ON")
        self._init_schema()
        stamp_gpkg_rows(self._con, self.subdistrict)  # new rows carry this store's key

    def scoped(self, subdistrict: str) -> GeoPackageStore:
        """The same file seen from another subdistrict (its own connection; close it)."""
        return GeoPackageStore(self.path, refs=self.refs, subdistrict=subdistrict)

    def _scope(self) -> str | None:
        """The key reads are limited to (None at the district level)."""
        return None if self.subdistrict == DISTRICT else self.subdistrict

    # -- schema ------------------------------------------------------------------
    def _init_schema(self) -> None:
        con = self._con
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        has_tables = con.execute(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='cases'"
        ).fetchone()[0]
        if has_tables and app_id != _APPLICATION_ID:
            raise StoreError(f"{self.path} is an SQLite file but not a GeoPackage")
        check_gpkg_version(con, str(self.path))
        with _Txn(con, self._lock):  # (also at the district level, which writes no rows)
            for stmt in _schema_sql() + gpkg_crowd_schema():
                con.execute(stmt)
            con.executemany(
                "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)",
                [
                    ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", ""),
                    ("Undefined geographic SRS", 0, "NONE", 0, "undefined", ""),
                    ("WGS 84 geodetic", 4326, "EPSG", 4326, _SRS_4326, "WGS 84 longitude/latitude"),
                ],
            )
            con.executemany(
                "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
                "description, srs_id, min_x, min_y, max_x, max_y) VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    ("cases", "features", "cases", "违法问题案件 violation cases", 4326)
                    + (116.36, 39.92, 116.40, 39.95),
                    ("case_audit", "attributes", "case_audit", "案件流转记录 audit trail", None)
                    + (None,) * 4,
                    ("patrol_meta", "attributes", "patrol_meta", "named values", None)
                    + (None,) * 4,
                    *gpkg_crowd_contents(),
                ],
            )
            con.execute(
                "INSERT OR IGNORE INTO gpkg_geometry_columns VALUES "
                "('cases','geom','POINT',4326,0,0), ('crowd_places','geom','MULTIPOLYGON',4326,0,0)"
            )
            con.execute(
                "INSERT OR IGNORE INTO patrol_meta (key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
            con.execute(  # an older file gains the tables above: record the version it has now
                "UPDATE patrol_meta SET value = ? WHERE key = 'schema_version' "
                "AND CAST(value AS INTEGER) < ?",
                (str(GPKG_CROWD_VERSION), GPKG_CROWD_VERSION),
            )
            create_gpkg_people_tables(con)
            ensure_gpkg_schema(con)
            finish_gpkg_schema(con)  # keep last: the spatial index and the version reached
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _write(self) -> _Txn:
        writable_subdistrict(self.subdistrict)  # the district level (*) writes no rows
        return _Txn(self._con, self._lock)

    @functools.cached_property
    def people(self) -> PeopleStore:
        """Staff, assignments, roster, sign-ins and tracks in this file."""
        return PeopleStore.for_sqlite(self._con, self._lock, self._write, scope=self._scope())

    @contextlib.contextmanager
    def _coord_tx(self) -> Iterator[Exec]:
        with self._write():
            yield Exec(self._con, "sqlite", self._scope())

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One ``BEGIN IMMEDIATE`` transaction that every write of this thread inside joins."""
        with self._write():
            yield

    @contextlib.contextmanager
    def _coord_read(self) -> Iterator[Exec]:
        with self._lock:
            yield Exec(self._con, "sqlite", self._scope())

    # -- writes ------------------------------------------------------------------
    def add_cases(self, cases: Sequence[Case], audit: Iterable[AuditEntry] = ()) -> AddResult:
        """Store new cases in one transaction; ids or content hashes already present are skipped."""
        cases = list(cases)
        audit = list(audit)
        check_case_text(cases, audit)
        with self._write():
            known_ids, known_hashes = self._existing(
                [c.case_id for c in cases], [c.content_hash for c in cases if c.content_hash]
            )
            new: list[Case] = []
            skipped: list[str] = []
            stored_as: dict[str, str] = {}
            for c in cases:
                if c.case_id in known_ids or (c.content_hash and c.content_hash in known_hashes):
                    skipped.append(c.case_id)
                    stored_as[c.case_id] = (
                        c.case_id if c.case_id in known_ids else known_hashes[c.content_hash]
                    )
                    continue
                known_ids.add(c.case_id)
                if c.content_hash:
                    known_hashes[c.content_hash] = c.case_id
                new.append(c)
            if new:
                self._insert_cases(new)
                new_ids = {c.case_id for c in new}
                entries = creation_entries(new) + [a for a in audit if a.case_id in new_ids]
                self._insert_audit(entries)
                self._con.execute(
                    "UPDATE gpkg_contents SET last_change=strftime('%Y-%m-%dT%H:%M:%fZ','now') "
                    "WHERE table_name IN ('cases','case_audit')"
                )
        return AddResult(tuple(c.case_id for c in new), tuple(skipped), stored_as)

    def add_cases_stream(self, chunks: Iterable[Sequence[Case]]) -> tuple[int, int]:
        """Store chunks of cases in one ``BEGIN IMMEDIATE`` transaction (one chunk in memory).

        Rows already stored, including by an earlier chunk of the same stream, are skipped
        by id or content hash. Other writers wait while the stream runs (up to their
        timeout); a failure anywhere rolls everything back.
        """
        added = skipped = 0
        with (
            self._lock,  # the connection is shared by the app's threads
            bulk_cache(self._con),
            self._write(),
            bulk_point_index(self._con, "cases", "geom") as index,
        ):
            for chunk in chunks:
                cases = list(chunk)
                check_case_text(cases)
                known_ids, known_hashes = self._existing(
                    [c.case_id for c in cases], [c.content_hash for c in cases if c.content_hash]
                )
                new: list[Case] = []
                for c in cases:
                    if c.case_id in known_ids or (
                        c.content_hash and c.content_hash in known_hashes
                    ):
                        skipped += 1
                        continue
                    known_ids.add(c.case_id)
                    if c.content_hash:
                        known_hashes[c.content_hash] = c.case_id
                    new.append(c)
                if new:
                    self._insert_cases(new, index=index if index.takes(len(new)) else None)
                    self._insert_audit(creation_entries(new))
                    added += len(new)
            if added:
                self._con.execute(
                    "UPDATE gpkg_contents SET last_change=strftime('%Y-%m-%dT%H:%M:%fZ','now') "
                    "WHERE table_name IN ('cases','case_audit')"
                )
        return added, skipped

    def add_case_columns(self, chunks: Iterable[Any]) -> tuple[int, int]:
        """Insert chunks of new cases, given as columns, in one ``BEGIN IMMEDIATE``
        transaction (:func:`gis.store.case_columns.add_to_geopackage`)."""
        from gis.store.case_columns import add_to_geopackage

        return add_to_geopackage(self, chunks)

    def _existing(self, ids: list[str], hashes: list[str]) -> tuple[set[str], dict[str, str]]:
        """The ids already stored, and the stored content hashes with their case ids."""
        found_ids: set[str] = set()
        found_hashes: dict[str, str] = {}
        chunk = 900
        for i in range(0, len(ids), chunk):
            part = ids[i : i + chunk]
            q = f"SELECT case_id FROM cases WHERE case_id IN ({','.join('?' * len(part))})"
            found_ids.update(r[0] for r in self._con.execute(q, part))
        for i in range(0, len(hashes), chunk):
            part = hashes[i : i + chunk]
            q = (
                "SELECT content_hash, case_id FROM cases "
                f"WHERE content_hash IN ({','.join('?' * len(part))})"
            )
            found_hashes.update((r[0], r[1]) for r in self._con.execute(q, part))
        return found_ids, found_hashes

    def _insert_cases(self, cases: Sequence[Case], *, index: BulkPointIndex | None = None) -> None:
        """Insert rows; with the ``index`` of a bulk load (:func:`bulk_point_index`, which
        took this chunk) they get explicit ids and their index rows in one go, otherwise
        AUTOINCREMENT ids and the index triggers."""
        recs = [case_to_record(c) for c in cases]
        lon = [r["lon"] for r in recs]
        lat = [r["lat"] for r in recs]
        blobs = gpkg_point_blobs(lon, lat)
        cols = ["geom", *CASE_COLUMNS]
        rows = []
        for blob, r in zip(blobs, recs, strict=True):
            for c in TIME_COLUMNS:
                r[c] = gpkg_time(r[c])
            rows.append([blob, *(r[c] for c in CASE_COLUMNS)])
        if index is not None:
            cols.insert(0, "fid")
            first = index.next_fid()
            fids = np.arange(first, first + len(rows))
            rows = [[f, *row] for f, row in zip(fids.tolist(), rows, strict=True)]
        sql = f"INSERT INTO cases ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})"
        self._con.executemany(sql, rows)
        if index is not None:
            index.add(fids, lon, lat)

    def _insert_audit(self, entries: Sequence[AuditEntry]) -> None:
        self._con.executemany(
            "INSERT INTO case_audit (case_id, seq, action, from_state, to_state, who, at, note, "
            "params) VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (
                    e.case_id,
                    e.seq,
                    e.action,
                    e.from_state,
                    e.to_state,
                    e.who,
                    gpkg_time(e.at),
                    e.note,
                    json.dumps(dict(e.params), ensure_ascii=False),
                )
                for e in entries
            ],
        )

    def _transition(
        self, case_id: str, expected_version: int, step: Any, after: Any = None
    ) -> Case:
        with self._write():
            case = self._get(case_id)
            seq = self._con.execute(
                "SELECT coalesce(max(seq), -1) + 1 FROM case_audit WHERE case_id = ?", (case_id,)
            ).fetchone()[0]
            new, entry = step(case, seq)
            rec = case_to_record(new)
            for c in TIME_COLUMNS:
                rec[c] = gpkg_time(rec[c])
            sets = [c for c in CASE_COLUMNS if c != "case_id"]
            cur = self._con.execute(
                f"UPDATE cases SET {', '.join(f'{c} = ?' for c in sets)} "
                "WHERE case_id = ? AND version = ?",
                [*(rec[c] for c in sets), case_id, case.version],
            )
            if cur.rowcount != 1:  # pragma: no cover - the immediate lock prevents this
                raise StoreError(f"case {case_id} changed during the transition")
            self._insert_audit([entry])
            if after is not None:
                after(Exec(self._con, "sqlite", self._scope()), new, entry)
        return new

    def set_meta(self, key: str, value: str) -> None:
        """Store a named value."""
        with self._write():
            self._con.execute(
                "INSERT INTO patrol_meta (key, value, subdistrict) VALUES (?, ?, ?) "
                "ON CONFLICT(subdistrict, key) DO UPDATE SET value = excluded.value",
                (key, value, writable_subdistrict(self.subdistrict)),
            )

    # -- reads -------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """A named value, or ``default``."""
        with self._lock:
            row = self._con.execute(
                "SELECT value FROM patrol_meta WHERE key = ? AND subdistrict = ? "
                "ORDER BY fid LIMIT 1",
                (key, self._scope() or DEFAULT_SUBDISTRICT),
            ).fetchone()
        return default if row is None else row[0]

    def _get(self, case_id: str) -> Case:
        scope = self._scope()
        row = self._con.execute(
            f"SELECT {','.join(CASE_COLUMNS)} FROM cases WHERE case_id = ?"
            + (" AND subdistrict = ?" if scope else ""),
            (case_id, scope) if scope else (case_id,),
        ).fetchone()
        if row is None:
            raise NotFoundError(f"case {case_id!r} not found in {self.path.name}")
        return case_from_record(dict(row))

    def get_case(self, case_id: str) -> Case:
        """One case; raises NotFoundError."""
        check_text(case_id, "case id")
        with self._lock:
            return self._get(case_id)

    def _where(self, q: CaseQuery) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        for col, values in (
            ("zone_id", as_list(q.zone_id)),
            ("state", q.states()),
            ("category", as_list(q.category)),
        ):
            if values is not None:
                clauses.append(f"{col} IN ({','.join('?' * len(values))})" if values else "0")
                params.extend(values)
        if q.dept:
            clauses.append("(lead_dept = ? OR (';' || depts || ';') LIKE ? OR joint LIKE ?)")
            params.extend([q.dept, f"%;{q.dept};%", f'%"{q.dept}":%'])
        if q.since is not None:
            clauses.append("reported_at >= ?")
            params.append(gpkg_time(q.since))
        if q.until is not None:
            clauses.append("reported_at < ?")
            params.append(gpkg_time(q.until))
        if self._scope():
            clauses.append("subdistrict = ?")
            params.append(self._scope())
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        return where, params

    def query_cases(self, query: CaseQuery | None = None, **filters: Any) -> list[Case]:
        """Cases matching the filters, oldest report first."""
        q = make_query(query, filters)
        where, params = self._where(q)
        sql = f"SELECT {','.join(CASE_COLUMNS)} FROM cases{where} ORDER BY reported_at, case_id"
        if q.limit:
            sql += " LIMIT ?"
            params.append(int(q.limit))
        with self._lock:
            rows = self._con.execute(sql, params).fetchall()
        return [case_from_record(dict(r)) for r in rows]

    def cases_frame(self, query: CaseQuery | None = None, **filters: Any) -> gpd.GeoDataFrame:
        """The case frame (EPSG:32650), read column-wise without building Case objects."""
        from gis.cases.workflow import CASE_FRAME_COLUMNS

        q = make_query(query, filters)
        where, params = self._where(q)
        cols = [*CASE_FRAME_COLUMNS, "lon", "lat"]
        sql = f"SELECT {','.join(cols)} FROM cases{where} ORDER BY reported_at, case_id"
        if q.limit:
            sql += " LIMIT ?"
            params.append(int(q.limit))
        with self._lock:
            rows = self._con.execute(sql, params).fetchall()
        data = {c: [r[i] for r in rows] for i, c in enumerate(cols)}
        return frame_from_columns(data)

    def audit_trail(self, case_id: str) -> list[AuditEntry]:
        """Every recorded step of a case, oldest first."""
        check_text(case_id, "case id")
        from gis.localtime import parse_stored_instant

        with self._lock:
            scope = self._scope()
            rows = self._con.execute(
                "SELECT case_id, seq, action, from_state, to_state, who, at, note, params "
                "FROM case_audit WHERE case_id = ?"
                + (" AND subdistrict = ?" if scope else "")
                + " ORDER BY seq",
                (case_id, scope) if scope else (case_id,),
            ).fetchall()
            if not rows:
                self._get(case_id)  # raises NotFoundError for unknown ids
        return [
            AuditEntry(
                case_id=r["case_id"],
                seq=r["seq"],
                action=r["action"],
                from_state=r["from_state"],
                to_state=r["to_state"],
                who=r["who"],
                at=parse_stored_instant(r["at"]),  # type: ignore[arg-type]
                note=r["note"] or "",
                params=json.loads(r["params"] or "{}"),
            )
            for r in rows
        ]

    def count_cases(self) -> int:
        """Number of stored cases."""
        scope = self._scope()
        with self._lock:
            if scope is None:
                return int(self._con.execute("SELECT count(*) FROM cases").fetchone()[0])
            return int(
                self._con.execute(
                    "SELECT count(*) FROM cases WHERE subdistrict = ?", (scope,)
                ).fetchone()[0]
            )

    # -- geography ---------------------------------------------------------------
    def save_geography(self, geo: Geography, *, by: str = "") -> dict[str, int]:
        """Replace this subdistrict's geography layers (feature tables
        ``geo_<subdistrict>_<layer>``, :mod:`gis.store.gpkg_geography`) in one transaction."""
        from gis.store import gpkg_geography

        with self._write():
            return gpkg_geography.save_geography(self._con, self.subdistrict, geo, by=by)

    def read_geography(self) -> Geography:
        """This subdistrict's stored geography; NotFoundError when the file has none."""
        from gis.store import gpkg_geography

        with self._lock:
            return gpkg_geography.read_geography(
                self._con, gpkg_geography.one_subdistrict(self.subdistrict), self.path.name
            )

    def geography_subdistricts(self) -> list[str]:
        """The subdistricts whose geography the file holds."""
        from gis.store import gpkg_geography

        with self._lock:
            return gpkg_geography.geography_subdistricts(self._con)

    def geography_version(self) -> str | None:
        """Changes whenever this subdistrict's layers are replaced; None without any."""
        from gis.store import gpkg_geography

        if self.subdistrict == DISTRICT:
            return None
        with self._lock:
            return gpkg_geography.geography_version(self._con, self.subdistrict)

    def close(self) -> None:
        """Close the file (checkpointing the WAL)."""
        try:
            self._con.close()
        except sqlite3.Error:  # pragma: no cover
            log.exception("closing %s", self.path)


class _Txn:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (or ``ROLLBACK`` on any exception).

    Inside a transaction this thread already holds (:meth:`GeoPackageStore.transaction`)
    it is a ``SAVEPOINT`` instead: it joins the outer transaction, and an error undoes its
    own part and reaches the outer one, which then rolls everything back.
    """

    def __init__(self, con: sqlite3.Connection, lock: threading.RLock) -> None:
        self._con = con
        self._lock = lock
        self._savepoint: str | None = None

    def __enter__(self) -> sqlite3.Connection:
        self._lock.acquire()
        # the lock is this thread's: an open transaction on the connection is its own
        if self._con.in_transaction:
            self._savepoint = f"patrol_sp_{id(self):x}"
            self._con.execute(f"SAVEPOINT {self._savepoint}")
            return self._con
        try:
            self._con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            self._lock.release()
            raise StoreError(f"the GeoPackage is locked by another writer: {exc}") from exc
        return self._con

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if self._savepoint is not None:
                if exc_type is not None:
                    self._con.execute(f"ROLLBACK TO {self._savepoint}")
                self._con.execute(f"RELEASE {self._savepoint}")
            elif exc_type is None:
                self._con.execute("COMMIT")
                return
            else:
                self._con.execute("ROLLBACK")
        finally:
            self._lock.release()
        if isinstance(exc, sqlite3.Error):
            raise StoreError(f"GeoPackage write failed, nothing stored: {exc}") from exc
