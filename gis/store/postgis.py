"""The server store: PostGIS through psycopg2 (connection pool, versioned schema, COPY ingest).

Long because: it is the whole PostGIS form of the Store interface (pool, transactions
and savepoints, row-level security scope, COPY paths), read beside geopackage.py method for
method; the people, crowd, coordination and spatial SQL live in modules of their own.

Schema files ``gis/store/sql/NNN_*.sql`` are applied in order and recorded in
``schema_version``. Parameters are always bound, identifiers go through ``psycopg2.sql``,
every write is one transaction, geometry goes in and out as WKB.

"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import itertools
import json
import logging
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely

from gis.cases.categories import References
from gis.cases.workflow import CASE_FRAME_COLUMNS, AuditEntry, Case
from gis.errors import NotFoundError, PatrolError, StoreError, ValidationError
from gis.localtime import parse_stored_instant
from gis.store.base import (
    CASE_COLUMNS,
    AddResult,
    CaseQuery,
    Store,
    as_list,
    case_from_record,
    case_to_record,
    check_case_text,
    check_text,
    default_refs,
    frame_from_columns,
    json_text,
    make_query,
)
from gis.store.case_columns import stage_and_insert
from gis.store.coordination import Exec
from gis.store.crowd import PostGISCrowd
from gis.store.migrate import SQL_DIR, migrate_postgis, migrations  # noqa: F401 - re-exported
from gis.store.people import PeopleStore
from gis.store.tenancy import DEFAULT_SUBDISTRICT, check_subdistrict, writable_subdistrict

if TYPE_CHECKING:
    from gis.geography.layers import Geography

log = logging.getLogger(__name__)

#: Stored columns (``lon``/``lat`` are derived from ``geom``).
_DB_COLUMNS = tuple(c for c in CASE_COLUMNS if c not in ("lon", "lat")) + ("geom",)
_SELECT = [c for c in CASE_COLUMNS if c not in ("lon", "lat", "footprint", "depts")]


def _psycopg2():
    try:
        import psycopg2
        import psycopg2.errors
        import psycopg2.extras
        import psycopg2.pool
        from psycopg2 import sql
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise StoreError("psycopg2 is not installed: pip install psycopg2-binary") from exc
    return psycopg2, sql


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    """One value in COPY text format (\\N for NULL, backslash escapes)."""
    if value is None:
        return "\\N"
    s = value if isinstance(value, str) else str(value)
    if "\\" in s or "\t" in s or "\n" in s or "\r" in s:
        return s.translate(_COPY_ESCAPES)
    return s


class PostGISStore(PostGISCrowd, Store):
    """Cases in PostGIS; safe for many threads (pool) and processes (row locks, versions)."""

    def __init__(
        self,
        url: str,
        *,
        refs: References | None = None,
        minconn: int = 1,
        maxconn: int = 8,
        sql_dir: Path = SQL_DIR,
        subdistrict: str = DEFAULT_SUBDISTRICT,
    ) -> None:
        psycopg2, _ = _psycopg2()
        self.url = url
        self.refs = default_refs(refs)
        #: The subdistrict this connection sees and writes ('*': the district level, reads all).
        self.subdistrict = check_subdistrict(subdistrict)
        self._scope_sql = "SELECT set_config('app.subdistrict', %s, true)"
        self._copy_mode = "direct"
        self._owns_pool = True
        self._local = threading.local()  # this thread's open transaction (transaction())
        try:
            self._pool = psycopg2.pool.ThreadedConnectionPool(minconn, maxconn, dsn=url)
        except psycopg2.Error as exc:
            raise StoreError(f"cannot connect to PostGIS ({_redact(url)}): {exc}") from exc
        self.sql_dir = Path(sql_dir)
        self.migrate()
        self._scope_sql = self._scope_statement()

    def _scope_statement(self) -> str:
        """What each transaction runs first: the subdistrict setting, and ``SET LOCAL ROLE
        patrol_app`` when this login may take that role, so that row-level security holds
        even for an owner or superuser login (they would bypass it)."""
        with self._tx(admin=True) as cur:
            cur.execute(
                "SELECT r.oid IS NOT NULL AND pg_has_role(current_user, r.oid, 'MEMBER') "
                "AND has_table_privilege(r.oid, 'cases', 'SELECT'), "
                "(SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user) "
                "OR pg_has_role(current_user, (SELECT relowner FROM pg_class "
                "WHERE oid = 'cases'::regclass), 'USAGE') "
                "FROM (SELECT 1) x LEFT JOIN pg_roles r ON r.rolname = 'patrol_app'"
            )
            can_set, bypasses = cur.fetchone()
        if can_set:
            self._copy_mode = "owner" if bypasses else "staged"
            return "SET LOCAL ROLE patrol_app; " + self._scope_sql
        self._copy_mode = "direct" if bypasses else "staged"
        log.warning(
            "PostGIS login %s cannot take the role patrol_app%s: subdistrict row-level "
            "security is %s (see docs/store.md)",
            _redact(self.url),
            " and bypasses row-level security" if bypasses else "",
            "NOT in force" if bypasses else "in force only for tables its owner did not create",
        )
        return self._scope_sql

    def scoped(self, subdistrict: str) -> PostGISStore:
        """The same store (sharing its connection pool) seen from another subdistrict, or
        the district level ``'*'``; closing the view leaves the pool to its owner."""
        view = copy.copy(self)
        view.subdistrict = check_subdistrict(subdistrict)
        view._owns_pool = False
        view.__dict__.pop("people", None)  # rebuilt on the view's transactions
        return view

    @contextlib.contextmanager
    def _tx(self, *, admin: bool = False) -> Iterator[Any]:
        """One transaction on a pooled connection: commit on success, rollback on error.

        Scoped to the store's subdistrict unless ``admin`` (schema migrations). Inside
        :meth:`transaction` (same thread) it is a savepoint of that transaction.
        """
        psycopg2, _ = _psycopg2()
        outer = getattr(self._local, "cur", None)
        if outer is not None:
            with self._savepoint(outer, psycopg2):
                yield outer
            return
        con = self._pool.getconn()
        try:
            with con:  # commits or rolls back
                with con.cursor() as cur:
                    if not admin:
                        cur.execute(self._scope_sql, (self.subdistrict,))
                    yield cur
        except psycopg2.Error as exc:
            if self.subdistrict == "*" and "_subdistrict_code" in str(exc):
                writable_subdistrict(self.subdistrict)  # raises: the district level writes none
            raise StoreError(f"PostGIS error: {exc}") from exc
        except ValueError as exc:
            # psycopg2 refuses NUL bytes in parameters with a bare ValueError
            if "NUL" in str(exc) and not isinstance(exc, PatrolError):
                raise ValidationError(
                    "a text value contains a NUL byte",
                    fix="type it again as plain text; nothing was stored",
                ) from None
            raise
        finally:
            self._pool.putconn(con)

    @contextlib.contextmanager
    def _savepoint(self, cur: Any, psycopg2: Any) -> Iterator[None]:
        """A savepoint of this thread's open transaction (undone alone on an error)."""
        self._local.depth = getattr(self._local, "depth", 0) + 1
        name = f"patrol_sp_{self._local.depth}"
        cur.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException as exc:
            cur.execute(f"ROLLBACK TO SAVEPOINT {name}")
            if isinstance(exc, psycopg2.Error):
                raise StoreError(f"PostGIS error: {exc}") from exc
            raise
        else:
            cur.execute(f"RELEASE SAVEPOINT {name}")
        finally:
            self._local.depth -= 1

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction that every write of this thread inside joins (all or nothing)."""
        if getattr(self._local, "cur", None) is not None:
            with self._tx():
                yield
            return
        with self._tx() as cur:
            self._local.cur = cur
            try:
                yield
            finally:
                self._local.cur = None

    @functools.cached_property
    def people(self) -> PeopleStore:
        """Staff, assignments, roster, sign-ins and tracks in this database."""
        return PeopleStore.for_postgis(self._tx)

    @contextlib.contextmanager
    def _coord_tx(self) -> Iterator[Exec]:
        with self._tx() as cur:
            yield Exec(cur, "pg")

    def migrate(self) -> int:
        """Apply pending schema files in one transaction; returns the version now in force.

        Raises StoreError when the database was upgraded by a newer release.
        """
        return migrate_postgis(lambda: self._tx(admin=True), self.url, self.sql_dir)

    def schema_version(self) -> int:
        """The highest applied schema version."""
        with self._tx() as cur:
            cur.execute("SELECT coalesce(max(version), 0) FROM schema_version")
            return int(cur.fetchone()[0])

    # -- writes ------------------------------------------------------------------
    def add_cases(self, cases: Sequence[Case], audit: Iterable[AuditEntry] = ()) -> AddResult:
        """COPY new cases into a staging table and insert them in one transaction.

        ``ON CONFLICT DO NOTHING`` skips ids and content hashes already stored.
        """
        _, sql = _psycopg2()
        cases = list(cases)
        audit = list(audit)
        check_case_text(cases, audit)
        if not cases:
            return AddResult((), ())

        def buf() -> _LineReader:
            return _LineReader(_case_lines(cases))

        cols = sql.SQL(", ").join(sql.Identifier(c) for c in _DB_COLUMNS)
        ids = [c.case_id for c in cases]
        hashes = [c.content_hash for c in cases if c.content_hash]
        with self._tx() as cur:
            cur.execute(
                "SELECT EXISTS (SELECT 1 FROM cases WHERE case_id = ANY(%s) "
                "OR content_hash = ANY(%s))",
                (ids, hashes),
            )
            known = bool(cur.fetchone()[0])
            fresh = not known and len(set(ids)) == len(ids) and len(set(hashes)) == len(hashes)
            if fresh:
                # nothing to skip: COPY straight into the table (a racing writer makes the
                # COPY fail on the unique keys; then fall back to the staging route)
                cur.execute("SAVEPOINT direct_copy")
                try:
                    self._copy_into(cur, "cases", cols.as_string(cur), buf())
                    cur.execute("RELEASE SAVEPOINT direct_copy")
                    added = set(ids)
                except _psycopg2()[0].errors.UniqueViolation:
                    cur.execute("ROLLBACK TO SAVEPOINT direct_copy")
                    fresh = False
            if not fresh:
                added = stage_and_insert(cur, _psycopg2()[1], cols, buf())
            new_cases = [c for c in cases if c.case_id in added]
            extra = [a for a in audit if a.case_id in added]
            self._copy_audit(cur, _creation_lines(new_cases), extra)
            skipped = [c for c in cases if c.case_id not in added]
            stored_as = self._stored_as(cur, skipped) if skipped else {}
        return AddResult(
            tuple(c.case_id for c in cases if c.case_id in added),
            tuple(c.case_id for c in skipped),
            stored_as,
        )

    def _stored_as(self, cur: Any, skipped: Sequence[Case]) -> dict[str, str]:
        """The stored case id each skipped case matched: its own id, else its content's."""
        cur.execute(
            "SELECT case_id, content_hash FROM cases WHERE case_id = ANY(%s) "
            "OR content_hash = ANY(%s)",
            ([c.case_id for c in skipped], [c.content_hash for c in skipped if c.content_hash]),
        )
        rows = cur.fetchall()
        ids = {r[0] for r in rows}
        by_hash = {r[1]: r[0] for r in rows if r[1]}
        return {
            c.case_id: c.case_id if c.case_id in ids else by_hash.get(c.content_hash, c.case_id)
            for c in skipped
        }

    def add_cases_stream(self, chunks: Iterable[Sequence[Case]]) -> tuple[int, int]:
        """COPY chunks of cases through a staging table in ONE transaction.

        Each chunk is copied, inserted with ``ON CONFLICT DO NOTHING`` (ids and content
        hashes already stored, also by an earlier chunk, are skipped) and its creation
        audit written; only one chunk is held in memory. Any error rolls everything back.
        """
        _, sql = _psycopg2()
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in _DB_COLUMNS)
        added = skipped = 0
        with self._tx() as cur:
            cur.execute(
                "CREATE TEMP TABLE case_stream (LIKE cases INCLUDING DEFAULTS) ON COMMIT DROP"
            )
            for chunk in chunks:
                cases = list(chunk)
                if not cases:
                    continue
                check_case_text(cases)
                cur.copy_expert(
                    sql.SQL("COPY case_stream ({}) FROM STDIN").format(cols).as_string(cur),
                    _LineReader(_case_lines(cases)),
                )
                cur.execute(
                    sql.SQL(
                        "INSERT INTO cases ({cols}) SELECT {cols} FROM case_stream "
                        "ON CONFLICT DO NOTHING RETURNING case_id"
                    ).format(cols=cols)
                )
                ids = {r[0] for r in cur.fetchall()}
                cur.execute("TRUNCATE case_stream")
                new = [c for c in cases if c.case_id in ids]
                self._copy_audit(cur, _creation_lines(new))
                added += len(new)
                skipped += len(cases) - len(new)
        return added, skipped

    #: add_case_columns reads its chunks in a producer thread of its own (with their COPY text)
    prefetches_columns = True

    def add_case_columns(self, chunks: Iterable[Any]) -> tuple[int, int]:
        """COPY chunks of new cases, given as columns, straight into ``cases`` in ONE
        transaction (:func:`gis.store.case_columns.add_to_postgis`)."""
        from gis.store.case_columns import add_to_postgis

        return add_to_postgis(self, chunks)

    def _copy_audit(
        self, cur: Any, lines: Iterable[str], entries: Sequence[AuditEntry] = ()
    ) -> None:
        """COPY pre-built audit lines and audit entries into ``case_audit``."""
        self._copy_into(
            cur,
            "case_audit",
            "case_id, seq, action, from_state, to_state, who, at, note, params",
            _LineReader(itertools.chain(lines, _audit_lines(entries))),
        )

    def _copy_into(
        self, cur: Any, table: str, cols: str, reader: Any, options: str = "", **kw: Any
    ) -> None:
        """``COPY table (cols) FROM STDIN`` where row-level security is on the table.

        PostgreSQL refuses COPY FROM into a table whose policies apply to the session. A
        login that owns the tables (or bypasses RLS) drops ``patrol_app`` for the COPY
        alone: it only inserts, and the ``subdistrict`` column (never in ``cols``) takes
        its default, the session's key. Other logins COPY into a temporary table and insert
        from it under the policies. ``table`` and ``cols`` are constants of this package.
        """
        if self._copy_mode == "staged":
            tmp = f"copy_{table}"
            cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {tmp} (LIKE {table} INCLUDING DEFAULTS) "
                "ON COMMIT DROP"
            )
            cur.copy_expert(f"COPY {tmp} ({cols}) FROM STDIN {options}", reader, **kw)
            cur.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {tmp}")
            cur.execute(f"TRUNCATE {tmp}")
            return
        if self._copy_mode == "owner":
            cur.execute("SET LOCAL ROLE NONE")
        cur.copy_expert(f"COPY {table} ({cols}) FROM STDIN {options}", reader, **kw)
        if self._copy_mode == "owner":  # (after a failure the transaction or savepoint
            cur.execute("SET LOCAL ROLE patrol_app")  # rolls back, restoring the role)

    def _transition(
        self, case_id: str, expected_version: int, step: Any, after: Any = None
    ) -> Case:
        with self._tx() as cur:
            case = self._get(cur, case_id, lock=True)
            cur.execute(
                "SELECT coalesce(max(seq), -1) + 1 FROM case_audit WHERE case_id = %s", (case_id,)
            )
            seq = int(cur.fetchone()[0])
            new, entry = step(case, seq)
            rec = case_to_record(new)
            sets = [c for c in _DB_COLUMNS if c not in ("case_id", "geom", "footprint")]
            rec["depts"] = [d for d in rec["depts"].split(";") if d]
            _, sql = _psycopg2()
            stmt = sql.SQL("UPDATE cases SET {} WHERE case_id = %s AND version = %s").format(
                sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in sets)
            )
            cur.execute(stmt, [*(rec[c] for c in sets), case_id, case.version])
            if cur.rowcount != 1:  # pragma: no cover - the row lock prevents this
                raise StoreError(f"case {case_id} changed during the transition")
            self._copy_audit(cur, (), [entry])
            if after is not None:
                after(Exec(cur, "pg"), new, entry)
        return new

    def set_meta(self, key: str, value: str) -> None:
        """Store a named value."""
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO patrol_meta (key, value) VALUES (%s, %s) "
                "ON CONFLICT (subdistrict, key) DO UPDATE SET value = EXCLUDED.value",
                (key, value),
            )

    # -- reads -------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """A named value, or ``default``."""
        with self._tx() as cur:
            cur.execute("SELECT value FROM patrol_meta WHERE key = %s", (key,))
            row = cur.fetchone()
        return default if row is None else row[0]

    def _select_list(self):
        _, sql = _psycopg2()
        return sql.SQL(", ").join(
            [sql.Identifier(c) for c in _SELECT]
            + [
                sql.SQL("array_to_string(depts, ';') AS depts"),
                sql.SQL("ST_X(geom) AS lon"),
                sql.SQL("ST_Y(geom) AS lat"),
                sql.SQL("ST_AsBinary(footprint) AS footprint"),
            ]
        )

    def _get(self, cur: Any, case_id: str, *, lock: bool = False) -> Case:
        _, sql = _psycopg2()
        stmt = sql.SQL("SELECT {} FROM cases WHERE case_id = %s").format(self._select_list())
        if lock:
            stmt = stmt + sql.SQL(" FOR UPDATE")
        cur.execute(stmt, (case_id,))
        row = cur.fetchone()
        if row is None:
            raise NotFoundError(f"case {case_id!r} not found")
        names = [d[0] for d in cur.description]
        return case_from_record(_jsonify(dict(zip(names, row, strict=True))))

    def get_case(self, case_id: str) -> Case:
        """One case; raises NotFoundError."""
        check_text(case_id, "case id")
        with self._tx() as cur:
            return self._get(cur, case_id)

    def _where(self, q: CaseQuery):
        _, sql = _psycopg2()
        clauses = []
        params: list[Any] = []
        states = q.states()
        if q.open_only and q.state is None:
            # the literal form matches the partial index of migration 002
            clauses.append(sql.SQL("state NOT IN ('closed', 'rejected', 'duplicate')"))
            states = None
        for col, values in (
            ("zone_id", as_list(q.zone_id)),
            ("state", states),
            ("category", as_list(q.category)),
        ):
            if values is not None:
                if len(values) == 1:
                    clauses.append(sql.SQL("{} = %s").format(sql.Identifier(col)))
                    params.append(values[0])
                else:
                    clauses.append(sql.SQL("{} = ANY(%s)").format(sql.Identifier(col)))
                    params.append(list(values))
        if q.dept:
            clauses.append(sql.SQL("(lead_dept = %s OR %s = ANY(depts) OR joint ? %s)"))
            params.extend([q.dept, q.dept, q.dept])
        if q.since is not None:
            clauses.append(sql.SQL("reported_at >= %s"))
            params.append(q.since)
        if q.until is not None:
            clauses.append(sql.SQL("reported_at < %s"))
            params.append(q.until)
        where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("")
        return where, params

    def query_cases(self, query: CaseQuery | None = None, **filters: Any) -> list[Case]:
        """Cases matching the filters, oldest report first (filtering done in SQL)."""
        _, sql = _psycopg2()
        q = make_query(query, filters)
        where, params = self._where(q)
        stmt = sql.SQL("SELECT {} FROM cases{} ORDER BY reported_at, case_id").format(
            self._select_list(), where
        )
        if q.limit:
            stmt = stmt + sql.SQL(" LIMIT %s")
            params.append(int(q.limit))
        with self._tx() as cur:
            cur.execute(stmt, params)
            names = [d[0] for d in cur.description]
            rows = cur.fetchall()
        return [case_from_record(_jsonify(dict(zip(names, r, strict=True)))) for r in rows]

    def cases_frame(self, query: CaseQuery | None = None, **filters: Any) -> gpd.GeoDataFrame:
        """The case frame (EPSG:32650), filtered in SQL."""
        _, sql = _psycopg2()
        q = make_query(query, filters)
        where, params = self._where(q)
        cols = sql.SQL(", ").join(
            [sql.Identifier(c) for c in CASE_FRAME_COLUMNS]
            + [sql.SQL("ST_X(geom)"), sql.SQL("ST_Y(geom)")]
        )
        stmt = sql.SQL("SELECT {} FROM cases{} ORDER BY reported_at, case_id").format(cols, where)
        if q.limit:
            stmt = stmt + sql.SQL(" LIMIT %s")
            params.append(int(q.limit))
        with self._tx() as cur:
            cur.execute(stmt, params)
            rows = cur.fetchall()
        names = [*CASE_FRAME_COLUMNS, "lon", "lat"]
        return frame_from_columns({c: [r[i] for r in rows] for i, c in enumerate(names)})

    def audit_trail(self, case_id: str) -> list[AuditEntry]:
        """Every recorded step of a case, oldest first."""
        check_text(case_id, "case id")
        with self._tx() as cur:
            cur.execute(
                "SELECT case_id, seq, action, from_state, to_state, who, at, note, params "
                "FROM case_audit WHERE case_id = %s ORDER BY seq",
                (case_id,),
            )
            rows = cur.fetchall()
            if not rows:
                self._get(cur, case_id)
        return [
            AuditEntry(
                case_id=r[0],
                seq=r[1],
                action=r[2],
                from_state=r[3],
                to_state=r[4],
                who=r[5],
                at=parse_stored_instant(r[6]),  # type: ignore[arg-type]
                note=r[7] or "",
                params=r[8] if isinstance(r[8], dict) else json.loads(r[8] or "{}"),
            )
            for r in rows
        ]

    def count_cases(self) -> int:
        """Number of stored cases."""
        with self._tx() as cur:
            cur.execute("SELECT count(*) FROM cases")
            return int(cur.fetchone()[0])

    # -- geography (gis/store/pg_spatial.py) ------------------------------------
    def save_geography(self, geo: Geography, *, by: str = "") -> dict[str, int]:
        """Replace this subdistrict's layers in ``geo_layers``/``geo_features``."""
        from gis.store.pg_spatial import PostGISSpatial

        return PostGISSpatial(self).load_geography(geo, by=by)

    def read_geography(self) -> Geography:
        """This subdistrict's stored geography; NotFoundError when none is loaded."""
        from gis.store.pg_spatial import PostGISSpatial

        return PostGISSpatial(self).read_geography()

    def geography_subdistricts(self) -> list[str]:
        """The subdistricts whose layers the database holds (readable by every one)."""
        with self._tx() as cur:
            cur.execute("SELECT DISTINCT subdistrict FROM geo_layers ORDER BY 1")
            return [r[0] for r in cur.fetchall()]

    def geography_version(self) -> str | None:
        """Changes whenever this subdistrict's layers are replaced; None without any."""
        from gis.store.pg_spatial import PostGISSpatial

        if self.subdistrict == "*":
            return None
        return PostGISSpatial(self).version()

    def close(self) -> None:
        """Close every pooled connection (a :meth:`scoped` view leaves its owner's pool)."""
        if self._owns_pool and not self._pool.closed:
            self._pool.closeall()


