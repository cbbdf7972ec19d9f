"""Case store throughput: ingest rate and "open cases in zone Z in the last 30 days" latency.

GeoPackage and PostGIS against the same work done in geopandas in memory (the baseline),
at 10k, 100k and 1M synthetic cases (1M is ingested in 100k transactions).

Run: python -m bench.bench_cases [--sizes 10000 100000 1000000] [--runs 20]
     [--no-postgis] [--no-geopackage]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gis.cases.categories import load_references  # noqa: E402
from gis.cases.intake import Report, case_from_report  # noqa: E402
from gis.cases.workflow import OPEN_STATES, cases_to_frame  # noqa: E402
from gis.localtime import LOCAL_TZ as TZ  # noqa: E402
from gis.store.geopackage import GeoPackageStore  # noqa: E402

NOW = dt.datetime(2026, 6, 1, tzinfo=TZ)
ZONES = [f"1101020120{i:05d}" for i in range(60)]
CHUNK = 100_000


def synthetic_reports(n: int, seed: int = 1) -> list[Report]:
    """``n`` reports spread over a year, 60 zones, all categories (no snapping work)."""
    rng = np.random.default_rng(seed)
    secs = rng.uniform(0, 365 * 86400, n)
    lon = rng.uniform(116.366, 116.393, n)
    lat = rng.uniform(39.921, 39.947, n)
    cats = rng.integers(1, 30, n)
    zones = rng.integers(0, len(ZONES), n)
    start = NOW - dt.timedelta(days=365)
    return [
        Report(
            report_id=f"B{i:07d}",
            category=f"C{int(cats[i]):02d}",
            lon=float(lon[i]),
            lat=float(lat[i]),
            reported_at=start + dt.timedelta(seconds=float(secs[i])),
            source="patrol",
            reporter="bench",
            description="benchmark",
            content_hash=f"h{i:07d}",
            zone_id=ZONES[int(zones[i])],
            front_id="scenic",
            segment_id=f"S{int(zones[i]):03d}-01",
        )
        for i in range(n)
    ]


def _close_most(cases, seed: int = 2):
    """80 % of cases closed, the rest spread over the open states."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(size=len(cases))
    opens = rng.integers(0, len(OPEN_STATES), len(cases))
    out = []
    for c, x, k in zip(cases, u, opens, strict=True):
        if x < 0.8:
            out.append(dataclasses.replace(c, state="closed", closed_at=c.reported_at))
        else:
            out.append(dataclasses.replace(c, state=OPEN_STATES[int(k)]))
    return out


def server_cpu_seconds(cluster) -> float:
    """CPU seconds used so far by the cluster's server processes (postmaster children)."""
    if cluster is None or cluster.dir is None:
        return 0.0
    pid_file = cluster.dir / "data" / "postmaster.pid"
    master = int(pid_file.read_text().split()[0])
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master or int(d.name) == master:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def bench_size(
    n: int, runs: int, pg_url_factory, cluster=None, geopackage: bool = True
) -> list[dict]:
    refs = load_references()
    reports = synthetic_reports(n)
    cases = _close_most([case_from_report(r, refs, received_by="bench") for r in reports])
    zone = ZONES[7]
    since = NOW - dt.timedelta(days=30)
    rows = []

    # baseline: geopandas in memory
    t0 = time.perf_counter()
    c0 = time.process_time()
    frame = cases_to_frame(cases)
    t_frame = time.perf_counter() - t0
    cpu_frame = time.process_time() - c0

    def mem_query():
        f = frame
        m = (f["zone_id"] == zone) & f["state"].isin(OPEN_STATES) & (f["reported_at"] >= since)
        return f.loc[m]

    expected = len(mem_query())
    rows.append(
        {
            "backend": "geopandas (memory)",
            "rows": n,
            "ingest_s": t_frame,
            "ingest_cpu_s": cpu_frame,
            "ingest_per_s": n / t_frame,
            "query_ms": _median_ms(mem_query, runs),
            "hits": expected,
        }
    )

    def run_store(name, store, server=None):
        t0 = time.perf_counter()
        c0 = time.process_time() + server_cpu_seconds(server)
        for i in range(0, n, CHUNK):
            store.add_cases(cases[i : i + CHUNK])
        t = time.perf_counter() - t0
        cpu = time.process_time() + server_cpu_seconds(server) - c0
        got = store.cases_frame(zone_id=zone, open_only=True, since=since)
        assert len(got) == expected, (name, len(got), expected)
        q_frame = _median_ms(
            lambda: store.cases_frame(zone_id=zone, open_only=True, since=since), runs
        )
        q_cases = _median_ms(
            lambda: store.query_cases(zone_id=zone, open_only=True, since=since), runs
        )
        rows.append(
            {
                "backend": name,
                "rows": n,
                "ingest_s": t,
                "ingest_cpu_s": cpu,
                "ingest_per_s": n / t,
                "query_ms": q_frame,
                "query_cases_ms": q_cases,
                "hits": len(got),
            }
        )

    if geopackage:
        with tempfile.TemporaryDirectory() as d:
            store = GeoPackageStore(Path(d) / "bench.gpkg", refs=refs)
            run_store("GeoPackage", store)
            store.close()
    if pg_url_factory is not None:
        from gis.store.postgis import PostGISStore

        store = PostGISStore(pg_url_factory(f"bench_{n}"), refs=refs)
        run_store("PostGIS", store, cluster)
        with store._tx() as cur:  # the plan, for the record
            cur.execute(
                "EXPLAIN ANALYZE SELECT case_id FROM cases WHERE zone_id = %s AND "
                "state NOT IN ('closed', 'rejected', 'duplicate') AND reported_at >= %s",
                (zone, since),
            )
            plan = "\n".join(r[0] for r in cur.fetchall())
        rows[-1]["plan"] = plan
        store.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-postgis", action="store_true")
    parser.add_argument("--no-geopackage", action="store_true")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    cluster = None
    factory = None
    if not args.no_postgis:
        from gis.store.testing import PgCluster, missing_reason

        reason = missing_reason()
        if reason:
            print(f"PostGIS skipped: {reason}")
        else:
            cluster = PgCluster().start()
            factory = cluster.create_database
    try:
        all_rows = []
        for n in args.sizes:
            rows = bench_size(n, args.runs, factory, cluster, not args.no_geopackage)
            all_rows.extend(rows)
            base = rows[0]
            for r in rows:
                ratio = r["query_ms"] / base["query_ms"] if base["query_ms"] else float("nan")
                print(
                    f"{r['backend']:20s} n={r['rows']:>8,d} ingest {r['ingest_s']:7.2f} s "
                    f"(cpu {r['ingest_cpu_s']:6.2f} s) "
                    f"({r['ingest_per_s']:>9,.0f}/s)  zone query {r['query_ms']:8.2f} ms "
                    f"(x{ratio:5.1f} of memory)"
                    + (
                        f"  as Case objects {r['query_cases_ms']:8.2f} ms"
                        if "query_cases_ms" in r
                        else ""
                    )
                    + f"  hits {r['hits']}",
                    flush=True,
                )
            if "plan" in rows[-1]:
                print(rows[-1]["plan"])
        df = pd.DataFrame([{k: v for k, v in r.items() if k != "plan"} for r in all_rows])
        print(df.to_string(index=False))
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
