"""Tier policy: what 一般/重大/突发 change in the handling, deadlines, escalation, who to alert.

A tier is not a label. :data:`HANDLING` says who serves the notice, whether an area chief
must approve, whether leadership is alerted at once, whether a joint-enforcement plan is
required and whether the emergency checklist (应急预案) starts. Deadlines always come from
the category and the tier (:func:`deadline_hours`) unless a person changes them and says
why (:func:`notice_params`); 12345 work orders keep the hotline's limit.
"""

from __future__ import annotations

import csv
import datetime as dt
import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from gis.cases.categories import References
from gis.cases.workflow import MAX_DEADLINE_HOURS, TIERS, Case
from gis.errors import TransitionError, ValidationError


@dataclass(frozen=True)
class Handling:
    """How a tier is handled."""

    tier: str
    served_by: str  # role that serves the notice
    chief_approval: bool  # an area chief approves before the notice
    alert_leadership: bool  # banner and badge for leadership until acknowledged
    plan_required: bool  # a joint-enforcement plan before the deadline
    emergency_checklist: bool  # 应急预案 steps with response times
    max_deadline_hours: float | None  # the tier caps the category's deadline
    escalate_after_hours: float  # past the deadline this long: leadership (after the chief)


HANDLING: Mapping[str, Handling] = {
    "general": Handling("general", "patrol", False, False, False, False, None, 24.0),
    "major": Handling("major", "area_chief", True, True, True, False, 24.0, 4.0),
    "emergency": Handling("emergency", "area_chief", False, True, True, True, 2.0, 1.0),
}

#: 12345 hotline feedback limits (hours): urgent, 24 h, 7 days, 15 days.
HOTLINE_HOURS: tuple[float, ...] = (2.0, 24.0, 168.0, 360.0)
#: Case attribute that carries the hotline work order's limit in hours.
HOTLINE_ATTRIBUTE = "hotline_hours"
#: On-duty people within this walking distance (metres) are alerted in an emergency.
EMERGENCY_WALK_M = 800.0
#: Where the configurable emergency checklist lives (one step a row: code, name_zh, name_en).
CHECKLIST_FILE = Path(__file__).resolve().parents[2] / "data" / "emergency_checklist.csv"


def handling(tier: str) -> Handling:
    """The handling of ``tier``."""
    if tier not in HANDLING:
        raise ValidationError(f"unknown tier {tier!r}", field="tier", fix=f"use one of {TIERS}")
    return HANDLING[tier]


def deadline_hours(case: Case, refs: References) -> float:
    """The notice deadline (hours) the rules give ``case``.

    A 12345 work order keeps its hotline limit (attribute ``hotline_hours``, one of
    :data:`HOTLINE_HOURS`; 24 h when the order does not say); otherwise the category's
    deadline, capped by the tier (重大 24 h, 突发 2 h).
    """
    if case.source == "hotline_12345":
        raw = case.attributes.get(HOTLINE_ATTRIBUTE)
        try:
            hours = float(raw) if raw is not None else 24.0
        except (TypeError, ValueError):
            hours = 24.0
        return hours if hours in HOTLINE_HOURS else 24.0
    cat = refs.categories.get(case.category)
    hours = cat.deadline_hours if cat is not None else case.deadline_hours
    cap = handling(case.tier).max_deadline_hours
    return min(hours, cap) if cap is not None else hours


def notice_params(
    case: Case, refs: References, *, hours: float | None = None, reason: str = ""
) -> tuple[dict[str, float], str]:
    """Parameters and note of ``serve_notice``: the rule's deadline unless a reason is given.

    Raises
    ------
    TransitionError
        ``hours`` differs from the rule's deadline and no reason says why, or is out of range.
    """
    rule = deadline_hours(case, refs)
    if hours is None or abs(float(hours) - rule) < 1e-9:
        return {"hours": rule}, ""
    h = float(hours)
    if not np.isfinite(h) or h <= 0 or h > MAX_DEADLINE_HOURS:
        raise TransitionError(
            f"case {case.case_id}: deadline hours {h:g} must be more than 0 and at most "
            f"{MAX_DEADLINE_HOURS:g}"
        )
    if not reason.strip():
        raise TransitionError(
            f"case {case.case_id}: the rules give {rule:g} h ({case.category}, {case.tier}"
            f"{', 12345' if case.source == 'hotline_12345' else ''}); to set {h:g} h say why "
            "(--reason / the note field)"
        )
    return {"hours": h}, f"deadline {h:g} h instead of {rule:g} h: {reason.strip()}"


def escalation_level(case: Case, now: dt.datetime) -> int:
    """0 within the deadline; 1 past it (area chief); 2 past it by the tier's limit (leadership)."""
    if not case.is_open or case.deadline_at is None or now <= case.deadline_at:
        return 0
    late = now - case.deadline_at
    return 2 if late >= dt.timedelta(hours=handling(case.tier).escalate_after_hours) else 1


@dataclass(frozen=True)
class ChecklistStep:
    """One step of the emergency plan (应急预案)."""

    code: str
    name_zh: str
    name_en: str


