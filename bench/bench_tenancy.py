"""Intake under row-level security: the owner's login against an app login, same rows.

PostgreSQL refuses ``COPY FROM`` into a table whose policies apply to the session. A login
that owns the tables COPYs directly (dropping ``patrol_app`` for the COPY alone); an app
login (member of ``patrol_app``, no owner rights) COPYs into a temporary table and inserts
from it under the policies. This measures both on one throwaway cluster, alternating::

    python -m bench.bench_tenancy --rows 50000 --runs 2
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_store import _cases  # noqa: E402
from gis.cases.categories import load_references  # noqa: E402
from gis.store.postgis import PostGISStore  # noqa: E402
from gis.store.testing import PgCluster  # noqa: E402


def _app_login(url: str) -> str:
    """The URL of a login in patrol_app (trust auth), created once per cluster."""
    import psycopg2

    con = psycopg2.connect(url)
    with con, con.cursor() as cur:
        cur.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_web') "
            "THEN CREATE ROLE bench_web LOGIN NOBYPASSRLS IN ROLE patrol_app; END IF; END $$"
        )
    con.close()
    return url.replace("postgres@", "bench_web@", 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    refs = load_references()
    chunks = list(_cases(args.rows, refs))
    times: dict[str, list[float]] = {"owner": [], "app login": []}
    with PgCluster() as cluster:
        for run in range(args.runs):
            for label in times:
                url = cluster.create_database(f"tenancy_{run}_{label.replace(' ', '_')}")
                PostGISStore(url, refs=refs).close()  # the schema, as the owner
                if label == "app login":
                    url = _app_login(url)
                store = PostGISStore(url, refs=refs)
                t0 = time.perf_counter()
                added, _ = store.add_cases_stream(iter(chunks))
                times[label].append(time.perf_counter() - t0)
                assert added == args.rows, added
                print(f"{label:10s} ({store._copy_mode} COPY): {times[label][-1]:.1f} s")
                store.close()
    owner, app = (statistics.median(times[k]) for k in ("owner", "app login"))
    print(
        f"{args.rows:,} cases, median: owner {owner:.1f} s, app login {app:.1f} s, ×{app / owner:.2f}"
    )


if __name__ == "__main__":
    main()
