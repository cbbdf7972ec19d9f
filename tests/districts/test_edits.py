"""Manual moves: exactly what breaks, and the smallest repair."""

from __future__ import annotations

import pandas as pd
import pytest

from gis.errors import InfeasibleError, ValidationError
from gis.planning.edits import Break, move_segments, smallest_repair
from gis.planning.partition import districts_for_people
from tests.districts.conftest import path_segments

A = {"s1": "A", "s2": "A", "s3": "A", "s4": "B", "s5": "B", "s6": "B"}


@pytest.fixture
def path6():
    gdf = path_segments(6)
    w = pd.Series(1.0, index=gdf["segment_id"].to_numpy())
    return gdf, w


def test_move_reports_exact_pieces(path6) -> None:
    gdf, w = path6
    check = move_segments(A, ["s2"], "B", gdf, workload=w)
    assert not check.ok
    assert check.breaks == (
        Break("A", (("s1",), ("s3",))),
        Break("B", (("s4", "s5", "s6"), ("s2",))),
    )
    assert check.ratio_before == pytest.approx(1.0)
    assert check.ratio_after == pytest.approx(2.0)  # B 4, A 2
    assert check.assignment["s2"] == "B" and A["s2"] == "A"  # input untouched
    assert "A's district falls into 2 pieces" in check.messages()[0]


def test_harmless_move(path6) -> None:
    gdf, w = path6
    check = move_segments(A, ["s4"], "A", gdf, workload=w)
    assert check.ok and check.breaks == ()
    assert check.loads_after == {"A": 4.0, "B": 2.0}


def test_smallest_repair_keeps_the_users_move(path6) -> None:
    gdf, w = path6
    check = move_segments(A, ["s2"], "B", gdf, workload=w)
    repair = smallest_repair(check, gdf, workload=w)
    assert repair.moves == (("s3", "A", "B"),)
    assert repair.assignment["s2"] == "B"
    assert move_segments(repair.assignment, [], "A", gdf, workload=w).ok


def test_repair_joins_an_island_by_a_path(path6) -> None:
    gdf, w = path6
    # s5 given to A: A's island {s5} cannot be handed back (the user's move), so the repair
    # joins it through s4, which also leaves B in one piece.
    check = move_segments(A, ["s5"], "A", gdf, workload=w)
    assert check.breaks == (
        Break("A", (("s1", "s2", "s3"), ("s5",))),
        Break("B", (("s4",), ("s6",))),
    )
    repair = smallest_repair(check, gdf, workload=w)
    assert repair.moves == (("s4", "B", "A"),)
    assert repair.size == 1


def test_repair_that_would_empty_a_district_is_refused(path6) -> None:
    gdf, w = path6
    check = move_segments(A, ["s6"], "A", gdf, workload=w)  # joining it would take all of B
    with pytest.raises(InfeasibleError, match=r"A's stray piece \(s6\) can neither be handed"):
        smallest_repair(check, gdf, workload=w)


def test_pins_and_fronts_are_reported(path6) -> None:
    gdf, w = path6
    gdf = gdf.copy()
    gdf.loc[gdf["segment_id"] == "s3", "front_id"] = "gulou_west"
    check = move_segments(A, ["s3"], "B", gdf, workload=w, pins={"s3": "A"})
    assert check.pins_overridden == ("s3",)
    assert check.front_conflicts == ("s3",)
    assert not check.ok


def test_unknown_person_or_segment(path6) -> None:
    gdf, w = path6
    with pytest.raises(ValidationError, match="'Z' holds no district here"):
        move_segments(A, ["s1"], "Z", gdf, workload=w)
    with pytest.raises(ValidationError, match="segment 'q1' is not in the assignment"):
        move_segments(A, ["q1"], "B", gdf, workload=w)


def test_move_on_a_plan(grid12) -> None:
    plan = districts_for_people(grid12, 4)
    seg = next(s for s, p in plan.assignment.items() if p == "P01")
    check = move_segments(plan, [seg], "P02", grid12)
    repair = smallest_repair(check, grid12)
    assert repair.assignment[seg] == "P02"
    assert move_segments(repair.assignment, [], "P01", grid12).breaks == ()
