"""Batch intake against the database's own speed, memory at 1M reports, and the zone query.

In one run, on one throwaway PostGIS cluster and fresh GeoPackage files:

1. a CSV of N reports on the bundled Shichahai streets (a third of the rows sent as
   GCJ-02 and a sixth as BD-09, per-row ``datum`` column) is written first (not timed);
2. **PostGIS intake**: ``import_batch`` of that CSV (read, validate, convert datums, snap to
   segment/zone/front, COPY into ``cases`` and ``case_audit``, one transaction); then the
   **baseline**: a plain ``COPY`` of the very rows the intake stored (exported to a file
   first) into ``plain (LIKE cases INCLUDING ALL)`` — the same GiST, B-tree and unique
   indexes. Alternated ``--runs`` times on emptied tables;
3. **GeoPackage intake**: ``import_batch`` into a fresh file; **baseline**
   (:func:`plain_gpkg_copy`): a plain ``executemany`` of the same stored rows, and of their
   RTree index rows, into another fresh file (the same indexes), in one transaction; also
   shown: the same rows inserted through the standard RTree triggers (Python per row);
4. **memory**: ``import_batch`` in a child process for ``--rows`` and ``--big-rows``
   reports, peak RSS of each (the child's ``VmHWM``), on both stores; for GeoPackage
   also the plain ``executemany`` baseline of the same stored rows and index rows;
5. **zone query** on the stores holding the big import: the cases inside a bundled zone
   polygon (by geometry): PostGIS ``ST_Contains`` on the GiST index, the GeoPackage RTree
   joined to the table then an exact test of the candidates, the RTree's boxes alone
   (:func:`gis.store.gpkg_index.point_fids_within`), a GeoPackage full scan, and shapely
   over in-memory arrays (the baseline). All must agree.

Run: python -m bench.bench_store [--rows 100000] [--big-rows 1000000] [--runs 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gis.cases.batch import import_batch  # noqa: E402
from gis.cases.categories import load_references  # noqa: E402
from gis.geography.crs import from_wgs84  # noqa: E402
from gis.geography.layers import load_bundled_geography  # noqa: E402
from gis.localtime import LOCAL_TZ as TZ  # noqa: E402
from gis.store.geopackage import GeoPackageStore  # noqa: E402
from gis.store.gpkg_index import BULK_CACHE_KIB, point_fids_within  # noqa: E402
from gis.store.postgis import _DB_COLUMNS, PostGISStore  # noqa: E402
from gis.store.testing import PgCluster  # noqa: E402

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=TZ)
MAX_BYTES = 2_000_000_000


def _cases(n: int, refs, chunk: int = 50_000):
    """Chunks of synthetic cases (``bench.bench_cases``), the same rows for every store
    (read by bench_hotspots_sql and bench_tenancy)."""
    import dataclasses

    from bench.bench_cases import _close_most, synthetic_reports
    from gis.cases.intake import case_from_report

    for i in range(0, n, chunk):
        reports = synthetic_reports(min(chunk, n - i), seed=1 + i)
        reports = [
            dataclasses.replace(r, report_id=f"B{i + k:08d}", content_hash=f"h{i + k:08d}")
            for k, r in enumerate(reports)
        ]
        yield _close_most([case_from_report(r, refs, received_by="bench") for r in reports])


def write_reports(path: Path, n: int, seed: int = 0) -> None:
    """A CSV of ``n`` valid reports on the bundled streets, mixed datums, written in blocks."""
    from pyproj import Transformer

    geo = load_bundled_geography()
    to_wgs = Transformer.from_crs(geo.crs, "EPSG:4326", always_xy=True)
    segs = geo.segments.geometry.values
    rng = np.random.default_rng(seed)
    cats = np.array([f"C{i:02d}" for i in range(1, 30)])
    srcs = np.array(["patrol", "12345", "巡查", "video", "投诉"])
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("report_id,category,lon,lat,datum,reported_at,source,reporter,description\n")
        for start in range(0, n, 50_000):
            m = min(50_000, n - start)
            pick = rng.integers(0, len(segs), m)
            pts = shapely.line_interpolate_point(segs[pick], rng.uniform(0, 1, m), normalized=True)
            lon, lat = to_wgs.transform(shapely.get_x(pts), shapely.get_y(pts))
            datum = np.array(["wgs84", "gcj02", "wgs84", "gcj02", "bd09", "wgs84"])[
                np.arange(m) % 6
            ]
            for d in ("gcj02", "bd09"):
                sel = datum == d
                lon[sel], lat[sel] = from_wgs84(lon[sel], lat[sel], d)
            secs = rng.integers(0, 300 * 86400, m)
            t = np.datetime64("2026-01-01T00:00") + secs.astype("timedelta64[s]")
            times = np.char.replace(np.datetime_as_string(t, unit="m"), "T", " ")
            k = np.arange(start, start + m)
            lines = [
                f"B{k[j]:08d},{cats[k[j] % 29]},{lon[j]:.6f},{lat[j]:.6f},{datum[j]},{times[j]},"
                f"{srcs[j % 5]},p{j % 40},外摆桌椅占道 tables on the pavement {j % 97}\n"
                for j in range(m)
            ]
            fh.writelines(lines)


def _import(path: Path, store) -> tuple[float, int]:
    geo = load_bundled_geography()
    t0 = time.perf_counter()
    done = import_batch(
        path, store, refs=store.refs, now=NOW, received_by="bench", max_bytes=MAX_BYTES,
        gdf_segments=geo.segments, gdf_zones=geo.zones,
    )  # fmt: skip
    return time.perf_counter() - t0, done.added


def child(path: str, target: str) -> None:
    """Import in this process and print seconds, rows and peak RSS (for the memory figure).

    The peak is the kernel's ``VmHWM`` of this process's own memory (``ru_maxrss`` would
    carry the parent's size across the fork and exec).
    """
    store = PostGISStore(target) if target.startswith("postgresql") else GeoPackageStore(target)
    secs, added = _import(Path(path), store)
    store.close()
    status = Path("/proc/self/status").read_text().splitlines()
    rss = next(int(ln.split()[1]) for ln in status if ln.startswith("VmHWM:")) / 1024
    print(f"CHILD {secs:.2f} {added} {rss:.1f}")


def run_child(path: Path, target: str) -> tuple[float, int, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run(
        [sys.executable, "-m", "bench.bench_store", "--child", str(path), target],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    line = [ln for ln in res.stdout.splitlines() if ln.startswith("CHILD ")][-1].split()
    return float(line[1]), int(line[2]), float(line[3])


def _median_ms(fn, runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times), out


def bench_postgis(url: str, csv_path: Path, tmp: Path, runs: int) -> None:
    pg = PostGISStore(url, refs=load_references())
    cols = ", ".join(_DB_COLUMNS)
    copy_file = tmp / "cases.copy"
    audit_cols = "case_id, seq, action, from_state, to_state, who, at, note, params"
    audit_file = tmp / "audit.copy"
    with pg._tx(admin=True) as cur:
        cur.execute("CREATE TABLE plain (LIKE cases INCLUDING ALL)")
        cur.execute("CREATE TABLE plain_audit (LIKE case_audit INCLUDING ALL)")
        cur.execute("ALTER TABLE plain_audit ADD FOREIGN KEY (case_id) REFERENCES plain (case_id)")
    with pg._tx(admin=True) as cur:  # the subdistrict key, where the store has one
        cur.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = "
            "'subdistrict' AND table_name IN ('cases', 'case_audit')"
        )
        keyed = {r[0] for r in cur.fetchall()}
    cols += ", subdistrict" if "cases" in keyed else ""
    audit_cols += ", subdistrict" if "case_audit" in keyed else ""
    ours, base, both = [], [], []
    for r in range(runs):
        with pg._tx(admin=True) as cur:
            cur.execute("TRUNCATE cases, case_audit, plain, plain_audit CASCADE")
            cur.execute("CHECKPOINT")
        secs, added = _import(csv_path, pg)
        ours.append(secs)
        if r == 0:
            with pg._tx(admin=True) as cur, copy_file.open("w", encoding="utf-8") as fh:
                cur.copy_expert(f"COPY cases ({cols}) TO STDOUT", fh)
            with pg._tx(admin=True) as cur, audit_file.open("w", encoding="utf-8") as fh:
                cur.copy_expert(f"COPY case_audit ({audit_cols}) TO STDOUT", fh)
        with pg._tx(admin=True) as cur:
            cur.execute("CHECKPOINT")
        t0 = time.perf_counter()
        with pg._tx(admin=True) as cur, copy_file.open(encoding="utf-8") as fh:
            cur.copy_expert(f"COPY plain ({cols}) FROM STDIN", fh)
        base.append(time.perf_counter() - t0)
        with pg._tx(admin=True) as cur, audit_file.open(encoding="utf-8") as fh:
            cur.copy_expert(f"COPY plain_audit ({audit_cols}) FROM STDIN", fh)
        both.append(time.perf_counter() - t0)
        print(
            f"  run {r + 1}: PostGIS import_batch {secs:.2f} s ({added:,} rows), plain COPY "
            f"{base[-1]:.2f} s, ratio ×{secs / base[-1]:.2f}; plain COPY of the cases and "
            f"their audit rows (FK, as stored) {both[-1]:.2f} s, ratio ×{secs / both[-1]:.2f}"
        )
    print(
        f"PostGIS: median import {statistics.median(ours):.2f} s, plain COPY "
        f"{statistics.median(base):.2f} s, ratio ×{statistics.median(ours) / statistics.median(base):.2f}"
        f"; with audit rows {statistics.median(both):.2f} s, ratio "
        f"×{statistics.median(ours) / statistics.median(both):.2f}"
    )
    pg.close()


def plain_gpkg_copy(
    src: Path, dst: Path, *, triggers: bool, audit: bool = False, chunk: int = 20_000
) -> float:
    """The baseline: the rows of ``src``'s ``cases`` (as stored) inserted into a fresh store
    at ``dst`` with plain ``executemany`` calls of ``chunk`` rows in one transaction.

    ``triggers=True``: the standard RTree triggers index each row (the Python functions
    they call, as any plain insert into the schema does). ``triggers=False``: the insert
    trigger is dropped and the index rows of each chunk go in with one more plain
    ``executemany``, then the trigger is restored: the database's own time for the same
    rows and index. Both with the page cache of a bulk load (``bulk_cache``), as the
    intake has. ``audit=True``: the stored creation entries of ``case_audit`` too (as
    the intake writes them). Only the time inside the inserts and the commit is counted
    (reading ``src`` is not).
    """
    import sqlite3

    from gis.store.base import CASE_COLUMNS

    names = ["fid", "geom", *CASE_COLUMNS]
    sql = f"INSERT INTO cases ({','.join(names)}) VALUES ({','.join('?' * len(names))})"
    read = sqlite3.connect(src)
    cur = read.execute(f"SELECT {','.join(names)} FROM cases ORDER BY fid")
    plain = GeoPackageStore(dst, refs=load_references())
    con = plain._con
    con.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
    lon_at, lat_at = names.index("lon"), names.index("lat")
    spent = 0.0
    t0 = time.perf_counter()
    con.execute("BEGIN IMMEDIATE")
    if not triggers:
        con.execute("DROP TRIGGER rtree_cases_geom_insert")
    spent += time.perf_counter() - t0
    while rows := cur.fetchmany(chunk):
        index = [(r[0], r[lon_at], r[lon_at], r[lat_at], r[lat_at]) for r in rows]
        t0 = time.perf_counter()
        con.executemany(sql, rows)
        if not triggers:
            con.executemany("INSERT INTO rtree_cases_geom VALUES (?,?,?,?,?)", index)
        spent += time.perf_counter() - t0
    audit_cols = "case_id, seq, action, from_state, to_state, who, at, note, params"
    cur = read.execute(f"SELECT {audit_cols} FROM case_audit ORDER BY fid") if audit else None
    while cur is not None and (rows := cur.fetchmany(chunk)):
        t0 = time.perf_counter()
        con.executemany(f"INSERT INTO case_audit ({audit_cols}) VALUES (?,?,?,?,?,?,?,?,?)", rows)
        spent += time.perf_counter() - t0
    t0 = time.perf_counter()
    if not triggers:
        from gis.store.gpkg_index import _trigger_sql

        for stmt in _trigger_sql("cases", "geom", "fid"):
            con.execute(stmt)
    con.execute("COMMIT")
    spent += time.perf_counter() - t0
    read.close()
    plain.close()
    return spent


def bench_gpkg(csv_path: Path, tmp: Path, runs: int) -> None:
    refs = load_references()
    ours, base, trig, both = [], [], [], []
    for r in range(runs):
        path = tmp / f"ours{r}.gpkg"
        gp = GeoPackageStore(path, refs=refs)
        secs, added = _import(csv_path, gp)
        ours.append(secs)
        gp.close()
        base.append(plain_gpkg_copy(path, tmp / f"plain{r}.gpkg", triggers=False))
        both.append(plain_gpkg_copy(path, tmp / f"both{r}.gpkg", triggers=False, audit=True))
        trig.append(plain_gpkg_copy(path, tmp / f"trig{r}.gpkg", triggers=True))
        print(
            f"  run {r + 1}: GeoPackage import_batch {secs:.2f} s ({added:,} rows); plain "
            f"executemany of the rows and their index rows {base[-1]:.2f} s, ratio "
            f"×{secs / base[-1]:.2f}; with the audit rows (as stored) {both[-1]:.2f} s, "
            f"ratio ×{secs / both[-1]:.2f}; rows through the RTree triggers "
            f"{trig[-1]:.2f} s, ratio ×{secs / trig[-1]:.2f}"
        )
    m = statistics.median
    print(
        f"GeoPackage: median import {m(ours):.2f} s, plain executemany (rows + index rows) "
        f"{m(base):.2f} s, ratio ×{m(ours) / m(base):.2f}; with audit rows {m(both):.2f} s, "
        f"ratio ×{m(ours) / m(both):.2f}; through the triggers {m(trig):.2f} s, ratio "
        f"×{m(ours) / m(trig):.2f}"
    )


def zone_queries(pg: PostGISStore, gp: GeoPackageStore, runs: int) -> None:
    geo = load_bundled_geography()
    zones = geo.zones.to_crs("EPSG:4326")
    area = geo.zones.geometry.area
    picks = [str(zones["zone_id"].loc[area.idxmax()]), str(zones["zone_id"].loc[area.idxmin()])]
    con = gp._con
    lon, lat = (
        np.array(v, dtype=float)
        for v in zip(*con.execute("SELECT lon, lat FROM cases").fetchall(), strict=True)
    )
    n = len(lon)
    with pg._tx(admin=True) as cur:
        cur.execute("ANALYZE cases")
    for zone_id in picks:
        zone = zones.loc[zones["zone_id"] == zone_id].geometry.iloc[0]
        shapely.prepare(zone)
        zone_wkb = shapely.to_wkb(zone, hex=True)

        def mem(zone=zone):
            return int(shapely.contains_xy(zone, lon, lat).sum())

        def pg_query(zone_wkb=zone_wkb):
            with pg._tx(admin=True) as cur:
                cur.execute(
                    "SELECT count(*) FROM cases WHERE ST_Contains("
                    "ST_SetSRID(ST_GeomFromWKB(decode(%s, 'hex')), 4326), geom)",
                    (zone_wkb,),
                )
                return int(cur.fetchone()[0])

        def gp_rtree(zone=zone):
            minx, miny, maxx, maxy = zone.bounds
            rows = con.execute(
                "SELECT c.lon, c.lat FROM rtree_cases_geom r JOIN cases c ON c.fid = r.id "
                "WHERE r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ?",
                (minx, maxx, miny, maxy),
            ).fetchall()
            xy = np.array(rows, dtype=float).reshape(-1, 2)
            return int(shapely.contains_xy(zone, xy[:, 0], xy[:, 1]).sum())

        def gp_index(zone=zone):
            return len(point_fids_within(con, "cases", "geom", zone))

        def gp_scan(zone=zone):
            rows = np.array(con.execute("SELECT lon, lat FROM cases").fetchall(), dtype=float)
            return int(shapely.contains_xy(zone, rows[:, 0], rows[:, 1]).sum())

        ms_mem, want = _median_ms(mem, runs)
        ms_pg, got_pg = _median_ms(pg_query, runs)
        ms_rtree, got_rtree = _median_ms(gp_rtree, runs)
        ms_index, got_index = _median_ms(gp_index, runs)
        ms_scan, got_scan = _median_ms(gp_scan, max(1, runs // 3))
        got = (want, got_pg, got_rtree, got_index, got_scan)
        assert len(set(got)) == 1, got
        print(f"zone {zone_id} holds {want:,} of {n:,} cases")
        print(f"  {'zone query':34s} {'median ms':>10s} {'× memory':>9s}")
        for name, ms in (
            ("shapely in memory (baseline)", ms_mem),
            ("PostGIS ST_Contains (GiST)", ms_pg),
            ("GeoPackage RTree JOIN + exact test", ms_rtree),
            ("GeoPackage RTree boxes only", ms_index),
            ("GeoPackage full scan", ms_scan),
        ):
            print(f"  {name:34s} {ms:10.1f} {ms / ms_mem:9.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--big-rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--query-runs", type=int, default=7)
    ap.add_argument("--baseline-runs", type=int, default=2, help="GeoPackage baselines per size")
    ap.add_argument("--skip", default="", help="comma list of parts to skip: pg,gpkg,big,query")
    ap.add_argument("--memory-stores", default="gpkg,pg", help="stores of the 100k/1M memory runs")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    skip = set(filter(None, args.skip.split(",")))
    print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    with PgCluster() as cluster, tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        d = Path(tmp)
        small = d / "small.csv"
        t0 = time.perf_counter()
        write_reports(small, args.rows, seed=1)
        print(f"wrote {args.rows:,} reports ({small.stat().st_size / 1e6:.1f} MB) in "
              f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
        if "pg" not in skip:
            bench_postgis(cluster.create_database("bench_pg"), small, d, args.runs)
            print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        if "gpkg" not in skip:
            bench_gpkg(small, d, args.runs)
            print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        if "big" in skip:
            return
        big = d / "big.csv"
        write_reports(big, args.big_rows, seed=2)
        print(f"wrote {args.big_rows:,} reports ({big.stat().st_size / 1e6:.1f} MB)")
        stores = {}
        for kind in args.memory_stores.split(","):
            for label, path in (("small", small), ("big", big)):
                target = (
                    cluster.create_database(f"mem_{kind}_{label}")
                    if kind == "pg"
                    else str(d / f"mem_{label}.gpkg")
                )
                secs, added, rss = run_child(path, target)
                line = f"{kind} {added:,} reports in a child: {secs:.1f} s, peak RSS {rss:.0f} MB"
                if kind == "gpkg":
                    out = d / f"plain_{label}.gpkg"
                    plains, boths = [], []
                    for _ in range(args.baseline_runs):
                        plains.append(plain_gpkg_copy(Path(target), out, triggers=False))
                        out.unlink()
                        boths.append(plain_gpkg_copy(Path(target), out, triggers=False, audit=True))
                        out.unlink()
                    plain, both = statistics.median(plains), statistics.median(boths)
                    line += (
                        f"; plain executemany of the same rows and index rows "
                        f"{'/'.join(f'{v:.1f}' for v in plains)} s (median ratio "
                        f"×{secs / plain:.2f}); with the audit rows "
                        f"{'/'.join(f'{v:.1f}' for v in boths)} s (median ratio "
                        f"×{secs / both:.2f})"
                    )
                print(line, flush=True)
                stores[(kind, label)] = target
        if "query" in skip:
            return
        pg = PostGISStore(stores[("pg", "big")])
        gp = GeoPackageStore(stores[("gpkg", "big")])
        zone_queries(pg, gp, args.query_runs)
        gp.close()
        pg.close()


if __name__ == "__main__":
    main()
