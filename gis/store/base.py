"""The one Store interface both backends (GeoPackage, PostGIS) implement, and shared helpers."""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import datetime as dt
import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from gis.cases.categories import References, load_references
from gis.cases.intake import Report, case_from_report
from gis.cases.workflow import (
    CASE_FRAME_COLUMNS,
    OPEN_STATES,
    STATES,
    AuditEntry,
    Case,
    apply_action,
    creation_entry,
)
from gis.errors import ConflictError, MissingEvidenceError, ValidationError
from gis.geography.crs import METRIC, WGS84
from gis.localtime import LOCAL_TZ as TZ
from gis.localtime import parse_stored_instant
from gis.store.coordination import CoordinationTables
from gis.store.crowd import CrowdStore

if TYPE_CHECKING:
    from gis.geography.layers import Geography
    from gis.store.people import PeopleStore

#: Columns every backend keeps per case (geometry is stored natively as well).
CASE_COLUMNS: tuple[str, ...] = (
    "case_id",
    "content_hash",
    "category",
    "tier",
    "state",
    "source",
    "reported_at",
    "deadline_at",
    "closed_at",
    "zone_id",
    "front_id",
    "segment_id",
    "person_id",
    "lead_dept",
    "depts",
    "owner",
    "reporter",
    "description",
    "source_datum",
    "src_lon",
    "src_lat",
    "lon",
    "lat",
    "photo_sha256",
    "attributes",
    "flags",
    "joint",
    "deadline_hours",
    "version",
    "updated_by",
    "updated_at",
    "footprint",
)
TIME_COLUMNS = ("reported_at", "deadline_at", "closed_at", "updated_at")


@dataclass(frozen=True)
class AddResult:
    """What an import did: ids stored now, and ids already present (idempotent re-import).

    ``stored_as`` maps each skipped id to the id of the stored case it matched: itself when
    the id is known, the other case's id when the same content was stored under another id.
    """

    added: tuple[str, ...]
    skipped: tuple[str, ...]
    stored_as: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class CaseQuery:
    """Filters shared by list/query/frame calls; ``None`` means no filter."""

    zone_id: str | Sequence[str] | None = None
    state: str | Sequence[str] | None = None
    category: str | Sequence[str] | None = None
    dept: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    open_only: bool = False
    limit: int | None = None

    def states(self) -> list[str] | None:
        """The state filter as a list (open states when ``open_only``)."""
        states = _as_list(self.state)
        if self.open_only:
            states = [s for s in (states or OPEN_STATES) if s in OPEN_STATES]
        for s in states or []:
            if s not in STATES:
                raise ValidationError(f"unknown state {s!r}", field="state", fix=f"use {STATES}")
        return states


def _as_list(v: str | Sequence[str] | None) -> list[str] | None:
    if v is None:
        return None
    return [v] if isinstance(v, str) else list(v)


def as_list(v: str | Sequence[str] | None) -> list[str] | None:
    """A scalar-or-sequence filter as a list (``None`` stays ``None``)."""
    return _as_list(v)


def json_text(value: Mapping[str, Any]) -> str:
    """JSON text of a small mapping; the common empty/flag cases are memoised."""
    if not value:
        return "{}"
    try:
        return _json_cached(tuple(value.items()))
    except TypeError:  # unhashable values (joint arrivals)
        return json.dumps(
            {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in value.items()},
            ensure_ascii=False,
        )


@functools.lru_cache(maxsize=4096)
def _json_cached(items: tuple[tuple[str, Any], ...]) -> str:
    return json.dumps(dict(items), ensure_ascii=False)


def case_to_record(case: Case) -> dict[str, Any]:
    """Flatten a case into the store's column values (times stay datetimes)."""
    return {
        "case_id": case.case_id,
        "content_hash": case.content_hash or None,
        "category": case.category,
        "tier": case.tier,
        "state": case.state,
        "source": case.source,
        "reported_at": case.reported_at,
        "deadline_at": case.deadline_at,
        "closed_at": case.closed_at,
        "zone_id": case.zone_id,
        "front_id": case.front_id,
        "segment_id": case.segment_id,
        "person_id": case.person_id,
        "lead_dept": case.lead_dept,
        "depts": ";".join(case.depts),
        "owner": case.owner,
        "reporter": case.reporter,
        "description": case.description,
        "source_datum": case.source_datum,
        "src_lon": case.src_lon,
        "src_lat": case.src_lat,
        "lon": case.lon,
        "lat": case.lat,
        "photo_sha256": case.photo_sha256,
        "attributes": json_text(case.attributes),
        "flags": json_text(case.flags),
        "joint": json_text(case.joint),
        "deadline_hours": case.deadline_hours,
        "version": case.version,
        "updated_by": case.updated_by,
        "updated_at": case.updated_at,
        "footprint": case.footprint_wkb,
    }