def _jsonify(rec: dict[str, Any]) -> dict[str, Any]:
    """jsonb columns come back as dicts; the shared decoder expects JSON text."""
    for c in ("attributes", "flags", "joint"):
        if isinstance(rec.get(c), dict):
            rec[c] = json.dumps(rec[c], ensure_ascii=False)
    if isinstance(rec.get("footprint"), memoryview):
        rec["footprint"] = bytes(rec["footprint"])
    return rec


def _redact(url: str) -> str:
    return re.sub(r"//([^:@/]+):[^@/]*@", r"//\1:***@", url)


def _audit_lines(entries: Sequence[AuditEntry]) -> Iterator[str]:
    """COPY text lines of audit entries."""
    for e in entries:
        vals = [
            e.case_id,
            e.seq,
            e.action,
            e.from_state,
            e.to_state,
            e.who,
            e.at.isoformat(),
            e.note,
            json.dumps(dict(e.params), ensure_ascii=False),
        ]
        yield "\t".join(_copy_text(v) for v in vals) + "\n"


def _creation_lines(cases: Sequence[Case]) -> Iterator[str]:
    """COPY lines of the creation entries (the content of ``gis.cases.workflow.creation_entry``)."""
    for c in cases:
        at = c.updated_at if c.version == 1 and c.updated_at else c.reported_at
        params = json_text({"source": c.source, "reporter": c.reporter})
        yield (
            f"{_copy_text(c.case_id)}\t0\treport\t\\N\treported\t{_copy_text(c.owner)}\t"
            f"{at.isoformat()}\t\t{_copy_text(params)}\n"
        )


