"""Which cases an analysis is about: the case-frame contract, local time, filters and windows."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.cases.workflow import CASE_FRAME_COLUMNS
from gis.errors import ValidationError
from gis.geography.crs import require_metric
from gis.localtime import LOCAL_TZ_NAME

log = logging.getLogger(__name__)

#: The case-frame contract columns this module may read.
CASE_COLUMNS: tuple[str, ...] = (*CASE_FRAME_COLUMNS, "geometry")
TIMEZONE = LOCAL_TZ_NAME
#: Mean month in days (365.25 / 12): the unit of "per month".
DAYS_PER_MONTH = 30.4375
DAY_TYPES = ("all", "weekday", "weekend_holiday")


def require_case_frame(gdf_cases: gpd.GeoDataFrame, *, need: Iterable[str] = ()) -> None:
    """Raise a clear error when the frame is not a metric case frame with ``need`` columns."""
    if not isinstance(gdf_cases, gpd.GeoDataFrame):
        raise ValidationError(
            f"expected a GeoDataFrame of cases, got {type(gdf_cases).__name__}",
            source="cases",
            fix="pass the case frame from the store (gis.store) or gis.cases.workflow",
        )
    require_metric(gdf_cases, "cases")
    missing = [c for c in need if c not in gdf_cases.columns]
    if missing:
        raise ValidationError(
            f"the case frame lacks columns {missing}",
            source="cases",
            fix="build it with the case-frame contract columns " + ", ".join(CASE_COLUMNS),
        )


def to_local_time(values: pd.Series) -> pd.Series:
    """Timestamps as tz-aware Asia/Shanghai (naive values are taken as local time)."""
    s = pd.to_datetime(values)
    if s.dt.tz is None:
        return s.dt.tz_localize(TIMEZONE)
    return s.dt.tz_convert(TIMEZONE)


def as_local_timestamp(value: datetime | date | str | pd.Timestamp) -> pd.Timestamp:
    """One timestamp in Asia/Shanghai (dates mean local midnight)."""
    ts = pd.Timestamp(value)
    return ts.tz_localize(TIMEZONE) if ts.tzinfo is None else ts.tz_convert(TIMEZONE)


@dataclass(frozen=True)
class CaseFilter:
    """Which cases a surface or test is about.

    ``start`` is inclusive and ``end`` exclusive (local time). ``hours`` keeps cases reported
    in those local hours (0–23). ``day_type`` is ``all``, ``weekday`` (Monday–Friday that are
    not holidays) or ``weekend_holiday`` (Saturday, Sunday and the given ``holidays``).
    """

    categories: tuple[str, ...] | None = None
    tiers: tuple[str, ...] | None = None
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    hours: tuple[int, ...] | None = None
    day_type: str = "all"
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.day_type not in DAY_TYPES:
            raise ValidationError(
                f"unknown day type {self.day_type!r}", field="day_type", fix=f"use {DAY_TYPES}"
            )
        if self.hours is not None:
            bad = [h for h in self.hours if not 0 <= int(h) <= 23]
            if bad:
                raise ValidationError(
                    f"hours {bad} are outside 0–23", field="hours", fix="use local hours 0..23"
                )
        if self.start is not None:
            object.__setattr__(self, "start", as_local_timestamp(self.start))
        if self.end is not None:
            object.__setattr__(self, "end", as_local_timestamp(self.end))
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValidationError(
                f"time window ends ({self.end}) before it starts ({self.start})",
                field="end",
                fix="give an end after the start",
            )

    def months(
        self,
        gdf_cases: gpd.GeoDataFrame | None = None,
        *,
        span: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    ) -> float:
        """Length of the window in mean months (from the data's span when open-ended).

        The span is the first and last report time of the selected cases, taken from
        ``gdf_cases`` or given as ``span`` (as a database computes it).
        """
        start, end = self.start, self.end
        if span is None and gdf_cases is not None and len(gdf_cases):
            t = to_local_time(gdf_cases["reported_at"])
            span = (t.min(), t.max())
        if (start is None or end is None) and span is not None:
            first, last = as_local_timestamp(span[0]), as_local_timestamp(span[1])
            start = start if start is not None else first.normalize()
            end = end if end is not None else last.normalize() + pd.Timedelta(days=1)
        if start is None or end is None:
            return 1.0
        return max((end - start) / pd.Timedelta(days=1), 1.0) / DAYS_PER_MONTH

    def describe(self) -> str:
        """Short human description for titles and notes."""
        parts = []
        if self.categories:
            parts.append("categories " + ",".join(self.categories))
        if self.tiers:
            parts.append("tiers " + ",".join(self.tiers))
        if self.start is not None or self.end is not None:
            parts.append(f"{_moment(self.start, first=True)} to {_moment(self.end, first=False)}")
        if self.hours:
            parts.append("hours " + ",".join(str(h) for h in sorted(self.hours)))
        if self.day_type != "all":
            parts.append(self.day_type.replace("_", "/"))
        return "; ".join(parts) or "all cases"


def _moment(ts: pd.Timestamp | None, *, first: bool) -> str:
    """A window bound as people read it: whole days as dates, the end as the last day in it."""
    if ts is None:
        return "…"
    if ts != ts.normalize():
        return f"{ts:%Y-%m-%d %H:%M}"
    return f"{(ts if first else ts - pd.Timedelta(days=1)):%Y-%m-%d}"


def select_cases(gdf_cases: gpd.GeoDataFrame, flt: CaseFilter | None = None) -> gpd.GeoDataFrame:
    """The cases passing ``flt`` (a new frame; the input is not changed)."""
    require_case_frame(gdf_cases, need=("reported_at", "geometry"))
    flt = flt or CaseFilter()
    if gdf_cases.empty:
        return gdf_cases.copy()
    keep = np.ones(len(gdf_cases), dtype=bool)
    t = to_local_time(gdf_cases["reported_at"])
    if flt.categories is not None:
        keep &= gdf_cases["category"].isin(flt.categories).to_numpy()
    if flt.tiers is not None:
        keep &= gdf_cases["tier"].isin(flt.tiers).to_numpy()
    if flt.start is not None:
        keep &= (t >= flt.start).to_numpy()
    if flt.end is not None:
        keep &= (t < flt.end).to_numpy()
    if flt.hours is not None:
        keep &= t.dt.hour.isin([int(h) for h in flt.hours]).to_numpy()
    if flt.day_type != "all":
        days = t.dt.date
        off = (t.dt.day_of_week >= 5).to_numpy() | days.isin(flt.holidays).to_numpy()
        keep &= off if flt.day_type == "weekend_holiday" else ~off
    geom_ok = ~(gdf_cases.geometry.isna() | gdf_cases.geometry.is_empty).to_numpy()
    if (keep & ~geom_ok).any():
        log.warning(
            "%d selected cases have no location and are left out", int((keep & ~geom_ok).sum())
        )
    return gdf_cases.loc[keep & geom_ok].copy()


def window_note(flt: CaseFilter, *, now: pd.Timestamp | None = None) -> str:
    """A message when the window lies (partly) in the future, else ``""``."""
    now = as_local_timestamp(now) if now is not None else pd.Timestamp.now(tz=TIMEZONE)
    if flt.start is not None and flt.start > now:
        return (
            f"the time window starts {flt.start:%Y-%m-%d %H:%M}, after now "
            f"({now:%Y-%m-%d %H:%M}): there can be no cases yet"
        )
    if flt.end is not None and flt.end > now:
        return f"the time window runs past now ({now:%Y-%m-%d %H:%M}): the period is incomplete"
    return ""


def time_window(
    end: datetime | date | str | pd.Timestamp, days: int
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The ``days``-day window ending (exclusively) at local midnight after ``end``'s date."""
    e = as_local_timestamp(end).normalize() + pd.Timedelta(days=1)
    return e - pd.Timedelta(days=days), e
