"""One local time zone and one parser per kind of time: instants, stored instants, days, clocks."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from gis.errors import ValidationError
from gis.localtime import (
    LOCAL_TZ,
    local_series,
    now_local,
    parse_clock,
    parse_date,
    parse_instant,
    parse_stored_instant,
    to_local,
)

ROOT = Path(__file__).resolve().parents[2]
EIGHT = dt.timedelta(hours=8)


@pytest.mark.parametrize("year", [1995, 2026, 2040])
@pytest.mark.parametrize("month", [1, 4, 7, 10])
def test_beijing_time_is_utc_plus_eight_all_year(year: int, month: int) -> None:
    """No daylight saving: the offset is the same in winter and summer."""
    assert dt.datetime(year, month, 15, 12, tzinfo=LOCAL_TZ).utcoffset() == EIGHT


def test_now_is_aware_and_local() -> None:
    t = now_local()
    assert t.utcoffset() == EIGHT
    assert abs(t - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-05-01 17:30", dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.UTC)),  # naive = local
        ("2026-05-01T17:30:00", dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.UTC)),
        ("2026/05/01 17:30", dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.UTC)),
        ("2026-05-01T09:30Z", dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.UTC)),
        ("2026-05-01T12:30+03:00", dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.UTC)),
        ("2026-01-01 00:10", dt.datetime(2025, 12, 31, 16, 10, tzinfo=dt.UTC)),
    ],
)
def test_instants_from_text(text: str, utc: dt.datetime) -> None:
    t = parse_instant(text)
    assert t == utc
    assert t.utcoffset() == EIGHT  # always handed back in local time


def test_instants_from_objects() -> None:
    naive = dt.datetime(2026, 5, 1, 17, 30)
    assert parse_instant(naive) == dt.datetime(2026, 5, 1, 17, 30, tzinfo=LOCAL_TZ)
    assert parse_instant(pd.Timestamp("2026-05-01 17:30")) == parse_instant(naive)
    assert parse_instant(pd.Timestamp("2026-05-01 09:30", tz="UTC")) == parse_instant(naive)
    assert parse_instant(dt.date(2026, 5, 1)) == dt.datetime(2026, 5, 1, tzinfo=LOCAL_TZ)


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01 10:00", "2026-05-01 25:00", "1.5.2026"])
def test_a_bad_instant_is_named_with_its_field(bad: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(repr(bad))) as exc:
        parse_instant(bad, source="cases.csv", row=4, field="reported_at")
    text = str(exc.value)
    assert "cases.csv" in text and "reported_at" in text and "4" in text


@pytest.mark.parametrize("missing", [None, "", "   ", pd.NaT])
def test_a_missing_instant_is_refused(missing: object) -> None:
    with pytest.raises(ValidationError, match="is missing"):
        parse_instant(missing, field="--at")


def test_stored_instants_without_offset_are_utc() -> None:
    """What the stores wrote without an offset is UTC, unlike what a person typed."""
    stored = parse_stored_instant("2026-05-01 09:30:00")
    typed = parse_instant("2026-05-01 09:30:00")
    assert stored == dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.UTC)
    assert stored is not None and stored - typed == EIGHT
    assert stored.utcoffset() == EIGHT
    assert parse_stored_instant("2026-05-01T17:30:00+08:00") == stored
    assert parse_stored_instant(None) is None and parse_stored_instant("") is None
    with pytest.raises(ValidationError, match="'garbage'"):
        parse_stored_instant("garbage")
    assert parse_stored_instant("2026-05-01 09:30:00", required=True) == stored
    with pytest.raises(ValidationError, match="'time': is missing.*restore it from a backup"):
        parse_stored_instant("", required=True)


def test_to_local_and_series() -> None:
    assert to_local(dt.datetime(2026, 5, 1, 9, 30), naive=dt.UTC).hour == 17
    assert to_local(dt.datetime(2026, 5, 1, 9, 30)).hour == 9
    s = local_series(["2026-05-01 17:30", "2026-05-02 08:00"])
    assert str(s.dt.tz) == "Asia/Shanghai"
    assert s.iloc[0] == pd.Timestamp("2026-05-01 09:30", tz="UTC")
    aware = local_series(pd.Series(pd.to_datetime(["2026-05-01 09:30"], utc=True)))
    assert aware.iloc[0].hour == 17
    assert local_series(["2026-05-01 17:30", "not a time"], coerce=True).isna().tolist() == [
        False,
        True,
    ]
    with pytest.raises(ValueError):
        local_series(["not a time"])


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("2026-05-01", dt.date(2026, 5, 1)),
        (" 2026-05-01 ", dt.date(2026, 5, 1)),
        ("2026-05-01 00:00:00", dt.date(2026, 5, 1)),  # spreadsheets export midnight
        (dt.date(2026, 5, 1), dt.date(2026, 5, 1)),
        (dt.datetime(2026, 5, 1, 23, 59), dt.date(2026, 5, 1)),
    ],
)
def test_days(value: object, day: dt.date) -> None:
    assert parse_date(value) == day


@pytest.mark.parametrize("bad", ["2026-02-30", "01/05/2026", "2026-05-01junk", "tomorrow"])
def test_a_bad_day_is_named(bad: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(repr(bad))) as exc:
        parse_date(bad, source="command line", field="--date")
    assert "--date" in str(exc.value) and "YYYY-MM-DD" in str(exc.value)


def test_days_outside_the_records_are_refused() -> None:
    with pytest.raises(ValidationError, match="1900-01-01 is outside"):
        parse_date("1900-01-01", field="--date")
    with pytest.raises(ValidationError, match="2262-01-01 is outside"):
        parse_date("2262-01-01", field="--date")


def test_an_empty_day_is_none_unless_required() -> None:
    assert parse_date("") is None and parse_date(None) is None and parse_date(float("nan")) is None
    with pytest.raises(ValidationError, match="is missing"):
        parse_date("", field="--date", required=True)


@pytest.mark.parametrize(
    ("text", "hours"),
    [("07:00", 7.0), ("7:30", 7.5), ("00:00", 0.0), ("24:00", 24.0), ("17", 17.0)],
)
def test_clock_times(text: str, hours: float) -> None:
    assert parse_clock(text) == hours


@pytest.mark.parametrize("bad", ["25:00", "24:30", "07:60", "7h30", "", "morning"])
def test_a_bad_clock_time_is_named(bad: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(repr(bad))):
        parse_clock(bad, source="shift hours", field="hours")


ZONE_SPELLINGS = re.compile(r"ZoneInfo\(|[\"']Asia/Shanghai[\"']|timedelta\(hours=8\)")


def test_the_zone_is_defined_once() -> None:
    """No module but gis/localtime.py names the zone or its offset."""
    files = [p for pkg in ("gis", "layers", "ui") for p in (ROOT / pkg).rglob("*.py")]
    found = []
    for path in [*files, ROOT / "app.py"]:
        rel = path.relative_to(ROOT).as_posix()
        if rel == "gis/localtime.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if ZONE_SPELLINGS.search(line) and not line.lstrip().startswith("#"):
                found.append(f"{rel}:{n}: {line.strip()}")
    assert not found, f"take LOCAL_TZ / LOCAL_TZ_NAME from gis.localtime: {found}"


def test_the_zone_check_catches_a_second_definition() -> None:
    assert ZONE_SPELLINGS.search('TZ = ZoneInfo("Asia/Shanghai")')
    assert ZONE_SPELLINGS.search("pd.Timestamp.now(tz='Asia/Shanghai')")
    assert ZONE_SPELLINGS.search("t + dt.timedelta(hours=8)")
    assert not ZONE_SPELLINGS.search("from gis.localtime import LOCAL_TZ")


#: Where the time parsers live; every other module asks them (what a person typed and what a
#: store wrote mean different zones when no offset is given, and a bad value must be named).
PARSER_HOME = "gis/localtime.py"
STDLIB_PARSE = re.compile(r"\bfromisoformat\(")
#: Folders and files of the product (tests may build expected values with the standard library).
PRODUCT = ("gis", "layers", "ui", "bench", "scripts", "app.py", "serve.py")


def _product_files() -> list[Path]:
    out: list[Path] = []
    for name in PRODUCT:
        path = ROOT / name
        out.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return out


def test_times_are_parsed_in_one_place() -> None:
    """No module but gis/localtime.py parses ISO times itself: it would pick its own zone for
    text without an offset and raise a bare ValueError on a bad one."""
    found = []
    for path in _product_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel == PARSER_HOME:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if STDLIB_PARSE.search(line) and not line.lstrip().startswith("#"):
                found.append(f"{rel}:{n}: {line.strip()}")
    assert not found, (
        "parse with gis.localtime (parse_instant: typed, parse_stored_instant: stored, "
        f"parse_date: a day, parse_clock: a time of day): {found}"
    )


def test_the_parse_check_catches_the_standard_library() -> None:
    assert len(_product_files()) > 100
    assert STDLIB_PARSE.search("called = dt.datetime.fromisoformat(text)")
    assert STDLIB_PARSE.search("day = date.fromisoformat(args.day)")
    assert not STDLIB_PARSE.search("day = parse_date(args.day, required=True)")