def case_from_record(rec: Mapping[str, Any]) -> Case:
    """Rebuild a :class:`Case` from stored column values."""
    fp = rec.get("footprint")
    return Case(
        case_id=rec["case_id"],
        category=rec["category"],
        tier=rec["tier"],
        state=rec["state"],
        source=rec["source"],
        reported_at=parse_stored_instant(rec["reported_at"]),  # type: ignore[arg-type]
        lon=float(rec["lon"]),
        lat=float(rec["lat"]),
        lead_dept=rec["lead_dept"],
        owner=rec["owner"] or "",
        depts=tuple(d for d in (rec.get("depts") or "").split(";") if d),
        deadline_at=parse_stored_instant(rec.get("deadline_at")),
        closed_at=parse_stored_instant(rec.get("closed_at")),
        zone_id=rec.get("zone_id"),
        front_id=rec.get("front_id"),
        segment_id=rec.get("segment_id"),
        person_id=rec.get("person_id"),
        description=rec.get("description") or "",
        reporter=rec.get("reporter") or "",
        source_datum=rec.get("source_datum") or "wgs84",
        src_lon=rec.get("src_lon"),
        src_lat=rec.get("src_lat"),
        photo_sha256=rec.get("photo_sha256"),
        content_hash=rec.get("content_hash") or "",
        footprint_wkb=bytes(fp) if fp is not None else None,
        attributes=json.loads(rec.get("attributes") or "{}"),
        flags=json.loads(rec.get("flags") or "{}"),
        joint=json.loads(rec.get("joint") or "{}"),
        deadline_hours=float(rec.get("deadline_hours") or 24.0),
        version=int(rec["version"]),
        updated_by=rec.get("updated_by") or "",
        updated_at=parse_stored_instant(rec.get("updated_at")),
    )


def frame_from_columns(cols: Mapping[str, Sequence[Any]]) -> gpd.GeoDataFrame:
    """Build the case frame from column arrays (``lon``/``lat`` WGS 84 + frame columns)."""
    df = pd.DataFrame({c: cols[c] for c in CASE_FRAME_COLUMNS})
    for c in ("reported_at", "deadline_at", "closed_at"):
        df[c] = pd.to_datetime(df[c], utc=True, format="ISO8601").dt.tz_convert(TZ)
    for c in ("zone_id", "front_id", "segment_id", "person_id"):
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    lon = np.asarray(cols["lon"], dtype=float)
    lat = np.asarray(cols["lat"], dtype=float)
    x, y = _to_metric().transform(lon, lat)
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(x, y), crs=METRIC)


@functools.lru_cache(maxsize=1)
def _to_metric() -> Transformer:
    return Transformer.from_crs(WGS84, METRIC, always_xy=True)


def conflict_message(case_id: str, by: str, at: dt.datetime | None) -> str:
    """The loser's message in an optimistic-locking race."""
    when = at.astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S") if at else "an unknown time"
    return f"case {case_id} was changed by {by or 'someone'} at {when}; reload it and try again"


