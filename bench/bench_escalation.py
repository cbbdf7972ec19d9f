"""Escalation check benchmark: what the app pays once a minute (and a timer every few).

Run from the repository root::

    python -m bench.bench_escalation --cases 5000 --runs 5

A GeoPackage holds ``--cases`` open cases with served notices (a tenth past their
deadline). Timed in the same process:

* baseline: reading the open cases (``query_cases(open_only=True)``), the floor of any check;
* first: the first check, which escalates every overdue case (alerts and steps written);
* steady: the check once everything is escalated (what every later minute costs).
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

from gis.cases.workflow import Case
from gis.coordination.handling import escalate_overdue
from gis.localtime import LOCAL_TZ as TZ
from gis.store.geopackage import GeoPackageStore


def seed(store: GeoPackageStore, n: int, now: dt.datetime) -> int:
    """n open cases with notices; every tenth one 3 h past its deadline. Returns overdue."""
    cases = []
    for i in range(n):
        served = now - dt.timedelta(hours=5 if i % 10 == 0 else 1)
        cases.append(
            Case(
                case_id=f"E{i:06d}",
                category="C04",
                tier="general",
                state="notice_served",
                source="patrol",
                reported_at=served - dt.timedelta(hours=1),
                lon=116.385 + (i % 100) * 1e-4,
                lat=39.938 + (i // 100 % 100) * 1e-4,
                lead_dept="chengguan",
                owner="bench",
                deadline_at=served + dt.timedelta(hours=2),
                updated_at=served,
                updated_by="bench",
                version=3,
            )  # fmt: skip
        )
    store.add_cases(cases)
    return sum(1 for i in range(n) if i % 10 == 0)


def timed(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    now = dt.datetime.now(TZ)
    with tempfile.TemporaryDirectory() as tmp, GeoPackageStore(Path(tmp) / "b.gpkg") as store:
        overdue = seed(store, args.cases, now)
        base = timed(lambda: store.query_cases(open_only=True), args.runs)
        t = time.perf_counter()
        made = escalate_overdue(store, now=now)
        first = time.perf_counter() - t
        assert len(made) == overdue, (len(made), overdue)
        steady = timed(lambda: escalate_overdue(store, now=now), args.runs)
    print(f"{args.cases} open cases, {overdue} overdue")
    print(f"baseline read open cases: {base * 1000:8.1f} ms")
    print(f"first check (escalates):  {first * 1000:8.1f} ms  ({first / base:5.1f} x baseline)")
    print(f"steady check:             {steady * 1000:8.1f} ms  ({steady / base:5.1f} x baseline)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
