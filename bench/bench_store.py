"""Store intake against a plain COPY, and a spatial zone query, on both stores.

In one run, on one throwaway PostGIS cluster:

1. **baseline**: ``COPY`` of the same case rows (text prepared beforehand, on disk) into a
   table shaped like ``cases`` with the same indexes (GiST on geom, the btrees, the unique
   keys) — the database's own speed;
2. **PostGIS intake**: the same cases (already built Case objects) through
   ``PostGISStore.add_cases_stream`` (COPY into staging, de-duplication, audit rows);
3. **GeoPackage intake**: the same cases through ``GeoPackageStore.add_cases_stream``
   (with the RTree index kept by its triggers);
4. **zone query**: the cases inside a bundled zone polygon (the largest and the smallest), by geometry (not the stored
   zone id): PostGIS ``ST_Contains`` on the GiST index, the GeoPackage RTree bbox then an
   exact test of the candidates, the GeoPackage without its index (a full scan), and
   shapely over the whole coordinate arrays in memory (the baseline).

Run: python -m bench.bench_store [--rows 1000000] [--runs 7] [--zone 110102012001]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_cases import _close_most, synthetic_reports  # noqa: E402
from gis.cases.intake import case_from_report, load_references  # noqa: E402
from gis.geography.layers import load_bundled_geography  # noqa: E402
from gis.store.geopackage import GeoPackageStore  # noqa: E402
from gis.store.postgis import PostGISStore, _case_lines  # noqa: E402
from gis.store.testing import PgCluster  # noqa: E402

CHUNK = 50_000


def _median_ms(fn, runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times), out


def _cases(n: int, refs):
    """Case chunks, built once per chunk (the same rows for every store)."""
    for i in range(0, n, CHUNK):
        reports = synthetic_reports(min(CHUNK, n - i), seed=1 + i)
        reports = [
            dataclasses.replace(r, report_id=f"B{i + k:08d}", content_hash=f"h{i + k:08d}")
            for k, r in enumerate(reports)
        ]
        yield _close_most([case_from_report(r, refs, received_by="bench") for r in reports])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument(
        "--zone", default=None, help="zone id (default: the largest and the smallest bundled zone)"
    )
    args = ap.parse_args()
    n = args.rows
    refs = load_references()
    geo = load_bundled_geography()
    zones = geo.zones.to_crs("EPSG:4326")
    area = geo.zones.geometry.area
    picks = (
        [args.zone]
        if args.zone
        else [
            str(zones["zone_id"].loc[area.idxmax()]),
            str(zones["zone_id"].loc[area.idxmin()]),
        ]
    )
    picked = [(z, zones.loc[zones["zone_id"] == z].geometry.iloc[0]) for z in picks]

    t0 = time.perf_counter()
    chunks = list(_cases(n, refs))
    print(f"built {n:,} cases in {time.perf_counter() - t0:.1f} s ({len(chunks)} chunks)")

    with PgCluster() as cluster, tempfile.TemporaryDirectory() as tmp:
        # 1. the baseline COPY (text prepared first, then timed alone)
        url = cluster.create_database("bench_store")
        pg = PostGISStore(url, refs=refs)
        copy_file = Path(tmp) / "cases.copy"
        with copy_file.open("w", encoding="utf-8") as fh:
            for chunk in chunks:
                for block in _case_lines(chunk):
                    fh.write(block)
        from gis.store.postgis import _DB_COLUMNS

        cols = ", ".join(_DB_COLUMNS)
        # (DDL as the owner: the store's own transactions run as the app role; the copy
        # takes the same subdistrict key default and check as the store's rows)
        with pg._tx(admin=True) as cur:
            cur.execute("CREATE TABLE plain_copy (LIKE cases INCLUDING ALL)")
        t0 = time.perf_counter()
        with pg._tx(admin=True) as cur, copy_file.open(encoding="utf-8") as fh:
            cur.execute("SELECT set_config('app.subdistrict', %s, true)", (pg.subdistrict,))
            cur.copy_expert(f"COPY plain_copy ({cols}) FROM STDIN", fh)
        t_copy = time.perf_counter() - t0
        with pg._tx(admin=True) as cur:
            cur.execute("DROP TABLE plain_copy")
        print(f"plain COPY of {n:,} rows (same indexes): {t_copy:.1f} s")

        # 2. PostGIS intake
        t0 = time.perf_counter()
        added, _ = pg.add_cases_stream(iter(chunks))
        t_pg = time.perf_counter() - t0
        assert added == n
        print(f"PostGIS add_cases_stream: {t_pg:.1f} s  ratio to COPY ×{t_pg / t_copy:.2f}")

        # 3. GeoPackage intake (RTree kept by triggers)
        gpath = Path(tmp) / "bench.gpkg"
        gp = GeoPackageStore(gpath, refs=refs)
        t0 = time.perf_counter()
        added, _ = gp.add_cases_stream(iter(chunks))
        t_gp = time.perf_counter() - t0
        assert added == n
        print(f"GeoPackage add_cases_stream: {t_gp:.1f} s  ratio to COPY ×{t_gp / t_copy:.2f}")
        del chunks

        # 4. the zone query, for the largest and the smallest zone
        lon, lat = (
            np.array(v, dtype=float)
            for v in zip(*gp._con.execute("SELECT lon, lat FROM cases").fetchall(), strict=True)
        )
        with pg._tx(admin=True) as cur:
            cur.execute("ANALYZE cases")
        con = gp._con
        for zone_id, zone in picked:
            shapely.prepare(zone)
            zone_wkb = shapely.to_wkb(zone, hex=True)

            def mem(zone=zone):
                return int(shapely.contains_xy(zone, lon, lat).sum())

            def pg_query(zone_wkb=zone_wkb):
                with pg._tx() as cur:
                    # (under row-level security only the owner's function reaches the GiST
                    # index: PostGIS operators are not LEAKPROOF; see docs/store.md)
                    cur.execute(
                        "SELECT count(*) FROM patrol_cases_within("
                        "ST_SetSRID(ST_GeomFromWKB(decode(%s, 'hex')), 4326))",
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

            def gp_scan(zone=zone):
                rows = np.array(con.execute("SELECT lon, lat FROM cases").fetchall(), dtype=float)
                return int(shapely.contains_xy(zone, rows[:, 0], rows[:, 1]).sum())

            ms_mem, want = _median_ms(mem, args.runs)
            ms_pg, got_pg = _median_ms(pg_query, args.runs)
            ms_rtree, got_rtree = _median_ms(gp_rtree, args.runs)
            ms_scan, got_scan = _median_ms(gp_scan, max(1, args.runs // 3))
            assert want == got_pg == got_rtree == got_scan, (want, got_pg, got_rtree, got_scan)
            print(f"zone {zone_id} holds {want:,} of {n:,} cases")
            print(f"  {'zone query':32s} {'median ms':>10s} {'× memory':>9s}")
            for name, ms in (
                ("shapely in memory (baseline)", ms_mem),
                ("PostGIS ST_Contains (GiST)", ms_pg),
                ("GeoPackage RTree + exact test", ms_rtree),
                ("GeoPackage full scan", ms_scan),
            ):
                print(f"  {name:32s} {ms:10.1f} {ms / ms_mem:9.2f}")
        gp.close()
        pg.close()
        del cluster


if __name__ == "__main__":
    main()
