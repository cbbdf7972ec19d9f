"""Who can get there: nearest on-duty people by walking time, and raising an alert to a case."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from shapely.geometry import Point

from gis.cases.intake import Report
from gis.cases.workflow import Case
from gis.crowd.alerts import ESCALATION_TIERS, Alert, escalated
from gis.errors import ConflictError, NetworkError, ValidationError
from gis.geography.crs import WGS84
from gis.localtime import LOCAL_TZ as TZ
from gis.people.roster import SHIFTS, RosterEntry, ShiftHours
from gis.people.staff import Person
from gis.planning.routing import node_for_point

log = logging.getLogger(__name__)

#: Shift hours (start, end) in Beijing time; an end before the start runs past midnight.
#: Sign-in is at 09:00 (morning) and 19:00 (evening); ``rotating`` staff are always reachable.
SHIFT_HOURS: Mapping[str, tuple[int, int]] = {
    "morning": (9, 19),
    "evening": (19, 3),
    "day": (9, 21),
    "rotating": (0, 24),
}


def on_duty(staff: pd.DataFrame, at: dt.datetime) -> pd.DataFrame:
    """The people whose shift covers ``at`` (residents and on-call alike)."""
    h = at.astimezone(TZ).hour
    keep = []
    for shift in staff.get("shift", pd.Series([""] * len(staff))).fillna(""):
        a, b = SHIFT_HOURS.get(str(shift), (0, 24))
        keep.append(a <= h < b if a < b else (h >= a or h < b))
    return staff[np.asarray(keep, dtype=bool)].reset_index(drop=True)


def rostered_on_duty(
    entries: Sequence[RosterEntry],
    people: Sequence[Person],
    at: dt.datetime,
    hours: ShiftHours | None = None,
) -> pd.DataFrame:
    """The people the duty roster puts on a shift (早/午/晚) covering ``at``.

    ``entries`` are the roster cells of ``at``'s day; ``people`` (the stored staff) give
    names, roles and departments (a rostered id the staff do not know keeps its id as name).
    On-call, rest and leave are not on duty.
    """
    hours = hours or ShiftHours()
    local = at.astimezone(TZ)
    h = local.hour + local.minute / 60.0
    by_id = {p.person_id: p for p in people}
    rows = []
    for e in entries:
        if e.day != local.date() or e.duty not in SHIFTS:
            continue
        a, b = hours.span(e.duty)
        if not a <= h < b:
            continue
        p = by_id.get(e.person_id)
        rows.append(
            {
                "person_id": e.person_id,
                "name": p.name if p is not None else e.person_id,
                "role": p.role if p is not None else "",
                "department": p.department if p is not None else "",
                "shift": e.duty,
            }
        )
    cols = ["person_id", "name", "role", "department", "shift"]
    return pd.DataFrame(rows, columns=cols).sort_values("person_id").reset_index(drop=True)


@dataclass(frozen=True)
class StaffPositions:
    """Where each person is assumed to be: the centre of their district (a street node), or
    the enforcement center (``base``) for people without a district."""

    nodes: Mapping[str, int]
    where: Mapping[str, str]
    base: int | None = None


def staff_positions(
    G: nx.MultiGraph,
    gdf_segments: gpd.GeoDataFrame,
    assignment: Mapping[str, str],
    person_ids: Sequence[str],
    base: Point | None = None,
) -> StaffPositions:
    """Each person's node: the junction of their district closest to its centroid.

    ``assignment`` maps segment id → person id (saved districts); people without one are
    placed at ``base`` (the enforcement center), or left out when no base is given.
    """
    nodes: dict[str, int] = {}
    where: dict[str, str] = {}
    base_node = node_for_point(G, base)[0] if base is not None else None
    segs = gdf_segments.set_index("segment_id")
    by_person: dict[str, list[str]] = {}
    for sid, pid in assignment.items():
        if sid in segs.index:
            by_person.setdefault(pid, []).append(sid)
    for pid in person_ids:
        sids = by_person.get(pid)
        if sids:
            part = segs.loc[sids]
            c = part.geometry.union_all().centroid
            cand = set(part["u"].astype(int)) | set(part["v"].astype(int))
            best = min(
                cand, key=lambda n: (G.nodes[n]["x"] - c.x) ** 2 + (G.nodes[n]["y"] - c.y) ** 2
            )
            nodes[pid], where[pid] = int(best), "district"
        elif base_node is not None:
            nodes[pid], where[pid] = base_node, "center"
    return StaffPositions(nodes, where, base_node)


def nearest_staff(
    G: nx.MultiGraph,
    target: Point,
    staff: pd.DataFrame,
    positions: StaffPositions,
    *,
    walk_speed_kmh: float = 4.5,
    k: int = 3,
) -> list[dict[str, Any]]:
    """The ``k`` people with the shortest walk to ``target`` (EPSG:32650) on the street graph.

    Returns dicts with ``person_id``, ``name``, ``role``, ``department``, ``minutes`` and
    ``from`` (district or center), nearest first. People without a position of their own
    start from the enforcement center (``positions.base``) when there is one.
    """
    try:
        node, off = node_for_point(G, target)
    except NetworkError as exc:
        raise NetworkError(f"the place is not near the street network: {exc}") from exc
    dist = nx.single_source_dijkstra_path_length(G, node, weight="length")
    speed = walk_speed_kmh * 1000.0 / 60.0
    rows = []
    for _, p in staff.iterrows():
        pid = str(p["person_id"])
        n = positions.nodes.get(pid, positions.base)
        if n is None or n not in dist:
            continue
        rows.append(
            {
                "person_id": pid,
                "name": str(p.get("name", "")),
                "role": str(p.get("role", "")),
                "department": str(p.get("department", "")),
                "minutes": round((dist[n] + off) / speed, 1),
                "from": positions.where.get(pid, "center"),
            }
        )
    rows.sort(key=lambda r: (r["minutes"], r["person_id"]))
    return rows[:k]


def case_report_for(
    alert: Alert,
    gdf_places: gpd.GeoDataFrame,
    *,
    tier: str,
    who: str,
    at: dt.datetime,
    zone_id: str | None = None,
) -> Report:
    """The C29 人群聚集风险 report that opens a case for an alert."""
    if tier not in ESCALATION_TIERS:
        raise ValidationError(
            f"tier {tier!r} cannot take a crowd alert",
            field="tier",
            fix="raise it as major (重大) or emergency (突发)",
        )
    place = gdf_places[gdf_places["place_id"] == alert.place_id]
    if place.empty:
        raise ValidationError(f"unknown place {alert.place_id!r}", field="place_id")
    row = place.iloc[0]
    c = gpd.GeoSeries([row.geometry.centroid], crs=gdf_places.crs).to_crs(WGS84).iloc[0]
    names = {"yellow": "黄", "orange": "橙", "red": "红", "blue": "蓝"}
    density = alert.occupancy / float(row["usable_area_m2"])
    return Report(
        report_id=f"C29-{alert.alert_id}",
        category="C29",
        lon=round(float(c.x), 6),
        lat=round(float(c.y), 6),
        reported_at=at,
        source="video",
        reporter=who,
        description=(
            f"客流{names.get(alert.level, alert.level)}色预警 {row['name']}：现有约"
            f"{alert.occupancy:.0f}人，预测峰值{alert.forecast_peak:.0f}人，承载量"
            f"{alert.capacity}人，预计{alert.expected_at.astimezone(TZ):%H:%M}达到"
            f"（提前{alert.lead_min:.0f}分钟）。预警 {alert.alert_id}"
        ),
        attributes={"persons": int(round(alert.occupancy)), "density_per_m2": round(density, 2)},
        tier=tier,
        zone_id=zone_id,
    )


def raise_alert_to_case(
    store: Any,
    alert: Alert,
    gdf_places: gpd.GeoDataFrame,
    *,
    tier: str,
    who: str,
    at: dt.datetime | None = None,
    zone_id: str | None = None,
) -> tuple[Alert, Case]:
    """Open a C29 case (tier 重大 or 突发) for an alert, register it with its tier's handling
    (重大: the area chiefs' approval and leadership's banner; 突发: the emergency checklist and
    a call to the alert's nearest on-duty staff) and mark the alert escalated, all in one
    transaction, checking the alert's version (a second click loses cleanly)."""
    from gis.coordination.handling import register_case

    at = at or dt.datetime.now(TZ)
    current = store.get_alert(alert.alert_id)
    if current.version != alert.version or current.state == "escalated":
        raise ConflictError(
            f"alert {alert.alert_id} was changed by {current.acted_by or 'someone'}"
            f" ({current.state}); reload it"
        )
    report = case_report_for(alert, gdf_places, tier=tier, who=who, at=at, zone_id=zone_id)
    nearest = [str(r["person_id"]) for r in alert.detail.get("staff", []) if r.get("person_id")]
    with store.transaction():
        store.add_reports([report], received_by=who, at=at)
        case = register_case(
            store, report.report_id, who, tier=tier, at=at, responders=lambda _case: nearest
        )
        updated = escalated(current, who=who, case_id=case.case_id, at=at)
        store.update_alert(updated, expected_version=current.version)
    return updated, case
