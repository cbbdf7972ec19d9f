"""The morning day plan (日碰头): what each person on duty walks today, by shift.

* 早拆违 (morning): the open illegal-structure and wall-opening cases (C01/C02) whose
  deadline or recheck falls due by the end of the day, in the person's district, ordered
  into a walking route from the enforcement center (nearest neighbour, then 2-opt);
* 午巡查 (midday): the postman tour of the person's district when it fits the shift, else
  the time-budgeted route through the district's hotspots;
* 晚整治 (evening): the time-budgeted route through the streets with the most cases
  reported between 16:00 and 23:59 (bars putting tables out, noise, touting).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import networkx as nx
import pandas as pd
from pyproj import Transformer
from shapely.geometry import LineString

from gis.cases.workflow import OPEN_STATES
from gis.errors import InfeasibleError, NetworkError
from gis.geography.crs import METRIC, WGS84
from gis.localtime import LOCAL_TZ as TZ
from gis.people.roster import SHIFTS, ShiftHours
from gis.people.staff import Person
from gis.planning.budget_route import plan_budget_route
from gis.planning.postman import plan_postman_route
from gis.planning.walk import Route

log = logging.getLogger(__name__)

#: What each shift is for.
SHIFT_TASKS: dict[str, str] = {"morning": "拆违", "midday": "巡查", "evening": "整治"}
#: Categories visited by the morning shift.
SITE_CATEGORIES: tuple[str, ...] = ("C01", "C02")
#: At most this many hotspot streets are offered to one person's route.
MAX_HOTSPOTS = 40
#: Hours (inclusive) whose cases weight the evening route.
EVENING_HOURS: tuple[int, int] = (16, 23)


@dataclass(frozen=True)
class Stop:
    """One site of the morning list."""

    case_id: str
    category: str
    state: str
    deadline_at: dt.datetime | None
    lon: float
    lat: float
    street: str


@dataclass(frozen=True)
class PersonPlan:
    """One person's plan for the day."""

    person_id: str
    name: str
    team: str
    phone: str
    shift: str
    start: dt.datetime
    end: dt.datetime
    kind: str  # sites | postman | hotspots | none
    segments: tuple[str, ...] = ()
    streets: tuple[str, ...] = ()
    route_m: float = 0.0
    minutes: float = 0.0
    stops: tuple[Stop, ...] = ()
    line: tuple[tuple[float, float], ...] = ()  # WGS 84 lon/lat of the walk
    notes: tuple[str, ...] = ()

    @property
    def task(self) -> str:
        """早拆违、午巡查、晚整治: the shift's job."""
        return SHIFT_TASKS.get(self.shift, "")


@dataclass(frozen=True)
class DayInputs:
    """Everything the plan needs, read once."""

    day: dt.date
    people: Sequence[Person]
    duties: Mapping[str, str]  # person_id → duty of the day
    districts: Mapping[str, Sequence[str]]  # person_id → segment ids in force that day
    cases: gpd.GeoDataFrame  # the case frame (EPSG:32650)
    hours: ShiftHours = field(default_factory=ShiftHours)
    walk_speed_kmh: float = 4.5


_TO_WGS = Transformer.from_crs(METRIC, WGS84, always_xy=True)


def _line_lonlat(line: LineString | None) -> tuple[tuple[float, float], ...]:
    if line is None or line.is_empty:
        return ()
    xs, ys = line.xy
    lon, lat = _TO_WGS.transform(list(xs), list(ys))
    return tuple((round(float(a), 6), round(float(b), 6)) for a, b in zip(lon, lat, strict=True))


def sites_due(cases: gpd.GeoDataFrame, day: dt.date) -> gpd.GeoDataFrame:
    """Open C01/C02 cases whose deadline or recheck falls due by the end of ``day``."""
    if cases.empty:
        return cases
    end = pd.Timestamp(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=TZ))
    m = (
        cases["category"].isin(SITE_CATEGORIES)
        & cases["state"].isin(OPEN_STATES)
        & cases["deadline_at"].notna()
    )
    due = cases.loc[m]
    return due.loc[due["deadline_at"] < end].sort_values(["deadline_at", "case_id"])


def evening_weights(
    cases: gpd.GeoDataFrame, day: dt.date, *, days_back: int = 90
) -> dict[str, float]:
    """Cases per segment reported 16:00–23:59 in the ``days_back`` days before ``day``."""
    if cases.empty:
        return {}
    end = pd.Timestamp(dt.datetime.combine(day, dt.time(0), tzinfo=TZ))
    start = end - pd.Timedelta(days=days_back)
    t = cases["reported_at"]
    hours = t.dt.tz_convert(TZ).dt.hour
    m = (t >= start) & (t < end) & hours.between(*EVENING_HOURS) & cases["segment_id"].notna()
    return {str(k): float(v) for k, v in cases.loc[m, "segment_id"].value_counts().items()}


