"""The one local time zone (Beijing time, no daylight saving) and one parser per kind of time.

Every module takes the zone from here. Times without an offset that a person writes (a form, a
CSV, a command-line option, a camera) are local time; times the stores wrote without an offset
are UTC. The parsers name the bad value, where it came from and the fix.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal, overload
from zoneinfo import ZoneInfo

import pandas as pd

from gis.errors import ValidationError

#: The IANA name of the local zone (for pandas, which takes names).
LOCAL_TZ_NAME = "Asia/Shanghai"
#: Beijing time: UTC+8 all year (China has kept no daylight saving since 1991).
LOCAL_TZ = ZoneInfo(LOCAL_TZ_NAME)
#: Days a person may name: the records start in 2000; pandas time arithmetic (and a century
#: of planning) ends well before 2262.
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2100, 12, 31)

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_CLOCK = re.compile(r"(\d{1,2})(?::(\d{2}))?")
_INSTANT_FIX = "write it as 2026-05-01 17:30 (Beijing time) or ISO 8601 with an offset"


def now_local() -> dt.datetime:
    """The current time, aware, in the local zone."""
    return dt.datetime.now(LOCAL_TZ)


def to_local(t: dt.datetime, *, naive: dt.tzinfo = LOCAL_TZ) -> dt.datetime:
    """``t`` in the local zone; a naive ``t`` is taken to be in ``naive`` (local by default)."""
    if isinstance(t, pd.Timestamp):
        t = t.to_pydatetime()
    if t.tzinfo is None:
        t = t.replace(tzinfo=naive)
    return t.astimezone(LOCAL_TZ)


def local_series(values: Any, *, coerce: bool = False) -> pd.Series:
    """Timestamps as a tz-aware local series (naive values are taken as local time).

    With ``coerce``, values that are not times become NaT instead of raising.
    """
    s = pd.to_datetime(pd.Series(values), format="mixed", errors="coerce" if coerce else "raise")
    if s.dt.tz is None:
        return s.dt.tz_localize(LOCAL_TZ_NAME)
    return s.dt.tz_convert(LOCAL_TZ_NAME)


def parse_instant(
    value: Any,
    *,
    source: str | None = None,
    row: object = None,
    field: str = "time",
    fix: str = _INSTANT_FIX,
) -> dt.datetime:
    """A moment a person wrote (text, datetime or Timestamp), aware and in the local zone.

    Text is ISO 8601 (``/`` allowed between the date parts, ``Z`` for UTC, a space or ``T``
    before the time); without an offset it is local time.

    Raises
    ------
    ValidationError
        The value is missing or not a date and time; the message quotes it.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError("is missing", source=source, row=row, field=field, fix=fix)
    if isinstance(value, dt.datetime):  # pd.Timestamp is a datetime too
        if pd.isna(value):
            raise ValidationError("is missing", source=source, row=row, field=field, fix=fix)
        return to_local(value)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(0), tzinfo=LOCAL_TZ)
    text = str(value).strip()
    try:
        t = dt.datetime.fromisoformat(text.replace("/", "-").replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"{text[:60]!r} is not a date and time", source=source, row=row, field=field, fix=fix
        ) from None
    return to_local(t)


@overload
def parse_stored_instant(value: Any, *, required: Literal[True]) -> dt.datetime: ...


@overload
def parse_stored_instant(value: Any, *, required: bool = False) -> dt.datetime | None: ...


def parse_stored_instant(value: Any, *, required: bool = False) -> dt.datetime | None:
    """A time the stores wrote (ISO text or datetime; naive means UTC), local; empty → None
    unless ``required`` (then empty is a damaged store)."""
    if value is None or value == "" or (not isinstance(value, str) and pd.isna(value)):
        if required:
            raise ValidationError(
                "is missing",
                source="store",
                field="time",
                fix="the store holds a damaged record: restore it from a backup",
            )
        return None
    if isinstance(value, dt.datetime):
        return to_local(value, naive=dt.UTC)
    try:
        t = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"{str(value)[:60]!r} is not a stored time",
            source="store",
            fix="the store holds a damaged time: restore it from a backup",
        ) from None
    return to_local(t, naive=dt.UTC)


@overload
def parse_date(
    value: Any,
    *,
    source: str | None = None,
    row: object = None,
    field: str = "date",
    required: Literal[True],
) -> dt.date: ...


@overload
def parse_date(
    value: Any,
    *,
    source: str | None = None,
    row: object = None,
    field: str = "date",
    required: bool = False,
) -> dt.date | None: ...


def parse_date(
    value: Any,
    *,
    source: str | None = None,
    row: object = None,
    field: str = "date",
    required: bool = False,
) -> dt.date | None:
    """A calendar day from ``YYYY-MM-DD`` text (a time after it is dropped), a date or a
    datetime; empty means ``None`` unless ``required``.

    Raises
    ------
    ValidationError
        Not a day, or a day outside 2000-01-01 … 2100-12-31; the message quotes the value.
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)) or str(value).strip() == "":
        if required:
            raise ValidationError(
                "is missing", source=source, row=row, field=field, fix="write YYYY-MM-DD"
            )
        return None
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        text = str(value).strip()
        try:
            if not _DAY.match(text):
                raise ValueError(text)
            # a day, or a day with a time after it (spreadsheets export midnight)
            day = (
                dt.datetime.fromisoformat(text).date()
                if len(text) > 10
                else dt.date.fromisoformat(text)
            )
        except ValueError:
            raise ValidationError(
                f"{text[:40]!r} is not a valid day",
                source=source,
                row=row,
                field=field,
                fix="write YYYY-MM-DD",
            ) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(
            f"{day.isoformat()} is outside {FIRST_DAY.isoformat()} … {LAST_DAY.isoformat()}",
            source=source,
            row=row,
            field=field,
            fix="check the year",
        )
    return day


def parse_clock(text: str, *, source: str | None = None, field: str = "time") -> float:
    """A clock time of day ``HH:MM`` as hours after midnight (``24:00`` ends the day).

    Raises
    ------
    ValidationError
        Not ``HH:MM`` or outside 00:00 … 24:00; the message quotes the value.
    """
    m = _CLOCK.fullmatch(str(text).strip())
    if m is None:
        raise ValidationError(
            f"{str(text)[:40]!r} is not a time of day",
            source=source,
            field=field,
            fix="write HH:MM",
        )
    h, minutes = int(m[1]), int(m[2] or 0)
    if minutes >= 60 or h > 24 or (h == 24 and minutes):
        raise ValidationError(
            f"{text.strip()!r} is not a time of day",
            source=source,
            field=field,
            fix="use 00:00 … 24:00",
        )
    return h + minutes / 60.0
