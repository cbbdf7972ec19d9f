"""districts_for_people: exact small cases, contiguity and balance on grids, pins, fronts."""

from __future__ import annotations

import pandas as pd
import pytest

from gis.errors import InfeasibleError, ValidationError
from gis.planning.partition import districts_for_people
from tests.districts.conftest import path_segments, random_weights, zoned_grid


def _by_person(assignment) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for s, p in assignment.items():
        out.setdefault(p, []).append(s)
    return {p: sorted(v, key=lambda s: int(s[1:])) for p, v in out.items()}


def test_path_split_in_two_is_optimal() -> None:
    gdf = path_segments(6)
    w = pd.Series([1, 2, 3, 4, 5, 5], index=[f"s{i}" for i in range(1, 7)], dtype=float)
    plan = districts_for_people(gdf, ["A", "B"], workload=w)
    groups = sorted(_by_person(plan.assignment).values())
    assert groups == [["s1", "s2", "s3", "s4"], ["s5", "s6"]]
    assert plan.diagnostics.ratio == pytest.approx(1.0)


def test_path_split_in_three_is_optimal() -> None:
    # Contiguous splits of 4,1,1,1,1,4: the only perfect one is 4 | 1,1,1,1 | 4.
    gdf = path_segments(6)
    w = pd.Series([4, 1, 1, 1, 1, 4], index=[f"s{i}" for i in range(1, 7)], dtype=float)
    plan = districts_for_people(gdf, ["A", "B", "C"], workload=w)
    groups = sorted(_by_person(plan.assignment).values())
    assert groups == [["s1"], ["s2", "s3", "s4", "s5"], ["s6"]]
    assert plan.diagnostics.ratio == pytest.approx(1.0)


def test_path_with_ties_reaches_the_best_ratio() -> None:
    # 3,1,1,1,1,3 in three: 3 | 1,1,1,1 | 3 and 3 | 1,1,1 | 1,3 both give max/min 4/3.
    gdf = path_segments(6)
    w = pd.Series([3, 1, 1, 1, 1, 3], index=[f"s{i}" for i in range(1, 7)], dtype=float)
    plan = districts_for_people(gdf, ["A", "B", "C"], workload=w)
    assert plan.diagnostics.ratio == pytest.approx(4 / 3)
    assert plan.diagnostics.all_contiguous


@pytest.mark.parametrize("k", [2, 3, 5, 8, 12])
def test_grid_districts_are_contiguous_and_balanced(grid12, k: int) -> None:
    w = random_weights(grid12)
    plan = districts_for_people(grid12, k, workload=w)
    d = plan.diagnostics
    assert set(plan.assignment) == set(grid12["segment_id"])
    assert d.all_contiguous
    assert d.ratio <= 1.05
    assert len(d.loads) == k
    assert sum(d.loads.values()) == pytest.approx(float(w.sum()))
    assert all(v > 0 for v in d.diameter_m.values())


def test_same_seed_same_answer(grid12) -> None:
    w = random_weights(grid12, seed=3)
    a = districts_for_people(grid12, 6, workload=w, seed=7).assignment
    b = districts_for_people(grid12, 6, workload=w, seed=7).assignment
    assert a == b


def test_pins_are_honoured(grid12) -> None:
    w = random_weights(grid12)
    pins = {"H000-01": "P03", "H012-12": "P01", "V006-06": "P02", "V006-07": "P02"}
    plan = districts_for_people(grid12, 4, workload=w, pins=pins)
    for seg, person in pins.items():
        assert plan.assignment[seg] == person
    assert plan.diagnostics.all_contiguous
    assert plan.diagnostics.ratio <= 1.05


def test_pins_far_apart_are_joined(grid12) -> None:
    w = random_weights(grid12)
    pins = {"H000-01": "P01", "H000-12": "P01"}  # two ends of the southern street
    plan = districts_for_people(grid12, 3, workload=w, pins=pins)
    assert plan.assignment["H000-01"] == plan.assignment["H000-12"] == "P01"
    assert plan.diagnostics.contiguous["P01"]


def test_pins_that_break_contiguity_are_refused() -> None:
    gdf = path_segments(5)
    pins = {"s1": "A", "s5": "A", "s3": "B"}
    with pytest.raises(InfeasibleError, match=r"'s1' and 's5'.*cannot be joined.*s3"):
        districts_for_people(gdf, ["A", "B"], pins=pins)


