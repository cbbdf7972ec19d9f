"""The enforcement workflow: one explicit state machine, its audit trail, deadlines and tiers.

Every case moves through the states in :data:`STATES` only by the actions listed in
:data:`TRANSITIONS`; :func:`apply_action` is the single place that changes a case. It is pure:
it returns a new :class:`Case` and the :class:`AuditEntry` that records who did what, when,
from which state to which, and why. Stores persist both in one transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from gis.errors import TransitionError, ValidationError
from gis.geography.crs import METRIC, WGS84
from gis.localtime import LOCAL_TZ as TZ
from gis.localtime import parse_stored_instant

#: Local time of every timestamp shown to users (stores keep UTC).

#: Every workflow state, in workflow order. The case frame's ``state`` uses exactly these.
STATES: tuple[str, ...] = (
    "reported",  # 采集: found by patrol, video, complaint, 12345 or inspection
    "registered",  # 立案
    "notice_served",  # 限期整改: notice with a deadline
    "rechecking",  # 复查
    "joint_enforcement",  # 吹哨报到: joint on-site enforcement called
    "handled",  # 联合处置完毕, waiting for verification
    "closed",  # 结案 (rectified, or 核查结案 after joint enforcement)
    "rejected",  # 不予立案
    "duplicate",  # 重复上报
)
#: States that end a case.
TERMINAL_STATES: frozenset[str] = frozenset({"closed", "rejected", "duplicate"})
#: States of a case that still needs work.
OPEN_STATES: tuple[str, ...] = tuple(s for s in STATES if s not in TERMINAL_STATES)

#: state -> {action: next state}. The only legal moves; anything else raises TransitionError.
TRANSITIONS: dict[str, dict[str, str]] = {
    "reported": {
        "register": "registered",
        "reject": "rejected",
        "mark_duplicate": "duplicate",
        "escalate": "reported",
    },
    "registered": {
        "serve_notice": "notice_served",
        "call_joint": "joint_enforcement",  # emergencies skip the notice
        "reject": "rejected",
        "mark_duplicate": "duplicate",
        "escalate": "registered",
    },
    "notice_served": {"recheck": "rechecking", "escalate": "notice_served"},
    "rechecking": {
        "close_rectified": "closed",
        "call_joint": "joint_enforcement",
        "escalate": "rechecking",
    },
    "joint_enforcement": {
        "record_arrival": "joint_enforcement",
        "handle": "handled",
        "escalate": "joint_enforcement",
    },
    "handled": {"verify_close": "closed"},
    "closed": {},
    "rejected": {},
    "duplicate": {},
}

TIERS: tuple[str, ...] = ("general", "major", "emergency")
SOURCES: tuple[str, ...] = (
    "patrol",
    "video",
    "complaint",
    "hotline_12345",
    "inspection",
    # community reporters (schema 5): 西城大妈, 网格员, 文明劝导队, residents
    "xicheng_dama",
    "grid_worker",
    "civility_team",
    "resident",
)
#: Departments must be on site within this time after the whistle (街道吹哨、部门报到).
ARRIVAL_LIMIT = dt.timedelta(minutes=30)
#: Fallback notice deadline when neither the caller nor the category gives one.
DEFAULT_DEADLINE_HOURS = 24.0
#: Longest notice deadline accepted (hours after the step): half a year. Longer ones are
#: typing mistakes (``--hours 1e6`` would set a deadline a century ahead).
MAX_DEADLINE_HOURS = 24.0 * 183
#: A step may be dated at most this far after the server's clock (phones and PCs drift);
#: a step dated later would make every real step that follows look out of order.
CLOCK_SKEW = dt.timedelta(minutes=10)
#: Longest note, who or parameter text kept in the audit trail (characters).
MAX_NOTE = 2000

#: Columns of the case frame (the contract with hotspots, reports and the app).
CASE_FRAME_COLUMNS: tuple[str, ...] = (
    "case_id",
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
    "description",
)


def require_aware(value: dt.datetime, *, field_name: str = "at") -> dt.datetime:
    """Refuse naive datetimes: a case timeline mixing clocks is worse than an error."""
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValidationError(
            f"{value!r} has no time zone",
            field=field_name,
            fix="pass a tz-aware datetime, e.g. datetime.now(gis.cases.workflow.TZ)",
        )
    return value


def tier_flags(tier: str) -> dict[str, bool]:
    """Plan flags a tier sets: major starts the contingency plan, emergency also escalates."""
    if tier not in TIERS:
        raise ValidationError(f"unknown tier {tier!r}", field="tier", fix=f"use one of {TIERS}")
    return {
        "contingency_plan": tier in ("major", "emergency"),
        "immediate_plan": tier == "emergency",
        "escalated": tier == "emergency",
    }


@dataclass(frozen=True)
class AuditEntry:
    """One step in a case's history: who moved it, when, from where to where, and why."""

    case_id: str
    seq: int
    action: str
    from_state: str | None
    to_state: str
    who: str
    at: dt.datetime
    note: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """A violation on its way through the workflow (one report opens one case).

    ``lon``/``lat`` are WGS 84 (storage datum); ``src_lon``/``src_lat`` and ``source_datum``
    keep what the reporter sent. ``owner`` is the first receiver (首问负责) and never changes.
    ``joint`` maps department code -> ``{"called_at": iso, "arrived_at": iso | None}``.
    """

    case_id: str
    category: str
    tier: str
    state: str
    source: str
    reported_at: dt.datetime
    lon: float
    lat: float
    lead_dept: str
    owner: str
    depts: tuple[str, ...] = ()
    deadline_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    zone_id: str | None = None
    front_id: str | None = None
    segment_id: str | None = None
    person_id: str | None = None
    description: str = ""
    reporter: str = ""
    source_datum: str = "wgs84"
    src_lon: float | None = None
    src_lat: float | None = None
    photo_sha256: str | None = None
    content_hash: str = ""
    footprint_wkb: bytes | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    flags: Mapping[str, bool] = field(default_factory=dict)
    joint: Mapping[str, Mapping[str, str | None]] = field(default_factory=dict)
    deadline_hours: float = DEFAULT_DEADLINE_HOURS
    version: int = 1
    updated_by: str = ""
    updated_at: dt.datetime | None = None

    @property
    def is_open(self) -> bool:
        """True until the case is closed, rejected or marked duplicate."""
        return self.state not in TERMINAL_STATES

    def is_overdue(self, now: dt.datetime) -> bool:
        """An open case whose deadline has passed."""
        require_aware(now, field_name="now")
        return self.is_open and self.deadline_at is not None and now > self.deadline_at

    def all_depts(self) -> tuple[str, ...]:
        """Lead, participating and called departments (for "cases of my department")."""
        seen = dict.fromkeys((self.lead_dept, *self.depts, *self.joint.keys()))
        return tuple(d for d in seen if d)


