"""Track subcommands: ``patrol tracks import|report``."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from gis.errors import ValidationError
from gis.localtime import LOCAL_TZ as TZ
from gis.localtime import now_local, parse_date
from gis.people.service import coverage_report, import_track
from gis.services.subdistricts import settings_geography
from gis.settings import Settings
from gis.store import open_store


def _cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise ValidationError("track file does not exist", source=path.name)
    day = parse_date(args.date, source="command line", field="--date")
    if day is None:
        raise ValidationError("no --date", field="--date", fix="give the shift's day")
    geo = settings_geography(settings)
    with open_store(settings) as store:
        track, new = import_track(
            store,
            geo,
            path.read_bytes(),
            person_id=args.person,
            day=day,
            by=args.by,
            now=dt.datetime.now(TZ),
            source=path.name,
            datum=args.datum,
        )
    state = "stored" if new else "already stored (nothing stored twice)"
    print(
        f"{path.name}: {len(track.times)} points {track.started_at:%H:%M}–{track.ended_at:%H:%M} "
        f"for {track.person_id} on {track.day}: {state}"
    )
    for n in track.notes:
        print(f"  cleaned: {n}")
    return 0


def _cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    day = parse_date(args.date, source="command line", field="--date") or now_local().date()
    geo = settings_geography(settings)
    with open_store(settings) as store:
        rep = coverage_report(store, geo, day)
    for r in rep.rows:
        gaps = ", ".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in r.gaps) or "none"
        print(
            f"{r.person_id:5s} {r.shift:7s} planned {r.planned_m:6.0f} m covered "
            f"{r.covered_m:6.0f} m ({r.covered_share:4.0%}) on post {r.on_post_min:4.0f} of "
            f"{r.shift_min:.0f} min ({r.on_post_share:4.0%}) fixes {r.fixes:5d} gaps>15min {gaps}"
        )
    for pid, segs in sorted(rep.not_walked.items()):
        if segs:
            print(f"{pid}: {len(segs)} district segment(s) not walked in 7 days")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``tracks``."""
    p = sub.add_parser("tracks", help="patrol tracks: import GPX, coverage report")
    tsub = p.add_subparsers(dest="tracks_command", required=True)
    i = tsub.add_parser("import", help="import a GPX track of one person's day")
    i.add_argument("file")
    i.add_argument("--person", required=True)
    i.add_argument("--date", required=True, help="the shift's day (YYYY-MM-DD)")
    i.add_argument("--datum", default="wgs84", help="wgs84 | gcj02 (AMap, WeChat) | bd09")
    i.add_argument("--by", default="admin")
    i.set_defaults(func=_cmd_import)
    r = tsub.add_parser("report", help="coverage per person and shift")
    r.add_argument("--date", help="the day (default today)")
    r.set_defaults(func=_cmd_report)