def recent_weights(
    cases: gpd.GeoDataFrame, day: dt.date, *, days_back: int = 28
) -> dict[str, float]:
    """Cases per segment in the ``days_back`` days before ``day`` (any hour)."""
    if cases.empty:
        return {}
    end = pd.Timestamp(dt.datetime.combine(day, dt.time(0), tzinfo=TZ))
    t = cases["reported_at"]
    m = (t >= end - pd.Timedelta(days=days_back)) & (t < end) & cases["segment_id"].notna()
    return {str(k): float(v) for k, v in cases.loc[m, "segment_id"].value_counts().items()}


class DayPlanner:
    """Plans the day for everyone on duty over one street graph (build once, plan many days)."""

    def __init__(self, G: nx.MultiGraph, depot: int) -> None:
        self.G = G
        self.depot = depot
        self._names = {
            d["segment_id"]: (d.get("name") or "无名胡同") for _, _, d in G.edges(data=True)
        }
        self._ends = {d["segment_id"]: (u, v) for u, v, d in G.edges(data=True)}
        self._dist: dict[int, dict[int, float]] = {}
        self._paths: dict[int, dict[int, list[int]]] = {}

    def _from(self, node: int) -> tuple[dict[int, float], dict[int, list[int]]]:
        if node not in self._dist:
            d, p = nx.single_source_dijkstra(self.G, node, weight="length")
            self._dist[node], self._paths[node] = d, p
        return self._dist[node], self._paths[node]

    def _streets(self, segments: Sequence[str]) -> tuple[str, ...]:
        out: list[str] = []
        for s in segments:
            n = self._names.get(s, "")
            if n and (not out or out[-1] != n):
                out.append(n)
        return tuple(out)

    # -- the three shifts ---------------------------------------------------------------
    def plan_sites(
        self, sites: gpd.GeoDataFrame, speed_kmh: float
    ) -> tuple[list[str], list[str], float, LineString | None]:
        """Visit order of sites (case ids), the segments walked, metres and the line."""
        if sites.empty:
            return [], [], 0.0, None
        nodes = []
        for seg in sites["segment_id"]:
            ends = self._ends.get(str(seg)) if seg is not None else None
            nodes.append(ends[0] if ends else self.depot)
        order = _tour(self, self.depot, nodes)
        stops = [self.depot] + [nodes[i] for i in order] + [self.depot]
        segments: list[str] = []
        coords: list[tuple[float, float]] = []
        total = 0.0
        for a, b in zip(stops, stops[1:], strict=False):
            dist, paths = self._from(a)
            path = paths.get(b, [a])
            total += dist.get(b, 0.0)
            for x, y in zip(path, path[1:], strict=False):
                key, data = min(self.G[x][y].items(), key=lambda kv: kv[1]["length"])
                segments.append(str(key))
                pts = list(data["geometry"].coords)
                if (self.G.nodes[x]["x"], self.G.nodes[x]["y"]) != pts[0]:
                    pts.reverse()
                coords += pts if not coords else pts[1:]
        ids = [str(sites["case_id"].iloc[i]) for i in order]
        return ids, segments, total, LineString(coords) if len(coords) >= 2 else None

    def plan_person(self, person: Person, duty: str, inputs: DayInputs) -> PersonPlan:
        """The plan of one person with ``duty`` on ``inputs.day``."""
        start, end = _window(inputs.day, duty, inputs.hours)
        base = dict(
            person_id=person.person_id,
            name=person.name,
            team=person.team,
            phone=person.phone,
            shift=duty,
            start=start,
            end=end,
        )
        district = [s for s in inputs.districts.get(person.person_id, ()) if s in self._ends]
        budget = (end - start).total_seconds() / 60.0
        notes: list[str] = []
        if not district:
            notes.append("no district assigned: planned over the whole area")
        if duty == "morning":
            due = sites_due(inputs.cases, inputs.day)
            if district:
                due = due.loc[due["segment_id"].isin(set(district))]
            ids, segs, metres, line = self.plan_sites(due, inputs.walk_speed_kmh)
            by_id = due.set_index("case_id")
            stops = []
            for cid in ids:
                r = by_id.loc[cid]
                lon, lat = _TO_WGS.transform(r.geometry.x, r.geometry.y)
                deadline = r["deadline_at"]
                stops.append(
                    Stop(
                        case_id=cid,
                        category=str(r["category"]),
                        state=str(r["state"]),
                        deadline_at=deadline.to_pydatetime() if pd.notna(deadline) else None,
                        lon=float(lon),
                        lat=float(lat),
                        street=self._names.get(str(r["segment_id"]), ""),
                    )
                )
            if not stops:
                notes.append("no illegal-structure site due today")
            return PersonPlan(
                **base,  # type: ignore[arg-type]
                kind="sites",
                segments=tuple(segs),
                streets=self._streets(segs),
                route_m=metres,
                minutes=metres / (inputs.walk_speed_kmh * 1000 / 60),
                stops=tuple(stops),
                line=_line_lonlat(line),
                notes=tuple(notes),
            )
        if duty == "midday" and district:
            try:
                route = plan_postman_route(
                    self.G,
                    district,
                    self.depot,
                    walk_speed_kmh=inputs.walk_speed_kmh,
                    with_bound=False,
                )
            except (NetworkError, InfeasibleError) as exc:
                notes.append(f"no postman tour: {exc}")
                route = None
            if route is not None and route.duration_min <= budget:
                return self._route_plan(base, "postman", route, notes)
            notes.append("the district tour is longer than the shift: hotspot route instead")
        if duty in ("midday", "evening"):
            weights = (
                evening_weights(inputs.cases, inputs.day)
                if duty == "evening"
                else recent_weights(inputs.cases, inputs.day)
            )
            if district:
                inside = {s: w for s, w in weights.items() if s in set(district)}
                weights = inside or {s: 1.0 for s in district}
            if not weights:
                notes.append("no case history to weight the route")
                return PersonPlan(**base, kind="none", notes=tuple(notes))  # type: ignore[arg-type]
            # the strongest streets only: the walk cannot collect hundreds in one shift,
            # and the insertion search grows with the square of the candidates
            top = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_HOTSPOTS]
            try:
                plan = plan_budget_route(
                    self.G,
                    self.depot,
                    dict(top),
                    budget,
                    inputs.walk_speed_kmh,
                    search_moves=60,
                    search_seconds=0.2,
                )
            except (NetworkError, InfeasibleError) as exc:
                notes.append(f"no hotspot route: {exc}")
                return PersonPlan(**base, kind="none", notes=tuple(notes))  # type: ignore[arg-type]
            return self._route_plan(base, "hotspots", plan.route, notes)
        return PersonPlan(**base, kind="none", notes=tuple(notes))  # type: ignore[arg-type]

    def _route_plan(
        self, base: dict[str, object], kind: str, route: Route, notes: list[str]
    ) -> PersonPlan:
        segs = [e.segment_id for e in route.edges]
        return PersonPlan(
            **base,  # type: ignore[arg-type]
            kind=kind,
            segments=tuple(segs),
            streets=self._streets(segs),
            route_m=float(route.total_m),
            minutes=float(route.duration_min),
            line=_line_lonlat(route.geometry),
            notes=tuple(notes),
        )

    def plan_day(self, inputs: DayInputs) -> list[PersonPlan]:
        """Plans for everyone whose duty that day is a shift, morning first."""
        people = {p.person_id: p for p in inputs.people}
        out = []
        for pid, duty in sorted(
            inputs.duties.items(),
            key=lambda kv: (SHIFTS.index(kv[1]) if kv[1] in SHIFTS else 9, kv[0]),
        ):
            if duty in SHIFTS and pid in people:
                out.append(self.plan_person(people[pid], duty, inputs))
        return out