def allowed_actions(state: str) -> tuple[str, ...]:
    """Actions the state machine allows from ``state``."""
    if state not in TRANSITIONS:
        raise TransitionError(f"unknown state {state!r}; states are {STATES}")
    return tuple(TRANSITIONS[state])


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def _require_text(case_id: str, name: str, value: str, *, limit: int = MAX_NOTE) -> str:
    """Refuse text the stores cannot keep faithfully (NUL bytes) or that is absurdly long."""
    text = str(value)
    if "\x00" in text:
        raise TransitionError(
            f"case {case_id}: {name} contains a NUL byte; type it again as plain text"
        )
    if len(text) > limit:
        raise TransitionError(
            f"case {case_id}: {name} is {len(text)} characters; shorten it to {limit}"
        )
    return text


def _require_not_future(
    case: Case, action: str, at: dt.datetime, now: dt.datetime, max_skew: dt.timedelta
) -> None:
    """A step cannot be dated in the future beyond a small clock skew.

    A step dated in 2035 would be accepted once and then refuse every real step as
    "before its last change": the case would be stuck for good.
    """
    if at > now + max_skew:
        raise TransitionError(
            f"case {case.case_id}: '{action}' at {at.isoformat()} is in the future "
            f"(now {now.isoformat(timespec='minutes')}); check --at and the computer's clock"
        )


