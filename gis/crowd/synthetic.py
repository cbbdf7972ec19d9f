"""A labelled synthetic counts generator for the demo, tests and benchmarks.

Counts are drawn around a known intensity (the expected number of people present), which is
returned with them, so forecasts and alerts can be scored against the truth. The intensity
has a daytime tourist wave, an evening wave at the bars, a weekly cycle and the Chinese
public holidays with their adjusted working days (from the calendar package). No weather.
Every count the generator writes is labelled ``synthetic``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.signal import lfilter

from gis.crowd.calendar import day_type
from gis.localtime import LOCAL_TZ as TZ

#: Day-type level of the daytime wave, as a share of the holiday level.
DAY_FACTORS: Mapping[str, float] = {"holiday": 1.0, "weekend": 0.72, "workday": 0.42}


@dataclass(frozen=True)
class PlaceRhythm:
    """How busy a place gets: holiday peak as a share of capacity and its evening share."""

    holiday_peak: float
    evening: float
    day_peak_hour: float = 15.0
    closes_hour: float | None = None


#: Demonstration rhythms of the bundled places (the bridge and the bar street peak at night).
DEFAULT_RHYTHMS: Mapping[str, PlaceRhythm] = {
    "YDQ": PlaceRhythm(1.28, 0.85, 15.5),
    "YDXJ": PlaceRhythm(1.12, 0.35, 15.0),
    "HHSC": PlaceRhythm(0.98, 0.45, 16.0),
    "QHBY": PlaceRhythm(0.9, 1.05, 16.0),
    "GWF": PlaceRhythm(1.05, 0.0, 11.5, closes_hour=17.5),
    "BHBM": PlaceRhythm(0.92, 0.0, 14.0, closes_hour=21.0),
}


@dataclass(frozen=True)
class SyntheticCounts:
    """Counts per counter (``counts``) and the true intensity per place (``truth``)."""

    counts: pd.DataFrame
    truth: pd.DataFrame
    rhythms: Mapping[str, PlaceRhythm] = field(default_factory=dict)
    seed: int = 0
    label: str = "synthetic"


def _bump(hours: np.ndarray, centre: float, width: float) -> np.ndarray:
    return np.exp(-0.5 * ((hours - centre) / width) ** 2)


def intensity_shape(hours: np.ndarray, rhythm: PlaceRhythm, factor: np.ndarray) -> np.ndarray:
    """Expected occupancy share of capacity at each hour of day for day factors ``factor``."""
    day = _bump(hours, rhythm.day_peak_hour, 2.6) * factor
    if rhythm.closes_hour is not None:
        day = day * np.clip((rhythm.closes_hour - hours) / 0.75, 0.0, 1.0)
    # bars: busy from 19:00 to past midnight; holiday evenings busier too, less than days
    ev = rhythm.evening * (_bump(hours, 21.5, 1.6) + _bump(hours + 24, 21.5, 1.6))
    ev = ev * (0.55 + 0.45 * factor)
    base = 0.03
    return rhythm.holiday_peak * (np.maximum(day, ev * 0.9) + 0.25 * np.minimum(day, ev)) + base


def generate_counts(
    gdf_places: gpd.GeoDataFrame,
    start: dt.datetime,
    end: dt.datetime,
    *,
    step_minutes: int = 1,
    seed: int = 0,
    rhythms: Mapping[str, PlaceRhythm] | None = None,
    noise: float = 0.12,
    surge: Mapping[str, tuple[dt.datetime, dt.datetime, float]] | None = None,
) -> SyntheticCounts:
    """Counts of every counter of every place from ``start`` to ``end`` (exclusive).

    The place intensity is split over its counters in fixed shares. Observed counts are the
    intensity times a slowly varying random factor (log AR(1), lag-one correlation 0.99 per
    minute, spread ``noise``) plus Poisson noise. ``surge`` multiplies a place's intensity by a
    factor over a time window (a scripted crowd for the replay).
    """
    rng = np.random.default_rng(seed)
    rhythms = dict(rhythms or DEFAULT_RHYTHMS)
    idx = pd.date_range(
        pd.Timestamp(start).tz_convert(TZ),
        pd.Timestamp(end).tz_convert(TZ),
        freq=f"{step_minutes}min",
        inclusive="left",
    )
    hours = (idx.hour + idx.minute / 60.0).to_numpy(dtype=float)
    dates = idx.date
    uniq = pd.unique(dates)
    # each day its own mood, shared by the places (a busy holiday is busy everywhere)
    day_mood = {d: float(np.exp(rng.normal(0.0, 0.08))) for d in uniq}
    dfac = np.array([DAY_FACTORS[day_type(d)] * day_mood[d] for d in uniq])
    factor = pd.Series(dfac, index=uniq).reindex(dates).to_numpy()
    # the night belongs to the day before (bars after midnight)
    counts_parts = []
    truth = {}
    phi = 0.99**step_minutes
    for _, place in gdf_places.iterrows():
        pid = str(place["place_id"])
        r = rhythms.get(pid, PlaceRhythm(0.9, 0.4))
        lam = intensity_shape(hours, r, factor) * float(place["capacity"])
        if surge and pid in surge:
            a, b, k = surge[pid]
            m = (idx >= pd.Timestamp(a)) & (idx < pd.Timestamp(b))
            lam = np.where(m, lam * k, lam)
        truth[pid] = lam
        e = rng.normal(0.0, noise * np.sqrt(1 - phi**2), len(idx))
        ar = lfilter([1.0], [1.0, -phi], e)
        mean = lam * np.exp(ar - 0.5 * noise**2)
        counters = list(place["counters"])
        shares = np.linspace(1.0, 0.6, len(counters))
        shares = shares / shares.sum()
        for c, s in zip(counters, shares, strict=True):
            occ = rng.poisson(np.maximum(mean * s, 0.0))
            counts_parts.append(
                pd.DataFrame(
                    {
                        "counter_id": c,
                        "place_id": pid,
                        "at": idx,
                        "occupancy": occ.astype(np.int64),
                    }
                )
            )
    counts = pd.concat(counts_parts, ignore_index=True)
    truth_df = pd.DataFrame(truth, index=idx)
    truth_df.index.name = "at"
    return SyntheticCounts(counts=counts, truth=truth_df, rhythms=rhythms, seed=seed)
