"""Districts per person (包片分段、责任到人): who answers for which street segments.

The unit of responsibility is the street segment. Two segments are neighbours when they
share a junction of the walking graph (the line graph of ``G``), so lakes are barriers and
bridges connect exactly as the walking network does; straight-line nearness never counts.
A district is *contiguous* when its segments form one connected piece of that line graph.

Method (deterministic for a given input and ``seed``):

1. **Components and fronts.** The chosen area is split into the connected pieces of its
   line graph, and — unless front crossing is allowed — by front. Each piece gets people in
   proportion to its workload (D'Hondt: the next person goes where the load per person is
   highest), at least one each, and at least as many as its pinned people.
2. **Seeds.** k-means++ seeding by network distance (Dijkstra on the line graph, midpoint to
   midpoint), pinned people seeded at their pins (pins of one person are first joined by the
   shortest path that avoids other people's pins).
3. **Region growing.** Districts grow from their seeds through neighbouring segments only,
   so every district stays connected: twice as a plain network Voronoi (each segment goes to
   the seed that reaches it first) with the free seeds moved to the segment nearest their
   district's weighted centre in between (Lloyd), then up to 20 rounds of a *capacitated*
   network Voronoi where every district's distance carries an additive offset that grows
   while the district is heavy and shrinks while it is light; the best-balanced round is kept.
4. **Local search.** Boundary segments move from heavy to light neighbouring districts when
   that lowers the sum of squared loads, never through a cut vertex of the donor (a segment
   whose removal would split it: checked by a two-sided search between its end junctions).
   When no single move helps, weight is passed along the shortest chain of districts from the
   heaviest to the lightest one. Among admissible moves, those that remove a bulge (more
   neighbours in the receiver than left in the donor) go first, then those nearest the
   receiver's seed, which keeps districts compact. The search stops at max/min ≤ 1.005.

Segments are never split: balance is limited by the largest segment's share of a district,
and the achieved max/min is reported in :class:`Diagnostics`.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components, dijkstra

from gis.errors import InfeasibleError, ValidationError
from gis.geography.crs import require_metric
from gis.planning.workload import WorkloadParams, workload_series

log = logging.getLogger(__name__)

#: Fronts whose segments legitimately have no zone (the main-street fronts).
ZONELESS_FRONTS: frozenset[str] = frozenset({"main_streets", "gulou_west"})

Assignment = dict[str, str]


# --------------------------------------------------------------------------------------------
# The line graph of segments
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentGraph:
    """Segments as vertices, adjacency through shared junctions, plus weights and lengths."""

    ids: tuple[str, ...]
    index: Mapping[str, int]
    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    weight: np.ndarray
    front: tuple[str, ...]
    nbrs: tuple[tuple[int, ...], ...]
    #: segments incident to each junction (node id → segment indices)
    at_node: Mapping[int, tuple[int, ...]]
    matrix: sp.csr_matrix  # line-graph distances (half length + half length)
    mid: np.ndarray  # (n, 2) midpoints, metres

    @property
    def n(self) -> int:
        """Number of segments."""
        return len(self.ids)


def _check_segments(gdf_segments: gpd.GeoDataFrame) -> None:
    require_metric(gdf_segments, "segments")
    for col in ("segment_id", "u", "v", "length_m"):
        if col not in gdf_segments.columns:
            raise ValidationError(f"segments lack column {col!r}", source="segments", field=col)
    if gdf_segments["segment_id"].duplicated().any():
        dup = gdf_segments.loc[gdf_segments["segment_id"].duplicated(), "segment_id"].iloc[0]
        raise ValidationError(
            f"duplicate segment id {dup!r}", source="segments", field="segment_id"
        )


def build_segment_graph(gdf_segments: gpd.GeoDataFrame, weight: pd.Series) -> SegmentGraph:
    """The line graph of ``gdf_segments`` with ``weight`` (indexed by segment_id)."""
    _check_segments(gdf_segments)
    ids = tuple(str(s) for s in gdf_segments["segment_id"])
    index = {s: i for i, s in enumerate(ids)}
    u = gdf_segments["u"].to_numpy(dtype=np.int64)
    v = gdf_segments["v"].to_numpy(dtype=np.int64)
    length = gdf_segments["length_m"].to_numpy(dtype=float)
    w = weight.reindex(list(ids)).to_numpy(dtype=float)
    front = tuple(
        str(f) if f is not None and not (isinstance(f, float) and math.isnan(f)) else ""
        for f in (gdf_segments["front_id"] if "front_id" in gdf_segments else [""] * len(ids))
    )
    at: dict[int, list[int]] = {}
    for i in range(len(ids)):
        at.setdefault(int(u[i]), []).append(i)
        if v[i] != u[i]:
            at.setdefault(int(v[i]), []).append(i)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    nb: list[set[int]] = [set() for _ in ids]
    for segs in at.values():
        for a in segs:
            for b in segs:
                if a != b:
                    nb[a].add(b)
                    rows.append(a)
                    cols.append(b)
                    vals.append(0.5 * (length[a] + length[b]) + 1e-6)
    n = len(ids)
    mat = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    mid = shapely.get_coordinates(
        shapely.line_interpolate_point(gdf_segments.geometry.values, 0.5, normalized=True)
    )
    return SegmentGraph(
        ids=ids,
        index=index,
        u=u,
        v=v,
        length=length,
        weight=w,
        front=front,
        nbrs=tuple(tuple(sorted(s)) for s in nb),
        at_node={k: tuple(vs) for k, vs in at.items()},
        matrix=mat,
        mid=mid,
    )


def _pieces(sg: SegmentGraph, members: Iterable[int]) -> list[list[int]]:
    """Connected pieces of a set of segments on the line graph, largest first."""
    todo = set(members)
    out: list[list[int]] = []
    while todo:
        start = min(todo)
        todo.discard(start)
        comp = [start]
        queue = deque([start])
        while queue:
            x = queue.popleft()
            for y in sg.nbrs[x]:
                if y in todo:
                    todo.discard(y)
                    comp.append(y)
                    queue.append(y)
        out.append(sorted(comp))
    out.sort(key=lambda c: (-len(c), c[0]))
    return out


# --------------------------------------------------------------------------------------------
# The solver state: owner per segment, loads per district
# --------------------------------------------------------------------------------------------


class _State:
    """Mutable working state of one partition (private to this module)."""

    def __init__(self, sg: SegmentGraph, k: int, owner: np.ndarray, fixed: np.ndarray) -> None:
        self.sg = sg
        self.k = k
        self.owner = owner
        self.fixed = fixed  # segments that may not move (pins)
        self.members: list[set[int]] = [set() for _ in range(k)]
        self.active: set[int] = set(range(k))  # districts local search may touch
        #: loads closer than this are equal (float noise must not drive moves)
        self.eps = 1e-9 * max(float(sg.weight.sum()), 1.0)
        #: a single move must leave the receiver this much below the donor (no ping-pong
        #: of near-equal loads); set per solve to a small share of the mean load
        self.min_gap = 0.0
        self.load = np.zeros(k)
        #: segments of each district with a neighbour in another district
        self.border: list[set[int]] = [set() for _ in range(k)]
        #: cut vertices (articulation points) per district, computed on demand
        self.arts: dict[int, set[int]] = {}
        for i, d in enumerate(owner):
            if d >= 0:
                self.members[d].add(i)
                self.load[d] += sg.weight[i]
        for i, d in enumerate(owner):
            if d >= 0 and self._is_border(i):
                self.border[d].add(i)

    def _is_border(self, s: int) -> bool:
        d = self.owner[s]
        owner = self.owner
        return any(owner[t] != d and owner[t] >= 0 for t in self.sg.nbrs[s])

    def move(self, s: int, to: int) -> None:
        a = self.owner[s]
        if a >= 0:
            self.members[a].discard(s)
            self.border[a].discard(s)
            self.load[a] -= self.sg.weight[s]
        self.owner[s] = to
        self.members[to].add(s)
        self.load[to] += self.sg.weight[s]
        self.arts.pop(int(a), None)
        self.arts.pop(int(to), None)
        for x in (s, *self.sg.nbrs[s]):
            d = self.owner[x]
            if d < 0:
                continue
            if self._is_border(x):
                self.border[d].add(x)
            else:
                self.border[d].discard(x)

    def can_remove(self, s: int) -> bool:
        """True when district ``owner[s]`` stays connected (and non-empty) without ``s``."""
        a = self.owner[s]
        if len(self.members[a]) <= 1:
            return False
        sg, owner = self.sg, self.owner
        side_u = [t for t in sg.at_node[int(sg.u[s])] if t != s and owner[t] == a]
        side_v = [t for t in sg.at_node[int(sg.v[s])] if t != s and owner[t] == a]
        if not side_u or not side_v:
            # a leaf of its district, or an island of its own: removing it splits nothing
            return True
        seen_u = set(side_u)
        seen_v = set(side_v)
        if seen_u & seen_v:
            return True
        if len(self.members[a]) > 48:
            if a not in self.arts:
                self.arts[a] = self._articulation(a)
            return s not in self.arts[a]
        # Small district: a two-sided search that stops at the first meeting.
        qu = deque(side_u)
        qv = deque(side_v)
        while qu and qv:
            q, seen, other = (qu, seen_u, seen_v) if len(qu) <= len(qv) else (qv, seen_v, seen_u)
            x = q.popleft()
            for y in sg.nbrs[x]:
                if y == s or owner[y] != a or y in seen:
                    continue
                if y in other:
                    return True
                seen.add(y)
                q.append(y)
        return False

    def _articulation(self, d: int) -> set[int]:
        """Cut vertices of district ``d`` on the line graph (iterative Tarjan)."""
        owner, nbrs = self.owner, self.sg.nbrs
        disc: dict[int, int] = {}
        low: dict[int, int] = {}
        arts: set[int] = set()
        t = 0
        for root in sorted(self.members[d]):
            if root in disc:
                continue
            disc[root] = low[root] = t
            t += 1
            children = 0
            stack = [(root, -1, iter(nbrs[root]))]
            while stack:
                x, parent, it = stack[-1]
                advanced = False
                for y in it:
                    if owner[y] != d:
                        continue
                    if y not in disc:
                        disc[y] = low[y] = t
                        t += 1
                        stack.append((y, x, iter(nbrs[y])))
                        advanced = True
                        break
                    if y != parent and disc[y] < low[x]:
                        low[x] = disc[y]
                if advanced:
                    continue
                stack.pop()
                if stack:
                    p = stack[-1][0]
                    if low[x] < low[p]:
                        low[p] = low[x]
                    if p == root:
                        children += 1
                    elif low[x] >= disc[p]:
                        arts.add(p)
            if children >= 2:
                arts.add(root)
        return arts

    def neighbours_of(self, d: int) -> set[int]:
        out: set[int] = set()
        owner = self.owner
        for s in self.border[d]:
            for t in self.sg.nbrs[s]:
                o = owner[t]
                if o != d and o >= 0:
                    out.add(int(o))
        return out & self.active

    def boundary(self, a: int, b: int) -> list[int]:
        """Segments of ``a`` touching district ``b``, movable (not fixed)."""
        owner, fixed = self.owner, self.fixed
        out = []
        for s in self.border[a]:
            if fixed[s]:
                continue
            for t in self.sg.nbrs[s]:
                if owner[t] == b:
                    out.append(s)
                    break
        out.sort()
        return out

    def pull(self, s: int, src: int, dst: int) -> int:
        """Neighbours of ``s`` left in ``src`` minus those in ``dst``: low = a bulge into dst."""
        owner = self.owner
        n = 0
        for t in self.sg.nbrs[s]:
            if owner[t] == src:
                n += 1
            elif owner[t] == dst:
                n -= 1
        return n

    def ss(self) -> float:
        return float(np.dot(self.load, self.load))


def _ratio(load: np.ndarray) -> float:
    lo = float(load.min())
    return math.inf if lo <= 0 else float(load.max()) / lo


# --------------------------------------------------------------------------------------------
# Seeds and growth
# --------------------------------------------------------------------------------------------


def _distances(sg: SegmentGraph, sources: Sequence[Sequence[int]]) -> np.ndarray:
    """Network distance from each district's sources to every segment (k × n)."""
    out = np.empty((len(sources), sg.n))
    for d, src in enumerate(sources):
        dist = dijkstra(sg.matrix, directed=False, indices=list(src), min_only=True)
        out[d] = dist
    return out