def test_pin_to_unknown_person_or_segment() -> None:
    gdf = path_segments(4)
    with pytest.raises(ValidationError, match="pinned to 'Z', who is not among the people"):
        districts_for_people(gdf, ["A", "B"], pins={"s1": "Z"})
    with pytest.raises(ValidationError, match="pinned segment 'x9' is not in the chosen area"):
        districts_for_people(gdf, ["A", "B"], pins={"x9": "A"})


def test_k_zero_and_too_large() -> None:
    gdf = path_segments(4)
    with pytest.raises(ValidationError, match="k = 0: at least one person is needed"):
        districts_for_people(gdf, 0)
    with pytest.raises(ValidationError, match="k = 0: at least one person is needed"):
        districts_for_people(gdf, ["A", "B"], k=0)
    with pytest.raises(ValidationError, match="k = 5 is more than the 4 segments"):
        districts_for_people(gdf, 5)


def test_person_without_name() -> None:
    staff = pd.DataFrame({"person_id": ["A", "B"], "name": ["甲", ""]})
    with pytest.raises(ValidationError, match=r"row 2, field 'name': person 'B' has no name"):
        districts_for_people(path_segments(4), staff)


def test_segment_outside_every_zone() -> None:
    gdf = path_segments(4)
    gdf.loc[2, "zone_id"] = None
    with pytest.raises(ValidationError, match="segment 's3'.*outside every zone"):
        districts_for_people(gdf, 2)
    gdf.loc[2, "front_id"] = "main_streets"  # main-street fronts have no zones: accepted
    plan = districts_for_people(gdf, 2, allow_front_crossing=True)
    assert len(plan.assignment) == 4


def test_lakes_are_barriers_on_the_walking_graph() -> None:
    # Two banks 30 m apart with no bridge: close on the map, disconnected on foot.
    north = path_segments(3)
    south = path_segments(3)
    south["geometry"] = south.geometry.translate(0, -30)
    south["segment_id"] = ["t1", "t2", "t3"]
    north.attrs, south.attrs = {}, {}
    both = pd.concat([north, south], ignore_index=True).drop(columns=["u", "v"])
    from gis.geography.network import assign_node_ids

    both = assign_node_ids(both)
    with pytest.raises(InfeasibleError, match="2 front pieces not connected on the walking"):
        districts_for_people(both, 1)
    plan = districts_for_people(both, ["A", "B"])
    owners = {plan.assignment[s] for s in ("s1", "s2", "s3")}
    assert len(owners) == 1  # each bank is one district, never mixed
    assert {plan.assignment[s] for s in ("t1", "t2", "t3")} != owners


def test_fronts_respected_unless_crossing_allowed() -> None:
    gdf = zoned_grid(6, 6)
    east = gdf.geometry.centroid.x > gdf.geometry.centroid.x.quantile(0.7)
    gdf.loc[east, "front_id"] = "main_streets"
    gdf.loc[east, "zone_id"] = None
    w = random_weights(gdf)
    plan = districts_for_people(gdf, 4, workload=w)
    fronts = gdf.set_index("segment_id")["front_id"]
    for person in plan.people:
        segs = [s for s, p in plan.assignment.items() if p == person]
        assert fronts.loc[segs].nunique() == 1
    assert plan.diagnostics.all_contiguous
    crossing = districts_for_people(gdf, 4, workload=w, allow_front_crossing=True)
    assert crossing.diagnostics.all_contiguous
    assert crossing.diagnostics.ratio <= 1.05


def test_front_and_zone_selection() -> None:
    gdf = zoned_grid(4, 4)
    south = gdf["street_id"] == "H000"  # the southern street: 4 segments in a row
    gdf.loc[south, "zone_id"] = "110102012001002"
    plan = districts_for_people(gdf, 2, zones=["110102012001002"], allow_front_crossing=True)
    assert set(plan.assignment) == set(gdf.loc[south, "segment_id"])
    with pytest.raises(ValidationError, match="no segments on front 'gulou_west'"):
        districts_for_people(gdf, 2, front="gulou_west")
