"""k-person min-max routes and time-budgeted hotspot routes."""

from __future__ import annotations

import random

import pytest

from gis.errors import InfeasibleError, ValidationError
from gis.planning.budget_route import plan_budget_route
from gis.planning.postman import Net
from gis.planning.routing import plan_k_routes, required_segments
from tests.routing.conftest import assert_valid_walk


def _centre(G):
    nodes = sorted(G.nodes, key=lambda n: (G.nodes[n]["x"], G.nodes[n]["y"]))
    return nodes[len(nodes) // 2]


@pytest.mark.parametrize("k", [1, 2, 3, 5, 8])
def test_k_routes_cover_everything_and_respect_the_bound(grid6, k):
    ids = required_segments(grid6)
    depot = _centre(grid6)
    kr = plan_k_routes(grid6, ids, depot, k)
    assert 1 <= len(kr.routes) <= k
    patrolled = [e.segment_id for r in kr.routes for e in r.edges if not e.deadhead]
    assert sorted(patrolled) == sorted(ids)  # each segment patrolled by exactly one person
    for r in kr.routes:
        mine = [e.segment_id for e in r.edges if not e.deadhead]
        assert_valid_walk(grid6, r, mine, depot)
    assert kr.max_m == pytest.approx(max(r.total_m for r in kr.routes))
    assert kr.lower_bound_m <= kr.max_m + 1e-9
    assert kr.gap == pytest.approx(kr.max_m / kr.lower_bound_m - 1.0)
    # the bound's two parts, recomputed independently
    net = Net(grid6)
    d = net.dijkstra([net.index[depot]])[0]
    far = max(d[net.index[u]] + length + d[net.index[v]] for u, v, length in net.seg.values())
    assert kr.lower_bound_m == pytest.approx(max(far, kr.single.total_m / k))


def test_k_routes_on_the_grid_are_near_the_bound(grid6):
    depot = _centre(grid6)
    kr = plan_k_routes(grid6, required_segments(grid6), depot, 2)
    # single tour 9 600 m from the centre; two people: bound 4 800 m
    assert kr.single.total_m == pytest.approx(9600.0)
    assert kr.lower_bound_m == pytest.approx(4800.0)
    assert kr.gap <= 0.10


def test_k_routes_deterministic(grid6):
    depot = _centre(grid6)
    ids = required_segments(grid6)
    a = plan_k_routes(grid6, ids, depot, 3)
    b = plan_k_routes(grid6, ids, depot, 3)
    assert [r.edges for r in a.routes] == [r.edges for r in b.routes]


@pytest.mark.parametrize("k", [0, -2])
def test_k_must_be_positive(grid6, k):
    with pytest.raises(ValidationError, match="k must be a positive number of people"):
        plan_k_routes(grid6, required_segments(grid6), _centre(grid6), k)


def _weights(G, seed):
    rng = random.Random(seed)
    return {s: rng.choice([0, 0, 0, 1, 2, 5, 8]) for s in required_segments(G)}


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("budget", [20.0, 45.0, 90.0])
def test_budget_route_within_budget_and_beats_greedy(grid6, seed, budget):
    depot = _centre(grid6)
    w = _weights(grid6, seed)
    plan = plan_budget_route(grid6, depot, w, budget, 4.5, 1.5)
    r = plan.route
    assert plan.minutes <= budget + 1e-9
    walk_min = r.total_m / (4.5 * 1000 / 60)
    assert plan.minutes == pytest.approx(walk_min + 1.5 * len(plan.stops))
    assert_valid_walk(grid6, r, plan.stops, depot)
    assert plan.weight == pytest.approx(sum(w[s] for s in plan.stops))
    assert all(w[s] > 0 for s in plan.stops)
    assert plan.baseline_minutes <= budget + 1e-9
    assert plan.weight >= plan.baseline_weight


def test_budget_large_enough_takes_every_hotspot(grid6):
    w = _weights(grid6, 3)
    plan = plan_budget_route(grid6, _centre(grid6), w, 10_000.0, 4.5, 1.0)
    assert plan.weight == pytest.approx(sum(v for v in w.values() if v > 0))


def test_budget_too_small_to_leave_the_depot(grid6):
    w = _weights(grid6, 1)
    # the nearest hotspot segment is ≥ 100 m long: 100 m there and back is 200 m ≈ 2.7 min
    with pytest.raises(InfeasibleError, match=r"budget of 2 min is too small to leave the depot"):
        plan_budget_route(grid6, _centre(grid6), w, 2.0, 4.5, 0.0)
    with pytest.raises(ValidationError, match="budget must be positive"):
        plan_budget_route(grid6, _centre(grid6), w, 0.0, 4.5, 0.0)


def test_budget_without_positive_weights(grid6):
    with pytest.raises(ValidationError, match="no segment with a positive weight"):
        plan_budget_route(grid6, _centre(grid6), {"H000-01": 0.0}, 60.0)