def _kmeanspp(
    sg: SegmentGraph, region: np.ndarray, k: int, fixed_sources: list[list[int]], rng
) -> list[list[int]]:
    """Seeds for ``k`` districts in ``region``: the pinned ones first, then k-means++."""
    sources = [list(s) for s in fixed_sources]
    reg = np.asarray(region)
    if not sources:
        # start from the segment nearest the weighted centre (deterministic) …
        w = sg.weight[reg] + 1e-9
        c = (sg.mid[reg] * w[:, None]).sum(axis=0) / w.sum()
        first = int(reg[np.argmin(((sg.mid[reg] - c) ** 2).sum(axis=1))])
        # … then move to the far end so the first seed is peripheral, as k-means++ would
        dist = dijkstra(sg.matrix, directed=False, indices=[first], min_only=True)[reg]
        sources.append([int(reg[int(np.argmax(dist))])] if k > 1 else [first])
    best = dijkstra(
        sg.matrix, directed=False, indices=[x for s in sources for x in s], min_only=True
    )[reg]
    while len(sources) < k:
        p = np.where(np.isfinite(best), best, 0.0) ** 2 * (sg.weight[reg] + 1e-9)
        if p.sum() <= 0:
            cand = [int(x) for x in reg if all(int(x) not in s for s in sources)]
            nxt = cand[0]
        else:
            nxt = int(reg[rng.choice(len(reg), p=p / p.sum())])
        sources.append([nxt])
        d = dijkstra(sg.matrix, directed=False, indices=[nxt], min_only=True)[reg]
        best = np.minimum(best, d)
    return sources


def _grow(state: _State, region: Iterable[int], D: np.ndarray, districts: Sequence[int]) -> None:
    """Give every unassigned segment of ``region`` to a district, lightest district first.

    Each district takes its nearest (by ``D``) unassigned neighbouring segment, so districts
    stay connected. Segments no district can reach are left unassigned.
    """
    sg, owner = state.sg, state.owner
    reg = set(int(x) for x in region)
    heaps: dict[int, list[tuple[float, int]]] = {d: [] for d in districts}
    for d in districts:
        h = heaps[d]
        for s in state.members[d]:
            for t in sg.nbrs[s]:
                if owner[t] < 0 and t in reg:
                    h.append((D[d, t], t))
        heapq.heapify(h)
    order = [(state.load[d], d) for d in districts if heaps[d]]
    heapq.heapify(order)
    while order:
        _, d = heapq.heappop(order)
        h = heaps[d]
        s = -1
        while h:
            _, t = heapq.heappop(h)
            if owner[t] < 0:
                s = t
                break
        if s < 0:
            continue
        state.move(s, d)
        for t in sg.nbrs[s]:
            if owner[t] < 0 and t in reg:
                heapq.heappush(h, (D[d, t], t))
        if h:
            heapq.heappush(order, (state.load[d], d))


def _grow_offsets(
    state: _State, region: Iterable[int], D: np.ndarray, districts: Sequence[int], off: np.ndarray
) -> None:
    """Network Voronoi growth: each unassigned segment goes to the district that reaches it
    first by ``D[d] + off[d]``, always through a neighbouring segment (so districts stay
    connected)."""
    sg, owner = state.sg, state.owner
    reg = set(int(x) for x in region)
    heap: list[tuple[float, int, int]] = []
    for d in districts:
        for s in state.members[d]:
            for t in sg.nbrs[s]:
                if owner[t] < 0 and t in reg:
                    heap.append((D[d, t] + off[d], d, t))
    heapq.heapify(heap)
    while heap:
        _, d, t = heapq.heappop(heap)
        if owner[t] >= 0:
            continue
        state.move(t, d)
        for y in sg.nbrs[t]:
            if owner[y] < 0 and y in reg:
                heapq.heappush(heap, (D[d, y] + off[d], d, y))


# --------------------------------------------------------------------------------------------
# Local search
# --------------------------------------------------------------------------------------------


def _try_single(state: _State, a: int, D: np.ndarray, lighter: bool) -> bool:
    """Move one boundary segment between ``a`` and a neighbour if it lowers Σ load²."""
    sg = state.sg
    load = state.load
    best: tuple[tuple[int, float], int, int] | None = None
    eps = state.eps
    slack = state.min_gap
    for b in sorted(state.neighbours_of(a)):
        src, dst = (a, b) if lighter else (b, a)
        gap = load[src] - load[dst]
        if gap <= eps + slack:
            continue
        for s in state.boundary(src, dst):
            w = sg.weight[s]
            if w >= gap - eps - slack or w <= 0:
                continue
            score = (state.pull(s, src, dst), D[dst, s] - D[src, s])
            if best is None or score < best[0]:
                if state.can_remove(s):
                    best = (score, s, dst)
    if best is None:
        return False
    state.move(best[1], best[2])
    return True


