"""明察暗访 inspections and the weekly review (周点评) score per person and department.

An inspector records an open or covert check of a street, a person or a department with
a result (good / minor / serious) and a finding. A finding can open a case (source
``inspection``) or become a comment in the weekly review. The score is documented in
docs/coordination.md and computed by :func:`weekly_review`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

import pandas as pd

from gis.access.users import User
from gis.cases.workflow import ARRIVAL_LIMIT
from gis.coordination.dispatch import resolve_departments
from gis.coordination.joint import _text
from gis.errors import AuthError, ValidationError
from gis.geography.place import acceptance_area
from gis.localtime import LOCAL_TZ as TZ

TABLE = "coord_inspections"
INSPECTOR_ROLES = frozenset({"leadership", "area_chief", "admin"})
MODES = ("open", "covert")
TARGET_KINDS = ("street", "person", "dept")
RESULTS = ("good", "minor", "serious")
OUTCOMES = ("none", "case", "comment")

#: The review score: start, and what each event is worth (documented in docs/coordination.md).
SCORE_START = 100.0
SCORE_POINTS: Mapping[str, float] = {
    "good": +2.0,  # an inspection found good work
    "minor": -5.0,  # an inspection found a minor problem
    "serious": -15.0,  # an inspection found a serious problem
    "late_arrival": -3.0,  # a department arrived more than 30 minutes after the call
    "no_show": -5.0,  # a department never arrived in the week it was called
    "overdue": -2.0,  # an open case past its deadline at the week's end (lead or person)
}
#: Overdue cases cost at most this much a week (a backlog is not a new failure each week).
OVERDUE_CAP = 20.0


def record_inspection(
    store: Any,
    user: User,
    *,
    inspected_at: dt.datetime,
    mode: str,
    target_kind: str,
    target: str,
    result: str,
    finding: str,
    outcome: str = "none",
    case: Mapping[str, Any] | None = None,
    geography: Any = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Record an inspection; with ``outcome="case"`` also open a case from ``case``
    (``category``, ``lon``, ``lat``). Everything is validated before anything is stored.
    """
    if user.role not in INSPECTOR_ROLES:
        raise AuthError(f"user {user.username!r} ({user.role}) may not record inspections")
    for value, allowed, name in ((mode, MODES, "mode"), (target_kind, TARGET_KINDS, "target_kind"),
                                 (result, RESULTS, "result"), (outcome, OUTCOMES, "outcome")):  # fmt: skip
        if value not in allowed:
            raise ValidationError(f"unknown {name} {value!r}", field=name, fix=f"use {allowed}")
    clock = now or dt.datetime.now(TZ)
    if inspected_at.tzinfo is None or inspected_at > clock + dt.timedelta(minutes=10):
        raise ValidationError("the inspection time is missing a zone or in the future",
                              field="inspected_at")  # fmt: skip
    target = _text(target, "target", 128)
    if not target:
        raise ValidationError("an inspection needs a target", field="target")
    if target_kind == "dept":
        target = resolve_departments(store, [target])[0]
    finding = _text(finding, "finding")
    report = None
    if outcome == "case":
        if not case:
            raise ValidationError("outcome 'case' needs category, lon and lat", field="case")
        from gis.cases.intake import validate_record

        report = validate_record(
            {
                "report_id": "I" + uuid.uuid4().hex[:11],
                "category": case.get("category", ""),
                "lon": case.get("lon"),
                "lat": case.get("lat"),
                "reported_at": inspected_at,
                "source": "inspection",
                "reporter": user.username,
                "description": finding,
            },
            refs=store.refs,
            now=clock,
            area=acceptance_area(geography) if geography is not None else None,
            source="inspection",
        )
    row = {
        "inspection_id": "X" + uuid.uuid4().hex[:10],
        "inspected_at": inspected_at,
        "inspector": user.username,
        "mode": mode,
        "target_kind": target_kind,
        "target": target,
        "result": result,
        "finding": finding,
        "outcome": outcome,
        "case_id": report.report_id if report is not None else None,
        "created_at": clock,
    }
    if report is not None:
        store.add_reports([report], received_by=user.username, at=clock)
    store.coord_insert(TABLE, [row])
    return row


