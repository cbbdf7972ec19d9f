"""Staff and roster subcommands: ``patrol staff …`` and ``patrol roster make|show|export|set``."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import pandas as pd

from gis.errors import ValidationError
from gis.localtime import now_local, parse_date
from gis.people.calendar import month_days
from gis.people.roster import (
    DUTIES,
    RosterEntry,
    RosterRules,
    parse_shift_hours,
    roster_csv,
    roster_problems,
    roster_table,
)
from gis.people.service import demo_people, import_staff, make_month_roster
from gis.people.staff import read_people_csv, retire
from gis.settings import Settings
from gis.store import open_store


def _month(text: str) -> tuple[int, int]:
    try:
        y, m = (int(v) for v in text.split("-")[:2])
        month_days(y, m)
    except (ValueError, ValidationError):
        raise ValidationError(
            f"{text!r} is not a month", field="--month", fix="write YYYY-MM, e.g. 2026-05"
        ) from None
    return y, m


def _day(text: str | None, name: str) -> dt.date:
    d = parse_date(text, source="command line", field=name) if text else None
    return d or now_local().date()


def _rules(args: argparse.Namespace, settings: Settings) -> RosterRules:
    if getattr(args, "hours", None):
        return RosterRules(hours=parse_shift_hours(args.hours, source="--hours"))
    return RosterRules(hours=settings.shift_hours_parsed())


def _cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    people = demo_people(settings) if args.demo else read_people_csv(args.file)
    with open_store(settings) as store:
        added, updated = import_staff(store, people, by=args.by)
    print(f"staff: {added} added, {updated} updated")
    return 0


def _cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    day = parse_date(args.date, source="command line", field="--date") if args.date else None
    with open_store(settings) as store:
        people = store.people.list_people(active_on=day)
    for p in people:
        until = f" until {p.active_to}" if p.active_to else ""
        print(f"{p.person_id:6s} {p.name:6s} {p.team:5s} {p.role:13s} {p.presence:9s}{until}")
    print(f"{len(people)} person(s)")
    return 0


def _cmd_retire(args: argparse.Namespace, settings: Settings) -> int:
    last = _day(args.last_day, "--last-day")
    with open_store(settings) as store:
        person = store.people.get_person(args.person_id)
        store.people.save_people([retire(person, last)], by=args.by)
    print(f"{person.person_id} {person.name} serves until {last}")
    return 0


def _cmd_assign(args: argparse.Namespace, settings: Settings) -> int:
    from gis.people.service import record_districts

    path = Path(args.file)
    if not path.is_file():
        raise ValidationError("assignment file does not exist", source=path.name)
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    for col in ("segment_id", "person_id"):
        if col not in df.columns:
            raise ValidationError(
                f"no column {col!r}",
                source=path.name,
                field=col,
                fix="the file needs segment_id and person_id columns",
            )
    mapping = dict(zip(df["segment_id"], df["person_id"], strict=True))
    districts = (
        dict(zip(df["segment_id"], df["district_id"], strict=True))
        if "district_id" in df.columns
        else None
    )
    start = _day(args.start, "--from")
    with open_store(settings) as store:
        n = record_districts(store, mapping, start, by=args.by, segment_district=districts)
    print(f"{n} segment assignment(s) in force from {start}")
    return 0


def _cmd_who(args: argparse.Namespace, settings: Settings) -> int:
    day = _day(args.date, "--date")
    with open_store(settings) as store:
        person = store.people.responsible_for(args.segment_id, day)
    if person is None:
        print(f"nobody answered for {args.segment_id} on {day}")
        return 1
    print(
        f"{args.segment_id} on {day}: {person.person_id} {person.name} ({person.team}) "
        f"{person.phone}"
    )
    return 0


def _cmd_make(args: argparse.Namespace, settings: Settings) -> int:
    y, m = _month(args.month)
    rules = _rules(args, settings)
    with open_store(settings) as store:
        entries = make_month_roster(store, y, m, by=args.by, rules=rules)
    problems = roster_problems(entries, rules=rules)
    print(
        f"roster {y:04d}-{m:02d}: {len(entries)} cells, {len({e.person_id for e in entries})} "
        "people"
    )
    for p in problems:
        print(f"warning: {p}", file=sys.stderr)
    return 0


def _load(settings: Settings, month: str, person: str | None = None):
    y, m = _month(month)
    days = month_days(y, m)
    with open_store(settings) as store:
        entries = store.people.roster(days[0], days[-1], person_id=person)
        people = store.people.list_people()
    if not entries:
        raise ValidationError(
            f"no roster for {y:04d}-{m:02d}",
            field="--month",
            fix=f"make it first: patrol roster make --month {y:04d}-{m:02d}",
        )
    return entries, people, days


def _cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    entries, people, days = _load(settings, args.month, args.person)
    for row in roster_table(entries, people, days):
        print("\t".join(row))
    for p in roster_problems(entries, rules=_rules(args, settings)):
        print(f"warning: {p}", file=sys.stderr)
    return 0


def _cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    entries, people, days = _load(settings, args.month)
    data = roster_csv(entries, people, days, hours=_rules(args, settings).hours)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    print(f"wrote {out} ({len(data)} bytes)")
    return 0


def _cmd_set(args: argparse.Namespace, settings: Settings) -> int:
    day = _day(args.date, "date")
    with open_store(settings) as store:
        store.people.get_person(args.person_id)
        store.people.set_duty(
            RosterEntry(day, args.person_id, args.duty, note=args.note, edited_by=args.by)
        )
        month = store.people.roster(day.replace(day=1), month_days(day.year, day.month)[-1])
    print(f"{args.person_id} on {day}: {args.duty}")
    for p in roster_problems(month, rules=_rules(args, settings)):
        print(f"warning: {p}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``staff`` and ``roster``."""
    staff = sub.add_parser("staff", help="named staff and their dated responsibility")
    ssub = staff.add_subparsers(dest="staff_command", required=True)
    p = ssub.add_parser("import", help="add or update staff from a CSV")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("file", nargs="?", help="staff CSV (person_id,name,team,role,…)")
    g.add_argument("--demo", action="store_true", help="the bundled fictitious staff")
    p.add_argument("--by", default="admin", help="who makes the change")
    p.set_defaults(func=_cmd_import)
    p = ssub.add_parser("list", help="list staff")
    p.add_argument("--date", help="only people serving on this day (YYYY-MM-DD)")
    p.set_defaults(func=_cmd_list)
    p = ssub.add_parser("retire", help="end a person's service")
    p.add_argument("person_id")
    p.add_argument("--last-day", help="last day of service (default today)")
    p.add_argument("--by", default="admin")
    p.set_defaults(func=_cmd_retire)
    p = ssub.add_parser("assign", help="put segment → person assignments in force from a day")
    p.add_argument("file", help="CSV with segment_id, person_id[, district_id]")
    p.add_argument("--from", dest="start", help="first day (default today)")
    p.add_argument("--by", default="admin")
    p.set_defaults(func=_cmd_assign)
    p = ssub.add_parser("who", help="who answered for a street segment on a day")
    p.add_argument("segment_id")
    p.add_argument("--date", help="the day (default today)")
    p.set_defaults(func=_cmd_who)

    roster = sub.add_parser("roster", help="the duty roster (排班)")
    rsub = roster.add_subparsers(dest="roster_command", required=True)
    hours_help = "shift hours, e.g. morning=07:00-12:00,midday=12:00-17:00,evening=17:00-22:00"
    p = rsub.add_parser("make", help="generate and save a month's roster")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--hours", help=hours_help)
    p.add_argument("--by", default="admin")
    p.set_defaults(func=_cmd_make)
    p = rsub.add_parser("show", help="print a month's roster")
    p.add_argument("--month", required=True)
    p.add_argument("--person")
    p.add_argument("--hours", help=hours_help)
    p.set_defaults(func=_cmd_show)
    p = rsub.add_parser("export", help="write an Excel-friendly CSV")
    p.add_argument("--month", required=True)
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--hours", help=hours_help)
    p.set_defaults(func=_cmd_export)
    p = rsub.add_parser("set", help="change one cell (leave, swap a shift)")
    p.add_argument("person_id")
    p.add_argument("date")
    p.add_argument("duty", choices=DUTIES)
    p.add_argument("--note", default="")
    p.add_argument("--by", default="admin")
    p.add_argument("--hours", help=hours_help)
    p.set_defaults(func=_cmd_set)
