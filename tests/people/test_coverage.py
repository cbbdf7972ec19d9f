"""Coverage of a shift: planned metres walked, time on post, gaps longer than 15 minutes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from pyproj import Transformer

from gis.geography.network import grid_segments
from gis.localtime import LOCAL_TZ as TZ
from gis.people.coverage import not_walked, shift_coverage
from gis.people.mapmatch import MapMatcher
from gis.people.roster import ShiftHours
from gis.people.tracks import Track

ORIGIN = (446500.0, 4420300.0)
DAY = dt.date(2026, 5, 6)
_TO_WGS = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)


def track_along(points, start, step_s=5.0, speed=1.25):
    xs, ys = [], []
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        n = int(np.hypot(x1 - x0, y1 - y0) / (speed * step_s))
        xs += [x0 + (x1 - x0) * k / n for k in range(n)]
        ys += [y0 + (y1 - y0) * k / n for k in range(n)]
    lon, lat = _TO_WGS.transform(np.array(xs) + ORIGIN[0], np.array(ys) + ORIGIN[1])
    times = tuple(start + dt.timedelta(seconds=step_s * i) for i in range(len(xs)))
    return Track("t1", "P1", DAY, times, tuple(lon), tuple(lat))


def test_covered_on_post_and_gaps():
    grid = grid_segments(3, 3, 100.0, origin=ORIGIN)
    lengths = dict(zip(grid["segment_id"], grid["length_m"], strict=True))
    start = dt.datetime(2026, 5, 6, 12, 30, tzinfo=TZ)
    # 0 → (300,0) → (300,300): 600 m in 8 minutes
    track = track_along([(0, 0), (300, 0), (300, 300)], start)
    planned = ["H000-01", "H000-02", "H000-03", "V003-01", "H001-01"]
    cov = shift_coverage(
        [track],
        MapMatcher(grid, sigma_m=5.0, thin_sigmas=2.0),
        person_id="P1",
        day=DAY,
        shift="midday",
        hours=ShiftHours(),
        planned=planned,
        post=["V003-02", "V003-03"],
        segment_length=lengths,
    )
    assert cov.planned_m == pytest.approx(500.0)
    assert cov.covered_m == pytest.approx(400.0)  # H001-01 was not walked
    assert cov.covered_share == pytest.approx(0.8)
    end = track.times[-1]
    assert cov.on_post_min == pytest.approx((end - start).total_seconds() / 60)
    assert cov.gaps == (
        (dt.datetime(2026, 5, 6, 12, 0, tzinfo=TZ), start),
        (end, dt.datetime(2026, 5, 6, 17, 0, tzinfo=TZ)),
    )
    assert cov.shift_min == 300.0
    # someone else's shift has no fixes: all gap, nothing covered
    other = shift_coverage(
        [track],
        MapMatcher(grid),
        person_id="P2",
        day=DAY,
        shift="midday",
        hours=ShiftHours(),
        planned=planned,
        post=[],
        segment_length=lengths,
    )
    assert other.covered_m == 0 and other.fixes == 0 and len(other.gaps) == 1
    assert not_walked(["H000-01", "V000-01", "V000-02"], cov.walked) == ["V000-01", "V000-02"]
