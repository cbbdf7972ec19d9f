"""Day types from the Chinese public-holiday calendar (holidays and adjusted working days)."""

from __future__ import annotations

import datetime as dt
import functools
import logging

import chinese_calendar

log = logging.getLogger(__name__)

DAY_TYPES: tuple[str, ...] = ("workday", "weekend", "holiday")


@functools.lru_cache(maxsize=4096)
def day_type(day: dt.date) -> str:
    """``holiday`` (a statutory holiday period), ``weekend`` (a rest day that is not one) or
    ``workday`` (including the adjusted working days 调休 on a Saturday or Sunday).

    Years the calendar package does not cover yet fall back to Saturday/Sunday rest days.
    """
    try:
        if chinese_calendar.is_workday(day):
            return "workday"
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        _warn_uncovered(day.year)
        return "weekend" if day.weekday() >= 5 else "workday"
    return "holiday" if on_holiday and name else "weekend"


@functools.lru_cache(maxsize=64)
def _warn_uncovered(year: int) -> None:
    log.warning("no holiday calendar for %s: using weekends only", year)


@functools.lru_cache(maxsize=64)
def covered(year: int) -> bool:
    """Whether the calendar package knows the holidays of ``year``."""
    try:
        chinese_calendar.is_holiday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def holiday_name(day: dt.date) -> str | None:
    """The holiday's English name from the calendar (``National Day`` …), or None."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return str(name) if on_holiday and name else None


def next_holiday(after: dt.date, *, within_days: int = 400) -> dt.date | None:
    """The first holiday day strictly after ``after`` (None when the calendar has none)."""
    d = after
    for _ in range(within_days):
        d += dt.timedelta(days=1)
        if not covered(d.year):
            return None
        if day_type(d) == "holiday":
            return d
    return None


def last_holiday(before: dt.date, *, within_days: int = 400) -> dt.date | None:
    """The last holiday day strictly before ``before``."""
    d = before
    for _ in range(within_days):
        d -= dt.timedelta(days=1)
        if not covered(d.year):
            return None
        if day_type(d) == "holiday":
            return d
    return None