class Store(CrowdStore, CoordinationTables, abc.ABC):
    """Persistent cases, their audit trail and small named values.

    Every write is one transaction; imports are all-or-nothing and idempotent (by case id
    and content hash); transitions use optimistic versioning.
    """

    refs: References

    # -- writes ----------------------------------------------------------------
    @abc.abstractmethod
    def add_cases(self, cases: Sequence[Case], audit: Iterable[AuditEntry] = ()) -> AddResult:
        """Store new cases (with any extra audit entries beyond creation) in one transaction.

        Cases whose id or content hash is already stored are skipped, not updated.
        """

    def add_cases_stream(self, chunks: Iterable[Sequence[Case]]) -> tuple[int, int]:
        """Store chunks of new cases in ONE transaction; returns (added, skipped) counts.

        The chunks may come from a generator that validates as it goes: if it raises, the
        transaction rolls back and nothing is stored. Backends override this to hold only
        one chunk in memory; this fallback collects them and calls :meth:`add_cases`.
        """
        cases = [c for chunk in chunks for c in chunk]
        result = self.add_cases(cases)
        return len(result.added), len(result.skipped)

    def add_case_columns(self, chunks: Iterable[Any]) -> tuple[int, int]:
        """Store chunks of new cases given as columns (:class:`gis.cases.columns.CaseColumns`,
        from the batch intake) in ONE transaction; returns (added, skipped) counts.

        Backends write the columns directly (COPY, executemany); this fallback rebuilds
        the cases and calls :meth:`add_cases_stream`.
        """
        from gis.store.case_columns import records

        return self.add_cases_stream(
            [case_from_record(r) for r in records(chunk)] for chunk in chunks
        )

    def add_reports(
        self,
        reports: Sequence[Report],
        *,
        received_by: str,
        at: dt.datetime | None = None,
    ) -> AddResult:
        """Open one case per report (first receiver = ``received_by``), all or nothing."""
        cases = [case_from_report(r, self.refs, received_by=received_by, at=at) for r in reports]
        return self.add_cases(cases)

    @abc.abstractmethod
    def _transition(
        self,
        case_id: str,
        expected_version: int,
        step: Any,
        after: Any = None,
    ) -> Case:
        """Backend part of :meth:`apply_transition`: lock, compare version, write, audit,
        then ``after(exec, new_case, entry)`` in the same transaction."""

    def apply_transition(
        self,
        case_id: str,
        action: str,
        *,
        who: str,
        expected_version: int,
        at: dt.datetime | None = None,
        note: str = "",
        params: Mapping[str, Any] | None = None,
        now: dt.datetime | None = None,
        after: Any = None,
    ) -> Case:
        """Apply a workflow action if the case is still at ``expected_version``.

        ``after(exec, new_case, entry)``, when given, writes coordination rows (alerts,
        outcomes) in the same transaction: if it raises, the step is not stored either.

        ``mark_duplicate`` must name another stored, open case; ``call_joint`` departments
        must be in the reference table (names and aliases become codes); ``at`` may not lie
        in the future beyond :data:`gis.cases.workflow.CLOCK_SKEW` of ``now`` (default: the clock).

        Raises
        ------
        ConflictError
            Someone changed the case since it was read ("changed by X at T, reload").
        TransitionError
            The action is illegal from the case's state.
        NotFoundError
            No such case.
        """
        clock = now or dt.datetime.now(TZ)
        when = at or clock
        check_text(case_id, "case id")

        def resolve_dept(value: str) -> str:
            return self.refs.department(value).code

        def resolve_case(other: str) -> Case:
            check_text(other, "duplicate_of")
            return self.get_case(other)

        def step(case: Case, seq: int) -> tuple[Case, AuditEntry]:
            if case.version != expected_version:
                raise ConflictError(conflict_message(case_id, case.updated_by, case.updated_at))
            moved = apply_action(
                case,
                action,
                who=who,
                at=when,
                note=note,
                params=params,
                seq=seq,
                now=clock,
                resolve_case=resolve_case,
                resolve_dept=resolve_dept,
            )
            if action == "close_rectified" and not str(note or "").strip():
                self._require_after_photo(case_id)
            return moved

        return self._transition(case_id, expected_version, step, after)

    def _require_after_photo(self, case_id: str) -> None:
        """已整改 needs proof: an after photo, or a person's note saying why there is none."""
        rows = self.coord_rows(
            "coord_photos", {"case_id": case_id, "kind": "after"}, columns=["photo_id"]
        )
        if not rows:
            raise MissingEvidenceError(
                f"case {case_id}: closing as rectified (已整改) needs an after photo "
                "(patrol photo add CASE FILE --kind after) or a note saying why there is none"
            )

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """One transaction around several writes: every write of this thread inside it
        joins it, so a failure anywhere leaves nothing stored (reporter intake, closing a
        joint action). Backends implement it."""
        raise NotImplementedError(f"{type(self).__name__} has no transaction()")

    @abc.abstractmethod
    def set_meta(self, key: str, value: str) -> None:
        """Store a named value (room for staff, users and settings tables to come)."""

    # -- reads -----------------------------------------------------------------
    @abc.abstractmethod
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """A named value, or ``default``."""

    @abc.abstractmethod
    def get_case(self, case_id: str) -> Case:
        """One case; raises NotFoundError."""

    @abc.abstractmethod
    def query_cases(self, query: CaseQuery | None = None, **filters: Any) -> list[Case]:
        """Cases matching the filters (zone, state, category, department, time range)."""

    @abc.abstractmethod
    def cases_frame(self, query: CaseQuery | None = None, **filters: Any) -> gpd.GeoDataFrame:
        """The case frame (EPSG:32650) for the filters: the contract with hotspots/reports."""

    @abc.abstractmethod
    def audit_trail(self, case_id: str) -> list[AuditEntry]:
        """Every recorded step of a case, oldest first."""

    @abc.abstractmethod
    def count_cases(self) -> int:
        """Number of stored cases."""

    @property
    def people(self) -> PeopleStore:
        """Staff, dated assignments, roster, sign-ins and tracks (:mod:`gis.store.people`)."""
        raise NotImplementedError(f"{type(self).__name__} keeps no people tables")

    # -- geography ---------------------------------------------------------------
    def save_geography(self, geo: Geography, *, by: str = "") -> dict[str, int]:
        """Replace this store's subdistrict's geography layers (boundary, lakes, fronts,
        zones, streets, segments, POIs) with ``geo``'s, in its metric CRS, in one
        transaction; other subdistricts' layers stay. Returns the features per layer."""
        raise NotImplementedError(f"{type(self).__name__} keeps no geography layers")

    def read_geography(self) -> Geography:
        """This store's subdistrict's stored geography: the same layers, ids, names,
        columns and geometries as were saved, in the same CRS. NotFoundError when none."""
        raise NotImplementedError(f"{type(self).__name__} keeps no geography layers")

    def geography_subdistricts(self) -> list[str]:
        """The subdistricts whose geography the store holds, in code order."""
        raise NotImplementedError(f"{type(self).__name__} keeps no geography layers")

    def geography_version(self) -> str | None:
        """A text that changes whenever this subdistrict's layers are replaced (a cache
        key), None when the store holds none."""
        raise NotImplementedError(f"{type(self).__name__} keeps no geography layers")

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_text(value: Any, name: str) -> str:
    """Refuse a text key (case id, filter value) that no stored record can have.

    NUL bytes cannot be stored in PostgreSQL text (psycopg2 raises a bare ValueError) and
    are refused at intake, so a key containing one is bad input, not a missing record.
    """
    text = str(value)
    if "\x00" in text:
        raise ValidationError(
            f"{name} contains a NUL byte", field=name, fix="type it again as plain text"
        )
    return text