def load_checklist(path: Path | None = None) -> tuple[ChecklistStep, ...]:
    """The emergency checklist (``data/emergency_checklist.csv`` unless another is given)."""
    p = Path(path) if path is not None else CHECKLIST_FILE
    steps: list[ChecklistStep] = []
    with open(p, encoding="utf-8-sig", newline="") as fh:
        for i, rec in enumerate(csv.DictReader(fh), start=2):
            code = (rec.get("code") or "").strip()
            if not code or any(s.code == code for s in steps):
                raise ValidationError(
                    f"missing or repeated step code {code!r}", source=p.name, row=i, field="code"
                )
            steps.append(ChecklistStep(code, rec.get("name_zh", ""), rec.get("name_en", "")))
    if not steps:
        raise ValidationError("the checklist has no steps", source=p.name)
    return tuple(steps)


# ------------------------------------------------------------------ who is within walking reach
def _node_distances(G_nodes: Mapping[int, list[tuple[int, float]]], starts: Mapping[int, float],
                    cutoff: float) -> dict[int, float]:  # fmt: skip
    dist: dict[int, float] = {}
    heap = [(d, n) for n, d in starts.items()]
    heapq.heapify(heap)
    while heap:
        d, n = heapq.heappop(heap)
        if n in dist or d > cutoff:
            continue
        dist[n] = d
        for m, w in G_nodes.get(n, ()):
            if m not in dist:
                heapq.heappush(heap, (d + w, m))
    return dist


def people_within_walk(
    gdf_segments: gpd.GeoDataFrame,
    point: Point,
    roster: pd.DataFrame,
    *,
    max_m: float = EMERGENCY_WALK_M,
) -> pd.DataFrame:
    """On-duty people within ``max_m`` metres' walk of ``point`` (EPSG:32650), nearest first.

    Parameters
    ----------
    gdf_segments
        The street segments (metric CRS, ``segment_id``, ``length_m``).
    point
        Where the emergency is (metric).
    roster
        One row per on-duty person: ``person_id`` and either ``x``/``y`` (a position, metric)
        or ``segment_id`` (a street of their district; several rows per person allowed, the
        nearest counts). The district assignment today; a duty roster when there is one.
    max_m
        Walking distance over the street network.

    Returns
    -------
    DataFrame
        ``person_id`` and ``walk_m``, nearest first.
    """
    from gis.geography.network import SegmentIndex, assign_node_ids

    if "person_id" not in roster.columns:
        raise ValidationError("the roster has no person_id column", field="person_id")
    segs = (
        gdf_segments if {"u", "v"} <= set(gdf_segments.columns) else assign_node_ids(gdf_segments)
    )
    segs = segs.reset_index(drop=True)
    adj: dict[int, list[tuple[int, float]]] = {}
    for u, v, w in zip(segs["u"], segs["v"], segs["length_m"], strict=True):
        adj.setdefault(int(u), []).append((int(v), float(w)))
        adj.setdefault(int(v), []).append((int(u), float(w)))
    index = SegmentIndex(segs)
    snap = index.snap(point, max_distance_m=500.0)
    length = float(segs.loc[segs["segment_id"] == snap.segment_id, "length_m"].iloc[0])
    starts = {snap.u: snap.offset_m + snap.distance_m,
              snap.v: max(length - snap.offset_m, 0.0) + snap.distance_m}  # fmt: skip
    dist = _node_distances(adj, starts, max_m)
    ends = segs.set_index("segment_id")[["u", "v"]]
    best: dict[str, float] = {}
    for rec in roster.to_dict("records"):
        pid = str(rec["person_id"])
        d = np.inf
        if rec.get("x") is not None and rec.get("y") is not None and not pd.isna(rec.get("x")):
            p_snap = index.snap(Point(float(rec["x"]), float(rec["y"])), max_distance_m=500.0)
            if p_snap.segment_id == snap.segment_id:
                d = abs(p_snap.offset_m - snap.offset_m) + snap.distance_m + p_snap.distance_m
            else:
                plen = float(segs.loc[segs["segment_id"] == p_snap.segment_id, "length_m"].iloc[0])
                d = (
                    min(
                        dist.get(p_snap.u, np.inf) + p_snap.offset_m,
                        dist.get(p_snap.v, np.inf) + max(plen - p_snap.offset_m, 0.0),
                    )
                    + p_snap.distance_m
                )
        elif rec.get("segment_id") is not None and rec["segment_id"] in ends.index:
            if rec["segment_id"] == snap.segment_id:
                d = snap.distance_m
            else:
                u, v = ends.loc[rec["segment_id"]]
                d = min(dist.get(int(u), np.inf), dist.get(int(v), np.inf))
        if d <= max_m and d < best.get(pid, np.inf):
            best[pid] = float(d)
    out = pd.DataFrame({"person_id": list(best), "walk_m": list(best.values())})
    return out.sort_values(["walk_m", "person_id"]).reset_index(drop=True)


def roster_from_assignment(assignment: Mapping[str, str]) -> pd.DataFrame:
    """A roster from the district assignment (``segment_id → person_id``)."""
    return pd.DataFrame(
        {"segment_id": list(assignment), "person_id": [str(p) for p in assignment.values()]}
    )


def tiers_table(refs: References, categories: Sequence[str] | None = None) -> pd.DataFrame:
    """Deadline hours per category and tier (what the rules give before any change)."""
    rows = []
    for code, cat in refs.categories.items():
        if categories and code not in categories:
            continue
        row: dict[str, object] = {
            "category": code,
            "name_zh": cat.name_zh,
            "default_tier": cat.default_tier,
        }
        for tier in TIERS:
            cap = HANDLING[tier].max_deadline_hours
            row[tier] = min(cat.deadline_hours, cap) if cap is not None else cat.deadline_hours
        rows.append(row)
    return pd.DataFrame(rows)