def _require_in_order(case: Case, action: str, at: dt.datetime) -> None:
    """A step cannot predate the report or the case's last step.

    Out-of-order steps would scramble the audit trail and give negative durations
    (hours to close, arrival minutes) in the reports.
    """
    if at < case.reported_at:
        raise TransitionError(
            f"case {case.case_id}: '{action}' at {at.isoformat()} is before the case was "
            f"reported ({case.reported_at.isoformat()}); check --at"
        )
    # version 1 has had no step yet; its updated_at is when it was typed in, which may be
    # after a back-dated paper record's steps
    if case.version > 1 and case.updated_at is not None and at < case.updated_at:
        raise TransitionError(
            f"case {case.case_id}: '{action}' at {at.isoformat()} is before its last change "
            f"({case.updated_at.isoformat()}); steps are recorded in time order, check --at"
        )


def apply_action(
    case: Case,
    action: str,
    *,
    who: str,
    at: dt.datetime,
    note: str = "",
    params: Mapping[str, Any] | None = None,
    seq: int = 0,
    now: dt.datetime | None = None,
    max_skew: dt.timedelta = CLOCK_SKEW,
    resolve_case: Callable[[str], Case] | None = None,
    resolve_dept: Callable[[str], str] | None = None,
) -> tuple[Case, AuditEntry]:
    """Move ``case`` by ``action`` and return the new case and its audit entry.

    Parameters
    ----------
    case
        The case as last read (its ``version`` is what optimistic locking compares).
    action
        One of ``TRANSITIONS[case.state]``.
    who
        The user or staff id doing it (recorded, never inferred).
    at
        When it happened (tz-aware).
    note
        Free text for the audit trail; ``reject`` requires one.
    params
        Action-specific: ``serve_notice``: ``deadline`` (datetime) or ``hours``;
        ``register``: optional ``tier``; ``call_joint``: ``depts`` (codes; default lead and
        participating departments); ``record_arrival``: ``dept`` and optional ``arrived_at``;
        ``mark_duplicate``: ``duplicate_of``.
    seq
        The audit sequence number the store assigns.
    now
        The clock to compare ``at`` against (default: the current time).
    max_skew
        How far after ``now`` a step may be dated (:data:`CLOCK_SKEW`).
    resolve_case
        Looks up another case by id (raises :class:`~gis.errors.NotFoundError`); stores pass
        it so that ``mark_duplicate`` can only point at an existing, open case. Without it a
        duplicate target is checked by id only.
    resolve_dept
        Turns a department code, name or alias into its code (raises
        :class:`~gis.errors.NotFoundError` for unknown ones); stores pass the reference
        table's lookup so that ``call_joint`` refuses unknown departments.

    Raises
    ------
    TransitionError
        When the action is not allowed from the case's state, its parameters are wrong, or
        ``at`` is before the case was reported or last changed, or in the future.
    """
    from gis.errors import NotFoundError

    params = dict(params or {})
    require_aware(at)
    now = require_aware(now, field_name="now") if now is not None else dt.datetime.now(TZ)
    if not str(who).strip():
        raise TransitionError(f"case {case.case_id}: '{action}' needs who did it")
    who = _require_text(case.case_id, "who", who, limit=64)
    note = _require_text(case.case_id, "the note", note or "")
    allowed = TRANSITIONS.get(case.state, {})
    if action not in allowed:
        raise TransitionError(
            f"case {case.case_id} is '{case.state}'; '{action}' is not allowed there "
            f"(allowed: {', '.join(allowed) or 'nothing, the case is finished'})"
        )
    _require_not_future(case, action, at, now, max_skew)
    _require_in_order(case, action, at)
    target = allowed[action]
    changes: dict[str, Any] = {}
    recorded: dict[str, Any] = {}
    if action == "register" and "tier" in params:
        tier = str(params["tier"])
        changes["tier"] = tier
        changes["flags"] = {**case.flags, **tier_flags(tier)}
        recorded["tier"] = tier
    elif action == "serve_notice":
        if params.get("deadline") is not None:
            deadline = require_aware(params["deadline"], field_name="deadline")
        else:
            raw_hours = params.get("hours", case.deadline_hours)
            try:
                hours = float(raw_hours)
            except (TypeError, ValueError):
                raise TransitionError(
                    f"case {case.case_id}: deadline hours {raw_hours!r} is not a number"
                ) from None
            if not np.isfinite(hours) or hours <= 0 or hours > MAX_DEADLINE_HOURS:
                raise TransitionError(
                    f"case {case.case_id}: deadline hours {hours:g} must be more than 0 and at "
                    f"most {MAX_DEADLINE_HOURS:g} (half a year); check --hours"
                )
            deadline = at + dt.timedelta(hours=hours)
        if deadline - at > dt.timedelta(hours=MAX_DEADLINE_HOURS):
            raise TransitionError(
                f"case {case.case_id}: deadline {deadline.isoformat()} is more than "
                f"{MAX_DEADLINE_HOURS:g} hours (half a year) after the notice; check --deadline"
            )
        if deadline <= at:
            raise TransitionError(
                f"case {case.case_id}: deadline {deadline.isoformat()} is not after {at.isoformat()}"
            )
        changes["deadline_at"] = deadline
        recorded["deadline"] = _iso(deadline)
    elif action == "call_joint":
        depts = tuple(params.get("depts") or (case.lead_dept, *case.depts))
        if not depts:
            raise TransitionError(f"case {case.case_id}: call_joint needs departments")
        if resolve_dept is not None:
            codes: list[str] = []
            for d in depts:
                try:
                    code = resolve_dept(_require_text(case.case_id, "a department", d, limit=64))
                except NotFoundError:
                    raise TransitionError(
                        f"case {case.case_id}: unknown department {str(d)[:64]!r}; "
                        "use a code or name from data/departments.csv"
                    ) from None
                if code not in codes:
                    codes.append(code)
            depts = tuple(codes)
        joint = {k: dict(v) for k, v in case.joint.items()}
        for d in depts:
            joint.setdefault(d, {"called_at": _iso(at), "arrived_at": None})
        changes["joint"] = joint
        recorded["depts"] = list(depts)
    elif action == "record_arrival":
        dept = str(params.get("dept"))
        if dept not in case.joint:
            raise TransitionError(
                f"case {case.case_id}: department {dept!r} was not called "
                f"(called: {', '.join(case.joint) or 'none'})"
            )
        arrived = require_aware(params.get("arrived_at") or at, field_name="arrived_at")
        _require_not_future(case, action, arrived, now, max_skew)
        called = parse_stored_instant(case.joint[dept]["called_at"], required=True)
        if arrived < called:
            raise TransitionError(
                f"case {case.case_id}: {dept} cannot arrive ({arrived.isoformat()}) "
                f"before it was called ({called.isoformat()})"
            )
        joint = {k: dict(v) for k, v in case.joint.items()}
        joint[dept]["arrived_at"] = _iso(arrived)
        changes["joint"] = joint
        recorded.update(
            dept=dept,
            arrived_at=_iso(arrived),
            minutes=round((arrived - called).total_seconds() / 60.0, 1),
            within_limit=(arrived - called) <= ARRIVAL_LIMIT,
        )
    elif action == "handle":
        missing = [d for d, v in case.joint.items() if not v.get("arrived_at")]
        recorded["not_arrived"] = missing
    elif action == "reject" and not note.strip():
        raise TransitionError(f"case {case.case_id}: rejecting needs a note saying why")
    elif action == "mark_duplicate":
        dup = str(params.get("duplicate_of") or "").strip()
        if not dup or dup == case.case_id:
            raise TransitionError(
                f"case {case.case_id}: mark_duplicate needs duplicate_of (another case id)"
            )
        dup = _require_text(case.case_id, "duplicate_of", dup, limit=128)
        if resolve_case is not None:
            try:
                original = resolve_case(dup)
            except NotFoundError:
                raise TransitionError(
                    f"case {case.case_id}: duplicate_of {dup!r} is not a stored case; "
                    "give the id of the original case (patrol cases list)"
                ) from None
            if not original.is_open:
                raise TransitionError(
                    f"case {case.case_id}: the original case {dup} is already "
                    f"'{original.state}'; a new report of a finished case is not a duplicate, "
                    "register it instead"
                )
        recorded["duplicate_of"] = dup
    elif action == "escalate":
        changes["flags"] = {**case.flags, "escalated": True}
    if target in TERMINAL_STATES:
        changes["closed_at"] = at
    new = dataclasses.replace(
        case,
        state=target,
        version=case.version + 1,
        updated_by=who,
        updated_at=at,
        **changes,
    )
    entry = AuditEntry(
        case_id=case.case_id,
        seq=seq,
        action=action,
        from_state=case.state,
        to_state=target,
        who=who,
        at=at,
        note=note,
        params=recorded,
    )
    return new, entry


