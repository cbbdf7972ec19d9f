"""Where the time of a PostGIS batch intake goes: client, statements, server.

On one throwaway PostGIS cluster, for a CSV of N reports as bench_store writes them:

1. **client alone**: ``import_batch`` into a store that only builds the COPY text (no
   database, no threads), CPU seconds: reading + validating + converting + snapping vs
   building the COPY text of the cases and their audit rows; ``--cprofile`` prints the
   functions that cost most;
2. **the real import**, every statement timed on the client (the COPYs include waiting
   for the server, which works while the next chunk is built in a thread);
3. **server alone**: the stored rows exported to COPY files, then copied back into the
   emptied tables: ``cases`` (all its indexes), a table ``LIKE cases INCLUDING ALL`` (the
   benchmark's baseline), ``case_audit`` as stored (foreign key, indexes), without its
   foreign key, and with the (subdistrict, case_id) index that migration 010 dropped;
   and ``EXPLAIN ANALYZE`` of the ``INSERT … SELECT`` of the fallback route (staging
   table; it shows the foreign key's trigger time).

Run: python -m bench.profile_intake [--rows 100000] [--runs 2] [--cprofile]
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg2.extensions

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import gis.cases.batch as batch  # noqa: E402
from bench.bench_store import _import, write_reports  # noqa: E402
from gis.cases.categories import load_references  # noqa: E402
from gis.store.postgis import _DB_COLUMNS, PostGISStore  # noqa: E402
from gis.store.testing import PgCluster  # noqa: E402

AUDIT = "case_id, seq, action, from_state, to_state, who, at, note, params"
TIMES: dict[str, list[float]] = collections.defaultdict(list)


class _Timed(psycopg2.extensions.cursor):
    """A cursor that adds each statement's time to ``TIMES`` (by its first words)."""

    def _key(self, q) -> str:
        text = q if isinstance(q, str) else q.as_string(self)
        return " ".join(text.split()[:3])[:40]

    def execute(self, q, a=None):
        t = time.perf_counter()
        try:
            return super().execute(q, a)
        finally:
            TIMES[self._key(q)].append(time.perf_counter() - t)

    def copy_expert(self, q, f, size=8192):
        t = time.perf_counter()
        try:
            return super().copy_expert(q, f, size)
        finally:
            TIMES[self._key(q)].append(time.perf_counter() - t)


def client_alone(csv_path: Path, runs: int, profile: bool) -> None:
    import gis.store.case_columns as cc

    batch_prefetched = batch.prefetched
    batch.prefetched = lambda x: x  # no threads: CPU seconds of one thread
    text_cpu = [0.0]
    copy_text, audit_text = cc.copy_text, cc.audit_copy_text

    def timed(fn):
        def inner(*a, **k):
            t = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                text_cpu[0] += time.process_time() - t

        return inner

    cc.copy_text, cc.audit_copy_text = timed(copy_text), timed(audit_text)
    try:
        total, text = [], []
        for _ in range(runs):
            text_cpu[0] = 0.0
            t = time.process_time()
            _import(csv_path, _NullStore())
            total.append(time.process_time() - t)
            text.append(text_cpu[0])
        tot, txt = statistics.median(total), statistics.median(text)
        print(f"client alone (CPU s, median of {runs}): whole import {tot:.2f}; "
              f"read+validate+convert+snap {tot - txt:.2f}; COPY text of cases+audit {txt:.2f}")  # fmt: skip
        if profile:
            prof = cProfile.Profile()
            prof.enable()
            _import(csv_path, _NullStore())
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(15)
    finally:
        batch.prefetched = batch_prefetched
        cc.copy_text, cc.audit_copy_text = copy_text, audit_text


class _NullStore:
    refs = load_references()

    def add_case_columns(self, chunks):
        import gis.store.case_columns as cc

        n = 0
        for n_in, *_ in cc._prepared(chunks, _DB_COLUMNS):
            n += n_in
        return n, 0


def real_import(store: PostGISStore, csv_path: Path, runs: int) -> None:
    for con in store._pool._pool:
        con.cursor_factory = _Timed
    walls = []
    per: dict[str, list[float]] = collections.defaultdict(list)
    for _ in range(runs):
        with store._tx(admin=True) as cur:
            cur.execute("TRUNCATE cases, case_audit CASCADE")
            cur.execute("CHECKPOINT")
        TIMES.clear()
        t = time.perf_counter()
        _import(csv_path, store)
        walls.append(time.perf_counter() - t)
        for k, v in TIMES.items():
            per[k].append(sum(v))
    wall = statistics.median(walls)
    print(f"real import (wall s, median of {runs}): {wall:.2f}; statements on the client:")
    for k, v in sorted(per.items(), key=lambda kv: -statistics.median(kv[1]))[:6]:
        print(f"  {statistics.median(v):6.2f}  {k} …  (×{len(TIMES.get(k, []))})")


