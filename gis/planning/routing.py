"""Patrol routes: single postman tours, min-max k-person routes and time-budgeted hotspot walks.

The postman machinery lives in :mod:`gis.planning.postman`; this module picks the required streets,
places start points on the network and builds the multi-person and time-budgeted plans.

* :func:`plan_k_routes` — min-max k-postman from the center: the optimal single tour is cut
  into ``k`` contiguous pieces with the smallest possible longest piece (Frederickson's k-split,
  with the split points chosen optimally by bisection on the longest piece), each piece is
  re-planned as its own postman tour, and a local search moves streets from the longest route
  to a neighbouring one while that shortens the longest.
* :func:`plan_budget_route` — an orienteering walk: stops at hotspot segments are inserted
  greedily by weight per added minute at their cheapest place in the sequence, the sequence is
  improved by 2-opt and orientation flips, and insertion resumes until nothing fits. A greedy
  baseline (go next to the best weight per minute from where you stand) is computed alongside.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx
import numpy as np
import shapely
from shapely.geometry import Point

from gis.errors import InfeasibleError, NetworkError, NotFoundError, ValidationError
from gis.planning.postman import (
    MatchingMethod,
    Net,
    Route,
    RouteEdge,
    plan_postman_route,
)

log = logging.getLogger(__name__)

__all__ = [
    "BudgetPlan",
    "KRoutes",
    "Route",
    "RouteEdge",
    "node_for_point",
    "plan_budget_route",
    "plan_k_routes",
    "plan_postman_route",
    "required_segments",
]


# --------------------------------------------------------------------------------------------
# choosing streets and start points


def required_segments(
    G: nx.MultiGraph,
    *,
    zone_id: str | None = None,
    front_id: str | None = None,
    segment_ids: Iterable[str] | None = None,
) -> list[str]:
    """Segment ids of a zone, a front or an explicit list (intersection of what is given)."""
    chosen: set[str] | None = None
    if segment_ids is not None:
        chosen = {str(s) for s in segment_ids}
    for attr, value in (("zone_id", zone_id), ("front_id", front_id)):
        if value is None:
            continue
        found = {str(k) for _u, _v, k, d in G.edges(keys=True, data=True) if d.get(attr) == value}
        if not found:
            raise NotFoundError(f"no street segment has {attr} = {value!r}")
        chosen = found if chosen is None else chosen & found
    if chosen is None:
        chosen = {str(k) for _u, _v, k in G.edges(keys=True)}
    return sorted(chosen)


def node_for_point(
    G: nx.MultiGraph, point: Point, *, max_distance_m: float = 200.0
) -> tuple[int, float]:
    """The junction nearest to where ``point`` (the graph's CRS) meets the street network.

    Returns the node and the point's distance to the street. A point farther than
    ``max_distance_m`` from every street is refused, saying how far it is (usually a wrong
    datum or swapped coordinates).
    """
    keys = list(G.edges(keys=True))
    if not keys:
        raise NetworkError("the street network is empty")
    geoms = []
    for u, v, k in keys:
        g = G.edges[u, v, k].get("geometry")
        if g is None:
            g = shapely.LineString(
                [(G.nodes[u]["x"], G.nodes[u]["y"]), (G.nodes[v]["x"], G.nodes[v]["y"])]
            )
        geoms.append(g)
    if point is None or point.is_empty or not np.isfinite(shapely.get_coordinates(point)).all():
        raise NetworkError("the start point has no finite coordinates: check lon,lat and the datum")
    tree = shapely.STRtree(geoms)
    idx, dist = tree.query_nearest(point, return_distance=True, all_matches=True)
    if len(idx) == 0:
        raise NetworkError("no street is near the start point: check the coordinates")
    order = sorted(range(len(idx)), key=lambda i: str(keys[int(idx[i])][2]))
    best = int(idx[order[0]])
    d = float(dist[order[0]])
    if d > max_distance_m:
        raise NetworkError(
            f"the start point is {d:.0f} m from the nearest street (limit {max_distance_m:.0f} m): "
            "check the coordinates, their order (lon,lat) and their datum"
        )
    u, v, _k = keys[best]
    pu = Point(G.nodes[u]["x"], G.nodes[u]["y"])
    pv = Point(G.nodes[v]["x"], G.nodes[v]["y"])
    near = point.distance(pu) <= point.distance(pv)
    return (u if near else v), d


# --------------------------------------------------------------------------------------------
# k-person routes


@dataclass(frozen=True)
class KRoutes:
    """``k`` routes from the same depot that together patrol the required set.

    ``lower_bound_m`` = max(longest single-segment round trip from the depot, lower bound of
    the single tour / k); ``gap`` = longest route / lower bound − 1.
    """

    routes: tuple[Route, ...]
    lower_bound_m: float
    max_m: float
    gap: float
    single: Route


def _walk_edges(net: Net, pred_row: np.ndarray, src: int, dst: int) -> list[RouteEdge]:
    out = []
    for i, j, sid in net.path_edges(pred_row, src, dst):
        out.append(RouteEdge(net.nodes[i], net.nodes[j], sid, net.edge_between(i, j)[1], True))
    return out


def _reverse_path(path: list[RouteEdge]) -> list[RouteEdge]:
    return [RouteEdge(e.v, e.u, e.segment_id, e.length, e.deadhead) for e in reversed(path)]


def _make_route(
    G: nx.MultiGraph,
    edges: list[RouteEdge],
    required: set[str],
    depot: int,
    lower_bound: float,
    speed: float,
    method: str,
) -> Route:
    seen: set[str] = set()
    out = []
    for e in edges:
        dead = e.segment_id not in required or e.segment_id in seen
        if e.segment_id in required:
            seen.add(e.segment_id)
        out.append(e._replace(deadhead=dead))
    return Route.from_edges(G, out, depot, depot, lower_bound, speed, method)


def _split_tour(edges: list[RouteEdge], d: np.ndarray, net: Net, k: int) -> list[tuple[int, int]]:
    """Optimal contiguous split of a closed tour's required traversals into ≤ k pieces.

    A piece from required traversal ``p`` to ``q`` costs ``d(depot, start_p) + tour length from
    start_p to end_q + d(end_q, depot)``, non-decreasing in ``q`` by the triangle inequality, so
    a greedy fill decides whether a bound T is feasible; bisection finds the smallest T.
    Returns ``(first_edge_pos, last_edge_pos)`` per piece.
    """
    pos = [i for i, e in enumerate(edges) if not e.deadhead]
    prefix = np.concatenate([[0.0], np.cumsum([e.length for e in edges])])
    ds = np.array([d[net.index[edges[i].u]] for i in pos])
    de = np.array([d[net.index[edges[i].v]] for i in pos])
    ps = np.array([prefix[i] for i in pos])
    pe = np.array([prefix[i + 1] for i in pos])
    m = len(pos)

    def fill(T: float) -> list[tuple[int, int]] | None:
        pieces = []
        p = 0
        while p < m:
            if ds[p] + pe[p] - ps[p] + de[p] > T + 1e-9:
                return None
            # costs along q are non-decreasing: binary search the last q within T
            cost = ds[p] + pe[p:] - ps[p] + de[p:]
            q = p + int(np.searchsorted(cost, T + 1e-9, side="right")) - 1
            pieces.append((p, q))
            p = q + 1
            if len(pieces) > k:
                return None
        return pieces

    lo = float(max(ds + pe - ps + de))
    hi = float(ds[0] + pe[-1] - ps[0] + de[-1])
    best = fill(hi)
    assert best is not None
    if (res := fill(lo)) is not None:
        best = res
    else:
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            res = fill(mid)
            if res is None:
                lo = mid
            else:
                hi, best = mid, res
            if hi - lo < 1e-6 * max(hi, 1.0):
                break
    return [(pos[p], pos[q]) for p, q in best]


def plan_k_routes(
    G: nx.MultiGraph,
    required_segment_ids: Iterable[str],
    depot: int,
    k: int,
    *,
    walk_speed_kmh: float = 4.5,
    matching: MatchingMethod = "auto",
    search_moves: int = 3000,
    search_seconds: float | None = None,
) -> KRoutes:
    """Split the patrol of ``required_segment_ids`` among ``k`` people starting at ``depot``.

    Minimises the longest route (everyone returns to the depot). See the module docstring for
    the method. The local search tries at most ``search_moves`` moves in all (so the result
    is deterministic); ``search_seconds`` optionally caps its wall-clock time as well.
    """
    if not isinstance(k, int | np.integer) or k < 1:
        raise ValidationError(
            f"k must be a positive number of people, got {k!r}",
            field="k",
            fix="ask for at least one person",
        )
    net = Net(G)
    single = plan_postman_route(
        G, required_segment_ids, depot, walk_speed_kmh=walk_speed_kmh, matching=matching, net=net
    )
    req = {e.segment_id for e in single.edges if not e.deadhead}
    d_i = net.index[depot]
    dist, pred = net.dijkstra([d_i], return_predecessors=True)
    d, pr = dist[0], pred[0]
    seg_lb = 0.0
    for sid in req:
        u, v, length = net.seg[sid]
        seg_lb = max(seg_lb, float(d[net.index[u]] + length + d[net.index[v]]))
    lb = max(seg_lb, single.lower_bound_m / k)
    if k == 1:
        return KRoutes((single,), lb, single.total_m, single.total_m / lb - 1.0, single)

    def to_depot(node: int) -> list[RouteEdge]:
        return _reverse_path(_walk_edges(net, pr, d_i, net.index[node]))

    def from_depot(node: int) -> list[RouteEdge]:
        return _walk_edges(net, pr, d_i, net.index[node])

    memo: dict[frozenset[str], Route] = {}

    def plan(sids: set[str], with_bound: bool = False) -> Route:
        key = frozenset(sids)
        if key not in memo or (with_bound and memo[key].lower_bound_m <= memo[key].required_m):
            memo[key] = plan_postman_route(
                G,
                sids,
                depot,
                walk_speed_kmh=walk_speed_kmh,
                matching=matching,
                net=net,
                with_bound=with_bound,
            )
        return memo[key]

    starts: list[list[Route]] = []
    tours = [list(single.edges)]
    tours.append(
        [RouteEdge(e.v, e.u, e.segment_id, e.length, e.deadhead) for e in reversed(single.edges)]
    )
    for tour in tours:
        # recompute which traversal of each required segment patrols it in this direction
        seen: set[str] = set()
        fixed = []
        for e in tour:
            dead = e.segment_id not in req or e.segment_id in seen
            if e.segment_id in req:
                seen.add(e.segment_id)
            fixed.append(e._replace(deadhead=dead))
        routes = []
        for a, b in _split_tour(fixed, d, net, k):
            piece = fixed[a : b + 1]
            pieces_req = {e.segment_id for e in piece if not e.deadhead}
            walk = from_depot(piece[0].u) + piece + to_depot(piece[-1].v)
            piece_lb = sum(net.seg[sid][2] for sid in pieces_req)
            r = _make_route(G, walk, pieces_req, depot, piece_lb, walk_speed_kmh, "k-split")
            alt = plan(pieces_req)
            routes.append(alt if alt.total_m < r.total_m else r)
        starts.append(routes)
    for n in range(SECTOR_STARTS):
        groups = _sectors(G, net, req, depot, k, offset=2 * np.pi * n / (SECTOR_STARTS * k))
        starts.append([plan(g) for g in groups if g])

    def key(rs: list[Route]) -> list[float]:
        return sorted((round(r.total_m, 6) for r in rs), reverse=True)

    best_routes: list[Route] | None = None
    # two phases: a short search from every start, then the rest of the budget for the two
    # most promising ones (a local search needs many moves to balance k routes)
    quick = max(search_moves // (4 * len(starts)), 1)
    budget = _Budget(quick, search_seconds and search_seconds / 4, len(starts))
    phase1 = []
    for start_routes in sorted(starts, key=key):
        budget.next_start()
        phase1.append(_improve_k(start_routes, plan, net, budget))
    phase1.sort(key=key)
    finalists = phase1[:2]
    left = search_moves - quick * len(starts)
    budget = _Budget(left // len(finalists), search_seconds and search_seconds * 3 / 4, 2)
    for cand in finalists:
        budget.next_start()
        improved = _improve_k(cand, plan, net, budget)
        if best_routes is None or key(improved) < key(best_routes):
            best_routes = improved
    assert best_routes is not None
    routes = [
        plan({e.segment_id for e in r.edges if not e.deadhead}, with_bound=True)
        if r.method != "k-split"
        else r
        for r in best_routes
    ]
    routes.sort(key=lambda r: -r.total_m)
    routes = [Route(**{**r.__dict__, "method": "k-routes"}) for r in routes]
    mx = max(r.total_m for r in routes)
    return KRoutes(tuple(routes), lb, mx, mx / lb - 1.0 if lb > 0 else 0.0, single)


#: Number of angular sector partitions tried as starting points for k-person routes.
SECTOR_STARTS = 8


def _sectors(
    G: nx.MultiGraph, net: Net, req: set[str], depot: int, k: int, offset: float
) -> list[set[str]]:
    """Cut the required segments into ``k`` angular sectors around the depot with about equal
    street length each (cluster-first starting point: every sector touches the depot)."""
    x0, y0 = G.nodes[depot]["x"], G.nodes[depot]["y"]
    items = []
    for sid in sorted(req):
        u, v, length = net.seg[sid]
        mx = 0.5 * (G.nodes[u]["x"] + G.nodes[v]["x"]) - x0
        my = 0.5 * (G.nodes[u]["y"] + G.nodes[v]["y"]) - y0
        items.append(((np.arctan2(my, mx) - offset) % (2 * np.pi), sid, length))
    items.sort()
    total = sum(it[2] for it in items)
    groups: list[set[str]] = [set() for _ in range(k)]
    acc = 0.0
    for _a, sid, length in items:
        g = min(int((acc + 0.5 * length) / total * k), k - 1)
        groups[g].add(sid)
        acc += length
    return groups


class _Budget:
    """Counts search moves per start (deterministic) with an optional wall-clock cap."""

    def __init__(self, moves: int, seconds: float | None, starts: int = 1) -> None:
        self.per_start = max(moves, 1)
        self.left = self.per_start
        self.end = None if seconds is None else time.monotonic() + seconds
        self.share = None if seconds is None else seconds / max(starts, 1)
        self.start_end: float | None = None

    def next_start(self) -> None:
        self.left = self.per_start
        if self.share is not None:
            self.start_end = time.monotonic() + self.share

    def spend(self) -> bool:
        """Take one move; False when the budget is used up."""
        if self.left <= 0:
            return False
        if self.start_end is not None and time.monotonic() > self.start_end:
            return False
        self.left -= 1
        return True


def _improve_k(routes: list[Route], plan, net: Net, budget: _Budget) -> list[Route]:
    """Move one street at a time from a longest route to a touching shorter route while the
    route lengths, sorted longest first, decrease lexicographically (so ties at the top are
    broken one by one); stops at a local optimum or when the budget is spent."""
    routes = list(routes)
    reqs = [{e.segment_id for e in r.edges if not e.deadhead} for r in routes]

    def key(rs: list[Route]) -> list[float]:
        return sorted((round(r.total_m, 6) for r in rs), reverse=True)

    improved = True
    while improved:
        improved = False
        cur_key = key(routes)
        node_sets = [set(r.nodes) for r in routes]
        donors = sorted(range(len(routes)), key=lambda i: (-routes[i].total_m, i))
        for w in donors:
            if len(reqs[w]) <= 1:
                continue
            takers = sorted(
                (i for i in range(len(routes)) if routes[i].total_m < routes[w].total_m),
                key=lambda i: (routes[i].total_m, i),
            )
            for j in takers:
                cands = sorted(
                    s
                    for s in reqs[w]
                    if net.seg[s][0] in node_sets[j] or net.seg[s][1] in node_sets[j]
                )
                for s in cands:
                    if not budget.spend():
                        return routes
                    new_w = plan(reqs[w] - {s})
                    if new_w.total_m >= routes[w].total_m - 1e-6:
                        continue
                    new_j = plan(reqs[j] | {s})
                    trial = list(routes)
                    trial[w], trial[j] = new_w, new_j
                    if key(trial) < cur_key:
                        routes = trial
                        reqs[w] = reqs[w] - {s}
                        reqs[j] = reqs[j] | {s}
                        improved = True
                        break
                if improved:
                    break
            if improved:
                break
    return routes


# --------------------------------------------------------------------------------------------
# time-budgeted hotspot patrol


@dataclass(frozen=True)
class BudgetPlan:
    """A closed walk from the depot that stops at hotspot segments within a time budget.

    ``weight`` is the summed weight of the stops; ``minutes`` = walking time + dwell at each
    stop. ``baseline_*`` describe the greedy nearest-best-ratio walk for comparison.
    """

    route: Route
    stops: tuple[str, ...]
    weight: float
    minutes: float
    baseline_route: Route
    baseline_stops: tuple[str, ...]
    baseline_weight: float
    baseline_minutes: float
    budget_minutes: float


class _Seq:
    """Distances between the depot and hotspot segment ends, for sequence arithmetic."""

    def __init__(self, net: Net, depot: int, targets: list[str]) -> None:
        self.net = net
        self.targets = targets
        ends = []
        for sid in targets:
            u, v, _l = net.seg[sid]
            ends += [net.index[u], net.index[v]]
        self.nodes = sorted({net.index[depot], *ends})
        self.pos = {n: i for i, n in enumerate(self.nodes)}
        dist, pred = net.dijkstra(self.nodes, return_predecessors=True)
        self.D = dist[:, self.nodes]  # D[a, b] between positions
        self.pred = pred
        self.depot = self.pos[net.index[depot]]
        self.length = np.array([net.seg[s][2] for s in targets])
        # orientation 0: u→v, 1: v→u ; start/end positions
        self.su = np.array([self.pos[net.index[net.seg[s][0]]] for s in targets])
        self.sv = np.array([self.pos[net.index[net.seg[s][1]]] for s in targets])

    def ends(self, t: int, o: int) -> tuple[int, int]:
        return (int(self.su[t]), int(self.sv[t])) if o == 0 else (int(self.sv[t]), int(self.su[t]))

    def cost(self, seq: list[tuple[int, int]]) -> float:
        cur = self.depot
        total = 0.0
        for t, o in seq:
            a, b = self.ends(t, o)
            total += self.D[cur, a] + self.length[t]
            cur = b
        return float(total + self.D[cur, self.depot])

    def walk(self, seq: list[tuple[int, int]]) -> list[RouteEdge]:
        net = self.net
        out: list[RouteEdge] = []
        cur = self.depot
        for t, o in seq + [(-1, 0)]:
            a, b = (self.depot, self.depot) if t < 0 else self.ends(t, o)
            src, dst = self.nodes[cur], self.nodes[a]
            for i, j, sid in net.path_edges(self.pred[cur], src, dst):
                out.append(
                    RouteEdge(net.nodes[i], net.nodes[j], sid, net.edge_between(i, j)[1], True)
                )
            if t >= 0:
                sid = self.targets[t]
                out.append(
                    RouteEdge(
                        net.nodes[self.nodes[a]],
                        net.nodes[self.nodes[b]],
                        sid,
                        float(self.length[t]),
                        False,
                    )
                )
            cur = b
        return out


def plan_budget_route(
    G: nx.MultiGraph,
    depot: int,
    weights: dict[str, float],
    budget_minutes: float,
    walk_speed_kmh: float = 4.5,
    dwell_minutes_per_hotspot: float = 0.0,
    *,
    search_moves: int = 200,
    search_seconds: float | None = None,
) -> BudgetPlan:
    """The closed walk from ``depot`` that collects the most hotspot weight within the budget.

    Parameters
    ----------
    weights
        Segment id → weight (e.g. the hotspot score of the segment); segments with weight ≤ 0
        are ignored.
    budget_minutes
        Total time for walking plus ``dwell_minutes_per_hotspot`` at each stop.
    search_moves, search_seconds
        Caps on the improvement search (remove-one-and-refill moves per construction; the
        move count keeps results deterministic, the optional seconds bound the wall clock).
    """
    if not budget_minutes or budget_minutes <= 0:
        raise ValidationError(
            f"budget must be positive, got {budget_minutes!r} minutes", field="budget_minutes"
        )
    if walk_speed_kmh <= 0:
        raise ValidationError(f"walking speed must be positive, got {walk_speed_kmh!r}")
    net = Net(G)
    if depot not in net.index:
        raise NotFoundError(f"depot node {depot!r} is not in the street graph")
    unknown = sorted(s for s in weights if str(s) not in net.seg)
    if unknown:
        raise NotFoundError(
            f"weighted segments not in the street graph: {', '.join(unknown[:5])}"
            + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        )
    comp = net.component[depot]
    targets = sorted(
        str(s) for s, w in weights.items() if w > 0 and net.component[net.seg[str(s)][0]] == comp
    )
    if not targets:
        raise ValidationError(
            "no segment with a positive weight is reachable from the depot",
            field="weights",
            fix="supply hotspot weights for streets on the depot's network",
        )
    w = np.array([float(weights[s]) for s in targets])
    per_m = 60.0 / (walk_speed_kmh * 1000.0)  # minutes per metre
    dwell = float(dwell_minutes_per_hotspot)
    S = _Seq(net, depot, targets)
    dep = S.depot
    rt = np.minimum(
        S.D[dep, S.su] + S.length + S.D[S.sv, dep], S.D[dep, S.sv] + S.length + S.D[S.su, dep]
    )
    cheapest = float(np.min(rt * per_m + dwell))
    if cheapest > budget_minutes:
        raise InfeasibleError(
            f"a budget of {budget_minutes:g} min is too small to leave the depot: the nearest "
            f"hotspot takes {cheapest:.1f} min there and back",
            # fix
        )

    def minutes(seq: list[tuple[int, int]]) -> float:
        return S.cost(seq) * per_m + dwell * len(seq)

    base = _greedy(S, w, per_m, dwell, budget_minutes)
    budget = _Budget(search_moves, search_seconds, 4)
    best: list[tuple[int, int]] = []
    # several constructions (ratio weight/Δt^α, and the greedy walk as a seed), each improved
    for alpha, seed in ((1.0, None), (0.5, None), (2.0, None), (1.0, base)):
        cand = _insertion(S, w, per_m, dwell, budget_minutes, list(seed or []), alpha)
        budget.next_start()
        cand = _swap_improve(S, w, per_m, dwell, budget_minutes, cand, budget)
        if _better(S, w, cand, best):
            best = cand
    seq = best

    def build(sq: list[tuple[int, int]], method: str) -> Route:
        edges = S.walk(sq)
        return _make_route(
            G, edges, {targets[t] for t, _ in sq}, depot, 0.0, walk_speed_kmh, method
        )

    r = build(seq, "budget")
    rb = build(base, "greedy")
    return BudgetPlan(
        route=r,
        stops=tuple(targets[t] for t, _ in seq),
        weight=float(sum(w[t] for t, _ in seq)),
        minutes=minutes(seq),
        baseline_route=rb,
        baseline_stops=tuple(targets[t] for t, _ in base),
        baseline_weight=float(sum(w[t] for t, _ in base)),
        baseline_minutes=minutes(base),
        budget_minutes=float(budget_minutes),
    )


def _greedy(
    S: _Seq, w: np.ndarray, per_m: float, dwell: float, budget: float
) -> list[tuple[int, int]]:
    """Baseline: from where you stand, go to the hotspot with the best weight per minute that
    still lets you get back in time."""
    seq: list[tuple[int, int]] = []
    used = np.zeros(len(w), dtype=bool)
    cur = S.depot
    spent = 0.0
    while True:
        best = None
        for o in (0, 1):
            a = S.su if o == 0 else S.sv
            b = S.sv if o == 0 else S.su
            go = (S.D[cur, a] + S.length) * per_m + dwell
            back = S.D[b, S.depot] * per_m
            ok = (~used) & (spent + go + back <= budget + 1e-9)
            ratio = np.where(ok, w / np.maximum(go, 1e-9), -np.inf)
            t = int(np.argmax(ratio))
            if ok[t] and (best is None or ratio[t] > best[0]):
                best = (float(ratio[t]), t, o, float(go[t]))
        if best is None:
            return seq
        _r, t, o, go = best
        seq.append((t, o))
        used[t] = True
        spent += go
        cur = S.ends(t, o)[1]


def _better(S: _Seq, w: np.ndarray, a: list[tuple[int, int]], b: list[tuple[int, int]]) -> bool:
    """More weight wins; equal weight, the shorter walk."""
    wa, wb = float(sum(w[t] for t, _ in a)), float(sum(w[t] for t, _ in b))
    if abs(wa - wb) > 1e-9:
        return wa > wb
    return S.cost(a) < S.cost(b) - 1e-9


def _swap_improve(
    S: _Seq,
    w: np.ndarray,
    per_m: float,
    dwell: float,
    budget: float,
    seq: list[tuple[int, int]],
    search: _Budget,
) -> list[tuple[int, int]]:
    """Remove one stop, re-optimise and refill; keep the change when it collects more."""
    improved = len(seq) < len(w)  # with every hotspot taken there is nothing to gain
    while improved:
        improved = False
        for i in range(len(seq)):
            if not search.spend():
                return seq
            rest = _two_opt(S, seq[:i] + seq[i + 1 :])
            banned = seq[i][0]
            cand = _insertion(S, w, per_m, dwell, budget, rest, 1.0, banned=banned)
            if _better(S, w, cand, seq):
                seq, improved = cand, True
                break
    return seq


def _insertion(
    S: _Seq,
    w: np.ndarray,
    per_m: float,
    dwell: float,
    budget: float,
    seq: list[tuple[int, int]] | None = None,
    alpha: float = 1.0,
    *,
    banned: int | None = None,
) -> list[tuple[int, int]]:
    """Insert stops by best weight per added minute (``w / Δt^alpha``) at their cheapest
    place, starting from ``seq``; 2-opt and orientation flips after each insertion."""
    seq = list(seq or [])
    used = np.zeros(len(w), dtype=bool)
    for t, _o in seq:
        used[t] = True
    if banned is not None:
        used[banned] = True
    cost = S.cost(seq)
    while True:
        best = None
        stops = [S.depot] + [S.ends(t, o)[1] for t, o in seq]
        nexts = [S.ends(t, o)[0] for t, o in seq] + [S.depot]
        for p, (a, b) in enumerate(zip(stops, nexts, strict=True)):
            base = S.D[a, b]
            for o in (0, 1):
                s = S.su if o == 0 else S.sv
                e = S.sv if o == 0 else S.su
                delta = S.D[a, s] + S.length + S.D[e, b] - base
                add_min = delta * per_m + dwell
                ok = (~used) & ((cost + delta) * per_m + dwell * (len(seq) + 1) <= budget + 1e-9)
                if not ok.any():
                    continue
                ratio = np.where(ok, w / np.maximum(add_min, 1e-9) ** alpha, -np.inf)
                t = int(np.argmax(ratio))
                if best is None or ratio[t] > best[0]:
                    best = (float(ratio[t]), t, o, p)
        if best is None:
            if banned is not None:  # allow the removed stop back only as a last resort
                used[banned] = False
                banned = None
                continue
            return seq
        _r, t, o, p = best
        seq.insert(p, (t, o))
        used[t] = True
        seq = _two_opt(S, seq)
        cost = S.cost(seq)


def _two_opt(S: _Seq, seq: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Reverse sub-sequences (flipping each stop's direction; a single stop is just flipped)
    while the walk gets shorter. Distances are symmetric, so only the two joins change."""
    seq = list(seq)
    n = len(seq)
    improved = True
    while improved:
        improved = False
        for i in range(n):
            a = S.depot if i == 0 else S.ends(*seq[i - 1])[1]
            si = S.ends(*seq[i])[0]
            for j in range(i, n):
                ej = S.ends(*seq[j])[1]
                b = S.depot if j == n - 1 else S.ends(*seq[j + 1])[0]
                delta = S.D[a, ej] + S.D[si, b] - S.D[a, si] - S.D[ej, b]
                if delta < -1e-9:
                    seq[i : j + 1] = [(t, 1 - o) for t, o in reversed(seq[i : j + 1])]
                    improved = True
                    si = S.ends(*seq[i])[0]
    return seq
