"""The workload formula: exact values for the prior and for a case history."""

from __future__ import annotations

import pandas as pd
import pytest

from gis.errors import ValidationError
from gis.planning.workload import (
    WorkloadParams,
    describe_formula,
    segment_workload,
    workload_series,
)
from tests.districts.conftest import path_segments


def test_prior_workload_exact() -> None:
    gdf = path_segments(2)
    wl = segment_workload(gdf)
    # 30 passes × 100 m ÷ 75 m/min = 40 min; prior 0.6/100 m × 1.5 (scenic) = 0.9 violations
    # × 20.25 mean handling minutes of the prior mix = 18.225 min
    assert wl.loc["s1", "patrol_min"] == pytest.approx(40.0)
    assert wl.loc["s1", "expected_violations"] == pytest.approx(0.9)
    assert wl.loc["s1", "handling_min"] == pytest.approx(18.225)
    assert wl.loc["s1", "workload"] == pytest.approx(58.225)


def test_history_workload_exact() -> None:
    gdf = path_segments(2)
    start = pd.Timestamp("2026-01-01 08:00", tz="Asia/Shanghai")
    span = pd.Timedelta(days=2 * 30.4375)  # exactly two months
    cases = pd.DataFrame(
        {
            "segment_id": ["s1", "s1", "s1", "s1", "s2"],
            "category": ["C01", "C01", "C01", "C01", "C12"],
            "reported_at": [start, start + span / 2, start + span / 3, start + span, start],
            "state": ["closed", "handled", "reported", "registered", "duplicate"],
        }
    )
    params = WorkloadParams(prior_weight_months=0.0)
    wl = segment_workload(gdf, params, cases=cases)
    assert wl.loc["s1", "expected_violations"] == pytest.approx(2.0)  # 4 cases / 2 months
    assert wl.loc["s1", "handling_min"] == pytest.approx(240.0)  # 2 × 120 min (C01)
    assert wl.loc["s2", "handling_min"] == pytest.approx(0.0)  # the duplicate is ignored
    assert wl.loc["s2", "workload"] == pytest.approx(40.0)


def test_history_shrinks_towards_prior() -> None:
    gdf = path_segments(1)
    t = pd.Timestamp("2026-01-01", tz="Asia/Shanghai")
    cases = pd.DataFrame(
        {"segment_id": ["s1"], "category": ["C03"], "reported_at": [t]}
    )  # one case, history shorter than a month counts as one month
    wl = segment_workload(gdf, WorkloadParams(prior_weight_months=3.0), cases=cases)
    assert wl.loc["s1", "expected_violations"] == pytest.approx((1 + 0.9 * 3) / 4)
    assert wl.loc["s1", "handling_min"] == pytest.approx((25.0 + 18.225 * 3) / 4)


def test_params_are_validated() -> None:
    with pytest.raises(ValidationError, match="prior_mix sums to 0.500"):
        WorkloadParams(prior_mix={"C03": 0.5})
    with pytest.raises(ValidationError, match="walk_speed_kmh must be a positive number"):
        WorkloadParams(walk_speed_kmh=0)


def test_workload_series_checks_coverage() -> None:
    gdf = path_segments(3)
    with pytest.raises(ValidationError, match="no workload for segment 's3'"):
        workload_series(gdf, {"s1": 1.0, "s2": 2.0})
    with pytest.raises(ValidationError, match="workload of segment 's2' is -1.0"):
        workload_series(gdf, {"s1": 1.0, "s2": -1.0, "s3": 1.0})


def test_formula_text_in_both_languages() -> None:
    zh = describe_formula(WorkloadParams(passes_per_month=60), "zh")
    en = describe_formula(WorkloadParams(passes_per_month=60), "en")
    assert "每月巡查 60 遍" in zh and "75 米/分钟" in zh
    assert "60 passes a month" in en and "75 m/min" in en


def test_lakeside_and_bridge_factors() -> None:
    gdf = path_segments(3)
    gdf["kind"] = ["hutong", "lakeside", "bridge"]
    wl = segment_workload(gdf)
    assert wl["expected_violations"].tolist() == pytest.approx([0.9, 0.9 * 1.3, 0.9 * 1.5])
