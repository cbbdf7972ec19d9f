"""Forecasts: the kept model beats the baselines on the synthetic truth; holiday profile."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from gis.crowd.calendar import day_type, last_holiday, next_holiday
from gis.crowd.counts import place_series
from gis.crowd.forecast import (
    LastWeekModel,
    ProfileModel,
    SeasonalNaiveModel,
    forecast_places,
    holiday_profile,
    nowcast_table,
)
from gis.errors import ValidationError
from gis.localtime import LOCAL_TZ as TZ


@pytest.fixture(scope="module")
def series(feed, places):
    return place_series(feed.counts, list(places["place_id"]), step="5min")


def test_calendar_day_types():
    assert day_type(dt.date(2026, 10, 1)) == "holiday"
    assert day_type(dt.date(2026, 9, 20)) == "workday"  # Sunday, an adjusted working day
    assert day_type(dt.date(2026, 10, 10)) == "workday"  # Saturday, adjusted working day
    assert day_type(dt.date(2026, 10, 11)) == "weekend"
    assert next_holiday(dt.date(2026, 9, 21)) == dt.date(2026, 9, 25)
    assert last_holiday(dt.date(2026, 10, 9)) == dt.date(2026, 10, 7)


def test_forecast_shape_and_horizons(series, places):
    now = pd.Timestamp("2026-10-05 13:02", tz=TZ)
    f = forecast_places(series, now)
    assert len(f) == 6 * 24
    assert f["at"].min() == pd.Timestamp("2026-10-05 13:05", tz=TZ)
    assert (f["lo"] <= f["mean"]).all() and (f["mean"] <= f["hi"]).all()
    table = nowcast_table(series, f, now, dict(zip(places.place_id, places.capacity, strict=True)))
    assert list(table.columns) == ["place_id", "now", "capacity", "f15", "f60", "f120"]
    with pytest.raises(ValidationError, match="horizon 7 min"):
        forecast_places(series, now, horizon_min=7)


def _errors(model, series, truth, origins, h):
    err = []
    for now in origins:
        f = forecast_places(series.loc[:now], now, horizon_min=h, model=model)
        f = f[f["horizon_min"] == h].set_index("place_id")["mean"]
        t = truth.loc[now + pd.Timedelta(minutes=h)]
        err.append(np.abs(f.reindex(t.index) - t).mean())
    return float(np.mean(err))


def test_profile_beats_the_baselines_on_holidays_and_workdays(series, feed):
    truth = feed.truth.resample("5min").mean()
    days = ["2026-10-03", "2026-10-06", "2026-10-08", "2026-10-09"]
    origins = [pd.Timestamp(f"{d} {h:02d}:00", tz=TZ) for d in days for h in (10, 13, 16, 19, 21)]
    kept = _errors(ProfileModel(), series, truth, origins, 60)
    assert kept < _errors(LastWeekModel(), series, truth, origins, 60)
    assert kept < _errors(SeasonalNaiveModel(), series, truth, origins, 60)


def test_next_holiday_profile_comes_from_past_holidays(series, feed):
    day, prof = holiday_profile(series["YDQ"], after=dt.date(2026, 10, 4))
    assert day == dt.date(2026, 10, 5)
    assert len(prof) == 288
    truth = feed.truth["YDQ"].resample("5min").mean()
    same = truth.loc["2026-10-05"].to_numpy()
    # within 15 % of capacity on average, and the afternoon peak is there
    assert np.nanmean(np.abs(prof["mean"].to_numpy() - same)) < 0.15 * 630
    assert 13 <= prof.set_index("at")["mean"].idxmax().hour <= 23
    assert holiday_profile(series["YDQ"], after=dt.date(2026, 12, 20))[0] is None


def test_a_place_without_counts_forecasts_zero(series):
    now = pd.Timestamp("2026-10-05 13:00", tz=TZ)
    empty = series.iloc[:0]
    f = forecast_places(empty, now)
    assert len(f) == 6 * 24 and (f["mean"] == 0).all()
