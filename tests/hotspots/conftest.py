"""Fixtures for the hotspot, forecast and report tests: tiny synthetic case frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gis.geography.network import grid_segments
from tests.hotspots.synthetic import START, make_case_frame, near_repeat_history

ORIGIN = (448000.0, 4421000.0)


@pytest.fixture
def segments_4x4():
    """A 4×4 street grid of 100 m blocks (40 segments)."""
    return grid_segments(4, 4, 100.0, origin=ORIGIN)


@pytest.fixture
def clustered_cases():
    """200 cases in a tight cluster around (448500, 4421500) over 28 days: a known pattern."""
    rng = np.random.default_rng(1)
    xy = rng.normal(0, 40, size=(200, 2)) + (448500.0, 4421500.0)
    times = START + pd.to_timedelta(rng.uniform(0, 28, size=200), unit="D")
    return make_case_frame([tuple(p) for p in xy], list(times))


@pytest.fixture(scope="session")
def nr_history():
    """A year of a synthetic near-repeat (Hawkes) process on a 20×20 street grid."""
    return near_repeat_history(seed=3)
