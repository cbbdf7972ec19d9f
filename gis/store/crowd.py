"""Crowd tables in both stores: watched places, counts and alerts (one interface, two backends).

Long because: the interface and both backends sit side by side, so a change to a crowd table
is made and reviewed in both at once.

Counts are keyed by (counter, time): re-sending rows already stored with the same value is a
no-op, a different value for a stored (counter, time) refuses the whole batch naming it.
"""

from __future__ import annotations

import abc
import datetime as dt
import io
import json
from collections.abc import Iterator, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.crowd.alerts import ALERT_COLUMNS, Alert
from gis.crowd.counts import COUNT_COLUMNS, empty_counts
from gis.crowd.places import places_from_geojson, places_geojson
from gis.errors import ConflictError, NotFoundError, ValidationError
from gis.localtime import LOCAL_TZ as TZ

#: GeoPackage schema version that adds the crowd tables.
GPKG_CROWD_VERSION = 4
_TIME_COLS = ("raised_at", "expected_at", "acted_at")
#: Rows per chunk of a big count batch (bounds memory; the batch stays one transaction).
_CHUNK = 250_000


def _utc_text(values: pd.Series) -> np.ndarray:
    """tz-aware times → GeoPackage DATETIME text (UTC, milliseconds, ``Z``), vectorised."""
    ns = values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ms]")
    return np.char.add(np.datetime_as_string(ns, unit="ms"), "Z")


