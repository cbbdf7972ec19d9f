"""Store tables for people: staff, dated assignments, roster, sign-ins and tracks.

Long because: one class serves both backends for five related tables, so a change to a table
is made once; split per table it would repeat the dialect plumbing five times.

One implementation serves both backends through a small dialect (placeholder style, how
days, times and geometry travel). The GeoPackage creates its tables with
:func:`create_gpkg_people_tables` (schema version 3); PostGIS applies
``sql/003_people.sql``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import struct
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import shapely

from gis.errors import ConflictError, NotFoundError, ValidationError
from gis.localtime import LOCAL_TZ as TZ
from gis.localtime import parse_date, parse_stored_instant
from gis.people.assignments import Assignment
from gis.people.roster import DUTIES, RosterEntry
from gis.people.signin import SLOTS, SignIn
from gis.people.staff import PERSON_COLUMNS, PRESENCE, Person
from gis.people.tracks import Track
from gis.store.tenancy import scope_sqlite

#: GeoPackage schema version that adds the people tables.
GPKG_PEOPLE_VERSION = 3

#: The staff table's columns, in the order the staff CSV uses.
_STAFF_COLS = PERSON_COLUMNS
_SIGNIN_COLS = (
    "person_id",
    "day",
    "slot",
    "at",
    "lon",
    "lat",
    "distance_m",
    "late",
    "out_of_fence",
    "recorded_by",
    "note",
)
_TRACK_COLS = (
    "track_id",
    "person_id",
    "day",
    "started_at",
    "ended_at",
    "n_points",
    "source",
    "name",
    "uploaded_by",
    "notes",
    "points",
)
_GP_LINE_HEADER = struct.pack("<2sBBi", b"GP", 0, 0b00000001, 4326)


def _in(values: Sequence[str]) -> str:
    return "'" + "', '".join(values) + "'"


def gpkg_people_sql() -> list[str]:
    """CREATE statements of the people tables in a GeoPackage (idempotent)."""
    return [
        f"""CREATE TABLE IF NOT EXISTS staff (
          person_id TEXT PRIMARY KEY, name TEXT NOT NULL, team TEXT NOT NULL DEFAULT '',
          role TEXT NOT NULL, department TEXT NOT NULL DEFAULT '',
          presence TEXT NOT NULL CHECK (presence IN ({_in(PRESENCE)})),
          phone TEXT NOT NULL DEFAULT '', active_from DATE, active_to DATE,
          fictitious BOOLEAN NOT NULL DEFAULT 0, updated_by TEXT NOT NULL DEFAULT '',
          updated_at DATETIME, shift TEXT NOT NULL DEFAULT '',
          CHECK (active_to IS NULL OR active_from IS NULL OR active_to >= active_from))""",
        """CREATE TABLE IF NOT EXISTS staff_assignments (
          id INTEGER PRIMARY KEY AUTOINCREMENT, segment_id TEXT NOT NULL,
          person_id TEXT NOT NULL REFERENCES staff (person_id),
          district_id TEXT NOT NULL DEFAULT '', valid_from DATE NOT NULL, valid_to DATE,
          assigned_by TEXT NOT NULL DEFAULT '',
          CHECK (valid_to IS NULL OR valid_to > valid_from), UNIQUE (segment_id, valid_from))""",
        "CREATE INDEX IF NOT EXISTS staff_assignments_person "
        "ON staff_assignments (person_id, valid_from)",
        f"""CREATE TABLE IF NOT EXISTS roster (
          day DATE NOT NULL, person_id TEXT NOT NULL REFERENCES staff (person_id),
          duty TEXT NOT NULL CHECK (duty IN ({_in(DUTIES)})),
          note TEXT NOT NULL DEFAULT '', edited_by TEXT NOT NULL DEFAULT '',
          PRIMARY KEY (day, person_id))""",
        f"""CREATE TABLE IF NOT EXISTS signins (
          person_id TEXT NOT NULL REFERENCES staff (person_id), day DATE NOT NULL,
          slot TEXT NOT NULL CHECK (slot IN ({_in(tuple(SLOTS))})), at DATETIME NOT NULL,
          lon REAL, lat REAL, distance_m REAL, late BOOLEAN NOT NULL DEFAULT 0,
          out_of_fence BOOLEAN NOT NULL DEFAULT 0, recorded_by TEXT NOT NULL DEFAULT '',
          note TEXT NOT NULL DEFAULT '', PRIMARY KEY (person_id, day, slot))""",
        """CREATE TABLE IF NOT EXISTS tracks (
          fid INTEGER PRIMARY KEY AUTOINCREMENT, geom LINESTRING NOT NULL,
          track_id TEXT NOT NULL UNIQUE,
          person_id TEXT NOT NULL REFERENCES staff (person_id), day DATE NOT NULL,
          started_at DATETIME NOT NULL, ended_at DATETIME NOT NULL, n_points INTEGER NOT NULL,
          source TEXT NOT NULL DEFAULT 'gpx', name TEXT NOT NULL DEFAULT '',
          uploaded_by TEXT NOT NULL DEFAULT '', notes TEXT NOT NULL DEFAULT '',
          points TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS tracks_person_day ON tracks (person_id, day)",
    ]


