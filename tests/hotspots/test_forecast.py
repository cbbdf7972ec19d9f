"""Forecasts, hit rate/PAI arithmetic, the rolling backtest and patrol weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gis.analytics.forecast import (
    HINDSIGHT,
    backtest,
    cell_units,
    forecast,
    score_selection,
    segment_risk_weights,
    segment_units,
    select_top,
)
from gis.errors import ValidationError
from gis.geography.crs import METRIC
from tests.hotspots.synthetic import START, make_case_frame


def test_pai_and_hit_rate_on_equal_cells():
    scores = np.array([5, 4, 3, 2, 1, 0, 0, 0, 0, 0.0])
    actual = np.array([1, 0, 2, 0, 0, 3, 0, 0, 0, 4.0])
    area = np.full(10, 100.0 * 100.0)
    s = score_selection(scores, actual, area, 0.10)
    assert (s.hits, s.cases, s.area_share, s.hit_rate, s.pai) == (1, 10, 0.1, 0.1, 1.0)
    s = score_selection(scores, actual, area, 0.30)
    assert (s.hits, s.hit_rate) == (3, 0.3) and s.pai == pytest.approx(1.0)
    s = score_selection(actual, actual, area, 0.10)  # hindsight: the cell with 4
    assert (s.hits, s.pai) == (4, 4.0)
    s = score_selection(scores, actual, area, 0.01)  # less than one cell: one cell anyway
    assert s.area_share == 0.1 and s.hits == 1


def test_pai_on_street_length_ranks_by_risk_per_metre():
    scores = np.array([2.0, 2.0, 1.0])
    length = np.array([200.0, 100.0, 100.0])
    actual = np.array([1.0, 3.0, 0.0])
    assert list(select_top(scores, length, 0.25)) == [1]
    s = score_selection(scores, actual, length, 0.25)
    assert (s.hits, s.area_share, s.pai) == (3, 0.25, 3.0)
    assert list(select_top(scores, length, 0.8)) == [1, 0]  # tie on 0.01/m: larger score first
    s = score_selection(scores, actual, length, 0.8)
    assert s.hits == 4 and s.area_share == 0.75 and s.pai == pytest.approx(1 / 0.75)
    with pytest.raises(ValidationError, match="coverage 0 must be in"):
        select_top(scores, length, 0)


def test_backtest_exact_on_toy_history():
    # four 100 m cells; week 0: 3 cases in the SW cell, 1 in the SE cell;
    # week 1: one case in the SW cell, one in the NE cell
    sw, se, ne = (448050.0, 4421050.0), (448150.0, 4421050.0), (448150.0, 4421150.0)
    w0, w1 = START + pd.Timedelta(days=2), START + pd.Timedelta(days=9)
    cases = make_case_frame([sw, sw, sw, se, sw, ne], [w0, w0, w0, w0, w1, w1])
    units = cell_units((448000.0, 4421000.0, 448200.0, 4421200.0), 100.0, crs=METRIC)
    bt = backtest(
        cases,
        units,
        warmup_weeks=1,
        end=START + pd.Timedelta(days=14),
        methods=("last4",),
        coverages=(0.25, 0.5),
    )
    w = bt.weekly.set_index(["method", "coverage"])
    assert len(bt.weekly) == 4  # one scored week × (last4, hindsight) × 2 coverages
    assert w.loc[("last4", 0.25), "hit_rate"] == 0.5
    assert w.loc[("last4", 0.25), "pai"] == 2.0
    assert w.loc[("last4", 0.5), "hit_rate"] == 0.5  # SW and SE chosen; NE missed
    assert w.loc[(HINDSIGHT, 0.5), "hit_rate"] == 1.0
    assert bt.pai(HINDSIGHT, 0.5) == 2.0


def test_near_repeat_beats_last_four_weeks(nr_history):
    h = nr_history
    for units in (
        segment_units(h.segments),
        cell_units(tuple(h.segments.total_bounds), 100.0, crs=METRIC),
    ):
        bt = backtest(h.cases, units)
        assert bt.pai("near_repeat", 0.05) > bt.pai("last4", 0.05)
        assert bt.pai(HINDSIGHT, 0.05) >= bt.pai("near_repeat", 0.05)
        assert (bt.summary["weeks"] >= 45).all()


def test_forecast_columns_and_future_cases_ignored(nr_history):
    h = nr_history
    units = segment_units(h.segments)
    at = START + pd.Timedelta(days=100)
    f = forecast(h.cases, units, at=at, method="last4")
    past = h.cases[
        (h.cases["reported_at"] < at) & (h.cases["reported_at"] >= at - pd.Timedelta(days=28))
    ]
    assert f["risk"].sum() == len(past)
    assert {"unit_id", "risk", "risk_per_km", "geometry"} <= set(f.columns)
    with pytest.raises(ValidationError, match="unknown method 'magic'"):
        forecast(h.cases, units, at=at, method="magic")


def test_segment_risk_weights(nr_history, segments_4x4):
    h = nr_history
    w = segment_risk_weights(h.cases, h.segments, at=START + pd.Timedelta(days=200))
    assert set(w) == set(h.segments["segment_id"])
    assert max(w.values()) == 1.0 and min(w.values()) >= 0.0
    top = segment_risk_weights(
        h.cases, h.segments, at=START + pd.Timedelta(days=200), keep_top=0.05
    )
    kept = [s for s, v in top.items() if v > 0]
    length = h.segments.set_index("segment_id")["length_m"]
    assert 0 < length[kept].sum() <= 0.05 * length.sum() + 1e-6
    assert all(top[s] == w[s] for s in kept)  # same scale: the riskiest keeps 1.0
    empty = make_case_frame([], [])
    w = segment_risk_weights(empty, segments_4x4, at=START)
    assert len(w) == 40 and set(w.values()) == {0.0}
    assert segment_risk_weights(empty, segments_4x4.iloc[0:0], at=START) == {}


def test_backtest_with_no_cases_is_empty_with_note(segments_4x4):
    bt = backtest(make_case_frame([], []), segment_units(segments_4x4))
    assert bt.weekly.empty and bt.note == "no cases to backtest"
    assert np.isnan(bt.pai("near_repeat", 0.05))
    one = make_case_frame([(448050.0, 4421000.0)], [START])
    bt = backtest(one, segment_units(segments_4x4))
    assert bt.weekly.empty and bt.note == "no complete week with cases after the warm-up"
    two = make_case_frame([(448050.0, 4421000.0), (470000.0, 4421000.0)], [START, START])
    bt = backtest(two, segment_units(segments_4x4))
    assert bt.note.endswith(
        "; 1 of 2 cases are more than 200 m from every street and were not scored"
    )


def test_near_repeat_weight_follows_the_process():
    from gis.analytics.forecast import near_repeat_weight, near_repeat_weights
    from tests.hotspots.synthetic import near_repeat_history

    days = (100, 150, 200, 250, 300)
    weights = {}
    for alpha, background in ((0.0, 3.0), (0.7, 10.0)):
        h = near_repeat_history(seed=3, alpha=alpha, background_per_day=background)
        units = segment_units(h.segments)
        at = [START + pd.Timedelta(days=d) for d in days]
        weights[alpha] = near_repeat_weights(h.cases, units, at=at)
        assert near_repeat_weight(h.cases, units, at=at[-1]) == weights[alpha][-1]
    assert np.mean(weights[0.0]) <= 0.5  # no repeats: mostly the long-run baseline
    assert np.mean(weights[0.7]) >= 1.0  # repeats: the boost is trusted
