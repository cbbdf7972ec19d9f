"""Postman tours: known optima, brute-force matching, coverage, determinism, rural bounds."""

from __future__ import annotations

import networkx as nx
import pytest

from gis.planning.postman import Net, plan_postman_route, t_join
from gis.planning.routing import required_segments
from tests.routing.conftest import (
    assert_valid_walk,
    brute_force_matching,
    odd_nodes,
    random_multigraph,
)

ALL7 = [f"s{k}" for k in range(7)]


@pytest.mark.parametrize("matching", ["networkx", "pymatching"])
def test_seven_bridges_is_39(seven_bridges, matching):
    r = plan_postman_route(seven_bridges, ALL7, 0, matching=matching)
    assert r.total_m == pytest.approx(39.0, abs=1e-9)
    assert r.required_m == pytest.approx(33.0)
    assert r.deadhead_m == pytest.approx(6.0)
    assert r.method == "exact" and r.gap == 0.0
    assert_valid_walk(seven_bridges, r, ALL7, 0)


@pytest.mark.parametrize("start", [0, 1, 2, 3])
def test_seven_bridges_any_start(seven_bridges, start):
    r = plan_postman_route(seven_bridges, ALL7, start)
    assert r.total_m == pytest.approx(39.0)
    assert_valid_walk(seven_bridges, r, ALL7, start)


def test_open_walk_between_the_two_odd_ends_needs_no_repeat():
    # a path graph 0-1-2-3: walking 0→3 covers it once; returning doubles it
    from tests.routing.conftest import graph_from_edges

    G = graph_from_edges([(0, 1, 4.0), (1, 2, 5.0), (2, 3, 6.0)])
    ids = ["s0", "s1", "s2"]
    open_r = plan_postman_route(G, ids, 0, 3)
    assert open_r.total_m == pytest.approx(15.0)
    assert_valid_walk(G, open_r, ids, 0, 3)
    closed = plan_postman_route(G, ids, 0)
    assert closed.total_m == pytest.approx(30.0)
    # ending in the middle: parity of 0 and 1 changes, 0→…→1 must repeat 1-2-3
    mid = plan_postman_route(G, ids, 0, 1)
    assert mid.total_m == pytest.approx(15.0 + 11.0)
    assert_valid_walk(G, mid, ids, 0, 1)


@pytest.mark.parametrize("seed", range(25))
def test_random_graphs_match_brute_force(seed):
    G = random_multigraph(seed, n=9 + seed % 6, m=14 + seed % 9)
    ids = required_segments(G)
    odd = odd_nodes(G, ids)
    assert len(odd) <= 12
    dist = dict(nx.all_pairs_dijkstra_path_length(G, weight="length"))
    best = brute_force_matching(odd, dist)
    start = sorted(G.nodes)[seed % len(G)]
    for matching in ("networkx", "pymatching"):
        r = plan_postman_route(G, ids, start, matching=matching)
        assert r.total_m == pytest.approx(r.required_m + best, abs=1e-6)
        assert r.lower_bound_m == pytest.approx(r.total_m)
        assert_valid_walk(G, r, ids, start)


@pytest.mark.parametrize("seed", range(10))
def test_t_join_cost_equals_matching_cost(seed):
    G = random_multigraph(100 + seed, n=30, m=60)
    net = Net(G)
    odd = odd_nodes(G, required_segments(G))
    _, c_nx = t_join(net, odd, "networkx")
    _, c_pm = t_join(net, odd, "pymatching")
    assert c_pm == pytest.approx(c_nx, abs=1e-6)
    dist = dict(nx.all_pairs_dijkstra_path_length(G, weight="length"))
    if len(odd) <= 12:
        assert c_nx == pytest.approx(brute_force_matching(odd, dist), abs=1e-6)


def test_grid_is_exact_and_covers_every_segment(grid6):
    ids = required_segments(grid6)
    start = sorted(grid6.nodes)[0]
    r = plan_postman_route(grid6, ids, start)
    # 6×6 blocks: 84 segments of 100 m; the 20 odd nodes (boundary, not corners) form a ring
    # of 5 per side: the best matching takes 8 neighbours (100 m) and 2 pairs round a corner
    # (200 m), 1 200 m of repeats
    assert r.required_m == pytest.approx(8400.0)
    assert r.total_m == pytest.approx(9600.0)
    assert_valid_walk(grid6, r, ids, start)
    assert r.geometry.length == pytest.approx(r.total_m)
    assert r.duration_min == pytest.approx(9600.0 / (4.5 * 1000 / 60))


def test_same_input_same_route(grid6):
    ids = required_segments(grid6)
    start = sorted(grid6.nodes)[10]
    a = plan_postman_route(grid6, ids, start)
    b = plan_postman_route(grid6, list(reversed(ids)), start)
    assert a.edges == b.edges


def test_start_off_the_required_set_includes_the_approach(grid6):
    # the top row of blocks only; start at the bottom-left corner 600 m away
    ids = [s for s in required_segments(grid6) if s.startswith(("H005", "H006"))]
    start = sorted(grid6.nodes)[0]
    r = plan_postman_route(grid6, ids, start)
    assert_valid_walk(grid6, r, ids, start)
    assert r.method == "rural"
    # two 600 m lines 100 m apart, 500 m from the start: up 500, east 600, up 100, west 600,
    # down 100 and 500 is optimal (2 400 m); the cut around the start gives 1 200 + 2·500
    assert r.total_m == pytest.approx(2400.0)
    assert r.lower_bound_m == pytest.approx(2200.0)
    assert r.gap == pytest.approx(200.0 / 2200.0)


@pytest.mark.parametrize("seed", range(12))
def test_rural_postman_bound_and_gap(seed, grid6):
    import random

    rng = random.Random(seed)
    all_ids = required_segments(grid6)
    ids = rng.sample(all_ids, 6 + seed)
    start = rng.choice(sorted(grid6.nodes))
    r = plan_postman_route(grid6, ids, start)
    assert_valid_walk(grid6, r, ids, start)
    assert r.gap >= 0.0
    assert r.required_m <= r.lower_bound_m <= r.total_m + 1e-9
    assert r.gap == pytest.approx((r.total_m - r.lower_bound_m) / r.lower_bound_m)


def test_rural_open_walk(grid6):
    ids = ["H000-01", "H006-06", "V003-03"]
    nodes = sorted(grid6.nodes)
    r = plan_postman_route(grid6, ids, nodes[0], nodes[-1])
    assert_valid_walk(grid6, r, ids, nodes[0], nodes[-1])
    assert r.lower_bound_m <= r.total_m


def test_input_graph_not_modified(seven_bridges):
    before_edges = sorted(
        (u, v, k, dict(d)) for u, v, k, d in seven_bridges.edges(keys=True, data=True)
    )
    before_nodes = {n: dict(d) for n, d in seven_bridges.nodes(data=True)}
    before_graph = dict(seven_bridges.graph)
    plan_postman_route(seven_bridges, ALL7, 0)
    after_edges = sorted(
        (u, v, k, dict(d)) for u, v, k, d in seven_bridges.edges(keys=True, data=True)
    )
    assert after_edges == before_edges
    assert {n: dict(d) for n, d in seven_bridges.nodes(data=True)} == before_nodes
    assert dict(seven_bridges.graph) == before_graph
