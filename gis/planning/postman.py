"""Postman tours on the street graph: exact Chinese postman and a rural-postman heuristic.

The tour covers a set of *required* segments at least once in one connected walk.

* **Connected required set, start on it** — exact (Edmonds–Johnson): the walk's length is the
  required length plus a minimum-weight T-join of the odd-degree nodes, i.e. a minimum-weight
  perfect matching of those nodes by shortest-path distance. Small odd sets are matched with
  networkx's blossom on the complete distance graph; large ones with PyMatching's sparse
  blossom run directly on the street graph (its "detection events" are our odd nodes and its
  correction edges are the T-join), which is orders of magnitude faster and equally exact.
* **Disconnected required set, or a start off it** — rural postman, Frederickson's heuristic:
  join the components (and the start/end) by a minimum spanning tree of shortest paths between
  components (Mehlhorn's one-Dijkstra construction), then fix parity with a T-join. The lower
  bound is ``required + max(T-join of the required set's odd nodes, connection bound)`` where
  the connection bound is ``MST·t/(t−1)`` for closed walks (every cut between ``t`` terminal
  components is crossed at least twice; the cut relaxation of the Steiner tree loses at most
  ``2(1−1/t)`` against the MST) and ``MST/(2(1−1/t))`` for open walks.
* **Open walks A→B** — parity is fixed for ``odd(R) Δ {A, B}`` so that only A and B are odd.

The walk is an Eulerian trail of the augmented multigraph (Hierholzer, with a fixed edge order
so the same input always gives the same route). ``networkx.eulerize`` is not used: it minimises
the number of repeated edges, not metres.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterable, Sequence
from typing import Literal

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from gis.errors import InfeasibleError, NotFoundError, ValidationError
from gis.planning.walk import Route, RouteEdge

log = logging.getLogger(__name__)

#: Above this many odd nodes the matching runs on PyMatching (measured in bench/routing.md:
#: networkx's complete-graph blossom is faster only for a few dozen nodes).
PYMATCHING_MIN_ODD = 24

MatchingMethod = Literal["auto", "pymatching", "networkx"]


# --------------------------------------------------------------------------------------------
# compact graph


class Net:
    """An index over an undirected street multigraph for fast shortest paths.

    Parallel segments between the same two nodes collapse to the shortest (ties: smallest id)
    for distances; the route still walks the chosen segment by id.
    """

    def __init__(self, G: nx.MultiGraph) -> None:
        self.G = G
        self.nodes: list[int] = sorted(G.nodes)
        self.index: dict[int, int] = {n: i for i, n in enumerate(self.nodes)}
        self.seg: dict[str, tuple[int, int, float]] = {}
        best: dict[tuple[int, int], tuple[float, str]] = {}
        for u, v, k, d in G.edges(keys=True, data=True):
            sid = str(d.get("segment_id", k))
            length = float(d["length"])
            if length < 0 or not np.isfinite(length):
                raise ValidationError(
                    f"segment {sid!r} has length {length}", source="graph", field="length"
                )
            self.seg[sid] = (u, v, length)
            if u == v:
                continue
            i, j = sorted((self.index[u], self.index[v]))
            cur = best.get((i, j))
            if cur is None or (length, sid) < cur:
                best[(i, j)] = (length, sid)
        self.best = best
        n = len(self.nodes)
        if best:
            ij = np.array(list(best.keys()), dtype=np.int64)
            w = np.array([max(b[0], 1e-9) for b in best.values()])  # csgraph drops zeros
            rows = np.concatenate([ij[:, 0], ij[:, 1]])
            cols = np.concatenate([ij[:, 1], ij[:, 0]])
            self.csr = sp.csr_array((np.concatenate([w, w]), (rows, cols)), shape=(n, n))
        else:
            self.csr = sp.csr_array((n, n))
        self._matching = None
        labels = nx.connected_components(G)
        self.component: dict[int, int] = {}
        for c, comp in enumerate(labels):
            for node in comp:
                self.component[node] = c

    def matching_graph(self):
        """PyMatching's graph of the streets (built on first use, then reused)."""
        if self._matching is None:
            import pymatching

            m = pymatching.Matching()
            for (i, j), (length, _sid) in self.best.items():
                m.add_edge(i, j, weight=length, merge_strategy="smallest-weight")
            self._matching = m
        return self._matching

    def edge_between(self, i: int, j: int) -> tuple[str, float]:
        """The shortest segment joining node indices ``i`` and ``j``: (segment_id, length)."""
        length, sid = self.best[(min(i, j), max(i, j))]
        return sid, length

    def path_edges(self, pred_row: np.ndarray, src: int, dst: int) -> list[tuple[int, int, str]]:
        """Segments of the shortest path src→dst (node indices) from a predecessor row."""
        out: list[tuple[int, int, str]] = []
        cur = dst
        while cur != src:
            p = int(pred_row[cur])
            if p < 0:
                raise InfeasibleError(
                    f"no path between nodes {self.nodes[src]} and {self.nodes[dst]}"
                )
            out.append((p, cur, self.edge_between(p, cur)[0]))
            cur = p
        out.reverse()
        return out

    def dijkstra(self, sources: Sequence[int], **kw):
        """scipy's Dijkstra from node indices (directed storage of a symmetric matrix)."""
        return dijkstra(self.csr, directed=True, indices=list(sources), **kw)


