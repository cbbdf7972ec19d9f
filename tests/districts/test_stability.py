"""rebalance: one person leaves or joins, or a workload changes; most owners stay."""

from __future__ import annotations

import pytest

from gis.planning.partition import districts_for_people
from gis.planning.rebalance import changed_share, matched_changed_share, rebalance
from tests.districts.conftest import random_weights, zoned_grid

PEOPLE = [f"P{i}" for i in range(1, 9)]


@pytest.fixture(scope="module")
def grid_plan():
    gdf = zoned_grid(16, 16)
    w = random_weights(gdf, seed=5)
    return gdf, w, districts_for_people(gdf, PEOPLE, workload=w)


@pytest.mark.parametrize("leaver", PEOPLE)
def test_one_of_eight_leaves(grid_plan, leaver: str) -> None:
    gdf, w, plan = grid_plan
    rest = [p for p in PEOPLE if p != leaver]
    r = rebalance(plan, gdf, rest, workload=w)
    d = r.plan.diagnostics
    assert d.all_contiguous and d.ratio <= 1.05
    assert set(r.plan.assignment.values()) == set(rest)
    # the leaver's own segments must change; in all at most 30 % of segments do
    own = sum(1 for p in plan.assignment.values() if p == leaver) / len(plan.assignment)
    assert own <= r.changed_share <= 0.30
    assert r.changed_share == pytest.approx(changed_share(plan.assignment, r.plan.assignment))


def test_rebalance_keeps_more_than_a_fresh_solve(grid_plan) -> None:
    gdf, w, plan = grid_plan
    rest = PEOPLE[1:]
    kept = rebalance(plan, gdf, rest, workload=w).changed_share
    fresh = districts_for_people(gdf, rest, workload=w, seed=1)
    assert kept < matched_changed_share(plan.assignment, fresh.assignment)


def test_one_joins(grid_plan) -> None:
    gdf, w, plan = grid_plan
    r = rebalance(plan, gdf, PEOPLE + ["P9"], workload=w)
    d = r.plan.diagnostics
    assert d.all_contiguous and d.ratio <= 1.05
    assert d.n_segments["P9"] > 0
    assert r.changed_share <= 0.30


def test_workload_change_moves_little(grid_plan) -> None:
    gdf, w, plan = grid_plan
    w2 = w.copy()
    w2.iloc[0] *= 5
    r = rebalance(plan, gdf, PEOPLE, workload=w2)
    assert r.plan.diagnostics.all_contiguous and r.plan.diagnostics.ratio <= 1.05
    assert r.changed_share <= 0.10


def test_no_change_means_no_moves(grid_plan) -> None:
    gdf, w, plan = grid_plan
    r = rebalance(plan, gdf, PEOPLE, workload=w)
    assert r.changed_share == 0.0
    assert r.plan.assignment == plan.assignment


def test_matched_share_ignores_renaming() -> None:
    old = {"a": "X", "b": "X", "c": "Y"}
    new = {"a": "1", "b": "1", "c": "2"}
    assert matched_changed_share(old, new) == 0.0
    assert changed_share(old, {"a": "X", "b": "Y", "c": "Y"}) == pytest.approx(1 / 3)


def test_leaver_alone_on_a_front_is_replaced() -> None:
    gdf = zoned_grid(8, 8)
    east = gdf.geometry.centroid.x > gdf.geometry.centroid.x.quantile(0.85)
    gdf.loc[east, "front_id"] = "main_streets"
    gdf.loc[east, "zone_id"] = None
    w = random_weights(gdf)
    people = ["A", "B", "C", "D"]
    plan = districts_for_people(gdf, people, workload=w)
    fronts = gdf.set_index("segment_id")["front_id"]
    lone = next(
        p
        for p in people
        if {fronts[s] for s, q in plan.assignment.items() if q == p} == {"main_streets"}
    )
    r = rebalance(plan, gdf, [p for p in people if p != lone], workload=w)
    d = r.plan.diagnostics
    assert d.all_contiguous
    holders = {r.plan.assignment[s] for s in fronts[fronts == "main_streets"].index}
    assert len(holders) == 1 and lone not in holders