def _case_lines(cases: Sequence[Case]) -> Iterator[str]:
    """COPY text lines of cases, generated lazily so the server works while we build."""
    step = 2000
    for i in range(0, len(cases), step):
        part = cases[i : i + step]
        recs = [case_to_record(c) for c in part]
        pts = shapely.points(np.array([[r["lon"], r["lat"]] for r in recs], dtype=float))
        geoms = shapely.to_wkb(shapely.set_srid(pts, 4326), hex=True, include_srid=True)
        lines = []
        for r, g in zip(recs, geoms, strict=True):
            r["geom"] = g
            r["depts"] = "{" + ",".join(r["depts"].split(";")) + "}" if r["depts"] else "{}"
            if r["footprint"] is not None:
                fp = shapely.set_srid(shapely.from_wkb(r["footprint"]), 4326)
                r["footprint"] = shapely.to_wkb(fp, hex=True, include_srid=True)
            for c in ("reported_at", "deadline_at", "closed_at", "updated_at"):
                if r[c] is not None:
                    r[c] = r[c].isoformat()
            lines.append("\t".join(_copy_text(r[c]) for c in _DB_COLUMNS))
        yield "\n".join(lines) + "\n"


class _LineReader(io.TextIOBase):
    """A read-only text stream over an iterator of strings (for ``copy_expert``)."""

    def __init__(self, chunks: Iterable[str]) -> None:
        self._it = iter(chunks)
        self._buf = ""

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        if size is None or size < 0:
            out = self._buf + "".join(self._it)
            self._buf = ""
            return out
        while len(self._buf) < size:
            try:
                self._buf += next(self._it)
            except StopIteration:
                break
        out, self._buf = self._buf[:size], self._buf[size:]
        return out
