"""Fixtures for routing: the seven-bridges multigraph, street grids, random multigraphs."""

from __future__ import annotations

import itertools
import random

import networkx as nx
import pytest

from gis.geography.network import graph_from_segments, grid_segments
from gis.planning.walk import Route

#: Königsberg's seven bridges with lengths: A–B 3 and 5, A–C 2 and 10, A–D 1, B–D 9, C–D 3.
SEVEN_BRIDGES = [
    ("A", "B", 3.0),
    ("A", "B", 5.0),
    ("A", "C", 2.0),
    ("A", "C", 10.0),
    ("A", "D", 1.0),
    ("B", "D", 9.0),
    ("C", "D", 3.0),
]
NODE = {"A": 0, "B": 1, "C": 2, "D": 3}


def graph_from_edges(edges, xy=None) -> nx.MultiGraph:
    """A street-graph-shaped MultiGraph from (u, v, length) items; ids s0, s1, …"""
    G = nx.MultiGraph(crs="EPSG:32650")
    nodes = sorted({u for u, _, _ in edges} | {v for _, v, _ in edges})
    for n in nodes:
        x, y = xy[n] if xy else (float(n) * 10.0, float(n % 3) * 7.0)
        G.add_node(n, x=x, y=y)
    for k, (u, v, length) in enumerate(edges):
        sid = f"s{k}"
        G.add_edge(u, v, key=sid, segment_id=sid, length=float(length), from_node=u, name="")
    return G


@pytest.fixture
def seven_bridges() -> nx.MultiGraph:
    xy = {0: (0.0, 0.0), 1: (0.0, 10.0), 2: (0.0, -10.0), 3: (10.0, 0.0)}
    return graph_from_edges([(NODE[a], NODE[b], w) for a, b, w in SEVEN_BRIDGES], xy)


@pytest.fixture(scope="session")
def grid6() -> nx.MultiGraph:
    """A 6×6-block street grid, 100 m blocks (84 segments, 49 junctions)."""
    return graph_from_segments(grid_segments(6, 6))


def random_multigraph(seed: int, n: int, m: int) -> nx.MultiGraph:
    """A connected random multigraph with parallel edges and random lengths."""
    rng = random.Random(seed)
    edges = [(i, rng.randrange(i), rng.uniform(1, 100)) for i in range(1, n)]  # spanning tree
    while len(edges) < m:
        u, v = rng.randrange(n), rng.randrange(n)
        if u != v:
            edges.append((u, v, rng.uniform(1, 100)))
    return graph_from_edges(edges)


def brute_force_matching(nodes: list[int], dist) -> float:
    """Minimum-weight perfect matching by enumerating every matching (≤ 12 nodes)."""
    if not nodes:
        return 0.0
    first, rest = nodes[0], nodes[1:]
    best = float("inf")
    for i, other in enumerate(rest):
        sub = rest[:i] + rest[i + 1 :]
        best = min(best, dist[first][other] + brute_force_matching(sub, dist))
    return best


def odd_nodes(G: nx.MultiGraph, segment_ids) -> list[int]:
    deg: dict[int, int] = {}
    ids = set(segment_ids)
    for u, v, k in G.edges(keys=True):
        if k in ids:
            deg[u] = deg.get(u, 0) + 1
            deg[v] = deg.get(v, 0) + 1
    return sorted(n for n, d in deg.items() if d % 2)


def assert_valid_walk(G: nx.MultiGraph, route: Route, required, start, end=None) -> None:
    """The walk is connected, uses real segments, starts/ends right and patrols every
    required segment exactly once (further traversals are deadhead)."""
    end = start if end is None else end
    edges = route.edges
    assert edges, "empty walk"
    assert edges[0].u == start and edges[-1].v == end
    for a, b in itertools.pairwise(edges):
        assert a.v == b.u, f"walk breaks between {a} and {b}"
    for e in edges:
        assert G.has_edge(e.u, e.v, e.segment_id)
        assert e.length == pytest.approx(G.edges[e.u, e.v, e.segment_id]["length"])
    patrolled = [e.segment_id for e in edges if not e.deadhead]
    assert sorted(patrolled) == sorted(set(required))
    assert route.total_m == pytest.approx(sum(e.length for e in edges))
    assert route.required_m == pytest.approx(
        sum(G.edges[*_ends(G, s), s]["length"] for s in set(required))
    )


def _ends(G: nx.MultiGraph, sid: str) -> tuple[int, int]:
    for u, v, k in G.edges(keys=True):
        if k == sid:
            return u, v
    raise KeyError(sid)