def create_gpkg_people_tables(con: sqlite3.Connection) -> None:
    """Create the people tables inside an open GeoPackage write transaction.

    Registers them in ``gpkg_contents`` (``tracks`` as a LINESTRING feature table QGIS
    opens) and raises the stored ``schema_version`` to at least 3.
    """
    for stmt in gpkg_people_sql():
        con.execute(stmt)
    con.executemany(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, "
        "srs_id) VALUES (?,?,?,?,?)",
        [
            ("staff", "attributes", "staff", "人员 staff", None),
            ("staff_assignments", "attributes", "staff_assignments", "包片责任 assignments", None),
            ("roster", "attributes", "roster", "排班 duty roster", None),
            ("signins", "attributes", "signins", "签到 sign-ins", None),
            ("tracks", "features", "tracks", "巡查轨迹 patrol tracks", 4326),
        ],
    )
    con.execute(
        "INSERT OR IGNORE INTO gpkg_geometry_columns VALUES ('tracks','geom','LINESTRING',4326,0,0)"
    )
    con.execute(
        "UPDATE patrol_meta SET value = ? WHERE key = 'schema_version' "
        "AND CAST(value AS INTEGER) < ?",
        (str(GPKG_PEOPLE_VERSION), GPKG_PEOPLE_VERSION),
    )


_PEOPLE_TABLES = ("staff_assignments", "staff", "roster", "signins", "tracks")


