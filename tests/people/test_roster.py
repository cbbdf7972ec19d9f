"""The roster: fair, rested, holiday-aware, editable, exported safely for spreadsheets."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from gis.errors import ValidationError
from gis.people.calendar import day_kind, is_rest_day, month_days
from gis.people.roster import (
    RosterEntry,
    RosterRules,
    ShiftHours,
    generate_roster,
    parse_shift_hours,
    roster_csv,
    roster_problems,
)
from gis.people.staff import Person, read_people_csv
from gis.settings import BUNDLED_DATA_DIR


@pytest.fixture(scope="module")
def demo():
    return read_people_csv(BUNDLED_DATA_DIR / "staff_demo.csv")


def test_calendar_knows_holidays_and_adjusted_workdays():
    assert day_kind(dt.date(2026, 10, 1)) == "holiday"
    assert day_kind(dt.date(2026, 10, 10)) == "adjusted_workday"  # a Saturday worked
    assert day_kind(dt.date(2026, 10, 11)) == "weekend"
    assert day_kind(dt.date(2026, 10, 12)) == "workday"
    assert not is_rest_day(dt.date(2026, 10, 10))
    with pytest.raises(ValidationError, match="no holiday calendar for 1990"):
        day_kind(dt.date(1990, 1, 1))


@pytest.mark.parametrize("year,month", [(2026, 1), (2026, 2), (2026, 5), (2026, 10), (2025, 9)])
def test_month_roster_is_fair_and_rested(demo, year, month):
    days = month_days(year, month)
    entries = generate_roster(demo, days)
    assert roster_problems(entries) == []
    shift_people = [p.person_id for p in demo if p.presence != "on_call"]
    rest_days = sum(map(is_rest_day, days))
    rests = Counter(e.person_id for e in entries if e.duty == "rest")
    # everybody gets as many rest days as the month has weekends and holidays
    assert {rests[p] for p in shift_people} == {rest_days}
    evenings = Counter(e.person_id for e in entries if e.duty == "evening")
    assert max(evenings[p] for p in shift_people) - min(evenings[p] for p in shift_people) <= 1
    busy = Counter(e.person_id for e in entries if e.duty != "rest" and is_rest_day(e.day))
    assert max(busy[p] for p in shift_people) - min(busy[p] for p in shift_people) <= 1
    # every day has all three shifts staffed; on-call staff are on call
    per_day = Counter((e.day, e.duty) for e in entries)
    assert all(per_day[(d, s)] >= 2 for d in days for s in ("morning", "midday", "evening"))
    assert {e.duty for e in entries if e.person_id == "P25"} == {"on_call"}


def test_24_by_31_gives_every_person_every_day(demo):
    """The full month for the 24 resident officers (its speed is measured in
    bench/bench_people.py, not asserted here)."""
    people = [p for p in demo if p.presence == "resident" and p.role == "duty_officer"]
    assert len(people) == 24
    entries = generate_roster(people, month_days(2026, 7))
    assert len(entries) == 24 * 31
    assert {(e.person_id, e.day) for e in entries} == {
        (p.person_id, d) for p in people for d in month_days(2026, 7)
    }


def test_leave_is_kept_and_absent_people_get_nothing(demo):
    days = month_days(2026, 5)
    gone = Person(
        "X1", "示离", "一组", "duty_officer", "城管", "resident", active_to=dt.date(2026, 5, 10)
    )
    fixed = {("P01", dt.date(2026, 5, d)): "leave" for d in range(11, 16)}
    entries = generate_roster([*demo[:12], gone], days, fixed=fixed)
    cells = {(e.person_id, e.day): e.duty for e in entries}
    assert all(cells[k] == "leave" for k in fixed)
    assert ("X1", dt.date(2026, 5, 11)) not in cells and ("X1", dt.date(2026, 5, 10)) in cells
    assert roster_problems(entries, fair_ids=[p.person_id for p in demo[1:12]]) == []


def test_problems_name_person_day_and_rule():
    d = dt.date(2026, 5, 4)
    bad = [RosterEntry(d, "A", "evening"), RosterEntry(d + dt.timedelta(days=1), "A", "morning")]
    bad += [RosterEntry(d + dt.timedelta(days=i), "B", "midday") for i in range(7)]
    problems = roster_problems(bad)
    assert "A has evening on 2026-05-04 then morning on 2026-05-05: less than 11 h rest" in problems
    assert "B works 7 days in a row up to 2026-05-10 (at most 6)" in problems
    # with a short evening shift the quick return is allowed
    rules = RosterRules(hours=parse_shift_hours("evening=17:00-19:00,morning=08:00-12:00"))
    assert not any(p.startswith("A has") for p in roster_problems(bad, rules=rules))


def test_shift_hours_parse_and_refuse():
    h = parse_shift_hours("morning=06:30-11:30")
    assert h.morning == (6.5, 11.5) and h.evening == ShiftHours().evening
    with pytest.raises(ValidationError, match="unknown shift 'night'"):
        parse_shift_hours("night=22:00-06:00")
    with pytest.raises(ValidationError, match="ends at 07:00 before it starts at 12:00"):
        parse_shift_hours("morning=12:00-07:00")
    with pytest.raises(ValidationError, match="'7h' is not a time"):
        parse_shift_hours("morning=7h-12:00")


def test_export_is_excel_friendly_and_formula_safe():
    people = [Person("P01", '=HYPERLINK("x")', "@组", "duty_officer", "城管", "resident")]
    days = month_days(2026, 10)[:3]
    entries = [RosterEntry(d, "P01", "evening") for d in days]
    data = roster_csv(entries, people, days)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0].split(",")[3] == "10-01 四节"
    assert lines[1].startswith('P01,"\'=HYPERLINK(""x"")",\'@组,晚,晚,晚,3,3,0')
    assert "早=07:00–12:00 拆违" in lines[2]
