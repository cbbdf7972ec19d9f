"""Kernel density surface: units, integral, filters, legends and empty input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gis.analytics.density import density_surface
from gis.analytics.grid import GridSpec
from gis.analytics.legend import class_breaks
from gis.analytics.selection import DAYS_PER_MONTH, CaseFilter
from gis.errors import CRSError, ValidationError
from gis.geography.crs import METRIC
from tests.hotspots.synthetic import START, make_case_frame


def test_density_integrates_to_case_count(clustered_cases):
    flt = CaseFilter(start=START, end=START + pd.Timedelta(days=28))
    s = density_surface(clustered_cases, flt, bandwidth_m=100, cell_m=10)
    months = 28 / DAYS_PER_MONTH
    assert s.months == pytest.approx(months)
    assert s.n_cases == 200
    # Σ density [cases/km²/month] · cell area [km²] · months = cases
    assert s.values.sum() * 0.0001 * months == pytest.approx(200, rel=1e-9)
    assert s.integral() == pytest.approx(200, rel=1e-9)


def test_density_units_single_case_peak():
    # one case in one month (30.4375 days): the peak of a quartic kernel of radius h is
    # 3/(π h²) per m², i.e. 3e6/(π·100²) ≈ 95.5 cases/km²/month at the case itself
    c = make_case_frame([(448505.0, 4421505.0)], [START + pd.Timedelta(hours=5)])
    flt = CaseFilter(start=START, end=START + pd.Timedelta(days=DAYS_PER_MONTH))
    s = density_surface(c, flt, bandwidth_m=100, cell_m=10)
    assert s.values.max() == pytest.approx(3e6 / (np.pi * 100**2), rel=0.03)
    assert s.integral() == pytest.approx(1.0)
    leg = s.legend()
    assert not leg.empty
    assert leg.unit == "cases/km²/month"


def test_density_is_stable_under_extent():
    # the same cases give the same value in the same cell whatever the extent asked for
    c = make_case_frame([(448505.0, 4421505.0), (448620.0, 4421530.0)], [START, START])
    flt = CaseFilter(start=START, end=START + pd.Timedelta(days=7))
    a = density_surface(c, flt, cell_m=10, bounds=(448000, 4421000, 449000, 4422000))
    b = density_surface(c, flt, cell_m=10, bounds=(448300, 4421300, 448800, 4421800))
    ia = a.grid.index_of(np.array([448555.0]), np.array([4421515.0]))[0]
    ib = b.grid.index_of(np.array([448555.0]), np.array([4421515.0]))[0]
    assert a.values.ravel()[ia] == pytest.approx(b.values.ravel()[ib])
    assert a.values.ravel()[ia] > 0


def test_filters_by_category_hour_and_day_type():
    t_weekday_night = pd.Timestamp("2025-12-03 22:00", tz="Asia/Shanghai")  # Wednesday
    t_saturday_day = pd.Timestamp("2025-12-06 10:00", tz="Asia/Shanghai")
    c = make_case_frame(
        [(448500.0, 4421500.0)] * 3,
        [t_weekday_night, t_saturday_day, t_weekday_night],
        category=["C07", "C04", "C04"],
    )
    assert density_surface(c, CaseFilter(categories=("C07",))).n_cases == 1
    assert density_surface(c, CaseFilter(hours=(22, 23))).n_cases == 2
    assert density_surface(c, CaseFilter(day_type="weekend_holiday")).n_cases == 1
    holiday = CaseFilter(day_type="weekend_holiday", holidays=frozenset({t_weekday_night.date()}))
    assert density_surface(c, holiday).n_cases == 3


def test_category_without_cases_gives_empty_legend(clustered_cases):
    s = density_surface(clustered_cases, CaseFilter(categories=("C29",)))
    assert s.is_empty and s.n_cases == 0
    assert "no cases match" in s.note
    leg = s.legend()
    assert leg.empty and leg.labels == ("no cases in the selection",)
    assert (leg.classify(s.values) == -1).all()  # nothing painted, no full-red map
    assert s.to_gdf().empty


def test_future_window_says_so(clustered_cases):
    flt = CaseFilter(start="2030-01-01", end="2030-02-01")
    s = density_surface(clustered_cases, flt, now=pd.Timestamp("2026-11-29", tz="Asia/Shanghai"))
    assert s.is_empty
    assert "after now" in s.note


def test_empty_frame_gives_valid_empty_surface():
    c = make_case_frame([], [])
    s = density_surface(c)
    assert s.is_empty and s.values.shape[0] >= 1
    assert s.legend(lang="zh").labels == ("所选范围内无案件",)


def test_bad_inputs_raise_clear_errors(clustered_cases):
    with pytest.raises(ValidationError, match="bandwidth 0 m must be positive"):
        density_surface(clustered_cases, bandwidth_m=0)
    with pytest.raises(CRSError, match="cases must be in a metric"):
        density_surface(clustered_cases.to_crs("EPSG:4326"))
    with pytest.raises(ValidationError, match="ends .* before it starts"):
        CaseFilter(start="2026-02-01", end="2026-01-01")
    with pytest.raises(ValidationError, match=r"hours \[24\] are outside"):
        CaseFilter(hours=(24,))


def test_class_breaks_quantile_and_labels():
    leg = class_breaks(np.array([0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10.0]), k=2)
    assert leg.breaks == (0.0, 5.5, 10.0)
    assert leg.labels == ("≤ 5.5 cases/km²/month", "5.5 – 10 cases/km²/month")
    assert list(leg.classify(np.array([0.0, 1.0, 5.5, 6.0, 10.0]))) == [-1, 0, 0, 1, 1]
    single = class_breaks(np.array([0.0, 4.0, 4.0]))
    assert single.breaks == (0.0, 4.0) and len(single.colors) == 1


def test_grid_is_aligned_to_cell_multiples():
    g = GridSpec.covering((448012.0, 4421033.0, 448190.0, 4421101.0), 50, crs=METRIC)
    assert (g.x0, g.y0, g.nx, g.ny) == (448000.0, 4421000.0, 4, 3)
    assert g.cell_ids()[0] == "448000_4421000"
