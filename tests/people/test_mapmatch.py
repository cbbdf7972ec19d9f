"""The HMM map matcher: exact on clean walks, not fooled by side streets, scored on the bundled graph."""

from __future__ import annotations

import numpy as np
import pytest

from gis.errors import CRSError
from gis.geography.network import grid_segments
from gis.people.mapmatch import MapMatcher, segment_f1
from gis.people.simulate import walk

ORIGIN = (446500.0, 4420300.0)


@pytest.fixture(scope="module")
def grid():
    return grid_segments(3, 3, 100.0, origin=ORIGIN)


def _line(points, step=10.0):
    xs, ys = [], []
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        n = int(np.hypot(x1 - x0, y1 - y0) / step)
        for k in range(n):
            xs.append(x0 + (x1 - x0) * k / n)
            ys.append(y0 + (y1 - y0) * k / n)
    xs.append(points[-1][0])
    ys.append(points[-1][1])
    return np.array(xs) + ORIGIN[0], np.array(ys) + ORIGIN[1]


def test_clean_walk_gives_the_exact_path_and_ignores_a_brushed_side_street(grid):
    x, y = _line([(0, 0), (300, 0), (300, 300)])
    # a fix 8 m up the side street at the (100, 0) junction (on it, but within the junction)
    k = int(np.argmin(np.hypot(x - ORIGIN[0] - 100, y - ORIGIN[1])))
    y[k] += 8.0
    result = MapMatcher(grid, sigma_m=5.0, thin_sigmas=2.0).match(x, y)
    assert result.path == ("H000-01", "H000-02", "H000-03", "V003-01", "V003-02", "V003-03")
    assert result.breaks == 0 and result.matched_share == 1.0


def test_a_fix_far_from_every_street_is_unmatched_and_breaks_the_path(grid):
    x, y = _line([(0, 0), (300, 0)])
    x = np.insert(x, 15, ORIGIN[0] + 150)
    y = np.insert(y, 15, ORIGIN[1] - 400)
    result = MapMatcher(grid, sigma_m=5.0, thin_sigmas=2.0).match(x, y)
    assert result.segment[15] is None
    assert result.breaks == 1
    assert set(result.path) == {"H000-01", "H000-02", "H000-03"}


def test_refuses_unprojected_segments(grid):
    with pytest.raises(CRSError, match="segments must be in EPSG:32650"):
        MapMatcher(grid.to_crs("EPSG:4326"))


def test_noisy_walks_on_the_bundled_graph_score_well():
    from gis.geography.layers import load_bundled_geography

    segs = load_bundled_geography().segments
    matcher = MapMatcher(segs)
    rng = np.random.default_rng(7)
    scores = []
    for _ in range(6):
        w = walk(segs, length_m=2000, interval_s=5, sigma_m=15, rng=rng)
        scores.append(segment_f1(matcher.match(w.x, w.y).path, w.segments)[2])
    # the benchmark target is 0.95 on average over many walks (bench/README.md)
    assert np.mean(scores) >= 0.9


def test_segment_f1():
    assert segment_f1(["a", "b"], ["a", "b", "c", "d"]) == pytest.approx((1.0, 0.5, 2 / 3))
    assert segment_f1([], ["a"]) == (0.0, 0.0, 0.0)