def _window(day: dt.date, shift: str, hours: ShiftHours) -> tuple[dt.datetime, dt.datetime]:
    a, b = hours.span(shift)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=TZ) + dt.timedelta(hours=a)
    return start, start + dt.timedelta(hours=b - a)


def _tour(planner: DayPlanner, depot: int, nodes: Sequence[int]) -> list[int]:
    """Visit order (indices into ``nodes``): nearest neighbour from the depot, then 2-opt."""
    n = len(nodes)
    pts = [depot, *nodes]

    def d(a: int, b: int) -> float:
        return planner._from(pts[a])[0].get(pts[b], 1e9)

    order: list[int] = []
    left = set(range(1, n + 1))
    cur = 0
    while left:
        nxt = min(left, key=lambda j: (d(cur, j), j))
        order.append(nxt)
        left.remove(nxt)
        cur = nxt
    tour = [0, *order, 0]
    improved = True
    while improved:
        improved = False
        for i in range(1, len(tour) - 2):
            for j in range(i + 1, len(tour) - 1):
                old = d(tour[i - 1], tour[i]) + d(tour[j], tour[j + 1])
                new = d(tour[i - 1], tour[j]) + d(tour[i], tour[j + 1])
                if new < old - 1e-6:
                    tour[i : j + 1] = reversed(tour[i : j + 1])
                    improved = True
    return [k - 1 for k in tour[1:-1]]
