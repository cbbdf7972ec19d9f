"""Chinese working days: weekends, public holidays and adjusted working days (调休)."""

from __future__ import annotations

import datetime as dt
import functools

from gis.errors import ValidationError

#: Kinds of day: an ordinary working day, a weekend, a public holiday, or a weekend day
#: made a working day to bridge a holiday.
DAY_KINDS: tuple[str, ...] = ("workday", "weekend", "holiday", "adjusted_workday")


@functools.lru_cache(maxsize=4096)
def day_kind(day: dt.date) -> str:
    """The kind of ``day`` according to the maintained ``chinese-calendar`` package.

    Raises
    ------
    ValidationError
        The package has no data for that year (it is updated each year when the State
        Council publishes the next year's holidays).
    """
    import chinese_calendar

    try:
        workday = chinese_calendar.is_workday(day)
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError as exc:
        raise ValidationError(
            f"no holiday calendar for {day.year}: {exc}",
            field="date",
            fix="upgrade the chinese-calendar package once the year's holidays are published",
        ) from None
    weekend = day.weekday() >= 5
    if workday:
        return "adjusted_workday" if weekend else "workday"
    if on_holiday and name is not None:
        return "holiday"
    return "weekend"


def is_rest_day(day: dt.date) -> bool:
    """True on weekends and public holidays (not on adjusted working days)."""
    return day_kind(day) in ("weekend", "holiday")


def holiday_name(day: dt.date) -> str:
    """The holiday's English name ('National Day'), or '' on other days."""
    import chinese_calendar

    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return ""
    return str(name) if on_holiday and name else ""


def month_days(year: int, month: int) -> list[dt.date]:
    """Every day of a month."""
    if not 1 <= month <= 12:
        raise ValidationError(f"month {month} does not exist", field="month", fix="use 1–12")
    first = dt.date(year, month, 1)
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return [first + dt.timedelta(days=i) for i in range((nxt - first).days)]
