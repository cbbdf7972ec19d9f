"""Roster and day-plan benchmark: a fair month's roster for 24 duty officers and the day plan
for everyone on duty, each against a simple baseline timed in the same process.

Run from the repository root::

    python -m bench.bench_people --runs 5

* roster: :func:`generate_roster` for the 24 resident duty officers × 31 days, against a
  cyclic rota (person i works shift (i + day) mod 3, rests every 7th day) that ignores
  holidays, rest rules and fairness; also the rule check of both;
* day plan: the plans of everyone on duty on one day of the bundled demo (districts drawn for
  the 24 officers, the synthetic case history), against one postman tour per district
  (what the patrol page plans for a single person today).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gis.cases.demo_history import generate_demo_history, write_demo_history
from gis.geography.layers import load_bundled_geography
from gis.localtime import LOCAL_TZ as TZ
from gis.localtime import parse_date
from gis.people.calendar import month_days
from gis.people.roster import SHIFTS, RosterEntry, generate_roster, roster_problems
from gis.people.service import (
    assign_demo_districts,
    center_node,
    demo_people,
    make_month_roster,
    plan_day,
)
from gis.planning.postman import plan_postman_route
from gis.settings import Settings
from gis.store.geopackage import GeoPackageStore


def cyclic(people, days):
    """The baseline rota."""
    out = []
    for i, p in enumerate(people):
        for k, d in enumerate(days):
            duty = "rest" if (i + k) % 7 == 6 else SHIFTS[(i + k) % 3]
            out.append(RosterEntry(d, p.person_id, duty))
    return out


def timed(fn, runs):
    times = []
    result = None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--date", default="2026-10-12")
    args = ap.parse_args(argv)
    settings = Settings()
    staff = demo_people(settings)
    officers = [p for p in staff if p.presence == "resident" and p.role == "duty_officer"]
    for y, m in ((2026, 5), (2026, 10), (2026, 2)):
        days = month_days(y, m)
        ours_s, ours = timed(lambda days=days: generate_roster(officers, days), args.runs)
        base_s, base = timed(lambda days=days: cyclic(officers, days), args.runs)
        print(
            f"roster {y}-{m:02d} {len(officers)}×{len(days)}: ours {ours_s * 1000:.1f} ms "
            f"({len(roster_problems(ours))} broken rules), cyclic baseline "
            f"{base_s * 1000:.2f} ms ({len(roster_problems(base))} broken rules), "
            f"×{ours_s / base_s:.0f}"
        )
    day = parse_date(args.date, source="--date", required=True)
    geo = load_bundled_geography(settings)
    with tempfile.TemporaryDirectory() as tmp:
        store = GeoPackageStore(Path(tmp) / "bench.gpkg")
        store.people.save_people(staff)
        make_month_roster(store, day.year, day.month, by="bench")
        assign_demo_districts(store, geo, day - dt.timedelta(days=30), by="bench")
        end = dt.datetime.combine(day, dt.time(0), tzinfo=TZ)
        history = generate_demo_history(geo.segments, geo.pois, end=end, days=180, seed=0)
        write_demo_history(store, history)
        cases = store.cases_frame()
        plan_s, plans = timed(lambda: plan_day(store, geo, day, cases=cases), args.runs)
        districts: dict[str, list[str]] = {}
        for a in store.people.assignments_on(day):
            districts.setdefault(a.person_id, []).append(a.segment_id)
        depot = center_node(geo)
        on_duty = [p.person_id for p in plans]

        def tours():
            return [
                plan_postman_route(geo.G, districts[p], depot) for p in on_duty if p in districts
            ]

        base_s, _ = timed(tours, args.runs)
        kinds = {
            k: sum(p.kind == k for p in plans) for k in ("sites", "postman", "hotspots", "none")
        }
        stops = sum(len(p.stops) for p in plans)
        print(
            f"day plan {day}: {len(plans)} people on duty ({kinds}, {stops} sites, "
            f"{len(cases)} cases): ours {plan_s:.2f} s, one postman tour per district "
            f"{base_s:.2f} s, ×{plan_s / base_s:.1f}"
        )
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
