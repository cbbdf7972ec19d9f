"""Growing and balancing districts on the segment graph: the solver state and local search."""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Iterable, Sequence

import numpy as np
from scipy.sparse.csgraph import dijkstra

from gis.planning.segment_graph import SegmentGraph, connected_pieces


class PartitionState:
    """Mutable working state of one partition: owner per segment, loads, borders, cut vertices."""

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


def max_min_ratio(load: np.ndarray) -> float:
    lo = float(load.min())
    return math.inf if lo <= 0 else float(load.max()) / lo


def kmeanspp(
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


def grow_voronoi(
    state: PartitionState, region: Iterable[int], D: np.ndarray, districts: Sequence[int]
) -> None:
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


def grow_capacitated(
    state: PartitionState,
    region: Iterable[int],
    D: np.ndarray,
    districts: Sequence[int],
    off: np.ndarray,
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


def _try_single(state: PartitionState, a: int, D: np.ndarray, lighter: bool) -> bool:
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


def _branch(state: PartitionState, s: int) -> list[int]:
    """``s`` plus every piece its district would lose with it (all but the heaviest piece)."""
    sg, owner = state.sg, state.owner
    a = owner[s]
    rest = [t for t in state.members[a] if t != s]
    pieces = connected_pieces(sg, rest)
    pieces.sort(key=lambda c: (-float(sg.weight[c].sum()), min(c)))
    return [s] + [t for c in pieces[1:] for t in c]


def _try_branch(state: PartitionState, b: int, D: np.ndarray) -> bool:
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


def smooth(state: PartitionState, districts: Sequence[int], max_passes: int = 4) -> int:
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


def _district_path(state: PartitionState, a: int, b: int) -> list[int] | None:
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


def _try_chain(state: PartitionState, a: int, b: int, D: np.ndarray) -> bool:
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


def refine(
    state: PartitionState,
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
