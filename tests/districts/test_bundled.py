"""Integration over the bundled Shichahai geography (skips until it is present)."""

from __future__ import annotations

import pytest

from gis.errors import PatrolError
from gis.geography.layers import load_bundled_geography
from gis.planning.district_outputs import district_polygons
from gis.planning.partition import districts_for_people
from gis.planning.rebalance import rebalance


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


def test_case_history_drives_workload_and_open_cases(geo) -> None:
    from gis.cases.demo_history import generate_demo_history
    from gis.cases.workflow import TERMINAL_STATES, cases_to_frame
    from gis.planning.district_outputs import person_summary

    history = generate_demo_history(geo.segments, geo.pois, days=60)
    cases = cases_to_frame(history.cases)
    plan = districts_for_people(geo.segments, 8, cases=cases, front="scenic")
    assert plan.diagnostics.all_contiguous and plan.diagnostics.ratio <= 1.05
    summary = person_summary(geo.segments, plan.assignment, plan.workload, cases=cases)
    scenic = set(plan.assignment)
    open_here = cases[~cases["state"].isin(TERMINAL_STATES) & cases["segment_id"].isin(scenic)]
    assert summary["open_cases"].sum() == len(open_here)


def test_cli_uses_the_case_store(geo, tmp_path, monkeypatch, capsys) -> None:
    from gis.cli import main

    monkeypatch.setenv("PATROL_DATABASE_URL", str(tmp_path / "cases.gpkg"))
    assert main(["demo-history", "--days", "30", "--end", "2026-06-01T00:00"]) == 0
    capsys.readouterr()
    assert main(["districts", "--people", "6", "--front", "scenic", "--cases", "-q"]) == 0
    out = capsys.readouterr().out
    assert "open_cases" in out and "contiguous 6/6" in out
