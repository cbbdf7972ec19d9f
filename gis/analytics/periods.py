"""Reporting periods: the day, ISO week or calendar month, and the default one to report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from gis.analytics.selection import DAYS_PER_MONTH, as_local_timestamp

KINDS: tuple[str, ...] = ("daily", "weekly", "monthly")


@dataclass(frozen=True)
class Period:
    """A reporting period ``[start, end)`` in local time."""

    kind: str
    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def days(self) -> float:
        """Length in days."""
        return (self.end - self.start) / pd.Timedelta(days=1)

    @property
    def months(self) -> float:
        """Length in mean months (30.4375 days)."""
        return self.days / DAYS_PER_MONTH

    def label(self, lang: str = "zh") -> str:
        """``2026年11月29日``, ``2026年11月23日—29日``, ``2026年11月`` (or English)."""
        first = self.start.date()
        last = (self.end - pd.Timedelta(days=1)).date()
        if self.kind == "monthly":
            return f"{first.year}年{first.month}月" if lang == "zh" else f"{first:%B %Y}"
        if self.kind == "daily" or first == last:
            return zh_date(first) if lang == "zh" else en_date(first)
        if lang == "zh":
            tail = (
                f"{last.day}日"
                if (last.year, last.month) == (first.year, first.month)
                else zh_date(last)
                if last.year != first.year
                else f"{last.month}月{last.day}日"
            )
            return f"{zh_date(first)}—{tail}"
        return f"{en_date(first)} – {en_date(last)}"


def zh_date(d: date) -> str:
    """Chinese date: 2026年11月29日."""
    return f"{d.year}年{d.month}月{d.day}日"


def en_date(d: date) -> str:
    """English date: 29 Nov 2026."""
    return f"{d.day} {d:%b %Y}"


def default_report_day(kind: str, today: date) -> date:
    """A day in the last *complete* period of ``kind`` before ``today``.

    A report is read about a period that is over: yesterday for the daily report, last
    Monday–Sunday for the weekly one, last calendar month for the monthly one (a default of
    today would report one day of a period that has barely begun).
    """
    if kind not in KINDS:
        raise _bad(f"unknown report kind {kind!r}", "kind", "use daily, weekly or monthly")
    if kind == "daily":
        return today - timedelta(days=1)
    if kind == "weekly":
        return today - timedelta(days=7)  # always inside the previous ISO week
    return today.replace(day=1) - timedelta(days=1)


def period_for(kind: str, day: date | str | pd.Timestamp) -> Period:
    """The day, the ISO week (Monday–Sunday) or the calendar month containing ``day``."""
    if kind not in KINDS:
        raise _bad(f"unknown report kind {kind!r}", "kind", "use daily, weekly or monthly")
    d = as_local_timestamp(day).normalize()
    if kind == "daily":
        return Period(kind, d, d + pd.Timedelta(days=1))
    if kind == "weekly":
        start = d - pd.Timedelta(days=d.day_of_week)
        return Period(kind, start, start + pd.Timedelta(days=7))
    start = d.replace(day=1)
    end = (start + pd.Timedelta(days=32)).replace(day=1)
    return Period(kind, start, end)


def _bad(problem: str, fld: str, fix: str) -> Exception:
    from gis.errors import ValidationError

    return ValidationError(problem, field=fld, fix=fix)