def creation_entry(case: Case) -> AuditEntry:
    """The first audit entry of every case (who received it: 首问负责).

    A new case (version 1) was received at ``updated_at``; a case stored with its history
    already advanced (imports, demo data) is dated by its report time.
    """
    received = case.updated_at if case.version == 1 and case.updated_at else case.reported_at
    return AuditEntry(
        case_id=case.case_id,
        seq=0,
        action="report",
        from_state=None,
        to_state="reported",
        who=case.owner,
        at=received,
        note="",
        params={"source": case.source, "reporter": case.reporter},
    )


def arrivals_frame(case: Case) -> pd.DataFrame:
    """Per called department: called_at, arrived_at, minutes and whether within 30 minutes."""
    rows = []
    for dept, v in case.joint.items():
        called = parse_stored_instant(v["called_at"], required=True)
        arrived = parse_stored_instant(v.get("arrived_at"))
        minutes = (arrived - called).total_seconds() / 60.0 if arrived else np.nan
        rows.append(
            {
                "dept": dept,
                "called_at": called,
                "arrived_at": arrived,
                "minutes": minutes,
                "within_limit": bool(arrived and (arrived - called) <= ARRIVAL_LIMIT),
            }
        )
    return pd.DataFrame(
        rows, columns=["dept", "called_at", "arrived_at", "minutes", "within_limit"]
    )


