"""Alerts: who must see what (leadership banners, liaison inboxes, checklists) until acknowledged.

An alert is addressed to an *audience*: ``role:leadership``, ``dept:police``,
``person:P03``, ``user:alice`` or ``case:C1`` (a case's own checklist). It stays open until
someone acknowledges it; the acknowledgement time is the response time the reports use.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from gis.access.authorization import Resource, in_scope
from gis.access.users import User
from gis.errors import AuthError, ValidationError
from gis.localtime import LOCAL_TZ as TZ

TABLE = "coord_alerts"
KINDS: tuple[str, ...] = (
    "major",  # 重大: leadership banner
    "approval",  # 重大: area chief approves the handling
    "emergency",  # 突发: leadership banner
    "emergency_call",  # 突发: an on-duty person nearby
    "checklist",  # 突发: one step of the emergency plan
    "escalation",  # a deadline passed
    "dispatch",  # 吹哨: a department is called (liaison inbox)
    "report",  # a reporter's report reached the responsible person
)


def new_alert(
    kind: str,
    audience: str,
    *,
    at: dt.datetime,
    case_id: str | None = None,
    due_at: dt.datetime | None = None,
    alert_id: str | None = None,
    note: str = "",
    params: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An alert row (not yet stored)."""
    if kind not in KINDS:
        raise ValidationError(f"unknown alert kind {kind!r}", field="kind", fix=f"use {KINDS}")
    return {
        "alert_id": alert_id or uuid.uuid4().hex,
        "case_id": case_id,
        "kind": kind,
        "audience": audience,
        "created_at": at,
        "due_at": due_at,
        "note": note,
        "params": dict(params or {}),
    }


def audiences(user: User) -> list[str]:
    """Every audience a user belongs to."""
    out = [f"role:{user.role}", f"user:{user.username}"]
    if user.department:
        out.append(f"dept:{user.department}")
    if user.person_id:
        out.append(f"person:{user.person_id}")
    return out


def case_resource(case: Any) -> Resource:
    """What a case touches, for scope checks (zone, front, person, departments, reporter)."""
    return Resource(
        zone_id=case.zone_id,
        front_id=case.front_id,
        person_id=case.person_id,
        lead_dept=case.lead_dept,
        departments=tuple(case.depts),
        reported_by=case.reporter or None,
    )


def open_alerts(store: Any, user: User, kinds: Sequence[str] | None = None) -> list[dict]:
    """Alerts addressed to ``user`` that nobody has acknowledged yet, oldest first.

    An alert addressed to a whole role (``role:area_chief``) about a case reaches only the
    members of that role whose scope holds the case: an area chief sees the approvals and
    escalations of the zones and fronts they answer for, not every chief's. A case in no
    zone and no front (no geography loaded) answers to every chief, except its approval,
    which then only leadership can give.
    """
    rows = store.coord_rows(
        TABLE, {"audience": audiences(user)}, open_only="ack_at", order="created_at"
    )
    rows = [r for r in rows if kinds is None or r["kind"] in kinds]
    if user.sees_everything:
        return rows
    role_rows = {r["case_id"] for r in rows if r["audience"].startswith("role:") and r["case_id"]}
    cases = {k.case_id: k for k in _cases(store, role_rows)}
    return [r for r in rows if _reaches(user, r, cases)]


def _reaches(user: User, row: Mapping[str, Any], cases: Mapping[str, Any]) -> bool:
    """Whether a role-addressed alert about a case reaches this member of the role."""
    if not (row["audience"].startswith("role:") and row["case_id"]):
        return True
    case = cases.get(row["case_id"])
    if case is None:
        return False
    if in_scope(user, case_resource(case)):
        return True
    return row["kind"] != "approval" and not (case.zone_id or case.front_id)


def _cases(store: Any, case_ids: set[str]) -> list[Any]:
    from gis.errors import NotFoundError

    out = []
    for cid in sorted(case_ids):
        try:
            out.append(store.get_case(cid))
        except NotFoundError:  # an alert of a case removed since: nobody's scope holds it
            continue
    return out


def badge(store: Any, user: User) -> int:
    """How many open alerts the user has (the badge on the coordination page)."""
    return len(open_alerts(store, user))


def acknowledge(
    store: Any,
    alert_id: str,
    user: User,
    *,
    at: dt.datetime | None = None,
    note: str = "",
) -> dict[str, Any]:
    """Acknowledge one alert addressed to the user (a banner disappears, a response is timed)."""
    row = store.coord_get(TABLE, alert_id)
    if row["kind"] == "approval":
        raise AuthError(
            f"alert {alert_id} is an approval: approve the case instead "
            "(patrol dispatch approve CASE --user NAME, or 批准 on the 协同 page)"
        )
    if not user.sees_everything:
        if row["audience"] not in audiences(user):
            raise AuthError(f"alert {alert_id} is not addressed to {user.username}")
        if row["audience"].startswith("role:") and row["case_id"]:
            case = store.get_case(row["case_id"])
            if not _reaches(user, row, {case.case_id: case}):
                raise AuthError(
                    f"alert {alert_id}: case {row['case_id']} is outside the zones of "
                    f"{user.username}"
                )
    return record_ack(store, row, user.username, at=at, note=note)


def record_ack(
    store: Any, row: Mapping[str, Any], who: str, *, at: dt.datetime | None = None, note: str = ""
) -> dict[str, Any]:
    """Store the acknowledgement of an alert row (callers check who may do it)."""
    if row["ack_at"] is not None:
        raise ValidationError(
            f"alert {row['alert_id']} was already acknowledged by {row['ack_by']}", field="alert"
        )
    when = at or dt.datetime.now(TZ)
    if when < row["created_at"]:
        raise ValidationError(
            f"alert {row['alert_id']}: acknowledged at {when.isoformat()} is before it was "
            f"raised ({row['created_at'].isoformat()})",
            field="at",
        )
    store.coord_update(TABLE, row["alert_id"], {"ack_by": who, "ack_at": when, "note": note})
    return store.coord_get(TABLE, row["alert_id"])


def case_alerts(store: Any, case_id: str) -> list[dict]:
    """Every alert of one case, oldest first."""
    store.get_case(case_id)  # NotFoundError for unknown cases
    return store.coord_rows(TABLE, {"case_id": case_id}, order="created_at")
