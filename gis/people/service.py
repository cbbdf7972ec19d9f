"""People use cases both front ends call: import staff, record districts, make the roster."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from gis.errors import ValidationError
from gis.people.assignments import assignments_from_districts
from gis.people.calendar import month_days
from gis.people.roster import RosterEntry, RosterRules, generate_roster
from gis.people.staff import Person, read_people_csv
from gis.settings import Settings
from gis.store.base import Store

log = logging.getLogger(__name__)


def demo_people(settings: Settings) -> list[Person]:
    """The bundled fictitious staff (data/staff_demo.csv)."""
    return read_people_csv(Path(settings.data_dir) / "staff_demo.csv")


def import_staff(store: Store, people: Sequence[Person], *, by: str) -> tuple[int, int]:
    """Add or update people in the store; returns (added, updated)."""
    added, updated = store.people.save_people(people, by=by)
    log.info("%s saved staff: %d added, %d updated", by, added, updated)
    return added, updated


def record_districts(
    store: Store,
    assignment: Mapping[str, str],
    day: dt.date,
    *,
    by: str,
    segment_district: Mapping[str, str] | None = None,
) -> int:
    """Put a district plan (segment → person) in force from ``day`` as dated assignments.

    Segments whose person is not on the staff are left out (and logged): responsibility is
    recorded only for named people. Returns the number of assignments written.
    """
    known = {p.person_id for p in store.people.list_people()}
    named = {s: p for s, p in assignment.items() if p in known}
    if len(named) < len(assignment):
        log.warning(
            "%d segment(s) assigned to people not on the staff were not recorded",
            len(assignment) - len(named),
        )
    rows = assignments_from_districts(named, day, segment_district=segment_district, assigned_by=by)
    return store.people.assign(rows)


def make_month_roster(
    store: Store,
    year: int,
    month: int,
    *,
    by: str,
    rules: RosterRules | None = None,
) -> list[RosterEntry]:
    """Generate and save a month's roster for everyone on the staff.

    Leave already entered for the month is kept; the last duty of the previous month
    carries the rest rule across the month boundary.

    Raises
    ------
    ValidationError
        The staff table is empty.
    """
    days = month_days(year, month)
    people = store.people.list_people()
    if not people:
        raise ValidationError(
            "the staff table is empty", field="staff", fix="import staff first: patrol staff import"
        )
    existing = store.people.roster(days[0], days[-1])
    fixed = {(e.person_id, e.day): e.duty for e in existing if e.duty == "leave"}
    prev_day = days[0] - dt.timedelta(days=1)
    previous = {e.person_id: e.duty for e in store.people.roster(prev_day, prev_day)}
    entries = generate_roster(people, days, rules=rules, fixed=fixed, previous=previous)
    kept = {(e.person_id, e.day): e for e in existing if e.duty == "leave"}
    entries = [
        kept.get((e.person_id, e.day)) or RosterEntry(e.day, e.person_id, e.duty, edited_by=by)
        for e in entries
    ]
    store.people.save_roster(entries, start=days[0], end=days[-1])
    log.info("%s made the roster for %04d-%02d (%d cells)", by, year, month, len(entries))
    return entries