def inspections(
    store: Any, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> pd.DataFrame:
    """Inspections in ``[since, until)``, oldest first."""
    cols = ["inspection_id", "inspected_at", "inspector", "mode", "target_kind", "target",
            "result", "finding", "outcome", "case_id"]  # fmt: skip
    rows = store.coord_rows(
        TABLE,
        since=("inspected_at", since) if since else None,
        until=("inspected_at", until) if until else None,
        order="inspected_at",
        columns=cols,
    )
    return pd.DataFrame(rows, columns=cols)


def weekly_review(
    store: Any,
    week_start: dt.datetime,
    *,
    assignment: Mapping[str, str] | None = None,
) -> dict[str, pd.DataFrame]:
    """The 周点评: per person and per department, events and score; plus the comments.

    Streets inspected count for the person responsible for them (``assignment``,
    segment → person). Returns ``{"people": …, "departments": …, "comments": …}``; the
    tables have one column per event kind, ``score`` and are sorted by score.
    """
    end = week_start + dt.timedelta(days=7)
    insp = inspections(store, since=week_start, until=end)
    events: list[tuple[str, str, str]] = []  # (who kind, who, event)
    for r in insp.to_dict("records"):
        if r["target_kind"] == "dept":
            events.append(("dept", r["target"], r["result"]))
        elif r["target_kind"] == "person":
            events.append(("person", r["target"], r["result"]))
        elif assignment and r["target"] in assignment:
            events.append(("person", str(assignment[r["target"]]), r["result"]))
    from gis.cases.workflow import arrivals_frame

    overdue: dict[tuple[str, str], int] = {}
    for case in store.query_cases(until=end):
        for a in arrivals_frame(case).to_dict("records") if case.joint else []:
            if not week_start <= a["called_at"] < end:
                continue
            if a["arrived_at"] is None or pd.isna(a["arrived_at"]) or a["arrived_at"] >= end:
                events.append(("dept", a["dept"], "no_show"))
            elif a["arrived_at"] - a["called_at"] > ARRIVAL_LIMIT:
                events.append(("dept", a["dept"], "late_arrival"))
        open_at_end = case.closed_at is None or case.closed_at >= end
        if open_at_end and case.deadline_at is not None and case.deadline_at < end:
            overdue[("dept", case.lead_dept)] = overdue.get(("dept", case.lead_dept), 0) + 1
            if case.person_id:
                key = ("person", case.person_id)
                overdue[key] = overdue.get(key, 0) + 1
    kinds = list(SCORE_POINTS)
    tables = {}
    for who_kind, name in (("person", "people"), ("dept", "departments")):
        counts: dict[str, dict[str, int]] = {}
        for k, who, ev in events:
            if k == who_kind:
                counts.setdefault(who, dict.fromkeys(kinds, 0))[ev] += 1
        for (k, who), n in overdue.items():
            if k == who_kind:
                counts.setdefault(who, dict.fromkeys(kinds, 0))["overdue"] += n
        rows = []
        for who, c in counts.items():
            score = SCORE_START
            for ev in kinds:
                pts = SCORE_POINTS[ev] * c[ev]
                if ev == "overdue":
                    pts = max(pts, -OVERDUE_CAP)
                score += pts
            rows.append({"who": who, **c, "score": float(min(max(score, 0.0), 100.0))})
        df = pd.DataFrame(rows, columns=["who", *kinds, "score"])
        tables[name] = df.sort_values(["score", "who"]).reset_index(drop=True)
    comments = insp[insp["outcome"] == "comment"][
        ["inspected_at", "target_kind", "target", "result", "finding"]
    ].reset_index(drop=True)
    tables["comments"] = comments
    return tables