def content_hash(parts: Sequence[object]) -> str:
    """Stable hash of a report's identifying content (idempotent re-imports)."""
    text = json.dumps([str(p) for p in parts], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _ts(values: Sequence[dt.datetime | None]) -> pd.Series:
    s = pd.to_datetime(pd.Series(list(values), dtype=object), utc=True)
    return s.dt.tz_convert(TZ)


def cases_to_frame(cases: Sequence[Case], *, extra: bool = False) -> gpd.GeoDataFrame:
    """The case frame (EPSG:32650) with exactly :data:`CASE_FRAME_COLUMNS` plus geometry.

    With ``extra=True`` it also carries owner, reporter, version, depts, flags and the
    source coordinates (for exports and the detail view).
    """
    data: dict[str, Any] = {c: [getattr(k, c) for k in cases] for c in CASE_FRAME_COLUMNS}
    for c in ("reported_at", "deadline_at", "closed_at"):
        data[c] = _ts(data[c]).to_numpy() if cases else pd.Series([], dtype="datetime64[ns, UTC]")
    if extra:
        data["owner"] = [k.owner for k in cases]
        data["reporter"] = [k.reporter for k in cases]
        data["version"] = [k.version for k in cases]
        data["depts"] = [";".join(k.depts) for k in cases]
        data["source_datum"] = [k.source_datum for k in cases]
        data["src_lon"] = [k.src_lon for k in cases]
        data["src_lat"] = [k.src_lat for k in cases]
        data["attributes"] = [json.dumps(dict(k.attributes), ensure_ascii=False) for k in cases]
        data["flags"] = [json.dumps(dict(k.flags)) for k in cases]
    geoms = gpd.GeoSeries([Point(k.lon, k.lat) for k in cases], crs=WGS84).to_crs(METRIC)
    frame = pd.DataFrame(data)
    for c in ("reported_at", "deadline_at", "closed_at"):
        frame[c] = pd.to_datetime(frame[c], utc=True).dt.tz_convert(TZ)
    return gpd.GeoDataFrame(frame, geometry=geoms.values, crs=METRIC)


def overdue_mask(frame: pd.DataFrame, now: dt.datetime) -> pd.Series:
    """Vectorised overdue flag over a case frame: open and past its deadline."""
    require_aware(now, field_name="now")
    open_ = ~frame["state"].isin(TERMINAL_STATES)
    past = frame["deadline_at"].notna() & (frame["deadline_at"] < pd.Timestamp(now))
    return open_ & past