def _branch(state: _State, s: int) -> list[int]:
    """``s`` plus every piece its district would lose with it (all but the heaviest piece)."""
    sg, owner = state.sg, state.owner
    a = owner[s]
    rest = [t for t in state.members[a] if t != s]
    pieces = _pieces(sg, rest)
    pieces.sort(key=lambda c: (-float(sg.weight[c].sum()), min(c)))
    return [s] + [t for c in pieces[1:] for t in c]


def _try_branch(state: _State, b: int, D: np.ndarray) -> bool:
    """Give light district ``b`` a cut-vertex segment of a heavier neighbour with the branch
    behind it, when that lowers Σ load² (single moves cannot pass a cut vertex)."""
    sg, load, eps = state.sg, state.load, state.eps
    best: tuple[float, list[int], int] | None = None
    for a in sorted(state.neighbours_of(b)):
        gap = load[a] - load[b]
        if gap <= eps:
            continue
        for s in state.boundary(a, b):
            if sg.weight[s] >= gap - eps or state.can_remove(s):
                continue
            moved = _branch(state, s)
            w = float(sg.weight[moved].sum())
            if w >= gap - eps or state.fixed[moved].any():
                continue
            gain = w * (gap - w)  # proportional to the drop in Σ load²
            if best is None or gain > best[0]:
                best = (gain, moved, a)
    if best is None:
        return False
    for t in best[1]:
        state.move(t, b)
    return True


def _smooth(state: _State, districts: Sequence[int], max_passes: int = 4) -> int:
    """Move bulging boundary segments (more neighbours across the border than at home) when
    that keeps every load inside the current min–max range: fewer cut junctions, rounder
    districts, balance never worse."""
    sg = state.sg
    ds = list(districts)
    moved = 0
    for _ in range(max_passes):
        lo = float(state.load[ds].min())
        hi = float(state.load[ds].max())
        changed = 0
        for a in ds:
            for b in sorted(state.neighbours_of(a)):
                for s in state.boundary(a, b):
                    if state.owner[s] != a or state.pull(s, a, b) >= 0:
                        continue
                    w = sg.weight[s]
                    if state.load[a] - w < lo or state.load[b] + w > hi:
                        continue
                    if state.can_remove(s):
                        state.move(s, b)
                        changed += 1
        moved += changed
        if not changed:
            break
    return moved


def _district_path(state: _State, a: int, b: int) -> list[int] | None:
    """Shortest chain of adjacent districts from ``a`` to ``b``."""
    prev = {a: -1}
    q = deque([a])
    while q:
        x = q.popleft()
        if x == b:
            break
        for y in sorted(state.neighbours_of(x)):
            if y not in prev:
                prev[y] = x
                q.append(y)
    if b not in prev:
        return None
    path = [b]
    while prev[path[-1]] != -1:
        path.append(prev[path[-1]])
    return path[::-1]


def _try_chain(state: _State, a: int, b: int, D: np.ndarray) -> bool:
    """Pass weight along the district chain a → … → b; keep it only if Σ load² drops."""
    path = _district_path(state, a, b)
    if path is None or len(path) < 3:
        return False
    sg = state.sg
    before = state.ss()
    done: list[tuple[int, int]] = []
    want = 0.5 * (state.load[a] - state.load[b])
    for x, y in zip(path[:-1], path[1:], strict=True):
        cands = state.boundary(x, y)
        scored = []
        for s in cands:
            w = sg.weight[s]
            if w <= 0 or w >= 2 * want:
                continue
            scored.append((abs(w - want) / want > 0.5, state.pull(s, x, y), D[y, s] - D[x, s], s))
        scored.sort()
        chosen = -1
        for *_, s in scored:
            if state.can_remove(s):
                chosen = s
                break
        if chosen < 0:
            break
        done.append((chosen, x))
        state.move(chosen, y)
        want = sg.weight[chosen]
    else:
        if state.ss() < before * (1.0 - 1e-12):
            return True
    for s, x in reversed(done):
        state.move(s, x)
    return False


