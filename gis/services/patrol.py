"""Plan a patrol: the streets to cover, the start, and the method (tour, team or time budget)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gis.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    import geopandas as gpd

    from gis.geography.layers import Geography
    from gis.planning.budget_route import BudgetPlan
    from gis.planning.routing import KRoutes
    from gis.planning.walk import Route

#: POI kind of the default start and end (the comprehensive enforcement center).
CENTER_KIND = "enforcement_center"
#: Share of street length the forecast weights keep for a time-budgeted route.
FORECAST_KEEP_TOP = 0.10


@dataclass(frozen=True)
class PatrolRequest:
    """What to patrol and how; every field has the same meaning in the CLI and the app.

    The streets are, in this order: ``person_id``'s saved district, else ``segment_ids``
    (within ``zone_id``/``front_id`` when given), else the zone or front, else every street.
    ``start``/``end`` take a node id, a POI name or id, or ``"lon,lat"`` (WGS 84); the start
    defaults to the enforcement center, else the junction nearest the boundary's centre
    (said in :attr:`PatrolPlan.start_note`). ``people`` > 1 splits the walk; ``budget_min``
    asks for the best hotspot walk in that time, weighted by ``weights`` or else by next
    week's forecast from the case history.
    """

    zone_id: str | None = None
    front_id: str | None = None
    segment_ids: tuple[str, ...] | None = None
    person_id: str | None = None
    start: str | None = None
    end: str | None = None
    people: int = 1
    budget_min: float | None = None
    dwell_min: float = 2.0
    weights: Mapping[str, float] | None = None


@dataclass(frozen=True)
class PatrolPlan:
    """The planned walks and how they were chosen."""

    kind: str  # "postman", "team" or "budget"
    routes: tuple[Route, ...]
    required: tuple[str, ...]
    start_node: int
    #: Empty, or how the start was chosen when it is not the one asked for or the center.
    start_note: str
    team: KRoutes | None = None
    budget: BudgetPlan | None = None


def resolve_place(text: str, geo: Geography) -> int:
    """A node id, a POI name/id, or ``'lon,lat'`` (WGS 84) → the nearest graph junction."""
    from gis.planning.routing import node_for_point

    G = geo.graph()
    t = text.strip()
    if t.lstrip("-").isdigit() and int(t) in G:
        return int(t)
    if "," in t:
        try:
            lon, lat = (float(x) for x in t.split(","))
        except ValueError:
            raise ValidationError(
                f"cannot read {text!r} as lon,lat",
                field="--from/--to",
                fix="write e.g. 116.38,39.94",
            ) from None
        if not (
            math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90
        ):
            raise ValidationError(
                f"{text!r} is not a longitude,latitude pair",
                field="--from/--to",
                fix="longitude within ±180, latitude within ±90, e.g. 116.38,39.94",
            )
        from gis.geography.place import metric_point

        _lon, _lat, pt = metric_point(lon, lat, crs=geo.crs)
        return node_for_point(G, pt)[0]
    poi = geo.poi(t)
    return node_for_point(G, poi.geometry)[0]


def default_start(geo: Geography) -> tuple[int, str]:
    """The enforcement center's junction, else the one nearest the boundary's centre.

    The note is empty for the enforcement center and says what was chosen otherwise.
    """
    from gis.planning.routing import node_for_point

    pois = geo.pois
    hits = pois.loc[pois["kind"] == CENTER_KIND] if "kind" in pois.columns else pois.iloc[0:0]
    if not hits.empty:
        return node_for_point(geo.graph(), hits.iloc[0].geometry)[0], ""
    centre = geo.boundary.union_all().centroid
    node = node_for_point(geo.graph(), centre, max_distance_m=math.inf)[0]
    return node, (
        f"start: junction {node} nearest the area's centre (the geography has no "
        f"{CENTER_KIND} point; choose another start with --from)"
    )


def forecast_weights(geo: Geography, cases: gpd.GeoDataFrame) -> dict[str, float]:
    """Next week's near-repeat risk per segment (riskiest 10 % of street length kept)."""
    from gis.analytics.forecast import segment_risk_weights
    from gis.geography.crs import to_metric

    frame = to_metric(cases, crs=geo.crs, source="case history")
    return segment_risk_weights(frame, geo.segments, keep_top=FORECAST_KEEP_TOP)


def _required(
    geo: Geography, request: PatrolRequest, assignment: Mapping[str, str] | None
) -> list[str]:
    from gis.planning.routing import required_segments

    if request.person_id:
        mine = sorted(s for s, p in (assignment or {}).items() if p == request.person_id)
        if not mine:
            raise NotFoundError(
                f"{request.person_id!r} holds no streets in the saved districts; "
                "save districts first (patrol districts --save, or the districts page)"
            )
        return mine
    segs = list(request.segment_ids) if request.segment_ids is not None else None
    req = required_segments(
        geo.graph(), zone_id=request.zone_id, front_id=request.front_id, segment_ids=segs
    )
    if segs is not None and not req:
        raise NotFoundError(f"none of the segments {segs[:5]} is in the zone/front")
    return req


def plan_patrol(
    geo: Geography,
    request: PatrolRequest,
    *,
    walk_speed_kmh: float = 4.5,
    cases: gpd.GeoDataFrame | None = None,
    assignment: Mapping[str, str] | None = None,
) -> PatrolPlan:
    """Plan the patrol ``request`` asks for on ``geo``.

    Parameters
    ----------
    geo
        The geography (its street graph is built once and cached).
    request
        What to patrol and how (see :class:`PatrolRequest`).
    walk_speed_kmh
        Walking speed for durations and the time budget.
    cases
        The case history (any metric CRS; reprojected to the geography's) for the
        forecast weights of a time-budgeted route without explicit ``weights``.
    assignment
        The saved districts (segment → person) for ``request.person_id``.
    """
    from gis.planning.budget_route import plan_budget_route
    from gis.planning.postman import plan_postman_route
    from gis.planning.routing import plan_k_routes

    G = geo.graph()
    required = _required(geo, request, assignment)
    if request.start:
        start, note = resolve_place(request.start, geo), ""
    else:
        start, note = default_start(geo)
    end = resolve_place(request.end, geo) if request.end else None
    if request.budget_min is not None:
        if request.weights is not None:
            raw = dict(request.weights)
        elif cases is not None and len(cases):
            raw = forecast_weights(geo, cases)
        else:
            raw = {}
        wanted = set(required)
        weights = {s: float(w) for s, w in raw.items() if s in wanted}
        if not any(w > 0 for w in weights.values()):
            why = (
                "the store has no cases to forecast from"
                if request.weights is None and (cases is None or not len(cases))
                else "none of these streets carries a positive weight"
            )
            raise ValidationError(
                f"no hotspot weights: {why}",
                field="--weights",
                fix="record cases (or run patrol demo-history), pass --weights CSV, "
                "or plan a full tour without a time budget",
            )
        budget = plan_budget_route(
            G, start, weights, request.budget_min, walk_speed_kmh, request.dwell_min
        )
        return PatrolPlan("budget", (budget.route,), tuple(required), start, note, budget=budget)
    if request.people != 1:
        if end is not None:
            raise ValidationError("--to cannot be combined with --people", field="--to")
        team = plan_k_routes(G, required, start, request.people, walk_speed_kmh=walk_speed_kmh)
        return PatrolPlan("team", tuple(team.routes), tuple(required), start, note, team=team)
    route = plan_postman_route(G, required, start, end, walk_speed_kmh=walk_speed_kmh)
    return PatrolPlan("postman", (route,), tuple(required), start, note)
