"""Integration over the bundled Shichahai geography (skips until it is present)."""

from __future__ import annotations

import pytest

from gis.district_outputs import district_polygons
from gis.districts import districts_for_people, rebalance
from gis.errors import PatrolError
from gis.geography import load_bundled_geography


@pytest.fixture(scope="module")
def geo():
    try:
        return load_bundled_geography()
    except PatrolError as exc:
        pytest.skip(f"bundled Shichahai geography not available: {exc}")


@pytest.mark.slow
def test_every_k_from_2_to_24_is_contiguous_and_balanced(geo) -> None:
    ratios = {}
    for k in range(2, 25):
        plan = districts_for_people(geo.segments, k, allow_front_crossing=True)
        assert plan.diagnostics.all_contiguous, k
        ratios[k] = plan.diagnostics.ratio
    assert max(ratios.values()) <= 1.05, ratios


def test_fronts_respected_at_k8(geo) -> None:
    plan = districts_for_people(geo.segments, 8)
    fronts = geo.segments.set_index("segment_id")["front_id"]
    for person in plan.people:
        segs = [s for s, p in plan.assignment.items() if p == person]
        assert fronts.loc[segs].nunique() == 1
    assert plan.diagnostics.all_contiguous
    pol = district_polygons(geo.segments, plan.assignment, boundary=geo.boundary, lakes=geo.lakes)
    assert pol.geometry.intersection(geo.lakes.union_all()).area.max() < 1.0


def test_one_of_eight_leaves_on_bundled_data(geo) -> None:
    people = [f"P{i}" for i in range(1, 9)]
    plan = districts_for_people(geo.segments, people, allow_front_crossing=True)
    r = rebalance(plan, geo.segments, people[1:], allow_front_crossing=True)
    assert r.plan.diagnostics.all_contiguous
    assert r.changed_share <= 0.30
