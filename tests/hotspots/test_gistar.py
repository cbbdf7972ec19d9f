"""Getis-Ord Gi*: planted clusters are found, FDR tames noise, empty input stays valid."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from gis.analytics.gistar import (
    benjamini_hochberg,
    gi_classes,
    gi_legend,
    gistar_cells,
    gistar_segments,
    segment_neighbours,
)
from gis.analytics.selection import CaseFilter
from gis.errors import ValidationError
from gis.geography.network import grid_segments
from tests.hotspots.synthetic import START, make_case_frame

BOUNDS = (448000.0, 4421000.0, 450000.0, 4423000.0)  # 2 km × 2 km: 400 cells of 100 m


def _uniform(n, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 2000, size=(n, 2)) + (448000.0, 4421000.0)


def test_gistar_finds_planted_cluster():
    rng = np.random.default_rng(5)
    cluster = rng.uniform(0, 300, size=(120, 2)) + (448900.0, 4421900.0)  # 3×3 cells
    xy = np.vstack([_uniform(800, 5), cluster])
    cases = make_case_frame([tuple(p) for p in xy], [START] * len(xy))
    r = gistar_cells(cases, cell_m=100, bounds=BOUNDS, permutations=999, seed=0)
    g = r.gdf.set_index("cell_id")
    core = [f"{x}_{y}" for x in (448900, 449000, 449100) for y in (4421900, 4422000, 4422100)]
    assert all(g.loc[c, "gi_class"].startswith("hot") for c in core)
    assert g.loc["449000_4422000", "gi_class"] in ("hot95", "hot99")
    hot = g[g["gi_class"].str.startswith("hot")]
    # every hot cell touches the planted block (its 5×5 neighbourhood)
    xs = hot.index.str.split("_").str[0].astype(int)
    ys = hot.index.str.split("_").str[1].astype(int)
    assert xs.min() >= 448800 and xs.max() <= 449200
    assert ys.min() >= 4421800 and ys.max() <= 4422200
    assert r.counts["hot95"] + r.counts["hot99"] + r.counts["hot90"] == len(hot)
    assert sum(r.counts.values()) == 400


def test_fdr_reduces_false_positives_on_noise():
    for seed in (0, 1, 2):
        cases = make_case_frame([tuple(p) for p in _uniform(1200, seed)], [START] * 1200)
        raw = gistar_cells(cases, cell_m=100, bounds=BOUNDS, fdr=False, seed=seed)
        fdr = gistar_cells(cases, cell_m=100, bounds=BOUNDS, fdr=True, seed=seed)
        assert raw.n_significant > 20  # about 20 % at the 0.10 level, folded p-values
        assert fdr.n_significant == 0


def test_gistar_on_segments_network_adjacency():
    segs = grid_segments(10, 10, 100.0, origin=(448000.0, 4421000.0))
    rng = np.random.default_rng(2)
    background = rng.uniform(0, 1000, size=(300, 2)) + (448000.0, 4421000.0)
    # a "bar street": 150 cases along y = 4421500 between x = 448200 and 448800
    planted = np.column_stack([rng.uniform(448200, 448800, 150), np.full(150, 4421500.0)])
    xy = np.vstack([background, planted])
    cases = make_case_frame([tuple(p) for p in xy], [START] * len(xy))
    r = gistar_segments(cases, segs, neighbours="network", seed=1)
    g = r.gdf.set_index("segment_id")
    assert g["count"].sum() == len(xy)
    hot = g[g["gi_class"].str.startswith("hot")]
    assert "H005-05" in hot.index and len(hot) >= 2
    mids = shapely.line_interpolate_point(
        segs.set_index("segment_id").loc[hot.index].geometry.values, 0.5, normalized=True
    )
    assert shapely.distance(mids, shapely.Point(448500, 4421500)).max() <= 350
    # without the FDR correction more segments pass, including some far from the street
    raw = gistar_segments(cases, segs, neighbours="network", seed=1, fdr=False)
    assert raw.n_significant > r.n_significant


def test_segment_neighbours_by_junction_and_distance():
    segs = grid_segments(1, 1, 100.0)  # a single square: 4 segments
    nb = segment_neighbours(segs, how="network")
    assert [len(x) for x in nb] == [2, 2, 2, 2]
    nb = segment_neighbours(segs, how="distance", distance_m=80)
    assert [len(x) for x in nb] == [2, 2, 2, 2]  # adjacent midpoints are 70.7 m apart
    with pytest.raises(ValidationError, match="unknown neighbour rule"):
        segment_neighbours(segs, how="rook")


def test_benjamini_hochberg_known_values():
    q = benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.20, np.nan]))
    np.testing.assert_allclose(q[:4], [0.04, 0.16 / 3, 0.16 / 3, 0.20])
    assert np.isnan(q[4])


def test_gi_classes_thresholds():
    z = np.array([3.0, 2.0, 1.5, 1.0, -1.5, -2.0, -3.0, np.nan])
    p = np.array([0.005, 0.03, 0.08, 0.5, 0.08, 0.03, 0.005, np.nan])
    assert list(gi_classes(z, p)) == [
        "hot99",
        "hot95",
        "hot90",
        "ns",
        "cold90",
        "cold95",
        "cold99",
        "ns",
    ]


def test_gistar_with_no_cases_is_all_ns_with_message():
    cases = make_case_frame([tuple(p) for p in _uniform(50, 0)], [START] * 50)
    r = gistar_cells(cases, CaseFilter(categories=("C29",)), bounds=BOUNDS)
    assert r.n_significant == 0 and r.counts["ns"] == 400
    assert "no cases match" in r.note
    leg = gi_legend(r)
    assert leg.empty and "no cases match" in leg.labels[0]
    # and with no extent at all: an empty, valid result
    r = gistar_cells(cases, CaseFilter(categories=("C29",)))
    assert r.gdf.empty and "no extent" in r.note


def test_single_case_and_zone_without_streets():
    one = make_case_frame([(448550.0, 4421550.0)], [START])
    r = gistar_cells(one, bounds=BOUNDS, permutations=99)
    assert r.counts["hot99"] + r.counts["hot95"] == 0  # one case is not a hot spot after FDR
    far = make_case_frame([(448050.0, 4421000.0), (470000.0, 4421000.0)], [START, START])
    r = gistar_segments(far, grid_segments(2, 2, 100.0), permutations=99)
    assert r.gdf["count"].sum() == 1
    assert r.note.startswith("1 of 2 cases are more than 200 m from every street")
    segs = grid_segments(2, 2, 100.0).iloc[0:0]
    r = gistar_segments(one, segs)
    assert r.gdf.empty and "no streets" in r.note
    assert gi_legend(r, lang="zh").empty


def test_randomization_options_and_analytic_p():
    rng = np.random.default_rng(5)
    cluster = rng.uniform(0, 300, size=(120, 2)) + (448900.0, 4421900.0)
    xy = np.vstack([_uniform(800, 5), cluster])
    cases = make_case_frame([tuple(p) for p in xy], [START] * len(xy))
    centre = "449000_4422000"
    for how in ("total", "conditional"):
        r = gistar_cells(cases, cell_m=100, bounds=BOUNDS, randomization=how, seed=0)
        g = r.gdf.set_index("cell_id")
        assert g.loc[centre, "gi_class"].startswith("hot"), how
        assert g.loc[centre, "p_value"] == pytest.approx(1 / 1000)
    a = gistar_cells(cases, cell_m=100, bounds=BOUNDS, permutations=0).gdf.set_index("cell_id")
    assert a.loc[centre, "p_value"] < 1e-6 and a.loc[centre, "gi_class"] == "hot99"
    with pytest.raises(ValidationError, match="unknown randomization 'both'"):
        gistar_cells(cases, cell_m=100, bounds=BOUNDS, randomization="both")
    with pytest.raises(ValidationError, match="-1 permutations"):
        gistar_cells(cases, cell_m=100, bounds=BOUNDS, permutations=-1)
