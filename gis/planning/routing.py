"""Patrol routes: the required streets, start points on the network and min-max k-person routes.

The postman machinery lives in :mod:`gis.planning.postman` and time-budgeted hotspot walks in
:mod:`gis.planning.budget_route`; this module picks the required streets, places start points on
the network and builds the multi-person plans.

* :func:`plan_k_routes` — min-max k-postman from the center: the optimal single tour is cut
  into ``k`` contiguous pieces with the smallest possible longest piece (Frederickson's k-split,
  with the split points chosen optimally by bisection on the longest piece), each piece is
  re-planned as its own postman tour, and a local search moves streets from the longest route
  to a neighbouring one while that shortens the longest.
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

from gis.errors import NetworkError, NotFoundError, ValidationError
from gis.planning.postman import (
    MatchingMethod,
    Net,
    plan_postman_route,
)
from gis.planning.walk import Route, RouteEdge

log = logging.getLogger(__name__)

__all__ = [
    "KRoutes",
    "SearchBudget",
    "make_route",
    "node_for_point",
    "plan_k_routes",
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


def make_route(
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
            r = make_route(G, walk, pieces_req, depot, piece_lb, walk_speed_kmh, "k-split")
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
    budget = SearchBudget(quick, search_seconds and search_seconds / 4, len(starts))
    phase1 = []
    for start_routes in sorted(starts, key=key):
        budget.next_start()
        phase1.append(_improve_k(start_routes, plan, net, budget))
    phase1.sort(key=key)
    finalists = phase1[:2]
    left = search_moves - quick * len(starts)
    budget = SearchBudget(left // len(finalists), search_seconds and search_seconds * 3 / 4, 2)
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


class SearchBudget:
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


def _improve_k(routes: list[Route], plan, net: Net, budget: SearchBudget) -> list[Route]:
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