_CASE_TEXT_FIELDS = (
    "case_id",
    "category",
    "tier",
    "state",
    "source",
    "lead_dept",
    "owner",
    "reporter",
    "description",
    "source_datum",
    "updated_by",
    "zone_id",
    "front_id",
    "segment_id",
    "person_id",
    "content_hash",
    "photo_sha256",
)


def check_case_text(cases: Sequence[Case], audit: Sequence[AuditEntry] = ()) -> None:
    """Refuse a batch that holds a NUL byte in any text: both stores then keep the same."""
    for c in cases:
        for name in _CASE_TEXT_FIELDS:
            v = getattr(c, name)
            if isinstance(v, str) and "\x00" in v:
                raise ValidationError(
                    f"case {c.case_id.replace(chr(0), '?')!r}: {name} contains a NUL byte",
                    field=name,
                    fix="remove control characters from the text; nothing was stored",
                )
        for d in c.depts:
            check_text(d, "depts")
    for a in audit:
        for v in (a.who, a.note, a.action):
            check_text(v, "audit")


def make_query(query: CaseQuery | None, filters: Mapping[str, Any]) -> CaseQuery:
    """Merge a CaseQuery and keyword filters; refuse a negative limit and NUL bytes."""
    q = query or CaseQuery()
    q = dataclasses.replace(q, **filters) if filters else q
    if q.limit is not None:
        try:
            limit = int(q.limit)
        except (TypeError, ValueError):
            raise ValidationError(
                f"limit {q.limit!r} is not a whole number", field="limit", fix="give 1 or more"
            ) from None
        if limit < 1:
            raise ValidationError(
                f"limit {limit} must be at least 1", field="limit", fix="give 1 or more"
            )
    for name in ("zone_id", "state", "category", "dept"):
        for v in _as_list(getattr(q, name)) or []:
            check_text(v, name)
    return q


def creation_entries(cases: Sequence[Case]) -> list[AuditEntry]:
    """The creation audit entry of each case."""
    return [creation_entry(c) for c in cases]


def default_refs(refs: References | None) -> References:
    """The bundled reference tables unless others are given."""
    return refs if refs is not None else load_references()
