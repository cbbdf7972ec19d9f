"""Coordination tables (alerts, joint actions, consultations, inspections, photos, reporters).

The tables are the same on both stores (schema 5: ``sql/005_coordination.sql`` for PostGIS,
:func:`gpkg_schema_sql` for GeoPackage). :class:`CoordinationTables` is mixed into
:class:`~gis.store.base.Store`; a backend supplies one executor over a transaction
(:meth:`CoordinationTables._coord_tx`) and the row code here is written once. Table and
column names come only from :data:`TABLES` (never from users); values are always bound.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from gis.errors import NotFoundError, ValidationError

#: Schema version these tables belong to (GeoPackage ``patrol_meta.schema_version``).
COORDINATION_SCHEMA = 5

#: table -> (primary key, columns). Times end in ``_at``; blobs end in ``_data``/``_wkb``.
TABLES: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "coord_alerts": (
        "alert_id",
        (
            "alert_id", "case_id", "kind", "audience", "created_at", "due_at", "ack_by",
            "ack_at", "ack_lon", "ack_lat", "note", "params",
        ),
    ),
    "coord_joint_actions": (
        "action_id",
        (
            "action_id", "title", "planned_at", "area_wkb", "target_cases", "depts", "staff",
            "state", "outcomes", "created_by", "created_at", "closed_by", "closed_at",
        ),
    ),
    "coord_consultations": (
        "consult_id",
        (
            "consult_id", "held_at", "level", "topic", "attendees", "decisions", "cases",
            "contingency", "created_by", "created_at",
        ),
    ),
    "coord_inspections": (
        "inspection_id",
        (
            "inspection_id", "inspected_at", "inspector", "mode", "target_kind", "target",
            "result", "finding", "outcome", "case_id", "created_at",
        ),
    ),
    "coord_photos": (
        "photo_id",
        (
            "photo_id", "case_id", "kind", "sha256", "mime", "size_bytes", "width", "height",
            "taken_at", "exif_lon", "exif_lat", "distance_m", "flags", "photo_data",
            "thumb_data", "uploaded_by", "uploaded_at",
        ),
    ),
    "coord_reports": (
        "case_id",
        ("case_id", "reporter", "source", "responsible", "created_at"),
    ),
}  # fmt: skip

_REAL = {"ack_lon", "ack_lat", "exif_lon", "exif_lat", "distance_m"}
_INT = {"size_bytes", "width", "height"}


def _gpkg_type(col: str, pk: str) -> str:
    if col == pk:
        return "TEXT NOT NULL PRIMARY KEY"
    if col.endswith("_at"):
        return "DATETIME"
    if col.endswith("_data") or col.endswith("_wkb"):
        return "BLOB"
    if col in _REAL:
        return "REAL"
    if col in _INT:
        return "INTEGER"
    return "TEXT"


#: CHECK constraints shared by both schemas (values are constants of this module).
CHECKS: Mapping[str, str] = {
    "coord_joint_actions": "CHECK (state IN ('planned', 'closed'))",
    "coord_consultations": (
        "CHECK (level IN ('center', 'subdistrict', 'district_special', 'holiday'))"
    ),
    "coord_inspections": (
        "CHECK (target_kind IN ('street', 'person', 'dept') AND mode IN ('open', 'covert') "
        "AND result IN ('good', 'minor', 'serious') AND outcome IN ('none', 'case', 'comment'))"
    ),
    "coord_photos": "CHECK (kind IN ('before', 'after')), UNIQUE (case_id, sha256)",
}


def gpkg_schema_sql() -> list[str]:
    """CREATE statements of the coordination tables in a GeoPackage (attribute tables)."""
    out = []
    for table, (pk, cols) in TABLES.items():
        body = ",\n  ".join(f"{c} {_gpkg_type(c, pk)}" for c in cols)
        check = f",\n  {CHECKS[table]}" if table in CHECKS else ""
        out.append(f"CREATE TABLE IF NOT EXISTS {table} (\n  {body}{check})")
    out += [
        "CREATE INDEX IF NOT EXISTS coord_alerts_audience ON coord_alerts (audience, ack_at)",
        "CREATE INDEX IF NOT EXISTS coord_alerts_case ON coord_alerts (case_id)",
        "CREATE INDEX IF NOT EXISTS coord_photos_case ON coord_photos (case_id)",
        "CREATE INDEX IF NOT EXISTS coord_reports_reporter ON coord_reports (reporter, created_at)",
    ]
    return out


def _widen_sources(con: Any) -> None:
    """Let an older file's ``cases.source`` CHECK accept the community sources (schema 5).

    SQLite cannot alter a CHECK constraint: the table is rebuilt under the new definition
    (same columns, rows and indexes) inside the caller's transaction.
    """
    from gis.cases.workflow import SOURCES

    row = con.execute(
        "SELECT sql FROM sqlite_master WHERE type='table' AND name='cases'"
    ).fetchone()
    if row is None or "'resident'" in row[0]:
        return
    old = "'hotline_12345', 'inspection')"
    if old not in row[0]:
        return  # an unknown layout: leave it (the store then refuses the new sources)
    new_sql = row[0].replace(old, ", ".join(f"'{s}'" for s in SOURCES[3:]) + ")")
    indexes = [
        r[0]
        for r in con.execute(
            "SELECT sql FROM sqlite_master WHERE type='index' AND tbl_name='cases' "
            "AND sql IS NOT NULL"
        )
    ]
    con.execute("ALTER TABLE cases RENAME TO cases_before_v5")
    con.execute(new_sql)
    con.execute("INSERT INTO cases SELECT * FROM cases_before_v5")
    con.execute("DROP TABLE cases_before_v5")
    for stmt in indexes:
        con.execute(stmt)


def ensure_gpkg_schema(con: Any) -> None:
    """Create the coordination tables in an open GeoPackage transaction; record schema 5."""
    _widen_sources(con)
    for stmt in gpkg_schema_sql():
        con.execute(stmt)
    con.executemany(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) "
        "VALUES (?, 'attributes', ?, ?)",
        [(t, t, "协同 coordination") for t in TABLES],
    )
    con.execute(
        "UPDATE patrol_meta SET value = ? WHERE key = 'schema_version' "
        "AND CAST(value AS INTEGER) < ?",
        (str(COORDINATION_SCHEMA), COORDINATION_SCHEMA),
    )


def _check_names(table: str, cols: Sequence[str]) -> None:
    if table not in TABLES:
        raise ValidationError(f"unknown table {table!r}")
    known = set(TABLES[table][1])
    bad = [c for c in cols if c not in known]
    if bad:
        raise ValidationError(f"unknown columns {bad} of {table}")


def _check_value(table: str, col: str, value: Any) -> None:
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError(
            f"{col} contains a NUL byte", field=col, fix="type it again as plain text"
        )


def _ph(i: int) -> str:
    """The ``{i}`` placeholder of the i-th identifier."""
    return "{" + str(i) + "}"


class Exec:
    """Row operations over one open transaction of either backend.

    ``style`` is ``"sqlite"`` (``?`` parameters, times as GeoPackage UTC text) or ``"pg"``
    (psycopg2: ``%s`` parameters, identifiers through ``psycopg2.sql``).
    """

    def __init__(self, cur: Any, style: str, scope: str | None = None) -> None:
        self.cur = cur
        self.style = style
        #: Subdistrict key every read and update is limited to (the GeoPackage's filter;
        #: PostGIS passes None: row-level security does it).
        self.scope = scope

    def _value(self, col: str, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                raise ValidationError(f"{col} has no time zone", field=col)
            if self.style == "sqlite":
                from gis.store.geopackage import gpkg_time

                return gpkg_time(value)
            return value
        if isinstance(value, Mapping | list | tuple) and not isinstance(value, bytes):
            return json.dumps(value, ensure_ascii=False, default=str)
        return value

    def _run(self, text: str, names: Sequence[tuple[str, str]], params: Sequence[Any]) -> Any:
        """Execute ``text`` where ``{0}``, ``{1}`` … are identifiers ``names``."""
        if self.style == "sqlite":
            sql_text = text.format(*(n for _, n in names))
            return self.cur.execute(sql_text, list(params))
        from psycopg2 import sql

        stmt = sql.SQL(text.replace("?", "%s")).format(*(sql.Identifier(n) for _, n in names))
        self.cur.execute(stmt, list(params))
        return self.cur

    def insert(self, table: str, row: Mapping[str, Any]) -> None:
        """Insert one row (columns checked against :data:`TABLES`)."""
        cols = list(row)
        _check_names(table, cols)
        for c in cols:
            _check_value(table, c, row[c])
        ids = [("t", table), *(("c", c) for c in cols)]
        text = (
            "INSERT INTO {0} ("
            + ", ".join(_ph(i + 1) for i in range(len(cols)))
            + ") VALUES ("
            + ", ".join("?" for _ in cols)
            + ")"
        )
        self._run(text, ids, [self._value(c, row[c]) for c in cols])

    def update(self, table: str, key: str, sets: Mapping[str, Any]) -> int:
        """Update one row by primary key; returns the number of rows changed."""
        _check_names(table, [])
        pk = TABLES[table][0]
        cols = list(sets)
        _check_names(table, cols)
        for c in cols:
            _check_value(table, c, sets[c])
        ids = [("t", table), *(("c", c) for c in cols), ("c", pk)]
        text = (
            "UPDATE {0} SET "
            + ", ".join(_ph(i + 1) + " = ?" for i in range(len(cols)))
            + " WHERE "
            + _ph(len(cols) + 1)
            + " = ?"
        )
        params = [*(self._value(c, sets[c]) for c in cols), key]
        if self.scope:
            text += " AND subdistrict = ?"
            params.append(self.scope)
        cur = self._run(text, ids, params)
        return int(cur.rowcount)

    def select(
        self,
        table: str,
        where: Mapping[str, Any] | None = None,
        *,
        order: str | None = None,
        since: tuple[str, dt.datetime] | None = None,
        until: tuple[str, dt.datetime] | None = None,
        open_only: str | None = None,
        columns: Sequence[str] | None = None,
        lock: bool = False,
    ) -> list[dict[str, Any]]:
        """Rows with ``col = value`` for every ``where`` item (a list value means IN)."""
        where = dict(where or {})
        _check_names(table, [])
        cols = list(columns or TABLES[table][1])
        extra = [c for c in (order, open_only, since and since[0], until and until[0]) if c]
        _check_names(table, [*cols, *where, *extra])
        ids: list[tuple[str, str]] = [("t", table), *(("c", c) for c in cols)]
        clauses: list[str] = []
        params: list[Any] = []
        for c, v in where.items():
            ids.append(("c", c))
            n = len(ids) - 1
            if isinstance(v, list | tuple):
                if not v:
                    clauses.append("1 = 0")
                    continue
                clauses.append(_ph(n) + " IN (" + ", ".join("?" for _ in v) + ")")
                params.extend(v)
            else:
                clauses.append(_ph(n) + " = ?")
                params.append(v)
        for bound, op in ((since, ">="), (until, "<")):
            if bound is not None:
                ids.append(("c", bound[0]))
                clauses.append(_ph(len(ids) - 1) + f" {op} ?")
                params.append(self._value(bound[0], bound[1]))
        if open_only:
            ids.append(("c", open_only))
            clauses.append(_ph(len(ids) - 1) + " IS NULL")
        if self.scope:
            clauses.append("subdistrict = ?")
            params.append(self.scope)
        text = (
            "SELECT "
            + ", ".join(_ph(i + 1) for i in range(len(cols)))
            + " FROM {0}"
            + (" WHERE " + " AND ".join(clauses) if clauses else "")
        )
        if order:
            ids.append(("c", order))
            text += " ORDER BY " + _ph(len(ids) - 1)
        if lock and self.style == "pg":
            text += " FOR UPDATE"
        cur = self._run(text, ids, params)
        rows = cur.fetchall()
        out = []
        for r in rows:
            rec = {}
            for c, v in zip(cols, r, strict=True):
                if isinstance(v, memoryview):
                    v = bytes(v)
                if c.endswith("_at") and v is not None:
                    from gis.localtime import parse_stored_instant

                    v = parse_stored_instant(v)
                rec[c] = v
            out.append(rec)
        return out

    def count(self, table: str, where: Mapping[str, Any], since: tuple[str, dt.datetime]) -> int:
        """How many rows match ``where`` at or after ``since``."""
        return len(self.select(table, where, since=since, columns=[TABLES[table][0]]))


class CoordinationTables:
    """Store methods of the coordination tables (mixed into every Store).

    Backends implement :meth:`_coord_tx` (a write transaction) and :meth:`_coord_read`.
    """

    @contextlib.contextmanager
    def _coord_tx(self) -> Iterator[Exec]:  # pragma: no cover - every backend overrides it
        raise NotImplementedError
        yield

    @contextlib.contextmanager
    def _coord_read(self) -> Iterator[Exec]:
        with self._coord_tx() as ex:
            yield ex

    def coord_insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert rows into a coordination table in one transaction (all or nothing)."""
        with self._coord_tx() as ex:
            for r in rows:
                ex.insert(table, r)

    def coord_rows(self, table: str, where: Mapping[str, Any] | None = None, **kw: Any) -> list:
        """Rows of a coordination table (see :meth:`Exec.select`)."""
        with self._coord_read() as ex:
            return ex.select(table, where, **kw)

    def coord_get(self, table: str, key: str) -> dict[str, Any]:
        """One row by primary key; raises NotFoundError."""
        _check_names(table, [])
        rows = self.coord_rows(table, {TABLES[table][0]: str(key)})
        if not rows:
            raise NotFoundError(f"{TABLES[table][0]} {str(key)[:64]!r} not found")
        return rows[0]

    def coord_update(self, table: str, key: str, sets: Mapping[str, Any]) -> None:
        """Update one row by key in one transaction; raises NotFoundError."""
        with self._coord_tx() as ex:
            if ex.update(table, str(key), sets) != 1:
                raise NotFoundError(f"{TABLES[table][0]} {str(key)[:64]!r} not found")