def server_alone(store: PostGISStore, tmp: Path, runs: int) -> None:
    cols = ", ".join(_DB_COLUMNS)
    con = store._pool.getconn()
    con.cursor_factory = psycopg2.extensions.cursor
    con.autocommit = True
    cur = con.cursor()
    cases_file, audit_file = tmp / "cases.copy", tmp / "audit.copy"
    with cases_file.open("w") as fh:
        cur.copy_expert(f"COPY cases ({cols}) TO STDOUT", fh)
    with audit_file.open("w") as fh:
        cur.copy_expert(f"COPY case_audit ({AUDIT}) TO STDOUT", fh)
    cur.execute("SET app.subdistrict = 'shichahai'")
    cur.execute("CREATE TABLE plain (LIKE cases INCLUDING ALL)")
    cur.execute("CREATE TABLE audit_nofk (LIKE case_audit INCLUDING ALL)")
    cur.execute("CREATE TABLE audit_008 (LIKE case_audit INCLUDING ALL)")
    cur.execute("ALTER TABLE audit_008 ADD FOREIGN KEY (case_id) REFERENCES cases (case_id)")
    cur.execute("CREATE INDEX ON audit_008 (subdistrict, case_id)")
    steps = [
        ("COPY cases (as stored)", "cases", cols, cases_file),
        ("COPY plain (LIKE cases INCLUDING ALL)", "plain", cols, cases_file),
        ("COPY case_audit (as stored: FK)", "case_audit", AUDIT, audit_file),
        ("COPY case_audit without its FK", "audit_nofk", AUDIT, audit_file),
        ("COPY case_audit with the 008 index", "audit_008", AUDIT, audit_file),
    ]
    got: dict[str, list[float]] = collections.defaultdict(list)
    for _ in range(runs):
        cur.execute("TRUNCATE cases, case_audit, plain, audit_nofk, audit_008 CASCADE")
        cur.execute("CHECKPOINT")
        for label, table, names, path in steps:
            with path.open() as fh:
                t = time.perf_counter()
                cur.copy_expert(f"COPY {table} ({names}) FROM STDIN", fh, size=1 << 22)
                got[label].append(time.perf_counter() - t)
    print(f"server alone (wall s, median of {runs}):")
    for label, v in got.items():
        print(f"  {statistics.median(v):6.2f}  {label}")
    cur.execute("TRUNCATE cases, case_audit CASCADE")
    cur.execute("CREATE TEMP TABLE stage (LIKE cases INCLUDING DEFAULTS)")
    cur.execute("CREATE TEMP TABLE astage (LIKE case_audit INCLUDING DEFAULTS)")
    with cases_file.open() as fh:
        cur.copy_expert(f"COPY stage ({cols}) FROM STDIN", fh)
    with audit_file.open() as fh:
        cur.copy_expert(f"COPY astage ({AUDIT}) FROM STDIN", fh)
    cur.execute("CHECKPOINT")
    for stmt in (
        f"INSERT INTO cases ({cols}) SELECT {cols} FROM stage ON CONFLICT DO NOTHING",
        f"INSERT INTO case_audit ({AUDIT}) SELECT {AUDIT} FROM astage",
    ):
        cur.execute("EXPLAIN ANALYZE " + stmt)
        lines = [r[0] for r in cur.fetchall()]
        keep = [ln for ln in lines if ln.startswith(("Insert", "Trigger", "Execution"))]
        print("  EXPLAIN ANALYZE " + stmt.split(" SELECT")[0].split(" (")[0] + ":")
        for ln in keep:
            print("    " + ln.strip()[:110])
    store._pool.putconn(con)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--cprofile", action="store_true")
    args = ap.parse_args()
    with PgCluster() as cluster, tempfile.TemporaryDirectory(prefix="profile-intake-") as tmp:
        d = Path(tmp)
        csv_path = d / "reports.csv"
        write_reports(csv_path, args.rows, seed=1)
        print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        client_alone(csv_path, args.runs, args.cprofile)
        store = PostGISStore(cluster.create_database("prof"), refs=load_references())
        real_import(store, csv_path, args.runs)
        server_alone(store, d, args.runs)
        store.close()
        print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
