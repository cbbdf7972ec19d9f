"""Sign-in subcommands: ``patrol signin record|show``."""

from __future__ import annotations

import argparse
import datetime as dt

import pandas as pd

from gis.localtime import LOCAL_TZ as TZ
from gis.localtime import now_local, parse_date, parse_instant
from gis.people.service import attendance_between, sign_in
from gis.people.signin import Recorder, attendance_summary
from gis.services.subdistricts import settings_geography
from gis.settings import Settings
from gis.store import open_store


def _time(text: str | None) -> dt.datetime | None:
    return parse_instant(text, source="command line", field="--at") if text else None


def _cmd_record(args: argparse.Namespace, settings: Settings) -> int:
    by = (
        Recorder(args.person_id, "patrol", args.person_id)
        if args.self_
        else Recorder(args.by, "area_chief")
    )
    geo = settings_geography(settings)
    with open_store(settings) as store:
        s = sign_in(
            store,
            geo,
            args.person_id,
            by=by,
            now=dt.datetime.now(TZ),
            at=_time(args.at),
            lon=args.lon,
            lat=args.lat,
            slot=args.slot,
            note=args.note,
        )
    flags = [f for f, on in (("late", s.late), ("out of fence", s.out_of_fence)) if on]
    where = f", {s.distance_m:.0f} m from center/district" if s.distance_m is not None else ""
    print(
        f"{s.person_id} signed in for the {s.slot} of {s.day} at {s.at:%H:%M}{where}"
        + (f" [{', '.join(flags)}]" if flags else "")
    )
    return 0


def _cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    day = parse_date(args.date, source="command line", field="--date") or now_local().date()
    end = parse_date(args.until, source="command line", field="--until") if args.until else day
    assert end is not None
    with open_store(settings) as store:
        table = attendance_between(store, day, end, now=dt.datetime.now(TZ))
    for r in table.itertuples():
        at = r.at.strftime("%H:%M") if pd.notna(r.at) else "--:--"
        fence = " out-of-fence" if r.out_of_fence else ""
        print(f"{r.day} {r.slot:7s} {r.person_id:5s} {r.team:5s} {r.status:7s} {at}{fence}")
    summary = attendance_summary(table, by=args.by)
    print(summary.to_string(index=False) if not summary.empty else "no sign-ins expected")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``signin``."""
    p = sub.add_parser("signin", help="sign-in at 09:00 and 19:00 (签到)")
    ssub = p.add_subparsers(dest="signin_command", required=True)
    r = ssub.add_parser("record", help="record a sign-in")
    r.add_argument("person_id")
    r.add_argument("--at", help="time (Beijing), default now")
    r.add_argument("--lon", type=float)
    r.add_argument("--lat", type=float)
    r.add_argument("--slot", choices=("morning", "evening"))
    r.add_argument("--self", dest="self_", action="store_true", help="the person signs in")
    r.add_argument("--by", default="chief", help="the area chief recording it")
    r.add_argument("--note", default="")
    r.set_defaults(func=_cmd_record)
    s = ssub.add_parser("show", help="attendance of a day (or a range)")
    s.add_argument("--date", help="first day (default today)")
    s.add_argument("--until", help="last day (default the first)")
    s.add_argument("--by", choices=("person_id", "team"), default="person_id")
    s.set_defaults(func=_cmd_show)
