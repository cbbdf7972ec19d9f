"""Time-budgeted hotspot walks: an orienteering tour from the depot within the patrol's minutes.

:func:`plan_budget_route` is an orienteering walk: stops at hotspot segments are inserted
greedily by weight per added minute at their cheapest place in the sequence, the sequence is
improved by 2-opt and orientation flips, and insertion resumes until nothing fits. A greedy
baseline (go next to the best weight per minute from where you stand) is computed alongside.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from gis.errors import InfeasibleError, NotFoundError, ValidationError
from gis.planning.postman import (
    Net,
)
from gis.planning.routing import SearchBudget, make_route
from gis.planning.walk import Route, RouteEdge


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
    budget = SearchBudget(search_moves, search_seconds, 4)
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
        return make_route(G, edges, {targets[t] for t, _ in sq}, depot, 0.0, walk_speed_kmh, method)

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
    search: SearchBudget,
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