# --------------------------------------------------------------------------------------------
# T-joins (minimum-weight perfect matching of odd nodes by shortest path)


def t_join(
    net: Net, odd: Iterable[int], method: MatchingMethod = "auto"
) -> tuple[list[tuple[int, int, str]], float]:
    """Cheapest multiset of segments whose odd-degree nodes are exactly ``odd`` (graph nodes).

    Returns the segments as ``(i, j, segment_id)`` (node indices) and their total length, which
    equals the minimum-weight perfect matching of ``odd`` by shortest-path distance.
    """
    idx = sorted({net.index[n] for n in odd})
    if len(idx) % 2:
        raise ValidationError(f"an odd number ({len(idx)}) of odd-degree nodes cannot be matched")
    if not idx:
        return [], 0.0
    comps: dict[int, int] = {}
    for i in idx:
        c = net.component[net.nodes[i]]
        comps[c] = comps.get(c, 0) + 1
    if any(v % 2 for v in comps.values()):
        raise InfeasibleError("odd-degree nodes lie on separate networks and cannot be paired")
    if method == "auto":
        method = "pymatching" if len(idx) >= PYMATCHING_MIN_ODD else "networkx"
    if method == "pymatching":
        return _t_join_pymatching(net, idx)
    if method == "networkx":
        return _t_join_networkx(net, idx)
    raise ValidationError(
        f"unknown matching method {method!r}", fix="use auto, pymatching or networkx"
    )


def _t_join_pymatching(net: Net, idx: list[int]) -> tuple[list[tuple[int, int, str]], float]:
    m = net.matching_graph()
    syndrome = np.zeros(m.num_detectors, dtype=np.uint8)
    syndrome[idx] = 1  # odd nodes always touch an edge, so idx < num_detectors
    pairs = m.decode_to_edges_array(syndrome)
    out: list[tuple[int, int, str]] = []
    total = 0.0
    for a, b in pairs:
        a, b = int(a), int(b)
        sid, length = net.edge_between(a, b)
        out.append((a, b, sid))
        total += length
    return out, total


def odd_node_matching(net: Net, idx: list[int]) -> tuple[list[tuple[int, int]], float, np.ndarray]:
    """Exact minimum-weight perfect matching of node indices ``idx`` by shortest path
    (networkx blossom on the complete distance graph). Returns pairs, cost, predecessors."""
    dist, pred = net.dijkstra(idx, return_predecessors=True)
    K = nx.Graph()
    for a, b in itertools.combinations(range(len(idx)), 2):
        K.add_edge(a, b, weight=float(dist[a, idx[b]]))
    M = nx.min_weight_matching(K)
    pairs = sorted(tuple(sorted(p)) for p in M)
    cost = float(sum(dist[a, idx[b]] for a, b in pairs))
    return [(a, b) for a, b in pairs], cost, pred


def _t_join_networkx(net: Net, idx: list[int]) -> tuple[list[tuple[int, int, str]], float]:
    pairs, _cost, pred = odd_node_matching(net, idx)
    out: list[tuple[int, int, str]] = []
    total = 0.0
    for a, b in pairs:
        for p, q, sid in net.path_edges(pred[a], idx[a], idx[b]):
            out.append((p, q, sid))
            total += net.edge_between(p, q)[1]
    return out, total


