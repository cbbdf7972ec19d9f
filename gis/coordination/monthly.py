"""The coordination figures of a report period: punctuality, targets, inspections, sources."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from gis.localtime import LOCAL_TZ as TZ


def coordination_events(store: Any, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Recorded joint actions and consultations of ``[start, end)`` as report events.

    Columns ``case_id``, ``at``, ``kind`` (``joint_enforcement`` or ``consultation``), the
    shape :func:`gis.analytics.kpis.compute_kpis` takes.
    """
    from gis.coordination.consultations import consultations
    from gis.coordination.joint import joint_actions

    j = joint_actions(store, since=start, until=end)
    c = consultations(store, since=start, until=end)
    rows = [{"case_id": r, "at": a, "kind": "joint_enforcement"}
            for r, a in zip(j["action_id"], j["planned_at"], strict=True)]  # fmt: skip
    rows += [{"case_id": r, "at": a, "kind": "consultation"}
             for r, a in zip(c["consult_id"], c["held_at"], strict=True)]  # fmt: skip
    out = pd.DataFrame(rows, columns=["case_id", "at", "kind"])
    out["at"] = pd.to_datetime(out["at"], utc=True).dt.tz_convert(TZ)
    return out


def merge_events(audit_events: pd.DataFrame | None, recorded: pd.DataFrame) -> pd.DataFrame:
    """Whistles from the audit trail plus recorded joint actions; consultations as recorded.

    Escalations in the audit trail are no longer counted as consultations once
    consultations are logged in their own table.
    """
    parts = [recorded]
    if audit_events is not None and len(audit_events):
        parts.insert(0, audit_events[audit_events["kind"] == "joint_enforcement"])
    return pd.concat([p for p in parts if len(p)] or [recorded], ignore_index=True)


def coordination_tables(
    store: Any, start: dt.datetime, end: dt.datetime, *, months: float = 1.0
) -> dict[str, pd.DataFrame]:
    """Tables for the report: ``punctuality``, ``targets``, ``inspections``, ``sources``."""
    from gis.coordination.consultations import CONSULTATIONS_PER_MONTH, consultations
    from gis.coordination.dispatch import punctuality
    from gis.coordination.inspections import inspections
    from gis.coordination.joint import JOINT_ACTIONS_PER_MONTH, joint_actions
    from gis.coordination.reporters import reports_by_source

    j = joint_actions(store, since=start, until=end)
    c = consultations(store, since=start, until=end)
    targets = pd.DataFrame(
        {
            "item": ["joint_actions", "consultations"],
            "recorded": [len(j), len(c)],
            "target": [JOINT_ACTIONS_PER_MONTH * months, CONSULTATIONS_PER_MONTH * months],
        }
    )
    targets["met"] = targets["recorded"] >= targets["target"]
    ins = inspections(store, since=start, until=end)
    if len(ins):
        summary = ins.groupby(["target_kind", "result"]).size().rename("findings").reset_index()
    else:
        summary = pd.DataFrame(columns=["target_kind", "result", "findings"])
    sources = reports_by_source(store, since=start, until=end)
    return {
        "punctuality": punctuality(store, since=start, until=end),
        "targets": targets,
        "inspections": summary,
        "sources": sources[sources["reported"] > 0].reset_index(drop=True),
    }
