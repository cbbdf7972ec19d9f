"""Cost of taking a login back from the session cookie, per store, against a baseline.

A reload (or a new page on another instance) runs ``SessionTokens.verify`` (signature, then
the session's row) and reads the user again. The baseline is reading the user alone from the
same store in the same run, so the ratio says what the session row adds.

    python -m bench.bench_sessions [--runs 500] [--postgis]

``--postgis`` starts a throwaway PostGIS cluster (Debian's postgresql-15-postgis-3).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from gis.access.db import AccessDB, PostgresAccessDB, SqliteAccessDB
from gis.access.session_token import SessionTokens
from gis.access.users import StoreUserRepository, User, hash_password, utcnow


def _median_ms(func: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        func()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def measure(db: AccessDB, runs: int, label: str) -> None:
    repo = StoreUserRepository(db)
    repo.add(User("leader", "leadership"), hash_password("bench-password", rounds=4))
    tokens = SessionTokens(db)
    now = utcnow()
    token = tokens.issue("leader", issued_at=now, expires_at=now + timedelta(hours=8))
    for i in range(200):  # other people's sessions in the table
        tokens.issue("leader", issued_at=now, expires_at=now + timedelta(hours=8 + i))

    def restore() -> None:
        claims = tokens.verify(token, now=utcnow())
        repo.get(claims.username)

    base = _median_ms(lambda: repo.get("leader"), runs)
    full = _median_ms(restore, runs)
    print(
        f"{label}: user read {base:.3f} ms, restore (verify + user read) {full:.3f} ms, "
        f"ratio {full / base:.2f} (median of {runs})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--postgis", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        measure(SqliteAccessDB(Path(tmp) / "bench.gpkg"), args.runs, "GeoPackage")
    if args.postgis:
        from gis.store.testing import PgCluster

        cluster = PgCluster().start()
        try:
            db = PostgresAccessDB(cluster.create_database("bench_sessions"))
            measure(db, args.runs, "PostGIS")
            db.close()
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