class _Exec:
    """Run SQL written with ``%s`` placeholders on a sqlite connection or psycopg2 cursor.

    With a ``scope`` (a GeoPackage store opened for one subdistrict; PostGIS uses
    row-level security instead) every statement sees only that subdistrict's rows: a
    statement is limited to the key by :func:`gis.store.tenancy.scope_sqlite`.
    """

    def __init__(self, target: Any, qmark: bool, scope: str | None = None) -> None:
        self._t = target
        self._qmark = qmark
        self._scope = scope if qmark else None

    def _sql(self, sql: str) -> str:
        return sql.replace("%s", "?") if self._qmark else sql

    def _scoped(self, sql: str, params: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
        return scope_sqlite(self._sql(sql), params, self._scope, _PEOPLE_TABLES)

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        cur = self._t.execute(*self._scoped(sql, params))
        return int((cur if self._qmark else self._t).rowcount)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._t.executemany(self._sql(sql), [tuple(r) for r in rows])

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        if self._qmark:
            return [dict(r) for r in self._t.execute(*self._scoped(sql, params)).fetchall()]
        self._t.execute(sql, tuple(params))
        names = [d[0] for d in self._t.description]
        return [dict(zip(names, r, strict=True)) for r in self._t.fetchall()]


class PeopleStore:
    """Staff, assignments, roster, sign-ins and tracks in the case store's database.

    Built by the backends (``store.people``); every write is one transaction.
    """

    def __init__(
        self,
        *,
        qmark: bool,
        write: Callable[[], contextlib.AbstractContextManager[Any]],
        read: Callable[[], contextlib.AbstractContextManager[Any]],
        scope: str | None = None,
    ) -> None:
        self._qmark = qmark
        self._write_cm = write
        self._read_cm = read
        self._scope = scope

    @classmethod
    def for_sqlite(
        cls,
        con: sqlite3.Connection,
        lock: threading.RLock,
        write: Callable[[], contextlib.AbstractContextManager[Any]],
        scope: str | None = None,
    ) -> PeopleStore:
        """The people tables of a GeoPackage store (its connection, lock and transactions),
        limited to the subdistrict ``scope`` (None: every row)."""

        @contextlib.contextmanager
        def read() -> Iterator[sqlite3.Connection]:
            with lock:
                yield con

        return cls(qmark=True, write=write, read=read, scope=scope)

    @classmethod
    def for_postgis(cls, tx: Callable[[], contextlib.AbstractContextManager[Any]]) -> PeopleStore:
        """The people tables of a PostGIS store (one pooled transaction per call)."""
        return cls(qmark=False, write=tx, read=tx)

    @contextlib.contextmanager
    def _write(self) -> Iterator[_Exec]:
        with self._write_cm() as target:
            yield _Exec(target, self._qmark, self._scope)

    @contextlib.contextmanager
    def _read(self) -> Iterator[_Exec]:
        with self._read_cm() as target:
            yield _Exec(target, self._qmark, self._scope)

    # -- value conversion ------------------------------------------------------------
    def _day(self, d: dt.date | None) -> Any:
        if d is None:
            return None
        return d.isoformat() if self._qmark else d

    def _time(self, t: dt.datetime) -> Any:
        if t.tzinfo is None:
            raise ValidationError(
                f"time {t} has no time zone", field="at", fix="pass a tz-aware datetime"
            )
        if self._qmark:
            return t.astimezone(dt.UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
        return t

    def _geom(self, wkb: bytes) -> Any:
        if self._qmark:
            return _GP_LINE_HEADER + wkb
        import psycopg2

        return psycopg2.Binary(wkb)

    def _geom_sql(self) -> str:
        return "%s" if self._qmark else "ST_GeomFromWKB(%s, 4326)"

    # -- staff -----------------------------------------------------------------------
    def save_people(self, people: Sequence[Person], *, by: str = "") -> tuple[int, int]:
        """Insert new people and update known ones (by id), all in one transaction.

        Returns (added, updated).
        """
        now = self._time(dt.datetime.now(TZ))
        added = updated = 0
        with self._write() as x:
            known = {r["person_id"] for r in x.rows("SELECT person_id FROM staff")}
            for p in people:
                vals = [
                    p.person_id,
                    p.name,
                    p.team,
                    p.role,
                    p.department,
                    p.presence,
                    p.phone,
                    self._day(p.active_from),
                    self._day(p.active_to),
                    p.fictitious,
                    p.shift,
                ]
                if p.person_id in known:
                    sets = ", ".join(f"{c} = %s" for c in _STAFF_COLS[1:])
                    x.run(
                        f"UPDATE staff SET {sets}, updated_by = %s, updated_at = %s "
                        "WHERE person_id = %s",
                        [*vals[1:], by, now, p.person_id],
                    )
                    updated += 1
                else:
                    x.run(
                        f"INSERT INTO staff ({', '.join(_STAFF_COLS)}, updated_by, updated_at) "
                        f"VALUES ({', '.join(['%s'] * (len(_STAFF_COLS) + 2))})",
                        [*vals, by, now],
                    )
                    known.add(p.person_id)
                    added += 1
        return added, updated

    def list_people(self, *, active_on: dt.date | None = None) -> list[Person]:
        """Every person (or those serving on ``active_on``), in id order."""
        with self._read() as x:
            rows = x.rows(f"SELECT {', '.join(_STAFF_COLS)} FROM staff ORDER BY person_id")
        people = [_person(r) for r in rows]
        if active_on is not None:
            people = [p for p in people if p.active_on(active_on)]
        return people

    def get_person(self, person_id: str) -> Person:
        """One person; raises NotFoundError naming the id."""
        with self._read() as x:
            rows = x.rows(
                f"SELECT {', '.join(_STAFF_COLS)} FROM staff WHERE person_id = %s", [person_id]
            )
        if not rows:
            raise NotFoundError(f"person {person_id!r} is not in the staff table")
        return _person(rows[0])

    # -- assignments -----------------------------------------------------------------
    def assign(self, assignments: Sequence[Assignment]) -> int:
        """Put new assignments in force, closing the ones they replace (one transaction).

        The assignment in force for a segment on the new ``valid_from`` ends that day; one
        starting on the same day is replaced. History is never rewritten: an assignment
        starting after the new one is refused.
        """
        with self._write() as x:
            for a in assignments:
                later = x.rows(
                    "SELECT valid_from FROM staff_assignments WHERE segment_id = %s "
                    "AND valid_from > %s ORDER BY valid_from LIMIT 1",
                    [a.segment_id, self._day(a.valid_from)],
                )
                if later:
                    raise ValidationError(
                        f"segment {a.segment_id} already has an assignment from "
                        f"{parse_date(later[0]['valid_from'])}, after {a.valid_from}",
                        field="valid_from",
                        fix="assign from that day or later; past responsibility stays as it was",
                    )
                x.run(
                    "DELETE FROM staff_assignments WHERE segment_id = %s AND valid_from = %s",
                    [a.segment_id, self._day(a.valid_from)],
                )
                x.run(
                    "UPDATE staff_assignments SET valid_to = %s WHERE segment_id = %s "
                    "AND valid_from < %s AND (valid_to IS NULL OR valid_to > %s)",
                    [
                        self._day(a.valid_from),
                        a.segment_id,
                        self._day(a.valid_from),
                        self._day(a.valid_from),
                    ],
                )
                x.run(
                    "INSERT INTO staff_assignments (segment_id, person_id, district_id, "
                    "valid_from, valid_to, assigned_by) VALUES (%s, %s, %s, %s, %s, %s)",
                    [
                        a.segment_id,
                        a.person_id,
                        a.district_id,
                        self._day(a.valid_from),
                        self._day(a.valid_to),
                        a.assigned_by,
                    ],
                )
        return len(assignments)

    def assignments_on(self, day: dt.date, *, person_id: str | None = None) -> list[Assignment]:
        """Assignments in force on ``day`` (optionally one person's), by segment."""
        sql = (
            "SELECT segment_id, person_id, district_id, valid_from, valid_to, assigned_by "
            "FROM staff_assignments WHERE valid_from <= %s AND (valid_to IS NULL OR valid_to > %s)"
        )
        params: list[Any] = [self._day(day), self._day(day)]
        if person_id is not None:
            sql += " AND person_id = %s"
            params.append(person_id)
        with self._read() as x:
            rows = x.rows(sql + " ORDER BY segment_id", params)
        return [_assignment(r) for r in rows]

    def assignment_history(self, segment_id: str) -> list[Assignment]:
        """Every assignment a segment has had, oldest first."""
        with self._read() as x:
            rows = x.rows(
                "SELECT segment_id, person_id, district_id, valid_from, valid_to, assigned_by "
                "FROM staff_assignments WHERE segment_id = %s ORDER BY valid_from",
                [segment_id],
            )
        return [_assignment(r) for r in rows]

    def responsible_for(self, segment_id: str, day: dt.date) -> Person | None:
        """Who answered for ``segment_id`` on ``day`` (None when nobody did)."""
        with self._read() as x:
            rows = x.rows(
                f"SELECT {', '.join('s.' + c for c in _STAFF_COLS)} FROM staff_assignments a "
                "JOIN staff s ON s.person_id = a.person_id WHERE a.segment_id = %s "
                "AND a.valid_from <= %s AND (a.valid_to IS NULL OR a.valid_to > %s)",
                [segment_id, self._day(day), self._day(day)],
            )
        return _person(rows[0]) if rows else None

    # -- roster ----------------------------------------------------------------------
    def save_roster(self, entries: Sequence[RosterEntry], *, start: dt.date, end: dt.date) -> int:
        """Replace the roster from ``start`` to ``end`` (inclusive) with ``entries``."""
        for e in entries:
            if not start <= e.day <= end:
                raise ValidationError(
                    f"roster entry for {e.person_id} on {e.day} is outside {start}…{end}",
                    field="day",
                    fix="generate the roster for the period it is saved for",
                )
            _check_duty(e)
        with self._write() as x:
            x.run(
                "DELETE FROM roster WHERE day >= %s AND day <= %s",
                [self._day(start), self._day(end)],
            )
            x.many(
                "INSERT INTO roster (day, person_id, duty, note, edited_by) "
                "VALUES (%s, %s, %s, %s, %s)",
                [[self._day(e.day), e.person_id, e.duty, e.note, e.edited_by] for e in entries],
            )
        return len(entries)

    def set_duty(self, entry: RosterEntry) -> None:
        """Change (or add) one roster cell: an edit of the generated roster."""
        _check_duty(entry)
        with self._write() as x:
            x.run(
                "DELETE FROM roster WHERE day = %s AND person_id = %s",
                [self._day(entry.day), entry.person_id],
            )
            x.run(
                "INSERT INTO roster (day, person_id, duty, note, edited_by) "
                "VALUES (%s, %s, %s, %s, %s)",
                [self._day(entry.day), entry.person_id, entry.duty, entry.note, entry.edited_by],
            )

    def roster(
        self, start: dt.date, end: dt.date, *, person_id: str | None = None
    ) -> list[RosterEntry]:
        """Roster cells from ``start`` to ``end`` inclusive, by day then person."""
        sql = (
            "SELECT day, person_id, duty, note, edited_by FROM roster WHERE day >= %s AND day <= %s"
        )
        params: list[Any] = [self._day(start), self._day(end)]
        if person_id is not None:
            sql += " AND person_id = %s"
            params.append(person_id)
        with self._read() as x:
            rows = x.rows(sql + " ORDER BY day, person_id", params)
        return [
            RosterEntry(
                day=parse_date(r["day"]),  # type: ignore[arg-type]
                person_id=r["person_id"],
                duty=r["duty"],
                note=r["note"] or "",
                edited_by=r["edited_by"] or "",
            )
            for r in rows
        ]

    # -- sign-ins --------------------------------------------------------------------
    def add_signin(self, s: SignIn) -> SignIn:
        """Store a sign-in; a second one for the same person, day and slot is refused.

        Raises
        ------
        ConflictError
            Naming when the first sign-in was made and by whom; nothing is stored.
        """
        with self._write() as x:
            first = x.rows(
                "SELECT at, recorded_by FROM signins WHERE person_id = %s AND day = %s "
                "AND slot = %s",
                [s.person_id, self._day(s.day), s.slot],
            )
            if first:
                at = parse_stored_instant(first[0]["at"])
                when = at.strftime("%H:%M") if at else "?"
                raise ConflictError(
                    f"{s.person_id} already signed in for the {s.slot} of {s.day} at {when} "
                    f"(recorded by {first[0]['recorded_by'] or s.person_id}); "
                    "nothing was stored twice"
                )
            x.run(
                f"INSERT INTO signins ({', '.join(_SIGNIN_COLS)}) "
                f"VALUES ({', '.join(['%s'] * len(_SIGNIN_COLS))})",
                [
                    s.person_id,
                    self._day(s.day),
                    s.slot,
                    self._time(s.at),
                    s.lon,
                    s.lat,
                    s.distance_m,
                    s.late,
                    s.out_of_fence,
                    s.recorded_by,
                    s.note,
                ],
            )
        return s

    def signins(
        self, start: dt.date, end: dt.date, *, person_id: str | None = None
    ) -> list[SignIn]:
        """Sign-ins from ``start`` to ``end`` inclusive, by day, slot and person."""
        sql = f"SELECT {', '.join(_SIGNIN_COLS)} FROM signins WHERE day >= %s AND day <= %s"
        params: list[Any] = [self._day(start), self._day(end)]
        if person_id is not None:
            sql += " AND person_id = %s"
            params.append(person_id)
        with self._read() as x:
            rows = x.rows(sql + " ORDER BY day, slot, person_id", params)
        return [
            SignIn(
                person_id=r["person_id"],
                day=parse_date(r["day"]),  # type: ignore[arg-type]
                slot=r["slot"],
                at=parse_stored_instant(r["at"]),  # type: ignore[arg-type]
                lon=r["lon"],
                lat=r["lat"],
                distance_m=r["distance_m"],
                late=bool(r["late"]),
                out_of_fence=bool(r["out_of_fence"]),
                recorded_by=r["recorded_by"] or "",
                note=r["note"] or "",
            )
            for r in rows
        ]

    # -- tracks ----------------------------------------------------------------------
    def add_track(self, track: Track) -> bool:
        """Store a cleaned track; False when the same track (id) is already stored."""
        if len(track.times) < 2:
            raise ValidationError(
                f"track {track.name or track.track_id} has fewer than two points",
                field="points",
                fix="record a longer track",
            )
        pts = [
            [t.astimezone(dt.UTC).isoformat(timespec="seconds"), lo, la]
            for t, lo, la in zip(track.times, track.lon, track.lat, strict=True)
        ]
        wkb = shapely.to_wkb(
            shapely.linestrings(list(zip(track.lon, track.lat, strict=True))), byte_order=1
        )
        with self._write() as x:
            if x.rows("SELECT 1 AS k FROM tracks WHERE track_id = %s", [track.track_id]):
                return False
            x.run(
                f"INSERT INTO tracks (geom, {', '.join(_TRACK_COLS)}) VALUES "
                f"({self._geom_sql()}, {', '.join(['%s'] * len(_TRACK_COLS))})",
                [
                    self._geom(wkb),
                    track.track_id,
                    track.person_id,
                    self._day(track.day),
                    self._time(track.started_at),
                    self._time(track.ended_at),
                    len(track.times),
                    track.source,
                    track.name,
                    track.uploaded_by,
                    json.dumps(list(track.notes), ensure_ascii=False),
                    json.dumps(pts),
                ],
            )
        return True

    def tracks(
        self,
        *,
        start: dt.date | None = None,
        end: dt.date | None = None,
        person_id: str | None = None,
    ) -> list[Track]:
        """Stored tracks in a day range and/or of one person, by start time."""
        clauses: list[str] = []
        params: list[Any] = []
        if start is not None:
            clauses.append("day >= %s")
            params.append(self._day(start))
        if end is not None:
            clauses.append("day <= %s")
            params.append(self._day(end))
        if person_id is not None:
            clauses.append("person_id = %s")
            params.append(person_id)
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        with self._read() as x:
            rows = x.rows(
                f"SELECT {', '.join(_TRACK_COLS)} FROM tracks{where} ORDER BY started_at",
                params,
            )
        out = []
        for r in rows:
            pts = json.loads(r["points"])
            out.append(
                Track(
                    track_id=r["track_id"],
                    person_id=r["person_id"],
                    day=parse_date(r["day"]),  # type: ignore[arg-type]
                    times=tuple(parse_stored_instant(p[0], required=True) for p in pts),
                    lon=tuple(float(p[1]) for p in pts),
                    lat=tuple(float(p[2]) for p in pts),
                    source=r["source"],
                    name=r["name"] or "",
                    uploaded_by=r["uploaded_by"] or "",
                    notes=tuple(json.loads(r["notes"] or "[]")),
                )
            )
        return out


def _check_duty(e: RosterEntry) -> None:
    if e.duty not in DUTIES:
        raise ValidationError(
            f"unknown duty {e.duty!r} for {e.person_id} on {e.day}",
            field="duty",
            fix=f"use one of {', '.join(DUTIES)}",
        )


def _person(r: dict[str, Any]) -> Person:
    return Person(
        person_id=r["person_id"],
        name=r["name"],
        team=r["team"] or "",
        role=r["role"],
        department=r["department"] or "",
        presence=r["presence"],
        phone=r["phone"] or "",
        active_from=parse_date(r["active_from"]),
        active_to=parse_date(r["active_to"]),
        fictitious=bool(r["fictitious"]),
        shift=r.get("shift") or "",
    )


def _assignment(r: dict[str, Any]) -> Assignment:
    return Assignment(
        segment_id=r["segment_id"],
        person_id=r["person_id"],
        valid_from=parse_date(r["valid_from"]),  # type: ignore[arg-type]
        valid_to=parse_date(r["valid_to"]),
        district_id=r["district_id"] or "",
        assigned_by=r["assigned_by"] or "",
    )