# --------------------------------------------------------------------------------------------
# connecting components (rural postman)


def _connect_terminals(
    net: Net, groups: list[list[int]]
) -> tuple[list[tuple[int, int, str]], float, list[float]]:
    """Minimum spanning tree of shortest paths joining node-index ``groups`` (Mehlhorn).

    One multi-source Dijkstra labels every node with its nearest group; each graph edge whose
    ends have different labels proposes a link; Kruskal over those links gives an MST of the
    groups' distance graph. Returns the path segments, the MST weight and, per group, the
    distance to the nearest other group (exact: a shortest path to the nearest group crosses
    a region boundary where the candidate is no longer than the path).
    """
    if len(groups) <= 1:
        return [], 0.0, [0.0] * len(groups)
    label = {}
    for g, nodes in enumerate(groups):
        for i in nodes:
            label[i] = g
    sources = sorted(label)
    dist, pred, src = dijkstra(
        net.csr, directed=True, indices=sources, return_predecessors=True, min_only=True
    )
    cands = []
    for (i, j), (length, _sid) in net.best.items():
        si, sj = int(src[i]), int(src[j])
        if si < 0 or sj < 0:
            continue
        gi, gj = label[si], label[sj]
        if gi != gj:
            cands.append((float(dist[i] + length + dist[j]), i, j, gi, gj))
    cands.sort()
    nearest = [float("inf")] * len(groups)
    for w, _i, _j, gi, gj in cands:
        nearest[gi] = min(nearest[gi], w)
        nearest[gj] = min(nearest[gj], w)
    parent = list(range(len(groups)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    links: list[tuple[int, int, str]] = []
    weight = 0.0
    joined = 0
    for w, i, j, gi, gj in cands:
        ri, rj = find(gi), find(gj)
        if ri == rj:
            continue
        parent[ri] = rj
        weight += w
        joined += 1
        for end in (i, j):
            cur = end
            while int(src[cur]) != cur:
                p = int(pred[cur])
                links.append((p, cur, net.edge_between(p, cur)[0]))
                cur = p
        links.append((i, j, net.edge_between(i, j)[0]))
        if joined == len(groups) - 1:
            break
    if joined < len(groups) - 1:
        raise InfeasibleError("required segments lie on separate networks: no walk can join them")
    return links, weight, nearest


# --------------------------------------------------------------------------------------------
# Euler trail


def euler_trail(
    edges: Sequence[tuple[int, int, str, float]],
    start: int,
    xy: np.ndarray | None = None,
) -> list[tuple[int, int, str, float]]:
    """Hierholzer's algorithm on a multigraph given as ``(u, v, segment_id, length)`` items.

    All nodes must have even degree, except ``start`` and one other node for an open trail.
    With node coordinates ``xy`` (row per node index) the walk prefers, at each junction, the
    segment that turns least and turns back on the segment just walked only as a last resort
    (routes read better: long straight runs, few U-turns); ties and the no-coordinates case
    go by segment id, so the trail is deterministic. Returns the items in walking order.
    """
    adj: dict[int, list[tuple[str, int, int]]] = {}
    for k, (u, v, sid, _l) in enumerate(edges):
        adj.setdefault(u, []).append((sid, k, v))
        if u != v:
            adj.setdefault(v, []).append((sid, k, u))
    for lst in adj.values():
        lst.sort(reverse=True)  # pop from the end = smallest first
    ang: list[float] | None = None
    if xy is not None:
        ang = [math.atan2(xy[v][1] - xy[u][1], xy[v][0] - xy[u][0]) for u, v, _s, _l in edges]
    used = [False] * len(edges)
    stack: list[tuple[int, int]] = [(start, -1)]
    out: list[tuple[int, int]] = []
    prev_of: dict[int, int] = {}  # stack depth -> node walked from
    while stack:
        node, via = stack[-1]
        lst = adj.get(node, [])
        while lst and used[lst[-1][1]]:
            lst.pop()
        if lst:
            pick = len(lst) - 1
            if ang is not None and via >= 0 and len(lst) > 1:
                # heading on arrival at `node` along item `via`
                hin = (
                    ang[via]
                    if edges[via][1] == node and prev_of[len(stack) - 1] == edges[via][0]
                    else ang[via] + math.pi
                )
                via_sid = edges[via][2]
                best_cost = 99.0
                for n_ in range(len(lst) - 1, -1, -1):
                    sid, k, other = lst[n_]
                    if used[k]:
                        continue
                    if sid == via_sid:
                        cost = 10.0
                    else:
                        hout = ang[k] if edges[k][0] == node else ang[k] + math.pi
                        cost = abs((hout - hin + math.pi) % (2 * math.pi) - math.pi)
                    if cost < best_cost - 1e-9:
                        best_cost, pick = cost, n_
            _sid, k, other = lst.pop(pick)
            used[k] = True
            prev_of[len(stack)] = node
            stack.append((other, k))
        else:
            stack.pop()
            out.append((node, via))
    if not all(used):
        raise InfeasibleError("the walk is not connected: some segments cannot be reached")
    out.reverse()
    trail = []
    prev = out[0][0]
    for node, k in out[1:]:
        _u, _v, sid, length = edges[k]
        trail.append((prev, node, sid, length))
        prev = node
    return trail


# --------------------------------------------------------------------------------------------
# the planner


def _required_lookup(net: Net, required: Iterable[str]) -> list[str]:
    req = sorted({str(s) for s in required})
    if not req:
        raise ValidationError(
            "the required segment set is empty",
            field="required_segment_ids",
            fix="choose a zone, a front or a list of segment ids with at least one segment",
        )
    missing = [s for s in req if s not in net.seg]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise NotFoundError(
            f"segments not in the street graph: {', '.join(missing[:5])}{more}; "
            "check the ids against the network's segments"
        )
    return req


def _require_node(net: Net, node: int, what: str) -> None:
    if node not in net.index:
        raise NotFoundError(f"{what} node {node!r} is not in the street graph")


def plan_postman_route(
    G: nx.MultiGraph,
    required_segment_ids: Iterable[str],
    start_node: int,
    end_node: int | None = None,
    *,
    walk_speed_kmh: float = 4.5,
    matching: MatchingMethod = "auto",
    net: Net | None = None,
    with_bound: bool = True,
) -> Route:
    """The shortest walk from ``start_node`` that patrols every required segment.

    Parameters
    ----------
    G
        The street graph (``gis.geography.network.graph_from_segments``); not modified.
    required_segment_ids
        Segments to patrol (a zone, a front, a district…).
    start_node, end_node
        Where the walk starts and ends; ``end_node=None`` returns to the start. The start need
        not touch the required set: the approach and the way back are part of the walk.
    walk_speed_kmh
        For :attr:`Route.duration_min` (``Settings.walk_speed_kmh``).
    matching
        ``auto`` picks networkx for small odd sets and PyMatching for large ones.
    net
        A prebuilt :class:`Net` of ``G`` to reuse across many calls.
    with_bound
        Compute the rural lower bound (one more matching); when False the bound reported for
        a rural walk is only the required length (for inner loops of other heuristics).

    Returns
    -------
    Route
        ``method`` is ``exact`` when the result is provably optimal (gap 0), else ``rural``.
    """
    net = net or Net(G)
    req = _required_lookup(net, required_segment_ids)
    _require_node(net, start_node, "start")
    end = start_node if end_node is None else end_node
    _require_node(net, end, "end")
    s_i, e_i = net.index[start_node], net.index[end]

    # multigraph items (u, v, sid, length) with node indices
    items: list[tuple[int, int, str, float]] = []
    deg = np.zeros(len(net.nodes), dtype=np.int64)
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    required_m = 0.0
    for sid in req:
        u, v, length = net.seg[sid]
        i, j = net.index[u], net.index[v]
        items.append((i, j, sid, length))
        deg[i] += 1
        deg[j] += 1
        parent[find(i)] = find(j)
        required_m += length
    comp_of: dict[int, list[int]] = {}
    for x in list(parent):
        comp_of.setdefault(find(x), []).append(x)
    groups = sorted((sorted(v) for v in comp_of.values()), key=lambda g: g[0])
    on_req = set(parent)
    for term in {s_i, e_i}:
        if term not in on_req:
            groups.append([term])
    gcomps = {net.component[net.nodes[g[0]]] for g in groups}
    if len(gcomps) > 1:
        sample = [net.nodes[g[0]] for g in groups][:4]
        per_comp: dict[int, float] = dict.fromkeys(gcomps, 0.0)
        for i, _j, _sid, length in items:
            per_comp[net.component[net.nodes[i]]] += length
        sizes = sorted(per_comp.values(), reverse=True)
        raise InfeasibleError(
            f"the required segments (and start/end) lie on {len(gcomps)} separate networks "
            f"(e.g. around nodes {sample}; {', '.join(f'{m:.0f} m' for m in sizes[:4])}): "
            "no walk can join them; choose segments on one connected network (--zone, "
            "--segments), add the missing streets, or for an OSM import re-import with "
            f"--min-component-m {math.floor(sizes[1]) + 1} to drop the smaller pieces"
        )
    closed = s_i == e_i
    t = len(groups)

    links, mst_w, nearest = _connect_terminals(net, groups)
    for i, j, sid in links:
        items.append((i, j, sid, net.edge_between(i, j)[1]))
        deg[i] += 1
        deg[j] += 1
    odd = set(np.flatnonzero(deg % 2).tolist())
    if not closed:
        odd ^= {s_i, e_i}
    tj, _tj_cost = t_join(net, [net.nodes[i] for i in sorted(odd)], matching)
    for i, j, sid in tj:
        items.append((i, j, sid, net.edge_between(i, j)[1]))

    # drop pairs of surplus copies (parity and connectivity unchanged)
    items = _drop_surplus(items)

    xy = np.array([(G.nodes[n].get("x", 0.0), G.nodes[n].get("y", 0.0)) for n in net.nodes])
    trail = euler_trail(items, s_i, xy)
    if trail and trail[-1][1] != e_i:  # pragma: no cover - guarded by parity
        raise InfeasibleError("internal error: the walk does not end at the end node")

    seen: set[str] = set()
    req_set = set(req)
    redges = []
    for i, j, sid, length in trail:
        dead = sid not in req_set or sid in seen
        if sid in req_set:
            seen.add(sid)
        redges.append(RouteEdge(net.nodes[i], net.nodes[j], sid, length, dead))
    total = float(sum(e.length for e in redges))

    # lower bound
    if t == 1:
        lb = total
        method = "exact"
    elif not with_bound:
        lb = required_m
        method = "rural"
    else:
        odd_r = set(np.flatnonzero(_degrees(net, req) % 2).tolist())
        if not closed:
            odd_r ^= {s_i, e_i}
        _, tj_lb = t_join(net, [net.nodes[i] for i in sorted(odd_r)], matching)
        # a closed walk crosses every cut between terminal groups at least twice, an open walk
        # at least once: the MST bound of the cut relaxation, and the cut around each group
        if closed:
            conn = max(mst_w * t / (t - 1), 2.0 * max(nearest))
        else:
            conn = max(mst_w / (2.0 * (1.0 - 1.0 / t)), max(nearest))
        lb = required_m + max(tj_lb, conn)
        method = "rural"
    return Route.from_edges(G, redges, start_node, end, lb, walk_speed_kmh, method)


def _degrees(net: Net, req: Iterable[str]) -> np.ndarray:
    deg = np.zeros(len(net.nodes), dtype=np.int64)
    for sid in req:
        u, v, _ = net.seg[sid]
        deg[net.index[u]] += 1
        deg[net.index[v]] += 1
    return deg


def _drop_surplus(
    items: list[tuple[int, int, str, float]],
) -> list[tuple[int, int, str, float]]:
    """Remove two copies of any segment used three times or more (keeps parity and coverage)."""
    count: dict[str, int] = {}
    for it in items:
        count[it[2]] = count.get(it[2], 0) + 1
    drop = {sid: (c - 1) // 2 * 2 for sid, c in count.items() if c >= 3}
    if not drop:
        return items
    out = []
    for it in reversed(items):  # drop the later (deadhead) copies
        d = drop.get(it[2], 0)
        if d:
            drop[it[2]] = d - 1
            continue
        out.append(it)
    out.reverse()
    return out