def _utc_one(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def _conflict(counter: str, at: Any, old: int, new: int) -> ValidationError:
    t = pd.Timestamp(at).tz_convert(TZ)
    return ValidationError(
        f"counter {counter} at {t:%Y-%m-%d %H:%M} is stored as {old} people; this batch says "
        f"{new}. Nothing of the batch was stored",
        row=f"{counter} {t:%Y-%m-%d %H:%M}",
        field="occupancy",
        fix="send corrections for a stored time through the counter platform's revision, "
        "or remove the row",
    )


class CrowdStore(abc.ABC):
    """The crowd part of the Store interface."""

    @abc.abstractmethod
    def save_places(self, gdf_places: gpd.GeoDataFrame) -> int:
        """Replace the watched places (one transaction); returns how many."""

    @abc.abstractmethod
    def load_places(self) -> gpd.GeoDataFrame:
        """The watched places (EPSG:32650); an empty frame when none are saved."""

    @abc.abstractmethod
    def add_counts(self, counts: pd.DataFrame) -> int:
        """Store a validated count batch all or nothing; returns rows new to the store."""

    @abc.abstractmethod
    def query_counts(
        self,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        counters: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Counts in ``[since, until)`` (all counters unless given), ordered by counter, time."""

    @abc.abstractmethod
    def count_counts(self) -> int:
        """Number of stored count rows."""

    @abc.abstractmethod
    def add_alerts(self, alerts: Sequence[Alert]) -> int:
        """Store new alerts (ids already stored are skipped); returns how many were new."""

    @abc.abstractmethod
    def get_alert(self, alert_id: str) -> Alert:
        """One alert; raises NotFoundError."""

    @abc.abstractmethod
    def update_alert(self, alert: Alert, *, expected_version: int) -> Alert:
        """Replace an alert's state if it is still at ``expected_version`` (ConflictError)."""

    @abc.abstractmethod
    def query_alerts(
        self,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        place_id: str | None = None,
        state: str | None = None,
    ) -> list[Alert]:
        """Alerts raised in ``[since, until)``, newest first."""


def _places_rows(gdf_places: gpd.GeoDataFrame) -> list[tuple[dict[str, Any], bytes]]:
    doc = places_geojson(gdf_places)
    out = []
    for f in doc["features"]:
        geom = shapely.geometry.shape(f["geometry"])
        if geom.geom_type == "Polygon":
            geom = shapely.MultiPolygon([geom])
        out.append((f["properties"], shapely.to_wkb(geom, byte_order=1, output_dimension=2)))
    return out


def _places_frame(rows: Sequence[tuple[dict[str, Any], bytes]]) -> gpd.GeoDataFrame:
    if not rows:
        return gpd.GeoDataFrame(
            {c: [] for c in ("place_id", "name", "capacity")}, geometry=[], crs="EPSG:32650"
        )
    feats = [
        {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}
        for props, geom in ((p, shapely.from_wkb(w)) for p, w in rows)
    ]
    return places_from_geojson({"features": feats}, source="store")


# -- GeoPackage -------------------------------------------------------------------------------
_GP_HEADER = b"GP\x00\x01" + (4326).to_bytes(4, "little")


def gpkg_crowd_schema() -> list[str]:
    """DDL of the crowd tables (GeoPackage)."""
    return [
        """CREATE TABLE IF NOT EXISTS crowd_places (
          fid INTEGER PRIMARY KEY AUTOINCREMENT, geom MULTIPOLYGON,
          place_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, name_en TEXT NOT NULL DEFAULT '',
          usable_area_m2 REAL NOT NULL CHECK (usable_area_m2 > 0),
          per_person_m2 REAL NOT NULL CHECK (per_person_m2 > 0),
          capacity INTEGER NOT NULL, counters TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS crowd_counts (
          fid INTEGER PRIMARY KEY AUTOINCREMENT, counter_id TEXT NOT NULL, at DATETIME NOT NULL,
          place_id TEXT NOT NULL, occupancy INTEGER NOT NULL CHECK (occupancy >= 0))""",
        "CREATE UNIQUE INDEX IF NOT EXISTS crowd_counts_key ON crowd_counts (counter_id, at)",
        """CREATE TABLE IF NOT EXISTS crowd_alerts (
          fid INTEGER PRIMARY KEY AUTOINCREMENT, alert_id TEXT NOT NULL UNIQUE,
          place_id TEXT NOT NULL, level TEXT NOT NULL, raised_at DATETIME NOT NULL,
          expected_at DATETIME NOT NULL, lead_min REAL NOT NULL, occupancy REAL NOT NULL,
          forecast_peak REAL NOT NULL, capacity INTEGER NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('open','acknowledged','escalated')),
          acted_by TEXT, acted_at DATETIME, case_id TEXT, detail TEXT, version INTEGER NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS crowd_alerts_time ON crowd_alerts (raised_at)",
    ]


def gpkg_crowd_contents() -> list[tuple[Any, ...]]:
    """gpkg_contents rows of the crowd tables."""
    return [
        ("crowd_places", "features", "crowd_places", "客流监测点位 crowd watch places", 4326)
        + (116.36, 39.92, 116.40, 39.95),
        ("crowd_counts", "attributes", "crowd_counts", "客流计数 crowd counts", None) + (None,) * 4,
        ("crowd_alerts", "attributes", "crowd_alerts", "客流预警 crowd alerts", None) + (None,) * 4,
    ]


#: The crowd tables (a GeoPackage store limits them to its subdistrict).
_CROWD_TABLES = ("crowd_places", "crowd_counts", "crowd_alerts")


class GeoPackageCrowd(CrowdStore):
    """Crowd tables of the GeoPackage store (uses its connection, lock and transactions)."""

    _con: Any
    _lock: Any

    def _write(self) -> Any:  # provided by GeoPackageStore
        raise NotImplementedError

    def _scope(self) -> str | None:  # provided by GeoPackageStore: its subdistrict key
        return None

    def _q(self, con: Any, sql: str, params: Any = ()) -> Any:
        """Execute limited to the store's subdistrict (:func:`~gis.store.tenancy.scope_sqlite`)."""
        from gis.store.tenancy import scope_sqlite

        return con.execute(*scope_sqlite(sql, params, self._scope(), _CROWD_TABLES))

    def save_places(self, gdf_places: gpd.GeoDataFrame) -> int:
        """Replace the watched places (one transaction)."""
        rows = _places_rows(gdf_places)
        with self._write() as con:
            self._q(con, "DELETE FROM crowd_places")
            con.executemany(
                "INSERT INTO crowd_places (geom, place_id, name, name_en, usable_area_m2, "
                "per_person_m2, capacity, counters) VALUES (?,?,?,?,?,?,?,?)",
                [
                    (
                        _GP_HEADER + wkb,
                        p["place_id"],
                        p["name"],
                        p["name_en"],
                        p["usable_area_m2"],
                        p["per_person_m2"],
                        p["capacity"],
                        json.dumps(p["counters"]),
                    )
                    for p, wkb in rows
                ],
            )
        return len(rows)

    def load_places(self) -> gpd.GeoDataFrame:
        """The watched places (EPSG:32650)."""
        with self._lock:
            rows = self._q(
                self._con,
                "SELECT geom, place_id, name, name_en, usable_area_m2, per_person_m2, counters "
                "FROM crowd_places ORDER BY fid",
            ).fetchall()
        out = []
        for r in rows:
            props = {k: r[k] for k in ("place_id", "name", "name_en", "usable_area_m2")}
            props["per_person_m2"] = r["per_person_m2"]
            props["counters"] = json.loads(r["counters"])
            out.append((props, bytes(r["geom"])[8:]))
        return _places_frame(out)

    def add_counts(self, counts: pd.DataFrame) -> int:
        """Store a count batch all or nothing (identical stored rows are skipped).

        One transaction, written in chunks of ``_CHUNK`` rows to bound memory.
        """
        if counts.empty:
            return 0
        added = 0
        with self._write() as con:
            for i in range(0, len(counts), _CHUNK):
                part = counts.iloc[i : i + _CHUNK]
                at = _utc_text(part["at"])
                cid = part["counter_id"].to_numpy(dtype=object)
                occ = part["occupancy"].to_numpy(dtype=np.int64)
                pid = part["place_id"].to_numpy(dtype=object)
                stored = self._check_gpkg_conflicts(con, cid, at, occ)
                verb = "INSERT OR IGNORE" if stored else "INSERT"
                cur = con.executemany(
                    f"{verb} INTO crowd_counts (counter_id, at, place_id, occupancy) "
                    "VALUES (?,?,?,?)",
                    zip(cid.tolist(), at.tolist(), pid.tolist(), occ.tolist(), strict=True),
                )
                added += int(cur.rowcount)
        return added

    def _check_gpkg_conflicts(
        self, con: Any, cid: np.ndarray, at: np.ndarray, occ: np.ndarray
    ) -> bool:
        """Refuse a batch that contradicts stored rows; True when some rows are stored."""
        frame = pd.DataFrame({"c": cid, "t": at, "o": occ})
        any_stored = False
        for c, part in frame.groupby("c", sort=False):
            old = {
                r[0]: r[1]
                for r in con.execute(
                    "SELECT at, occupancy FROM crowd_counts "
                    "WHERE counter_id = ? AND at >= ? AND at <= ?",
                    (c, str(part["t"].min()), str(part["t"].max())),
                )
            }
            if not old:
                continue
            any_stored = True
            for t, o in zip(part["t"].tolist(), part["o"].tolist(), strict=True):
                prev = old.get(t)
                if prev is not None and prev != o:
                    raise _conflict(str(c), t, prev, o)
        return any_stored

    def query_counts(
        self,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        counters: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Counts in ``[since, until)``."""
        where: list[str] = []
        params: list[Any] = []
        if since is not None:
            where.append("at >= ?")
            params.append(_utc_one(since))
        if until is not None:
            where.append("at < ?")
            params.append(_utc_one(until))
        if counters is not None:
            where.append(f"counter_id IN ({','.join('?' * len(counters))})")
            params.extend(counters)
        sql = "SELECT counter_id, place_id, at, occupancy FROM crowd_counts"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY counter_id, at"
        with self._lock:
            rows = self._q(self._con, sql, params).fetchall()
        if not rows:
            return empty_counts()
        df = pd.DataFrame([tuple(r) for r in rows], columns=list(COUNT_COLUMNS))
        df["at"] = pd.to_datetime(df["at"], utc=True, format="ISO8601").dt.tz_convert(TZ)
        df["occupancy"] = df["occupancy"].astype(np.int64)
        return df

    def count_counts(self) -> int:
        """Number of stored count rows."""
        with self._lock:
            return int(self._q(self._con, "SELECT count(*) FROM crowd_counts").fetchone()[0])

    def add_alerts(self, alerts: Sequence[Alert]) -> int:
        """Store new alerts; ids already stored are skipped."""
        cols = list(ALERT_COLUMNS)
        rows = []
        for a in alerts:
            rec = a.record()
            for c in _TIME_COLS:
                rec[c] = _utc_one(rec[c])
            rows.append([rec[c] for c in cols])
        with self._write() as con:
            before = con.total_changes
            con.executemany(
                f"INSERT OR IGNORE INTO crowd_alerts ({','.join(cols)}) "
                f"VALUES ({','.join('?' * len(cols))})",
                rows,
            )
            return int(con.total_changes - before)

    def get_alert(self, alert_id: str) -> Alert:
        """One alert."""
        with self._lock:
            row = self._q(
                self._con,
                f"SELECT {','.join(ALERT_COLUMNS)} FROM crowd_alerts WHERE alert_id = ?",
                (alert_id,),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no crowd alert {alert_id!r}")
        return Alert.from_record(dict(row))

    def update_alert(self, alert: Alert, *, expected_version: int) -> Alert:
        """Replace an alert's state if unchanged since read."""
        rec = alert.record()
        for c in _TIME_COLS:
            rec[c] = _utc_one(rec[c])
        sets = ["state", "acted_by", "acted_at", "case_id", "detail", "version"]
        with self._write() as con:
            cur = self._q(
                con,
                f"UPDATE crowd_alerts SET {', '.join(f'{c} = ?' for c in sets)} "
                "WHERE alert_id = ? AND version = ?",
                [*(rec[c] for c in sets), alert.alert_id, expected_version],
            )
            if cur.rowcount != 1:
                row = self._q(
                    con,
                    "SELECT acted_by, state FROM crowd_alerts WHERE alert_id = ?",
                    (alert.alert_id,),
                ).fetchone()
                if row is None:
                    raise NotFoundError(f"no crowd alert {alert.alert_id!r}")
                raise ConflictError(
                    f"alert {alert.alert_id} was changed by {row[0] or 'someone'} ({row[1]}); "
                    "reload it and try again"
                )
        return alert

    def query_alerts(
        self,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        place_id: str | None = None,
        state: str | None = None,
    ) -> list[Alert]:
        """Alerts raised in ``[since, until)``, newest first."""
        sql, params = alerts_query((_utc_one(since), _utc_one(until), place_id, state), mark="?")
        with self._lock:
            rows = self._q(self._con, sql, params).fetchall()
        return [Alert.from_record(dict(r)) for r in rows]


def alerts_query(values: tuple[Any, Any, Any, Any], *, mark: str) -> tuple[str, list[Any]]:
    """The alert query of both backends: ``values`` are (since, until, place_id, state) as the
    backend binds them, ``mark`` its parameter placeholder (``?`` or ``%s``)."""
    where: list[str] = []
    params: list[Any] = []
    conds = (("raised_at", ">="), ("raised_at", "<"), ("place_id", "="), ("state", "="))
    for (col, op), v in zip(conds, values, strict=True):
        if v is not None:
            where.append(f"{col} {op} {mark}")
            params.append(v)
    sql = f"SELECT {', '.join(ALERT_COLUMNS)} FROM crowd_alerts"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql + " ORDER BY raised_at DESC, alert_id", params


# -- PostGIS ----------------------------------------------------------------------------------
class _Chunks(io.RawIOBase):
    """A binary file-like reader over byte chunks (for COPY ... FORMAT binary).

    Reads hand out slices of the current chunk by offset: no copying of the remainder.
    """

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._it = chunks
        self._cur = memoryview(b"")
        self._pos = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            rest = bytes(self._cur[self._pos :]) + b"".join(self._it)
            self._cur, self._pos = memoryview(b""), 0
            return rest
        while self._pos >= len(self._cur):
            try:
                self._cur, self._pos = memoryview(next(self._it)), 0
            except StopIteration:
                return b""
        out = bytes(self._cur[self._pos : self._pos + size])
        self._pos += len(out)
        return out


_PG_EPOCH = np.datetime64("2000-01-01T00:00:00", "us")
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)


def _count_copy_binary(counts: pd.DataFrame, chunk: int = 500_000) -> Iterator[bytes]:
    """COPY binary rows (counter text, timestamptz, place text, int4), built with numpy.

    Rows are grouped by counter, so the two text fields have one length per group and every
    row of a group is one fixed-size record: the whole group is filled column-wise.
    """
    yield _COPY_HEADER
    us = (
        counts["at"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
        - _PG_EPOCH
    ).astype(np.int64)
    occ = counts["occupancy"].to_numpy(dtype=np.int64)
    cids = counts["counter_id"].to_numpy(dtype=object)
    pids = counts["place_id"].to_numpy(dtype=object)
    for (cid, pid), idx in pd.Series(range(len(counts))).groupby([cids, pids]).indices.items():
        c, p = str(cid).encode("utf-8"), str(pid).encode("utf-8")
        dtype = np.dtype(
            [
                ("n", ">i2"), ("l1", ">i4"), ("cid", f"S{len(c)}"), ("l2", ">i4"), ("t", ">i8"),
                ("l3", ">i4"), ("pid", f"S{len(p)}"), ("l4", ">i4"), ("occ", ">i4"),
            ]
        )  # fmt: skip
        for i in range(0, len(idx), chunk):
            part = idx[i : i + chunk]
            rec = np.empty(len(part), dtype=dtype)
            rec["n"], rec["l1"], rec["cid"], rec["l2"] = 4, len(c), c, 8
            rec["t"] = us[part]
            rec["l3"], rec["pid"], rec["l4"] = len(p), p, 4
            rec["occ"] = occ[part]
            yield rec.tobytes()
    yield _COPY_TRAILER


class PostGISCrowd(CrowdStore):
    """Crowd tables of the PostGIS store (migration ``004_crowd.sql``)."""

    def _tx(self) -> Any:  # provided by PostGISStore
        raise NotImplementedError

    def save_places(self, gdf_places: gpd.GeoDataFrame) -> int:
        """Replace the watched places (one transaction)."""
        rows = _places_rows(gdf_places)
        with self._tx() as cur:
            cur.execute("DELETE FROM crowd_places")
            for p, wkb in rows:
                cur.execute(
                    "INSERT INTO crowd_places (place_id, name, name_en, usable_area_m2, "
                    "per_person_m2, capacity, counters, geom) VALUES "
                    "(%s,%s,%s,%s,%s,%s,%s, ST_SetSRID(ST_GeomFromWKB(%s), 4326))",
                    (
                        p["place_id"],
                        p["name"],
                        p["name_en"],
                        p["usable_area_m2"],
                        p["per_person_m2"],
                        p["capacity"],
                        list(p["counters"]),
                        wkb,
                    ),
                )
        return len(rows)

    def load_places(self) -> gpd.GeoDataFrame:
        """The watched places (EPSG:32650)."""
        with self._tx() as cur:
            cur.execute(
                "SELECT place_id, name, name_en, usable_area_m2, per_person_m2, counters, "
                "ST_AsBinary(geom) FROM crowd_places ORDER BY place_id"
            )
            rows = cur.fetchall()
        out = []
        for pid, name, name_en, area, pp, counters, wkb in rows:
            props = {
                "place_id": pid,
                "name": name,
                "name_en": name_en,
                "usable_area_m2": area,
                "per_person_m2": pp,
                "counters": list(counters),
            }
            out.append((props, bytes(wkb)))
        return _places_frame(out)

    def add_counts(self, counts: pd.DataFrame) -> int:
        """COPY a count batch in one transaction (staging only when rows are already stored)."""
        if counts.empty:
            return 0
        import psycopg2.errors

        cols = "counter_id, at, place_id, occupancy"
        with self._tx() as cur:
            cur.execute("SAVEPOINT direct_copy")
            try:
                self._copy_into(  # type: ignore[attr-defined]  # PostGISStore: RLS-aware COPY
                    cur,
                    "crowd_counts",
                    cols,
                    _Chunks(_count_copy_binary(counts)),
                    "WITH (FORMAT binary)",
                    size=1 << 20,
                )
                cur.execute("RELEASE SAVEPOINT direct_copy")
                return len(counts)
            except psycopg2.errors.UniqueViolation:
                cur.execute("ROLLBACK TO SAVEPOINT direct_copy")
            cur.execute(
                "CREATE TEMP TABLE crowd_stage (LIKE crowd_counts INCLUDING DEFAULTS) ON COMMIT DROP"
            )
            cur.copy_expert(
                f"COPY crowd_stage ({cols}) FROM STDIN WITH (FORMAT binary)",
                _Chunks(_count_copy_binary(counts)),
                size=1 << 20,
            )
            cur.execute(
                "SELECT s.counter_id, s.at, c.occupancy, s.occupancy FROM crowd_stage s "
                "JOIN crowd_counts c USING (counter_id, at) WHERE c.occupancy <> s.occupancy "
                "ORDER BY s.counter_id, s.at LIMIT 1"
            )
            bad = cur.fetchone()
            if bad is not None:
                raise _conflict(bad[0], bad[1], int(bad[2]), int(bad[3]))
            cur.execute(
                f"INSERT INTO crowd_counts ({cols}) SELECT {cols} FROM crowd_stage "
                "ON CONFLICT DO NOTHING"
            )
            return int(cur.rowcount)

    def query_counts(
        self,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        counters: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Counts in ``[since, until)``."""
        where: list[str] = []
        params: list[Any] = []
        if since is not None:
            where.append("at >= %s")
            params.append(since)
        if until is not None:
            where.append("at < %s")
            params.append(until)
        if counters is not None:
            where.append("counter_id = ANY(%s)")
            params.append(list(counters))
        sql = "SELECT counter_id, place_id, at, occupancy FROM crowd_counts"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY counter_id, at"
        with self._tx() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        if not rows:
            return empty_counts()
        df = pd.DataFrame(rows, columns=list(COUNT_COLUMNS))
        df["at"] = pd.to_datetime(df["at"], utc=True).dt.tz_convert(TZ)
        df["occupancy"] = df["occupancy"].astype(np.int64)
        return df

    def count_counts(self) -> int:
        """Number of stored count rows."""
        with self._tx() as cur:
            cur.execute("SELECT count(*) FROM crowd_counts")
            return int(cur.fetchone()[0])

    def add_alerts(self, alerts: Sequence[Alert]) -> int:
        """Store new alerts; ids already stored are skipped."""
        cols = list(ALERT_COLUMNS)
        n = 0
        with self._tx() as cur:
            for a in alerts:
                rec = a.record()
                cur.execute(
                    f"INSERT INTO crowd_alerts ({', '.join(cols)}) VALUES "
                    f"({', '.join(['%s'] * len(cols))}) ON CONFLICT (alert_id) DO NOTHING",
                    [rec[c] for c in cols],
                )
                n += cur.rowcount
        return n

    def get_alert(self, alert_id: str) -> Alert:
        """One alert."""
        with self._tx() as cur:
            cur.execute(
                f"SELECT {', '.join(ALERT_COLUMNS)} FROM crowd_alerts WHERE alert_id = %s",
                (alert_id,),
            )
            row = cur.fetchone()
        if row is None:
            raise NotFoundError(f"no crowd alert {alert_id!r}")
        return Alert.from_record(dict(zip(ALERT_COLUMNS, row, strict=True)))

    def update_alert(self, alert: Alert, *, expected_version: int) -> Alert:
        """Replace an alert's state if unchanged since read."""
        rec = alert.record()
        sets = ["state", "acted_by", "acted_at", "case_id", "detail", "version"]
        with self._tx() as cur:
            cur.execute(
                f"UPDATE crowd_alerts SET {', '.join(f'{c} = %s' for c in sets)} "
                "WHERE alert_id = %s AND version = %s",
                [*(rec[c] for c in sets), alert.alert_id, expected_version],
            )
            if cur.rowcount != 1:
                cur.execute(
                    "SELECT acted_by, state FROM crowd_alerts WHERE alert_id = %s",
                    (alert.alert_id,),
                )
                row = cur.fetchone()
                if row is None:
                    raise NotFoundError(f"no crowd alert {alert.alert_id!r}")
                raise ConflictError(
                    f"alert {alert.alert_id} was changed by {row[0] or 'someone'} ({row[1]}); "
                    "reload it and try again"
                )
        return alert

    def query_alerts(
        self,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        place_id: str | None = None,
        state: str | None = None,
    ) -> list[Alert]:
        """Alerts raised in ``[since, until)``, newest first."""
        sql, params = alerts_query((since, until, place_id, state), mark="%s")
        with self._tx() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        return [Alert.from_record(dict(zip(ALERT_COLUMNS, r, strict=True))) for r in rows]
