"""Day-plan subcommand: ``patrol plan day --date D`` (日碰头)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from gis.localtime import now_local, parse_date
from gis.people.daysheet import day_sheet_html
from gis.people.service import assign_demo_districts, plan_day
from gis.services.subdistricts import settings_geography
from gis.settings import Settings
from gis.store import open_store


def _cmd_day(args: argparse.Namespace, settings: Settings) -> int:
    day = parse_date(args.date, source="command line", field="--date") or now_local().date()
    geo = settings_geography(settings)
    with open_store(settings) as store:
        if args.draw_districts:
            n = assign_demo_districts(store, geo, day, by=args.by)
            print(f"{n} segments assigned to the resident duty officers from {day}")
        t = time.perf_counter()
        plans = plan_day(store, geo, day, walk_speed_kmh=settings.walk_speed_kmh)
        elapsed = time.perf_counter() - t
    for p in plans:
        extra = f" {len(p.stops)} site(s)" if p.kind == "sites" else ""
        print(
            f"{p.person_id:5s} {p.name:5s} {p.shift:7s} {p.task} {p.kind:8s} "
            f"{p.route_m / 1000:5.1f} km {p.minutes:4.0f} min{extra}"
            + (f"  ({'; '.join(p.notes)})" if p.notes else "")
        )
    print(f"{len(plans)} people on duty on {day}; planned in {elapsed:.2f} s")
    if args.html:
        out = Path(args.html)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(day_sheet_html(day, plans), encoding="utf-8")
        print(f"wrote {out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``plan``."""
    p = sub.add_parser("plan", help="the morning day plan per person on duty")
    psub = p.add_subparsers(dest="plan_command", required=True)
    d = psub.add_parser("day", help="plan a day from the roster, districts and cases")
    d.add_argument("--date", help="the day (default today)")
    d.add_argument("--html", help="write the printable plan (one page per person)")
    d.add_argument(
        "--draw-districts",
        action="store_true",
        help="first draw districts for the resident duty officers and record them from the day",
    )
    d.add_argument("--by", default="admin")
    d.set_defaults(func=_cmd_day)