def _refine(
    state: _State,
    districts: Sequence[int],
    D: np.ndarray,
    max_moves: int,
    tolerance: float = 0.005,
) -> int:
    """Local search on ``districts`` (one connected piece of the area); returns moves made.

    Stops when max/min ≤ 1 + ``tolerance``, when no move helps, or after ``max_moves``.
    """
    ds = list(districts)
    if len(ds) < 2:
        return 0
    state.min_gap = 0.001 * float(state.load[ds].mean())
    moves = 0
    while moves < max_moves:
        load = state.load
        sub = load[ds]
        if sub.min() > 0 and sub.max() <= (1.0 + tolerance) * sub.min():
            break
        heavy = sorted(ds, key=lambda d: (-load[d], d))
        light = heavy[::-1]
        moved = False
        for a in heavy[: max(1, len(ds) // 2)]:
            if _try_single(state, a, D, lighter=True):
                moved = True
                break
        if not moved:
            for b in light[: max(1, len(ds) // 2)]:
                if _try_single(state, b, D, lighter=False):
                    moved = True
                    break
        if not moved:
            for a in heavy[:3]:
                for b in light[:3]:
                    if a != b and _try_chain(state, a, b, D):
                        moved = True
                        break
                if moved:
                    break
        if not moved:
            for b in light[: max(1, len(ds) // 2)]:
                if _try_branch(state, b, D):
                    moved = True
                    break
        if not moved:
            break
        moves += 1
    return moves


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Diagnostics:
    """How good a partition is: balance, contiguity, compactness, run facts."""

    loads: Mapping[str, float]
    ratio: float  # max/min workload
    contiguous: Mapping[str, bool]
    pieces: Mapping[str, int]
    diameter_m: Mapping[str, float]
    n_segments: Mapping[str, int]
    moves: int = 0
    groups: tuple[tuple[str, int], ...] = ()  # (area piece label, people) allotment
    #: the worst max/min inside one area piece (equals ``ratio`` when the area is one piece;
    #: with fronts respected the allotment of whole people to fronts sets ``ratio``)
    piece_ratio: float = math.nan
    attempts: int = 1
    notes: tuple[str, ...] = ()

    @property
    def all_contiguous(self) -> bool:
        """True when every district is one connected piece."""
        return all(self.contiguous.values())


@dataclass(frozen=True)
class DistrictPlan:
    """The answer: owner per segment and its diagnostics."""

    assignment: Mapping[str, str]
    diagnostics: Diagnostics
    people: tuple[str, ...]
    workload: pd.Series = field(repr=False)

    def table(self) -> pd.DataFrame:
        """Assignment table: segment_id → person_id, with the segment's workload."""
        ids = list(self.assignment)
        return pd.DataFrame(
            {
                "segment_id": ids,
                "person_id": [self.assignment[s] for s in ids],
                "workload": self.workload.reindex(ids).to_numpy(),
            }
        )


def _people_ids(people: int | Sequence[str] | pd.DataFrame, k: int | None) -> tuple[str, ...]:
    if isinstance(people, pd.DataFrame):
        if "person_id" not in people.columns:
            raise ValidationError("people lack column 'person_id'", source="people")
        for i, rec in enumerate(people.to_dict("records"), start=1):
            name = rec.get("name", "x")
            if (
                name is None
                or (isinstance(name, float) and math.isnan(name))
                or not str(name).strip()
            ):
                raise ValidationError(
                    f"person {rec['person_id']!r} has no name",
                    source="people",
                    row=i,
                    field="name",
                    fix="every responsible person needs a name for the signboard",
                )
        ids = tuple(str(p) for p in people["person_id"])
    elif isinstance(people, int | np.integer):
        if people <= 0:
            raise ValidationError(
                f"k = {people}: at least one person is needed",
                source="people",
                field="k",
                fix="ask for 1 or more people",
            )
        ids = tuple(f"P{i + 1:02d}" for i in range(int(people)))
    else:
        ids = tuple(str(p) for p in people)
        for i, p in enumerate(ids, start=1):
            if not p.strip():
                raise ValidationError("empty person id", source="people", row=i, field="person_id")
    if len(set(ids)) != len(ids):
        dup = next(p for p in ids if ids.count(p) > 1)
        raise ValidationError(f"person {dup!r} listed twice", source="people", field="person_id")
    if k is not None:
        if k <= 0:
            raise ValidationError(
                f"k = {k}: at least one person is needed",
                source="people",
                field="k",
                fix="ask for 1 or more people",
            )
        if k > len(ids):
            raise ValidationError(
                f"k = {k} but only {len(ids)} people were given",
                source="people",
                field="k",
                fix="give more people or a smaller k",
            )
        ids = ids[:k]
    if not ids:
        raise ValidationError(
            "k = 0: at least one person is needed",
            source="people",
            field="k",
            fix="ask for 1 or more people",
        )
    return ids


def _check_zones(gdf: gpd.GeoDataFrame) -> None:
    if "zone_id" not in gdf.columns or "front_id" not in gdf.columns:
        return
    zone = gdf["zone_id"]
    bad = gdf[(zone.isna() | (zone.astype(str) == "")) & ~gdf["front_id"].isin(ZONELESS_FRONTS)]
    if len(bad):
        row = bad.iloc[0]
        raise ValidationError(
            f"segment {row['segment_id']!r} ({row.get('name', '')}) lies outside every zone "
            f"but its front {row['front_id']!r} is not a main-street front",
            source="segments",
            row=row["segment_id"],
            field="zone_id",
            fix="give it a zone_id or a main-street front (main_streets, gulou_west)",
        )


def _groups(sg: SegmentGraph, allow_front_crossing: bool) -> list[list[int]]:
    """Connected pieces of the area, separately per front unless crossing is allowed."""
    if allow_front_crossing:
        labels = [""] * sg.n
    else:
        labels = list(sg.front)
    out: list[list[int]] = []
    for lab in sorted(set(labels)):
        members = [i for i in range(sg.n) if labels[i] == lab]
        sub = sg.matrix[members][:, members]
        nc, lab_arr = connected_components(sub, directed=False)
        for c in range(nc):
            out.append(sorted(members[j] for j in np.flatnonzero(lab_arr == c)))
    out.sort(key=lambda g: g[0])
    return out


def _allot(weights: list[float], sizes: list[int], minimum: list[int], k: int) -> list[int]:
    """D'Hondt allotment of ``k`` people: next person where the load per person is highest."""
    alloc = list(minimum)
    while sum(alloc) < k:
        best = -1
        best_q = -1.0
        for g, (w, n) in enumerate(zip(weights, sizes, strict=True)):
            if alloc[g] >= n:
                continue
            q = w / alloc[g] if alloc[g] else math.inf
            if q > best_q:
                best_q, best = q, g
        if best < 0:
            break
        alloc[best] += 1
    return alloc


def _shortest_path(
    sg: SegmentGraph, src: set[int], dst: int, blocked: set[int]
) -> list[int] | None:
    """Fewest-segment path from a set to a segment avoiding ``blocked`` (BFS)."""
    prev: dict[int, int] = {s: -1 for s in src}
    q = deque(sorted(src))
    while q:
        x = q.popleft()
        if x == dst:
            path = [x]
            while prev[path[-1]] != -1:
                path.append(prev[path[-1]])
            return path
        for y in sg.nbrs[x]:
            if y not in prev and y not in blocked:
                prev[y] = x
                q.append(y)
    return None


ETA0 = 1.0
ETA_DECAY = 0.9


def _solve_group(
    sg: SegmentGraph,
    group: list[int],
    k: int,
    pinned: dict[int, list[int]],  # local district index → pinned segments
    owner: np.ndarray,
    fixed: np.ndarray,
    offset: int,
    rng,
    lloyd_rounds: int,
    max_moves: int,
    balance_rounds: int = 20,
) -> int:
    """Partition one connected piece into ``k`` districts numbered from ``offset``."""
    districts = list(range(offset, offset + k))
    if k > len(group):
        raise InfeasibleError(
            f"{k} people for an area piece of only {len(group)} segments "
            f"(starting with {sg.ids[group[0]]!r}): some would have no street",
        )
    # Join the pins of each person by shortest paths avoiding other people's pins.
    all_pins = {s for segs in pinned.values() for s in segs}
    claimed: dict[int, int] = {}
    for local in sorted(pinned):
        d = offset + local
        segs = pinned[local]
        body = {segs[0]}
        blocked = (all_pins - set(segs)) | {s for s, o in claimed.items() if o != d}
        for s in segs[1:]:
            if s in body:
                continue
            path = _shortest_path(sg, body, s, blocked)
            if path is None:
                others = sorted(sg.ids[x] for x in blocked)[:5]
                raise InfeasibleError(
                    f"pinned segments {sg.ids[segs[0]]!r} and {sg.ids[s]!r} of one person "
                    f"cannot be joined into one contiguous district: every walking path "
                    f"between them crosses segments pinned to someone else ({', '.join(others)})"
                )
            body.update(path)
        for s in body:
            claimed[s] = d
    for s, d in claimed.items():
        owner[s] = d
    for segs in pinned.values():
        for s in segs:
            fixed[s] = True
    fixed_sources = [
        sorted(s for s, o in claimed.items() if o == offset + i) for i in sorted(pinned)
    ]
    n_pinned = len(fixed_sources)
    sources = _kmeanspp(sg, np.array(group), k, fixed_sources, rng)
    cache: dict[tuple, np.ndarray] = {}

    def grow(src: list[list[int]], off: np.ndarray | None) -> tuple[_State, np.ndarray]:
        key = tuple(tuple(x) for x in src)
        if key not in cache:
            cache.clear()
            dist = np.full((offset + k, sg.n), np.inf)
            dist[offset:] = _distances(sg, src)
            cache[key] = dist
        for s in group:
            if s not in claimed:
                owner[s] = -1
        for i, seeds in enumerate(src[n_pinned:], start=n_pinned):
            for s in seeds:
                owner[s] = offset + i
        st = _State(sg, offset + k, owner, fixed)
        st.active = set(districts)
        dist = cache[key]
        if off is None:
            _grow(st, group, dist, districts)
        else:
            _grow_offsets(st, group, dist, districts, off)
        return st, dist

    zero = np.zeros(offset + k)
    for _r in range(lloyd_rounds):
        state, D = grow(sources, zero)
        new_sources = list(sources[:n_pinned])
        taken = {x for s in new_sources for x in s}
        for i in range(n_pinned, k):
            mem = np.array(sorted(state.members[offset + i]))
            w = sg.weight[mem] + 1e-9
            c = (sg.mid[mem] * w[:, None]).sum(axis=0) / w.sum()
            order = np.argsort(((sg.mid[mem] - c) ** 2).sum(axis=1), kind="stable")
            pick = next(int(mem[j]) for j in order if int(mem[j]) not in taken)
            taken.add(pick)
            new_sources.append([pick])
        sources = new_sources
    # Balance by additive offsets on the network distance (a capacitated network Voronoi):
    # heavy districts get pushed back, light ones pulled forward; keep the best round.
    off = zero.copy()
    best_owner: np.ndarray | None = None
    best_ss = math.inf
    eta = ETA0
    for _r in range(balance_rounds):
        state, D = grow(sources, off)
        if (owner[group] < 0).any():
            break
        ss = state.ss()
        if ss < best_ss:
            best_ss, best_owner = ss, owner.copy()
        loads = state.load[districts]
        radius = float(np.median([D[d, sorted(state.members[d])].max() for d in districts]))
        off[districts] += eta * radius * (loads / loads.mean() - 1.0)
        eta *= ETA_DECAY
    if best_owner is None:
        state, D = grow(sources, None)
    else:
        owner[:] = best_owner
        state = _State(sg, offset + k, owner, fixed)
        state.active = set(districts)
    missing = [s for s in group if owner[s] < 0]
    if missing:  # cannot happen on a connected piece; guard against a bug
        raise InfeasibleError(f"segment {sg.ids[missing[0]]!r} could not be reached")
    moves = _refine(state, districts, D, max_moves)
    smoothed = _smooth(state, districts)
    if smoothed:  # smoothing can open new balancing moves: finish at a local optimum
        moves += smoothed + _refine(state, districts, D, max_moves)
    return moves


def _diagnostics(
    sg: SegmentGraph, owner: np.ndarray, people: Sequence[str], **extra
) -> Diagnostics:
    loads: dict[str, float] = {}
    contiguous: dict[str, bool] = {}
    pieces: dict[str, int] = {}
    diam: dict[str, float] = {}
    nseg: dict[str, int] = {}
    for d, p in enumerate(people):
        mem = np.flatnonzero(owner == d)
        loads[p] = float(sg.weight[mem].sum())
        pcs = _pieces(sg, mem.tolist())
        pieces[p] = len(pcs)
        contiguous[p] = len(pcs) == 1
        nseg[p] = len(mem)
        diam[p] = _diameter(sg, mem)
    arr = np.array(list(loads.values()))
    return Diagnostics(
        loads=loads,
        ratio=_ratio(arr) if len(arr) else math.inf,
        contiguous=contiguous,
        pieces=pieces,
        diameter_m=diam,
        n_segments=nseg,
        **extra,
    )


def _diameter(sg: SegmentGraph, mem: np.ndarray) -> float:
    """Network diameter of a district by double sweep (a tight lower bound), end to end."""
    if len(mem) == 0:
        return 0.0
    sub = sg.matrix[mem][:, mem]
    d0 = dijkstra(sub, directed=False, indices=0)
    d0 = np.where(np.isfinite(d0), d0, -1)
    far = int(np.argmax(d0))
    d1 = dijkstra(sub, directed=False, indices=far)
    d1 = np.where(np.isfinite(d1), d1, -1)
    j = int(np.argmax(d1))
    # midpoint-to-midpoint distance plus the half segments at both ends
    return float(d1[j] + 0.5 * sg.length[mem[far]] + 0.5 * sg.length[mem[j]])


def _select_area(
    gdf_segments: gpd.GeoDataFrame,
    front: str | None,
    zones: Sequence[str] | None,
) -> gpd.GeoDataFrame:
    gdf = gdf_segments
    if front is not None:
        gdf = gdf[gdf["front_id"] == front]
        if gdf.empty:
            raise ValidationError(
                f"no segments on front {front!r}",
                source="segments",
                field="front_id",
                fix=f"use one of {sorted(set(gdf_segments['front_id'].dropna()))}",
            )
    if zones is not None:
        zs = {str(z) for z in zones}
        gdf = gdf[gdf["zone_id"].astype(str).isin(zs)]
        if gdf.empty:
            raise ValidationError(
                f"no segments in zones {sorted(zs)}", source="segments", field="zone_id"
            )
    return gdf.reset_index(drop=True)


def districts_for_people(
    gdf_segments: gpd.GeoDataFrame,
    people: int | Sequence[str] | pd.DataFrame,
    k: int | None = None,
    *,
    workload: WorkloadParams | pd.Series | Mapping[str, float] | None = None,
    cases: pd.DataFrame | None = None,
    pins: Mapping[str, str] | None = None,
    allow_front_crossing: bool = False,
    front: str | None = None,
    zones: Sequence[str] | None = None,
    seed: int = 0,
    lloyd_rounds: int = 2,
    max_moves: int | None = None,
    restarts: int = 6,
    good_enough: float = 0.03,
    min_attempts: int | None = None,
) -> DistrictPlan:
    """Split the chosen area's segments into one contiguous, balanced district per person.

    Parameters
    ----------
    gdf_segments
        Segments per the network contract (EPSG:32650).
    people
        A number of people (ids ``P01``…), a list of person ids, or a staff table with
        ``person_id`` and ``name`` (a nameless person is refused).
    k
        Use only the first ``k`` people; all of them when omitted.
    workload
        :class:`~gis.planning.workload.WorkloadParams` (default) or a ready workload per segment.
    cases
        Case history for the workload formula (ignored when ``workload`` is a series).
    pins
        ``{segment_id: person_id}`` assignments that must hold.
    allow_front_crossing
        When false, every district lies on one front; people are allotted to fronts in
        proportion to their workload.
    front, zones
        Restrict the area to one front and/or a set of zone ids; the whole input otherwise.
    seed
        Random seed for the seeding step; the same input and seed give the same answer.
    restarts, good_enough, min_attempts
        The solve runs with seeds ``seed``, ``seed + 1`` … at least ``min_attempts`` times
        (default 3 for areas of up to 5,000 segments, 1 above, where one attempt already
        takes seconds) and keeps the answer with the fewest links between districts (the
        most compact) among those whose worst max/min within an area piece is at most
        ``1 + good_enough``. While none is, it goes on up to ``restarts`` attempts and keeps
        the best balanced: a district seeded in a dead-end pocket can get walled in behind
        cut vertices of its neighbour, which no single move undoes.

    Raises
    ------
    ValidationError
        k = 0, a nameless person, unknown pins, a segment outside every zone.
    InfeasibleError
        More people than segments in a piece, fewer people than disconnected pieces (or
        fronts), pins that cannot be made contiguous.
    """
    ids = _people_ids(people, k)
    gdf = _select_area(gdf_segments, front, zones)
    _check_segments(gdf)
    _check_zones(gdf)
    if len(ids) > len(gdf):
        raise ValidationError(
            f"k = {len(ids)} is more than the {len(gdf)} segments of the area",
            source="people",
            field="k",
            fix=f"ask for at most {len(gdf)} people",
        )
    weight = workload_series(gdf, workload, cases=cases)
    sg = build_segment_graph(gdf, weight)
    pins = dict(pins or {})
    pin_idx: dict[str, list[int]] = {}
    for sid, pid in sorted(pins.items()):
        if sid not in sg.index:
            raise ValidationError(
                f"pinned segment {sid!r} is not in the chosen area",
                source="pins",
                field="segment_id",
                fix="pin only segments of the area being split",
            )
        if str(pid) not in ids:
            raise ValidationError(
                f"segment {sid!r} is pinned to {pid!r}, who is not among the people",
                source="pins",
                field="person_id",
            )
        pin_idx.setdefault(str(pid), []).append(sg.index[sid])
    if min_attempts is None:
        min_attempts = 3 if sg.n <= 5000 else 1
    coo = sg.matrix.tocoo()
    best: tuple[tuple[bool, float], np.ndarray, int, tuple[tuple[str, int], ...], float] | None
    best = None
    attempt = 0
    for attempt in range(max(1, restarts)):
        owner, moves, groups_info, per_group = _solve(
            sg, ids, pin_idx, allow_front_crossing, seed + attempt, lloyd_rounds, max_moves
        )
        loads = np.bincount(owner, weights=sg.weight, minlength=len(ids))
        worst = max(_ratio(loads[g]) if len(g) > 1 else 1.0 for g in per_group)
        good = worst <= 1.0 + good_enough
        cut = float(np.count_nonzero(owner[coo.row] != owner[coo.col])) / 2.0
        key = (not good, cut if good else worst)
        if best is None or key < best[0]:
            best = (key, owner, moves, groups_info, worst)
        if good and attempt + 1 >= min_attempts:
            break
        log.info("districts: attempt %d: max/min %.3f, %d cut links", attempt, worst, cut)
    assert best is not None
    _, owner, moves, groups_info, worst = best
    assignment = {sg.ids[i]: ids[owner[i]] for i in range(sg.n)}
    diag = _diagnostics(
        sg, owner, ids, moves=moves, groups=groups_info, piece_ratio=worst, attempts=attempt + 1
    )
    log.info("districts: k=%d, max/min %.3f, %d moves", len(ids), diag.ratio, moves)
    return DistrictPlan(assignment=assignment, diagnostics=diag, people=ids, workload=weight)


def _solve(
    sg: SegmentGraph,
    ids: Sequence[str],
    pin_idx: Mapping[str, list[int]],
    allow_front_crossing: bool,
    seed: int,
    lloyd_rounds: int,
    max_moves: int | None,
) -> tuple[np.ndarray, int, tuple[tuple[str, int], ...], list[np.ndarray]]:
    groups = _groups(sg, allow_front_crossing)
    group_of = np.empty(sg.n, dtype=int)
    for g, mem in enumerate(groups):
        group_of[mem] = g
    k = len(ids)
    if k < len(groups):
        what = "pieces" if allow_front_crossing else "front pieces"
        examples = ", ".join(repr(sg.ids[g[0]]) for g in groups[:4])
        raise InfeasibleError(
            f"the area falls into {len(groups)} {what} not connected on the walking network "
            f"(starting with {examples}); {k} people cannot each hold one contiguous district"
            + ("" if allow_front_crossing else "; allow front crossing or add people")
        )
    # Which group each pinned person belongs to.
    person_group: dict[str, int] = {}
    for pid, segs in pin_idx.items():
        gs = sorted({int(group_of[s]) for s in segs})
        if len(gs) > 1:
            raise InfeasibleError(
                f"{pid} is pinned to segments {sg.ids[segs[0]]!r} and "
                f"{sg.ids[next(s for s in segs if group_of[s] != group_of[segs[0]])]!r} "
                "that are not connected"
                + ("" if allow_front_crossing else " within one front")
                + ": no contiguous district can hold both"
            )
        person_group[pid] = gs[0]
    weights = [float(sg.weight[g].sum()) for g in groups]
    minimum = [max(1, sum(1 for g in person_group.values() if g == i)) for i in range(len(groups))]
    if sum(minimum) > k:
        raise InfeasibleError(
            f"pins need people in {sum(minimum)} separate pieces but only {k} people were given"
        )
    alloc = _allot(weights, [len(g) for g in groups], minimum, k)
    if sum(alloc) < k:
        raise InfeasibleError(f"k = {k} is more than the segments can hold")
    # Hand out people: pinned people to their group, the rest in list order.
    free = [p for p in ids if p not in person_group]
    order: list[str] = []
    per_group_people: list[list[str]] = []
    fi = 0
    for g in range(len(groups)):
        members = [p for p in ids if person_group.get(p) == g]
        need = alloc[g] - len(members)
        members += free[fi : fi + need]
        fi += need
        per_group_people.append(members)
        order += members
    owner = np.full(sg.n, -1, dtype=int)
    fixed = np.zeros(sg.n, dtype=bool)
    rng = np.random.default_rng(seed)
    total_moves = 0
    offset = 0
    budget = max_moves if max_moves is not None else 20 * sg.n
    for g, mem in enumerate(groups):
        members = per_group_people[g]
        pinned_local = {i: sorted(pin_idx[p]) for i, p in enumerate(members) if p in pin_idx}
        total_moves += _solve_group(
            sg, mem, len(members), pinned_local, owner, fixed, offset, rng, lloyd_rounds, budget
        )
        offset += len(members)
    # owner holds positions in ``order``; map back to positions in ``ids``.
    pos = np.array([ids.index(p) for p in order])
    final = pos[owner]
    info = tuple((sg.ids[groups[g][0]], alloc[g]) for g in range(len(groups)))
    id_pos = {p: i for i, p in enumerate(ids)}
    per_group = [np.array([id_pos[p] for p in members], dtype=int) for members in per_group_people]
    return final, total_moves, info, per_group


# --------------------------------------------------------------------------------------------
# Stability: re-solve from the current assignment
# --------------------------------------------------------------------------------------------


def changed_share(old: Mapping[str, str], new: Mapping[str, str]) -> float:
    """Share of the segments present in both answers whose owner differs."""
    common = [s for s in old if s in new]
    if not common:
        return 0.0
    return sum(1 for s in common if old[s] != new[s]) / len(common)


def matched_changed_share(old: Mapping[str, str], new: Mapping[str, str]) -> float:
    """:func:`changed_share` after renaming ``new``'s people to best match ``old``'s.

    A fresh solve numbers its districts arbitrarily; this compares it fairly by matching
    each new district to the old person it overlaps most (Hungarian method on overlaps).
    """
    from scipy.optimize import linear_sum_assignment

    common = [s for s in old if s in new]
    olds = sorted({old[s] for s in common})
    news = sorted({new[s] for s in common})
    oi = {p: i for i, p in enumerate(olds)}
    ni = {p: i for i, p in enumerate(news)}
    overlap = np.zeros((len(news), len(olds)))
    for s in common:
        overlap[ni[new[s]], oi[old[s]]] += 1
    rows, cols = linear_sum_assignment(-overlap)
    rename = {news[r]: olds[c] for r, c in zip(rows, cols, strict=True)}
    relabelled = {s: rename.get(new[s], f"~{new[s]}") for s in common}
    return changed_share({s: old[s] for s in common}, relabelled)


@dataclass(frozen=True)
class Rebalance:
    """A re-solved plan and how much it changed."""

    plan: DistrictPlan
    changed_share: float
    changed_segments: tuple[str, ...]


def _centres(sg: SegmentGraph, state: _State, districts: Sequence[int]) -> list[list[int]]:
    out = []
    for d in districts:
        mem = np.array(sorted(state.members[d]))
        w = sg.weight[mem] + 1e-9
        c = (sg.mid[mem] * w[:, None]).sum(axis=0) / w.sum()
        out.append([int(mem[int(np.argmin(((sg.mid[mem] - c) ** 2).sum(axis=1)))])])
    return out


def rebalance(
    assignment: Mapping[str, str] | DistrictPlan,
    gdf_segments: gpd.GeoDataFrame,
    people: int | Sequence[str] | pd.DataFrame,
    *,
    workload: WorkloadParams | pd.Series | Mapping[str, float] | None = None,
    cases: pd.DataFrame | None = None,
    pins: Mapping[str, str] | None = None,
    allow_front_crossing: bool = False,
    front: str | None = None,
    zones: Sequence[str] | None = None,
    max_moves: int | None = None,
    tolerance: float = 0.005,
) -> Rebalance:
    """Re-solve after a person leaves or joins or a workload changes, keeping most owners.

    People who left hand their segments to the neighbouring districts (nearest first,
    lightest first); a person who joins splits the heaviest district of the piece that needs
    people most; then the same local search as :func:`districts_for_people` evens the loads,
    moving only boundary segments, until max/min ≤ 1 + ``tolerance`` (a looser tolerance
    keeps more owners).
    """
    old = dict(assignment.assignment if isinstance(assignment, DistrictPlan) else assignment)
    ids = _people_ids(people, None)
    gdf = _select_area(gdf_segments, front, zones)
    _check_segments(gdf)
    _check_zones(gdf)
    weight = workload_series(gdf, workload, cases=cases)
    sg = build_segment_graph(gdf, weight)
    pos = {p: i for i, p in enumerate(ids)}
    k = len(ids)
    owner = np.array([pos.get(old.get(s, ""), -1) for s in sg.ids], dtype=int)
    fixed = np.zeros(sg.n, dtype=bool)
    for sid, pid in (pins or {}).items():
        if sid not in sg.index or str(pid) not in pos:
            raise ValidationError(
                f"pin {sid!r} → {pid!r} names an unknown segment or person", source="pins"
            )
        owner[sg.index[sid]] = pos[str(pid)]
        fixed[sg.index[sid]] = True
    groups = _groups(sg, allow_front_crossing)
    group_of = np.empty(sg.n, dtype=int)
    for g, mem in enumerate(groups):
        group_of[mem] = g
    # Keep each person's main piece (with their pins, else the heaviest) in one group.
    for d in range(k):
        mem = np.flatnonzero(owner == d).tolist()
        if not mem:
            continue
        pcs = [pc for pc in _pieces(sg, mem)]
        pcs_by_group = []
        for pc in pcs:
            # a piece may straddle groups only when crossing is not allowed; split it
            for g in sorted({int(group_of[s]) for s in pc}):
                sub = [s for s in pc if group_of[s] == g]
                pcs_by_group.extend(_pieces(sg, sub))

        def rank(pc: list[int]) -> tuple[int, float]:
            return (int(fixed[pc].any()), float(sg.weight[pc].sum()))

        pcs_by_group.sort(key=rank, reverse=True)
        for pc in pcs_by_group[1:]:
            if fixed[pc].any():
                raise InfeasibleError(
                    f"{ids[d]}'s pins ({', '.join(sg.ids[s] for s in pc if fixed[s])}) are cut "
                    "off from the rest of their district"
                )
            owner[pc] = -1
    state = _State(sg, k, owner, fixed)
    # People per group now; newcomers go where load per person is highest.
    newcomers = [d for d in range(k) if not state.members[d]]
    for d in newcomers:
        best_g, best_q = -1, -1.0
        for g, mem in enumerate(groups):
            people_g = {int(owner[s]) for s in mem if owner[s] >= 0}
            if len(people_g) >= len(mem):
                continue
            q = float(sg.weight[mem].sum()) / max(len(people_g), 1e-9)
            if q > best_q:
                best_q, best_g = q, g
        if best_g < 0:
            raise InfeasibleError(f"no area piece has room for {ids[d]}")
        mem = groups[best_g]
        holders = sorted({int(owner[s]) for s in mem if owner[s] >= 0})
        if not holders:  # an empty piece: start anywhere in it
            start = min(mem)
            state.move(start, d)
            continue
        h = max(holders, key=lambda x: (state.load[x], -x))
        hm = np.array(sorted(state.members[h]))
        movable = [int(s) for s in hm if not fixed[s]]
        if not movable:
            raise InfeasibleError(f"{ids[h]}'s district is all pins; {ids[d]} cannot split it")
        # Split h in two by growing from its two far ends (double sweep).
        sub = sg.matrix[hm][:, hm]
        d0 = dijkstra(sub, directed=False, indices=0)
        a_loc = int(np.argmax(np.where(np.isfinite(d0), d0, -1)))
        d1 = dijkstra(sub, directed=False, indices=a_loc)
        b_loc = int(np.argmax(np.where(np.isfinite(d1), d1, -1)))
        a_seg, b_seg = int(hm[a_loc]), int(hm[b_loc])
        if fixed[b_seg] and not fixed[a_seg]:
            a_seg, b_seg = b_seg, a_seg
        for s in hm:
            if not fixed[s]:
                state.move(int(s), h)  # keep
        keep_src = [a_seg] + [int(s) for s in hm if fixed[s]]
        for s in hm:
            if not fixed[s] and s not in keep_src:
                state.owner[s] = -1
                state.members[h].discard(int(s))
                state.border[h].discard(int(s))
                state.load[h] -= sg.weight[s]
        if fixed[b_seg]:
            b_seg = next(s for s in movable if s not in keep_src)
        state.move(b_seg, d)
        Dsplit = np.full((k, sg.n), np.inf)
        Dsplit[h] = dijkstra(sg.matrix, directed=False, indices=keep_src, min_only=True)
        Dsplit[d] = dijkstra(sg.matrix, directed=False, indices=[b_seg], min_only=True)
        _grow(state, hm.tolist(), Dsplit, [h, d])
        state = _State(sg, k, state.owner, fixed)
    # A piece left with nobody takes the lightest person of the piece with the lowest load
    # per person among those with two or more people (their old segments are regrown).
    for g, mem in enumerate(groups):
        if any(state.owner[s] >= 0 for s in mem):
            continue
        holders_by_group = [
            sorted({int(state.owner[s]) for s in other if state.owner[s] >= 0}) for other in groups
        ]
        donors = [
            (float(sg.weight[groups[h]].sum()) / len(hs), h)
            for h, hs in enumerate(holders_by_group)
            if len(hs) >= 2 and h != g
        ]
        if not donors:
            raise InfeasibleError(
                f"nobody is left for the area piece starting with {sg.ids[mem[0]]!r} and no "
                "other piece can spare a person: add a person or allow front crossing"
            )
        _, h = min(donors)
        mover = min(
            (d for d in holders_by_group[h] if not fixed[sorted(state.members[d])].any()),
            key=lambda d: (state.load[d], d),
            default=None,
        )
        if mover is None:
            raise InfeasibleError(
                f"nobody is left for the area piece starting with {sg.ids[mem[0]]!r} and "
                "every candidate holds pins elsewhere"
            )
        for s in sorted(state.members[mover]):
            state.owner[s] = -1
        state = _State(sg, k, state.owner, fixed)
        state.move(min(mem), mover)
    # Hand the segments of people who left to their neighbours.
    total_moves = 0
    budget = max_moves if max_moves is not None else 20 * sg.n
    for mem in groups:
        ds = sorted({int(state.owner[s]) for s in mem if state.owner[s] >= 0})
        if not ds:
            raise InfeasibleError(
                f"nobody is left for the area piece starting with {sg.ids[mem[0]]!r}",
            )
        D = np.full((k, sg.n), np.inf)
        for d in ds:
            D[d] = dijkstra(
                sg.matrix, directed=False, indices=sorted(state.members[d]), min_only=True
            )
        state.active = set(ds)
        _grow(state, mem, D, ds)
        centres = _centres(sg, state, ds)
        for d, src in zip(ds, centres, strict=True):
            D[d] = dijkstra(sg.matrix, directed=False, indices=src, min_only=True)
        total_moves += _refine(state, ds, D, budget, tolerance)
    owner = state.owner
    if (owner < 0).any():
        raise InfeasibleError(f"segment {sg.ids[int(np.flatnonzero(owner < 0)[0])]!r} unreachable")
    new = {sg.ids[i]: ids[owner[i]] for i in range(sg.n)}
    loads = np.bincount(owner, weights=sg.weight, minlength=k)
    piece_people = [sorted({int(owner[s]) for s in mem}) for mem in groups]
    worst = max(_ratio(loads[pp]) if len(pp) > 1 else 1.0 for pp in piece_people)
    diag = _diagnostics(
        sg,
        owner,
        ids,
        moves=total_moves,
        groups=tuple(
            (sg.ids[mem[0]], len(pp)) for mem, pp in zip(groups, piece_people, strict=True)
        ),
        piece_ratio=worst,
    )
    plan = DistrictPlan(assignment=new, diagnostics=diag, people=ids, workload=weight)
    changed = tuple(s for s in sg.ids if s in old and old[s] != new[s])
    share = len(changed) / max(1, sum(1 for s in sg.ids if s in old))
    return Rebalance(plan=plan, changed_share=share, changed_segments=changed)


# --------------------------------------------------------------------------------------------
# Manual edits: move segments by hand, see what breaks, repair with the fewest moves
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """A district that a manual move cut into pieces."""

    person_id: str
    pieces: tuple[tuple[str, ...], ...]  # segment ids of each piece, main piece first

    def describe(self) -> str:
        """One line: whose district falls into how many pieces of which segments."""
        rest = "; ".join(", ".join(p) for p in self.pieces[1:])
        return (
            f"{self.person_id}'s district falls into {len(self.pieces)} pieces: "
            f"the main piece of {len(self.pieces[0])} segments and {rest}"
        )


@dataclass(frozen=True)
class MoveCheck:
    """What a manual move does: the new assignment and exactly what it breaks."""

    assignment: Mapping[str, str]
    moved: tuple[str, ...]
    to_person: str
    breaks: tuple[Break, ...]
    pins_overridden: tuple[str, ...]
    front_conflicts: tuple[str, ...]
    ratio_before: float
    ratio_after: float
    loads_after: Mapping[str, float]

    @property
    def ok(self) -> bool:
        """True when every district stays contiguous and no pin or front is broken."""
        return not (self.breaks or self.pins_overridden or self.front_conflicts)

    def messages(self) -> list[str]:
        """Plain sentences for the user, one per problem, plus the balance change."""
        out = [b.describe() for b in self.breaks]
        if self.pins_overridden:
            out.append(f"pinned segments moved: {', '.join(self.pins_overridden)}")
        if self.front_conflicts:
            out.append(
                f"segments moved onto another front's person: {', '.join(self.front_conflicts)}"
            )
        out.append(f"workload max/min {self.ratio_before:.3f} → {self.ratio_after:.3f}")
        return out


def _edit_context(
    assignment: Mapping[str, str] | DistrictPlan,
    gdf_segments: gpd.GeoDataFrame,
    workload: WorkloadParams | pd.Series | Mapping[str, float] | None,
    cases: pd.DataFrame | None,
) -> tuple[dict[str, str], SegmentGraph, list[str]]:
    current = dict(assignment.assignment if isinstance(assignment, DistrictPlan) else assignment)
    if isinstance(assignment, DistrictPlan) and workload is None:
        workload = assignment.workload
    gdf = gdf_segments[gdf_segments["segment_id"].isin(set(current))].reset_index(drop=True)
    _check_segments(gdf)
    weight = workload_series(gdf, workload, cases=cases)
    sg = build_segment_graph(gdf, weight)
    people = sorted(set(current.values()))
    return current, sg, people


def _loads(sg: SegmentGraph, assignment: Mapping[str, str], people: Sequence[str]) -> dict:
    loads = {p: 0.0 for p in people}
    for i, s in enumerate(sg.ids):
        loads[assignment[s]] = loads.get(assignment[s], 0.0) + float(sg.weight[i])
    return loads


def _breaks(
    sg: SegmentGraph,
    assignment: Mapping[str, str],
    people: Iterable[str],
    pins: Mapping[str, str],
) -> tuple[Break, ...]:
    by_person: dict[str, list[int]] = {}
    for i, s in enumerate(sg.ids):
        by_person.setdefault(assignment[s], []).append(i)
    out = []
    for p in sorted(set(people)):
        pcs = _pieces(sg, by_person.get(p, []))
        if len(pcs) <= 1:
            continue

        def rank(pc: list[int], p: str = p) -> tuple[int, float, int]:
            pinned = sum(1 for s in pc if pins.get(sg.ids[s]) == p)
            return (-pinned, -float(sg.weight[pc].sum()), pc[0])

        pcs.sort(key=rank)
        out.append(Break(person_id=p, pieces=tuple(tuple(sg.ids[s] for s in pc) for pc in pcs)))
    return tuple(out)


def move_segments(
    assignment: Mapping[str, str] | DistrictPlan,
    segment_ids: Sequence[str],
    to_person: str,
    gdf_segments: gpd.GeoDataFrame,
    *,
    workload: WorkloadParams | pd.Series | Mapping[str, float] | None = None,
    cases: pd.DataFrame | None = None,
    pins: Mapping[str, str] | None = None,
    allow_front_crossing: bool = False,
    people: Sequence[str] | None = None,
) -> MoveCheck:
    """Give ``segment_ids`` to ``to_person`` and say exactly what that breaks.

    The move is always carried out in the returned assignment (the input is not changed);
    :attr:`MoveCheck.breaks` lists every district that is no longer one piece (the donor
    cut in two, or the receiver when the segments do not touch its district), with the
    segment ids of each piece, and the balance before and after.
    """
    current, sg, known = _edit_context(assignment, gdf_segments, workload, cases)
    everyone = sorted(set(known) | set(people or ()))
    if to_person not in everyone:
        raise ValidationError(
            f"{to_person!r} holds no district here",
            source="move",
            field="to_person",
            fix=f"move to one of {', '.join(everyone)}",
        )
    for s in segment_ids:
        if s not in current:
            raise ValidationError(
                f"segment {s!r} is not in the assignment", source="move", field="segment_id"
            )
    pins = dict(pins or {})
    new = dict(current)
    for s in segment_ids:
        new[s] = to_person
    before = _loads(sg, current, everyone)
    after = _loads(sg, new, everyone)
    overridden = tuple(s for s in segment_ids if s in pins and pins[s] != to_person)
    conflicts: tuple[str, ...] = ()
    if not allow_front_crossing:
        fronts_of_receiver = {sg.front[i] for i, s in enumerate(sg.ids) if current[s] == to_person}
        if fronts_of_receiver:
            conflicts = tuple(
                s for s in segment_ids if sg.front[sg.index[s]] not in fronts_of_receiver
            )
    touched = {current[s] for s in segment_ids} | {to_person}
    return MoveCheck(
        assignment=new,
        moved=tuple(segment_ids),
        to_person=to_person,
        breaks=_breaks(sg, new, touched, pins),
        pins_overridden=overridden,
        front_conflicts=conflicts,
        ratio_before=_ratio(np.array(list(before.values()))),
        ratio_after=_ratio(np.array(list(after.values()))),
        loads_after=after,
    )


@dataclass(frozen=True)
class Repair:
    """Extra moves that make every district contiguous again after a manual move."""

    moves: tuple[tuple[str, str, str], ...]  # (segment_id, from person, to person)
    assignment: Mapping[str, str]
    ratio: float

    @property
    def size(self) -> int:
        """How many extra segments change owner."""
        return len(self.moves)


def smallest_repair(
    check: MoveCheck | Mapping[str, str],
    gdf_segments: gpd.GeoDataFrame,
    *,
    workload: WorkloadParams | pd.Series | Mapping[str, float] | None = None,
    cases: pd.DataFrame | None = None,
    pins: Mapping[str, str] | None = None,
    keep: Iterable[str] = (),
) -> Repair:
    """The fewest extra moves that make every district one piece, keeping the user's move.

    For every stray piece of a district two repairs are priced and the cheaper is taken:
    hand the piece to a neighbouring district (as many moves as the piece has segments;
    not allowed for pinned or just-moved segments), or join it to its main piece along the
    shortest walking path through other districts' segments (as many moves as the path has
    segments; only through segments whose owners stay in one piece). Pieces are repaired
    greedily one at a time, smallest first.

    Raises
    ------
    InfeasibleError
        When a stray piece can neither be handed over nor joined.
    """
    if isinstance(check, MoveCheck):
        assignment = dict(check.assignment)
        keep = set(keep) | set(check.moved)
    else:
        assignment = dict(check)
        keep = set(keep)
    current, sg, people = _edit_context(assignment, gdf_segments, workload, cases)
    pins = dict(pins or {})
    pos = {p: i for i, p in enumerate(people)}
    owner = np.array([pos[current[s]] for s in sg.ids], dtype=int)
    frozen = np.array([s in keep or s in pins for s in sg.ids], dtype=bool)
    state = _State(sg, len(people), owner, frozen)
    moves: list[tuple[str, str, str]] = []
    for _round in range(4 * sg.n):
        brk = _breaks(sg, {s: people[state.owner[i]] for i, s in enumerate(sg.ids)}, people, pins)
        if not brk:
            break
        # smallest stray piece anywhere first
        cand = []
        for b in brk:
            for pc in b.pieces[1:]:
                cand.append((len(pc), b.person_id, pc, b.pieces[0]))
        cand.sort(key=lambda c: (c[0], c[1], c[2]))
        _, person, piece, main = cand[0]
        d = pos[person]
        pidx = [sg.index[s] for s in piece]
        midx = {sg.index[s] for s in main}
        options: list[tuple[int, int, list[tuple[int, int]]]] = []
        # (a) hand the piece to a neighbouring district
        if not frozen[pidx].any():
            nbr = sorted(
                {
                    int(state.owner[t])
                    for s in pidx
                    for t in sg.nbrs[s]
                    if state.owner[t] != d and state.owner[t] >= 0
                }
            )
            if nbr:
                to = min(nbr, key=lambda x: (state.load[x], x))
                options.append((len(pidx), 0, [(s, to) for s in pidx]))
        # (b) join the piece to the main piece through other districts' segments
        blocked = {i for i in range(sg.n) if frozen[i] and state.owner[i] != d}
        path = _shortest_path_to_set(sg, set(pidx), midx, blocked, state, d)
        if path is not None:
            options.append((len(path), 1, [(s, d) for s in path]))
        else:
            loose = _shortest_path_to_set(sg, set(pidx), midx, blocked, state, d, strict=False)
            if loose is not None:
                options.append((len(loose), 2, [(s, d) for s in loose]))
        applied = False
        ordered = sorted(options, key=lambda o: (o[0], o[1]))
        for _cost, _kind, plan in ordered:
            undo = []
            good = True
            for s, to in plan:
                if state.owner[s] != to and state.owner[s] != d and not state.can_remove(s):
                    good = False
                    break
                undo.append((s, int(state.owner[s])))
                state.move(s, to)
            if good:
                for s, frm in undo:
                    moves.append((sg.ids[s], people[frm], people[state.owner[s]]))
                    frozen[s] = True
                applied = True
                break
            for s, frm in reversed(undo):
                state.move(s, frm)
        viable = [o for o in ordered if _keeps_everyone(state, o[2])]
        if not applied and viable:
            # Every repair cuts another district: take the cheapest and mend that one next.
            for s, to in viable[0][2]:
                moves.append((sg.ids[s], people[state.owner[s]], people[to]))
                state.move(s, to)
                frozen[s] = True
            applied = True
        if not applied:
            raise InfeasibleError(
                f"{person}'s stray piece ({', '.join(piece[:5])}) can neither be handed to a "
                "neighbour nor joined to the rest of the district without breaking another"
            )
    else:
        raise InfeasibleError("no repair found: districts keep falling apart; undo the move")
    final = {s: people[state.owner[i]] for i, s in enumerate(sg.ids)}
    # Collapse repeated moves of one segment into its net move.
    net: dict[str, tuple[str, str]] = {}
    for sid, frm_p, to_p in moves:
        first = net[sid][0] if sid in net else frm_p
        net[sid] = (first, to_p)
    out = tuple((sid, f, t) for sid, (f, t) in sorted(net.items()) if f != t)
    return Repair(moves=out, assignment=final, ratio=_ratio(state.load))


def _keeps_everyone(state: _State, plan: Sequence[tuple[int, int]]) -> bool:
    """True when carrying out ``plan`` leaves every district at least one segment."""
    taken: dict[int, int] = {}
    for s, to in plan:
        frm = int(state.owner[s])
        if frm != to:
            taken[frm] = taken.get(frm, 0) + 1
    return all(len(state.members[d]) > n for d, n in taken.items())


def _shortest_path_to_set(
    sg: SegmentGraph,
    src: set[int],
    dst: set[int],
    blocked: set[int],
    state: _State,
    d: int,
    strict: bool = True,
) -> list[int] | None:
    """Fewest foreign segments joining ``src`` to ``dst`` (0-1 BFS: own segments are free).

    When ``strict``, foreign segments whose removal would split their own district are not
    passable.
    """
    owner = state.owner
    passable: dict[int, bool] = {}

    def ok(y: int) -> bool:
        if owner[y] == d or not strict:
            return True
        if y not in passable:
            passable[y] = state.can_remove(y)
        return passable[y]

    dist = {s: 0 for s in src}
    prev: dict[int, int] = {s: -1 for s in src}
    dq = deque(sorted(src))
    while dq:
        x = dq.popleft()
        if x in dst:
            path = []
            y = x
            while y != -1:
                if owner[y] != d:
                    path.append(y)
                y = prev[y]
            return path[::-1]
        for y in sg.nbrs[x]:
            if y in blocked or not ok(y):
                continue
            cost = dist[x] + (0 if owner[y] == d else 1)
            if y not in dist or cost < dist[y]:
                dist[y] = cost
                prev[y] = x
                if owner[y] == d:
                    dq.appendleft(y)
                else:
                    dq.append(y)
    return None
