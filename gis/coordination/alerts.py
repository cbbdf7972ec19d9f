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

from gis.access.auth import User
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


def open_alerts(store: Any, user: User, kinds: Sequence[str] | None = None) -> list[dict]:
    """Alerts addressed to ``user`` that nobody has acknowledged yet, oldest first."""
    rows = store.coord_rows(
        TABLE, {"audience": audiences(user)}, open_only="ack_at", order="created_at"
    )
    return [r for r in rows if kinds is None or r["kind"] in kinds]


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
    if row["audience"] not in audiences(user) and user.role not in ("leadership", "admin"):
        raise AuthError(f"alert {alert_id} is not addressed to {user.username}")
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
