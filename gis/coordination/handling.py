"""The tiered handling of a case: register with its tier, approve, serve the notice, escalate.

Each function is one store transaction: the workflow step and the alerts it raises are
stored together or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pandas as pd

from gis.access.users import User
from gis.cases.workflow import Case
from gis.coordination import alerts
from gis.coordination.policy import (
    escalation_level,
    handling,
    load_checklist,
    notice_params,
)
from gis.errors import AuthError, TransitionError, ValidationError
from gis.localtime import LOCAL_TZ as TZ

#: Finds the on-duty people to alert for an emergency at a case: returns person ids.
Responders = Callable[[Case], list[str]]


def _now(at: dt.datetime | None) -> dt.datetime:
    return at or dt.datetime.now(TZ)


def register_case(
    store: Any,
    case_id: str,
    user: User | str,
    *,
    tier: str | None = None,
    at: dt.datetime | None = None,
    responders: Responders | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    """Register (立案) a case with its tier and raise what the tier asks for.

    重大: an approval request to the area chiefs and a banner for leadership. 突发: a banner
    for leadership, the emergency checklist, and a call to every on-duty person that
    ``responders`` finds within walking distance. ``expected_version`` (the version a form
    was drawn for) refuses a case someone changed meanwhile. ``user`` is the person (or
    their user name) who registers it.
    """
    who = user if isinstance(user, str) else user.username
    case = store.get_case(case_id)
    version = case.version if expected_version is None else expected_version
    tier = tier or case.tier
    h = handling(tier)
    when = _now(at)
    people = responders(case) if (responders and h.emergency_checklist) else []
    steps = load_checklist() if h.emergency_checklist else ()

    def after(ex: Any, new: Case, entry: Any) -> None:
        rows = []
        if h.alert_leadership:
            rows.append(alerts.new_alert(tier, "role:leadership", at=when, case_id=case_id,
                                         alert_id=f"{case_id}:{tier}:leadership"))  # fmt: skip
        if h.chief_approval:
            rows.append(alerts.new_alert("approval", "role:area_chief", at=when,
                                         case_id=case_id, alert_id=f"{case_id}:approval"))  # fmt: skip
        for p in people:
            rows.append(alerts.new_alert("emergency_call", f"person:{p}", at=when,
                                         case_id=case_id, alert_id=f"{case_id}:call:{p}"))  # fmt: skip
        for s in steps:
            rows.append(alerts.new_alert("checklist", f"case:{case_id}", at=when,
                                         case_id=case_id, alert_id=f"{case_id}:step:{s.code}",
                                         note=s.name_zh, params={"code": s.code}))  # fmt: skip
        for r in rows:
            ex.insert(alerts.TABLE, r)

    return store.apply_transition(
        case_id,
        "register",
        who=who,
        expected_version=version,
        at=when,
        note=note,
        params={"tier": tier},
        after=after,
    )


#: The store's named value holding the saved districts (segment → person), as the app saves it.
ASSIGNMENT_META = "districts.assignment"


#: Roster duties of people who can be called to the scene (shifts and on call).
ON_DUTY = frozenset({"morning", "midday", "evening", "on_call"})


def duty_roster(store: Any, day: dt.date) -> pd.DataFrame | None:
    """The people on duty on ``day`` with their district's streets (dated assignments).

    None when the store keeps no roster for that day (then the saved districts stand in).
    """
    people = getattr(store, "people", None)
    if people is None:
        return None
    entries = [e for e in people.roster(day, day) if e.duty in ON_DUTY]
    if not entries:
        return None
    on_duty = {e.person_id for e in entries}
    rows = [
        {"person_id": a.person_id, "segment_id": a.segment_id}
        for a in people.assignments_on(day)
        if a.person_id in on_duty
    ]
    return pd.DataFrame(rows, columns=["person_id", "segment_id"]) if rows else None


def assignment_responders(
    store: Any, gdf_segments: Any, *, roster: pd.DataFrame | None = None, max_m: float | None = None
) -> Responders | None:
    """Finds on-duty people within walking distance of a case.

    ``roster`` (``person_id`` with ``x``/``y`` or ``segment_id``) overrides; by default the
    store's duty roster of today (people on a shift or on call, with their dated
    districts), else the saved district assignment (everyone answers for their district's
    streets). None when there is neither.
    """
    import json

    import geopandas as gpd
    from shapely.geometry import Point

    from gis.coordination.policy import EMERGENCY_WALK_M, people_within_walk, roster_from_assignment
    from gis.geography.crs import WGS84

    if roster is None:
        roster = duty_roster(store, dt.datetime.now(TZ).date())
    if roster is None:
        raw = store.get_meta(ASSIGNMENT_META)
        if not raw:
            return None
        roster = roster_from_assignment(dict(json.loads(raw)))
    crs = gdf_segments.crs

    def find(case: Case) -> list[str]:
        p = gpd.GeoSeries([Point(case.lon, case.lat)], crs=WGS84).to_crs(crs).iloc[0]
        found = people_within_walk(gdf_segments, p, roster, max_m=max_m or EMERGENCY_WALK_M)
        return list(found.person_id)

    return find


def may_approve(user: User, case: Case) -> bool:
    """Leadership, or the area chief whose zones or fronts hold the case."""
    from gis.access.authorization import in_scope

    if user.role == "leadership":
        return True
    return user.role == "area_chief" and in_scope(user, alerts.case_resource(case))


def approve(store: Any, case_id: str, user: User, *, at: dt.datetime | None = None) -> dict:
    """The responsible area chief (or leadership) approves the handling of a 重大 case.

    Only the chief of the case's zone or front may: another zone's chief is refused.
    """
    if user.role not in ("area_chief", "leadership"):
        raise AuthError(f"user {user.username!r} ({user.role}) may not approve; an area chief may")
    case = store.get_case(case_id)
    if not may_approve(user, case):
        where = case.zone_id or case.front_id or "no zone"
        raise AuthError(
            f"user {user.username!r} may not approve case {case_id}: it lies in {where}, "
            f"outside their zones ({', '.join(user.zones + user.fronts) or 'none'}); the area "
            "chief of that zone or leadership approves"
        )
    rows = store.coord_rows(alerts.TABLE, {"alert_id": f"{case_id}:approval"})
    if not rows:
        raise ValidationError(f"case {case_id} needs no approval (not registered as 重大)")
    if rows[0]["ack_at"] is not None:
        return rows[0]
    return alerts.record_ack(store, rows[0], user.username, at=at, note="approved")


def serve_notice(
    store: Any,
    case_id: str,
    user: User,
    *,
    hours: float | None = None,
    reason: str = "",
    at: dt.datetime | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    """Serve the notice with the rule's deadline (or ``hours`` with a reason).

    A 重大 case needs its approval first. ``note`` is kept when the deadline is the rule's
    (another deadline's note says why it differs).
    """
    case = store.get_case(case_id)
    version = case.version if expected_version is None else expected_version
    if handling(case.tier).chief_approval:
        rows = store.coord_rows(alerts.TABLE, {"alert_id": f"{case_id}:approval"})
        if not rows or rows[0]["ack_at"] is None:
            raise TransitionError(
                f"case {case_id} is 重大 (major): an area chief approves before the notice "
                "(patrol dispatch approve CASE --user NAME)"
            )
    params, extra = notice_params(case, store.refs, hours=hours, reason=reason)
    return store.apply_transition(
        case_id,
        "serve_notice",
        who=user.username,
        expected_version=version,
        at=_now(at),
        note=extra or note,
        params=params,
    )


def complete_step(
    store: Any, case_id: str, code: str, user: User, *, at: dt.datetime | None = None
) -> dict:
    """Tick one step of a case's emergency checklist (its time is recorded)."""
    alert_id = f"{case_id}:step:{code}"
    rows = store.coord_rows(alerts.TABLE, {"alert_id": alert_id})
    if not rows:
        raise ValidationError(
            f"case {case_id} has no checklist step {code[:40]!r}", field="step",
            fix="see the case's checklist (patrol dispatch show CASE)",
        )  # fmt: skip
    return alerts.record_ack(store, rows[0], user.username, at=at)


def is_approved(store: Any, case_id: str) -> dict | None:
    """The approval row of a 重大 case once approved, else None."""
    rows = store.coord_rows(alerts.TABLE, {"alert_id": f"{case_id}:approval"})
    return rows[0] if rows and rows[0]["ack_at"] is not None else None


def plan_missing(store: Any, case: Case) -> bool:
    """True when a 重大/突发 case has no joint-enforcement plan (joint action) targeting it."""
    if not handling(case.tier).plan_required:
        return False
    for row in store.coord_rows("coord_joint_actions"):
        if case.case_id in (row["target_cases"] or "").split(";"):
            return False
    return True


def escalate_overdue(
    store: Any, *, now: dt.datetime | None = None, who: str = "system"
) -> pd.DataFrame:
    """Escalate every open case past its deadline: area chiefs first, then leadership.

    Idempotent: a case gets one alert per level, also when two processes (the app's timer
    and ``patrol dispatch escalate`` from cron) run at once: the loser of a race finds the
    alert stored and skips it. Returns the escalations made now (case_id, level, audience).
    """
    from gis.errors import ConflictError, StoreError

    when = _now(now)
    made = []
    for case in store.query_cases(open_only=True):
        level = escalation_level(case, when)
        if level == 0:
            continue
        known = {r["alert_id"] for r in store.coord_rows(alerts.TABLE, {"case_id": case.case_id})}
        for lvl in range(1, level + 1):
            aid = f"{case.case_id}:escalation:{lvl}"
            if aid in known:
                continue
            audience = "role:area_chief" if lvl == 1 else "role:leadership"
            try:
                case = _escalate_one(store, case, lvl, audience, when, who)
            except (ConflictError, StoreError):
                if store.coord_rows(alerts.TABLE, {"alert_id": aid}):
                    case = store.get_case(case.case_id)
                    continue  # another process escalated it first
                raise
            made.append({"case_id": case.case_id, "level": lvl, "audience": audience})
    return pd.DataFrame(made, columns=["case_id", "level", "audience"])


def _escalate_one(
    store: Any, case: Case, lvl: int, audience: str, when: dt.datetime, who: str
) -> Case:
    """One escalation: its alert, and the ``escalate`` step when the state allows one."""
    aid = f"{case.case_id}:escalation:{lvl}"
    row = alerts.new_alert("escalation", audience, at=when, case_id=case.case_id,
                           alert_id=aid, params={"level": lvl})  # fmt: skip
    if "escalate" not in _allowed(case.state):
        store.coord_insert(alerts.TABLE, [row])
        return case

    def after(ex: Any, new: Case, entry: Any) -> None:
        ex.insert(alerts.TABLE, row)

    return store.apply_transition(
        case.case_id, "escalate", who=who, expected_version=case.version,
        at=max(when, case.updated_at or when), note=f"deadline passed: level {lvl}",
        after=after,
    )  # fmt: skip


def _allowed(state: str) -> tuple[str, ...]:
    from gis.cases.workflow import allowed_actions

    return allowed_actions(state)
