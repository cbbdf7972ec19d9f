"""The synthetic history: reproducible, labelled, shaped by its recorded intensity."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from gis.cases.demo_history import DEMO_LABEL, HOLIDAYS, generate_demo_history, write_demo_history
from gis.cases.workflow import STATES
from gis.geography.network import grid_segments
from gis.localtime import LOCAL_TZ as TZ

END = dt.datetime(2026, 6, 1, tzinfo=TZ)


@pytest.fixture(scope="module")
def grid():
    g = grid_segments(6, 6, 100.0, origin=(446400.0, 4420200.0))
    g.loc[g["street_id"] == "H003", "kind"] = "lakeside"  # the bar street
    g.loc[g["street_id"] == "H003", "name"] = "后海酒吧街"
    return g


@pytest.fixture(scope="module")
def history(grid):
    return generate_demo_history(grid, seed=7, end=END, days=60)


def test_reproducible_and_labelled(grid, history):
    again = generate_demo_history(grid, seed=7, end=END, days=60)
    assert [c.case_id for c in again.cases] == [c.case_id for c in history.cases]
    assert again.cases == history.cases
    other = generate_demo_history(grid, seed=8, end=END, days=60)
    assert [c.reported_at for c in other.cases] != [c.reported_at for c in history.cases]
    assert all(c.description.startswith(DEMO_LABEL) for c in history.cases)
    assert all(c.case_id.startswith("DEMO-7-") for c in history.cases)


def test_places_and_hours_follow_the_scenarios(history):
    c04 = [c for c in history.cases if c.category == "C04"]
    assert len(c04) > 100
    assert all(c.segment_id.startswith("H003") for c in c04)  # only on the bar street
    assert all(c.reported_at.hour >= 16 for c in c04)  # tables go out from 16:00
    noise_hours = [c.reported_at.hour for c in history.cases if c.category == "C07"]
    assert all(h >= 21 or h <= 2 for h in noise_hours)


def test_counts_match_the_recorded_intensity(history):
    expected_total = history.temporal["expected"].sum()
    assert abs(len(history.cases) - expected_total) < 4 * np.sqrt(expected_total)
    by_seg = history.expected_by_segment()
    assert by_seg.index[0].startswith("H003")
    assert by_seg.sum() == pytest.approx(expected_total)
    # holidays raise the expectation (May Day 2026 vs the following ordinary Wednesday)
    t = history.temporal
    day = t["hour"].dt.date
    assert dt.date(2026, 5, 2) in HOLIDAYS
    assert (
        t[day == dt.date(2026, 5, 2)]["expected"].sum()
        > 1.5 * t[day == dt.date(2026, 5, 13)]["expected"].sum()
    )


def test_workflow_is_realistic(history):
    states = {c.state for c in history.cases}
    assert states <= set(STATES)
    assert "closed" in states and "rejected" in states
    recent_open = [c for c in history.cases if c.is_open]
    assert recent_open, "cases near the end of the history stay open"
    assert all(c.updated_at <= END for c in history.cases)
    joint = [c for c in history.cases if c.joint]
    assert joint
    per_case = {}
    for e in history.audit:
        per_case.setdefault(e.case_id, []).append(e)
    for c in history.cases[:200]:
        trail = per_case.get(c.case_id, [])
        assert [e.seq for e in trail] == list(range(1, len(trail) + 1))
        assert (trail[-1].to_state if trail else "reported") == c.state


def test_write_is_idempotent(history, tmp_path):
    from gis.store.geopackage import GeoPackageStore

    store = GeoPackageStore(tmp_path / "demo.gpkg")
    n = write_demo_history(store, history)
    assert n == len(history.cases)
    assert write_demo_history(store, history) == 0
    assert '"synthetic": true' in store.get_meta("demo_history")
    some = history.cases[len(history.cases) // 2]
    assert len(store.audit_trail(some.case_id)) == some.version
    store.close()


def test_progress_reaches_the_total(grid):
    calls: list[tuple[int, int]] = []
    h = generate_demo_history(
        grid, seed=9, end=END, days=10, progress=lambda d, t: calls.append((d, t))
    )
    assert calls[-1] == (len(h.cases), len(h.cases))
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
