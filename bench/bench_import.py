"""Streaming batch import: peak memory (RSS) and time of ``patrol import`` on a big CSV.

Writes a CSV of valid reports on the bundled Shichahai streets, then runs the real command
in a child process, once on a small file (the baseline) and once on the big file with
``--max-mb 300``, and reads each child's peak RSS from the kernel. A third run gives the big
file a smaller limit and shows it is refused at once, before reading.

Run: python -m bench.bench_import [--mb 200] [--baseline-mb 10] [--postgis]
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gis.geography.layers import load_bundled_geography  # noqa: E402
from gis.settings import Settings  # noqa: E402


def write_csv(path: Path, megabytes: float, seed: int = 0) -> int:
    """A CSV of about ``megabytes`` MB of valid reports on the bundled streets; its rows."""
    from pyproj import Transformer

    geo = load_bundled_geography(Settings())
    to_wgs = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)
    segs = geo.segments.geometry.values
    rng = np.random.default_rng(seed)
    cats = [f"C{i:02d}" for i in range(1, 30)]
    target = int(megabytes * 1_000_000)
    rows = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["report_id", "category", "lon", "lat", "reported_at", "source", "reporter",
                    "description"])  # fmt: skip
        while fh.tell() < target:
            n = 20_000
            pick = rng.integers(0, len(segs), n)
            frac = rng.uniform(0, 1, n)
            pts = [segs[i].interpolate(f, normalized=True) for i, f in zip(pick, frac, strict=True)]
            lon, lat = to_wgs.transform([p.x for p in pts], [p.y for p in pts])
            secs = rng.integers(0, 300 * 86400, n)
            for j in range(n):
                t = np.datetime64("2026-01-01T00:00") + np.timedelta64(int(secs[j]), "s")
                w.writerow([f"B{rows + j:08d}", cats[(rows + j) % 29], f"{lon[j]:.6f}",
                            f"{lat[j]:.6f}", str(t).replace("T", " "), "patrol", f"p{j % 40}",
                            "外摆桌椅占道 tables on the pavement"])  # fmt: skip
            rows += n
    return rows


def run_import(path: Path, store: str, max_mb: float) -> tuple[int, float, float, str]:
    """Run ``patrol import`` in a child; (exit code, seconds, peak RSS MB, last output line)."""
    env = {**os.environ, "PATROL_DATABASE_URL": store, "PYTHONPATH": str(ROOT)}
    code = (
        "import resource, sys, time\n"
        "from gis.cli import main\n"
        "t = time.perf_counter()\n"
        "rc = main(sys.argv[1:])\n"
        "dt = time.perf_counter() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(f'BENCH {rc} {dt:.2f} {rss:.1f}', file=sys.stderr)\n"
    )
    args = [sys.executable, "-c", code, "import", str(path), "--max-mb", str(max_mb)]
    res = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    line = [ln for ln in res.stderr.splitlines() if ln.startswith("BENCH ")][-1].split()
    last = (res.stdout.strip().splitlines() or res.stderr.strip().splitlines() or [""])[-1]
    return int(line[1]), float(line[2]), float(line[3]), last


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mb", type=float, default=200.0, help="size of the big CSV (MB)")
    ap.add_argument("--baseline-mb", type=float, default=10.0, help="size of the baseline CSV")
    ap.add_argument("--postgis", action="store_true", help="import into a throwaway PostGIS")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        d = Path(tmp)
        cluster = None
        if args.postgis:
            from gis.store.testing import PgCluster

            cluster = PgCluster().start()
        try:
            results = []
            for label, mb in (("baseline", args.baseline_mb), ("big", args.mb)):
                path = d / f"{label}.csv"
                t = time.perf_counter()
                rows = write_csv(path, mb, seed=1 if label == "big" else 0)
                size = path.stat().st_size / 1e6
                print(
                    f"{label}: wrote {rows} rows, {size:.1f} MB in {time.perf_counter() - t:.0f} s"
                )
                store = (
                    cluster.create_database(f"b_{label}")
                    if cluster is not None
                    else str(d / f"{label}.gpkg")
                )
                rc, secs, rss, last = run_import(path, store, 300.0)
                print(f"  import: exit {rc}, {secs:.1f} s, peak RSS {rss:.0f} MB: {last}")
                results.append((label, rows, size, secs, rss))
            big = d / "big.csv"
            rc, secs, rss, last = run_import(big, str(d / "refused.gpkg"), args.mb / 2)
            print(f"refused (--max-mb {args.mb / 2:g}): exit {rc}, {secs:.2f} s, peak RSS "
                  f"{rss:.0f} MB: {last[:100]}")  # fmt: skip
            (_, r0, s0, t0, m0), (_, r1, s1, t1, m1) = results
            print(
                f"big/baseline: size x{s1 / s0:.1f}, rows x{r1 / r0:.1f}, time x{t1 / t0:.1f}, "
                f"peak RSS x{m1 / m0:.2f} ({r1 / t1:.0f} rows/s vs {r0 / t0:.0f} rows/s)"
            )
        finally:
            if cluster is not None:
                cluster.stop()


if __name__ == "__main__":
    main()
