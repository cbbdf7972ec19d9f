"""Nowcast and forecast of occupancy per place (15/60/120 minutes; the next holiday's day).

Series are 5-minute occupancy per place (``counts.place_series(..., step="5min")``). The
kept model, :class:`ProfileModel`, is the median of the recent days of the same day type
(workday / weekend / holiday, with adjusted working days as workdays) at the same time of
day, anchored to the last half hour and decaying back to the profile. Baselines for the
benchmark: the same time last week, seasonal naive (the same time yesterday) and
statsmodels' Holt-Winters exponential smoothing with a daily season.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from gis.crowd.calendar import day_type, last_holiday, next_holiday
from gis.errors import ValidationError
from gis.localtime import LOCAL_TZ as TZ

STEP = pd.Timedelta(minutes=5)
SLOTS_PER_DAY = 288
HORIZONS_MIN: tuple[int, ...] = (15, 60, 120)
FORECAST_COLUMNS: tuple[str, ...] = ("place_id", "at", "horizon_min", "mean", "lo", "hi")


class Model(Protocol):
    """A forecaster: series up to ``now`` → mean, lo, hi at ``now + 5 min … + horizon``."""

    @property
    def name(self) -> str:
        """The model's short name."""
        ...

    def predict(
        self, series: pd.Series, now: pd.Timestamp, horizon_min: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Forecast of one place."""
        ...


def _targets(now: pd.Timestamp, horizon_min: int) -> pd.DatetimeIndex:
    n = horizon_min // 5
    return pd.DatetimeIndex([now + STEP * k for k in range(1, n + 1)])


def floor_now(now: dt.datetime | pd.Timestamp) -> pd.Timestamp:
    """``now`` on the 5-minute grid (Beijing time)."""
    return pd.Timestamp(now).tz_convert(TZ).floor("5min")


def _day_types(times: pd.DatetimeIndex) -> np.ndarray:
    return np.array([day_type(d) for d in times.date])


@dataclass(frozen=True)
class ProfileModel:
    """Same-day-type profile anchored to the last half hour (the kept model).

    Parameters
    ----------
    days
        How many recent days of the same type make the profile (the median of them).
    lookback_days
        How far back to look for them (holidays are rare: a year and more).
    tau_min
        How fast the anchor fades: the deviation from the profile decays as exp(-h/tau).
    z
        Width of the band in robust spreads of the sampled days (1.28 ≈ 80 % band).
    """

    days: int = 6
    lookback_days: int = 400
    tau_min: float = 90.0
    z: float = 1.28
    name: str = "profile"

    def profile(self, series: pd.Series, times: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
        """Median and robust spread (share of the median) of same-type past days at ``times``."""
        types = _day_types(times)
        values = series.to_numpy(dtype=float)
        index = series.index
        out = np.full(len(times), np.nan)
        spread = np.full(len(times), 0.1)
        if len(index) == 0:  # no counts yet: no profile
            return out, spread
        for kind in np.unique(types):
            cols = np.flatnonzero(types == kind)
            t = times[cols]
            lags = []
            for n in range(1, self.lookback_days + 1):
                day = (t[0] - pd.Timedelta(days=n)).date()
                if day < index[0].date():
                    break
                if day_type(day) == kind:
                    lags.append(n)
                    if len(lags) >= self.days:
                        break
            if not lags:
                lags = list(range(1, 8))  # no day of this type yet: the last week
            pos = np.stack([index.get_indexer(t - pd.Timedelta(days=n)) for n in lags])
            sample = np.where(pos >= 0, values[np.clip(pos, 0, None)], np.nan)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                med = np.nanmedian(sample, axis=0)
                q1, q3 = np.nanpercentile(sample, [25, 75], axis=0)
            out[cols] = med
            spread[cols] = np.clip((q3 - q1) / 1.35 / np.maximum(med, 10.0), 0.05, 1.0)
        return out, spread

    def predict(
        self, series: pd.Series, now: pd.Timestamp, horizon_min: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Forecast of one place."""
        hist = series.loc[:now]
        recent = pd.DatetimeIndex([now - STEP * k for k in (5, 4, 3, 2, 1, 0)])
        targets = _targets(now, horizon_min)
        prof, spread = self.profile(hist, recent.append(targets))
        prof_recent, prof_t, spread_t = prof[:6], prof[6:], spread[6:]
        obs = hist.reindex(recent).to_numpy(dtype=float)
        ok = ~np.isnan(obs) & ~np.isnan(prof_recent)
        h = np.arange(1, len(targets) + 1) * 5.0
        if ok.any():
            ratio = (obs[ok].mean() + 10.0) / (prof_recent[ok].mean() + 10.0)
            level = obs[ok][-1]
        else:
            ratio, level = 1.0, np.nan
        if np.isnan(prof_t).all():
            mean = np.full(len(targets), level)
        else:
            mean = np.where(np.isnan(prof_t), level, prof_t) * (
                1.0 + (ratio - 1.0) * np.exp(-h / self.tau_min)
            )
        mean = np.maximum(np.nan_to_num(mean, nan=0.0), 0.0)
        width = self.z * spread_t * np.sqrt(0.3 + h / 120.0)
        return mean, np.maximum(mean * (1 - width), 0.0), mean * (1 + width)


@dataclass(frozen=True)
class SeasonalNaiveModel:
    """Baseline: seasonal naive with a daily season (the same time ``lag_days`` before)."""

    name: str = "seasonal_naive"
    lag_days: int = 1

    def predict(
        self, series: pd.Series, now: pd.Timestamp, horizon_min: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Forecast of one place."""
        t = _targets(now, horizon_min) - pd.Timedelta(days=self.lag_days)
        m = np.nan_to_num(series.reindex(t).to_numpy(dtype=float))
        return m, m, m


@dataclass(frozen=True)
class LastWeekModel(SeasonalNaiveModel):
    """Baseline: the same time a week before."""

    name: str = "last_week"
    lag_days: int = 7


@dataclass(frozen=True)
class HoltWintersModel:
    """statsmodels' additive Holt-Winters with a daily season, fitted on the last days."""

    fit_days: int = 7
    name: str = "holt_winters"

    def predict(
        self, series: pd.Series, now: pd.Timestamp, horizon_min: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Forecast of one place (fits at every call: slow, measured in the benchmark)."""
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        y = series.loc[now - pd.Timedelta(days=self.fit_days) + STEP : now]
        y = y.interpolate(limit_direction="both").fillna(0.0).to_numpy(dtype=float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = ExponentialSmoothing(
                y, trend=None, seasonal="add", seasonal_periods=SLOTS_PER_DAY
            ).fit()
        m = np.maximum(fit.forecast(horizon_min // 5), 0.0)
        return m, m, m


MODELS: Mapping[str, type] = {
    "profile": ProfileModel,
    "last_week": LastWeekModel,
    "seasonal_naive": SeasonalNaiveModel,
    "holt_winters": HoltWintersModel,
}


def forecast_places(
    series: pd.DataFrame,
    now: dt.datetime | pd.Timestamp,
    *,
    horizon_min: int = 120,
    model: Model | None = None,
) -> pd.DataFrame:
    """Forecasts of every place (columns of ``series``) for the next ``horizon_min`` minutes.

    Returns ``FORECAST_COLUMNS``: one row per place and 5-minute step after ``now``.
    """
    if horizon_min % 5 or not 5 <= horizon_min <= 24 * 60:
        raise ValidationError(
            f"horizon {horizon_min} min", field="horizon", fix="a multiple of 5 up to 1440"
        )
    m: Model = model if model is not None else ProfileModel()
    t0 = floor_now(now)
    targets = _targets(t0, horizon_min)
    h = np.arange(1, len(targets) + 1) * 5
    parts = []
    for pid in series.columns:
        mean, lo, hi = m.predict(series[pid], t0, horizon_min)
        parts.append(
            pd.DataFrame(
                {"place_id": pid, "at": targets, "horizon_min": h, "mean": mean, "lo": lo, "hi": hi}
            )
        )
    if not parts:
        return pd.DataFrame(columns=list(FORECAST_COLUMNS))
    return pd.concat(parts, ignore_index=True)


def nowcast_table(
    series: pd.DataFrame,
    forecast: pd.DataFrame,
    now: dt.datetime | pd.Timestamp,
    capacities: Mapping[str, float],
    horizons: Sequence[int] = HORIZONS_MIN,
) -> pd.DataFrame:
    """Per place: occupancy now and forecast at each horizon (people and share of capacity)."""
    t0 = floor_now(now)
    rows = []
    for pid in series.columns:
        s = series[pid].loc[:t0].dropna()
        row: dict[str, object] = {
            "place_id": pid,
            "now": float(s.iloc[-1]) if len(s) else np.nan,
            "capacity": float(capacities[pid]),
        }
        f = forecast[forecast["place_id"] == pid].set_index("horizon_min")["mean"]
        for hz in horizons:
            row[f"f{hz}"] = float(f.get(hz, np.nan))
        rows.append(row)
    return pd.DataFrame(rows)


def holiday_profile(
    series: pd.Series,
    day: dt.date | None = None,
    *,
    after: dt.date | None = None,
    days: int = 6,
) -> tuple[dt.date | None, pd.DataFrame]:
    """The expected day profile (5-minute mean/lo/hi) of a holiday.

    ``day`` defaults to the next holiday after ``after`` (today). The profile is the median of
    the most recent past holiday days in the series, with their quartiles as the band. Returns
    the day (None when the calendar knows no next holiday) and the profile.
    """
    if day is None:
        after = after or dt.datetime.now(TZ).date()
        day = next_holiday(after)
        if day is None:
            return None, pd.DataFrame(columns=["at", "mean", "lo", "hi"])
    start = pd.Timestamp(day, tz=TZ)
    times = pd.date_range(start, periods=SLOTS_PER_DAY, freq="5min")
    past: list[dt.date] = []
    d: dt.date | None = day
    while d is not None and len(past) < days:
        d = last_holiday(d)
        if d is None or pd.Timestamp(d, tz=TZ) < series.index[0].floor("D"):
            break
        past.append(d)
    if not past:  # no holiday in the history: the weekends of the last month
        past = [
            x.date()
            for x in pd.date_range(start - pd.Timedelta(days=35), start, freq="D", inclusive="left")
            if day_type(x.date()) == "weekend"
        ]
    values = series.to_numpy(dtype=float)
    pos = np.stack(
        [series.index.get_indexer(times - (start - pd.Timestamp(p, tz=TZ))) for p in past]
    )
    sample = np.where(pos >= 0, values[np.clip(pos, 0, None)], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmedian(sample, axis=0)
        lo, hi = np.nanpercentile(sample, [25, 75], axis=0)
    return day, pd.DataFrame({"at": times, "mean": mean, "lo": lo, "hi": hi})
