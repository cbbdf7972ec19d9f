"""Hotspot counts in PostGIS against the same counts in Python, at 100k and 1M cases.

One throwaway PostGIS cluster holds the bundled geography and the synthetic cases of
``bench.bench_cases`` (a year, spread over Shichahai). For the app's default window (the last
90 days) and the whole year, the same three counts are timed both ways:

* 100 m cells (Gi*), 20 m linear bins of the subdistrict (the density layer), cases per
  street segment (stored segment, else the nearest within 200 m);
* **Python** (the baseline): the store's case frame, reprojected to the geography's CRS and
  filtered, counted by :class:`gis.analytics.counts.FrameCounts` — timed without and with
  reading the frame (the app keeps it cached for 5 minutes; the CLI reads it every time);
* **SQL**: :class:`gis.store.pg_counts.PostGISCaseCounts`.

Every SQL count is checked equal to the Python one (cells and segments exactly, bins within
1e-6). Medians of ``--runs`` runs.

Run: python -m bench.bench_hotspots_sql [--sizes 100000 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_store import _cases  # noqa: E402
from gis.analytics.counts import FrameCounts  # noqa: E402
from gis.analytics.grid import GridSpec  # noqa: E402
from gis.analytics.selection import CaseFilter, select_cases  # noqa: E402
from gis.cases.categories import load_references  # noqa: E402
from gis.geography.crs import to_metric  # noqa: E402
from gis.geography.layers import load_bundled_geography  # noqa: E402
from gis.store.pg_counts import PostGISCaseCounts  # noqa: E402
from gis.store.pg_spatial import PostGISSpatial  # noqa: E402
from gis.store.postgis import PostGISStore  # noqa: E402
from gis.store.testing import PgCluster  # noqa: E402


def _median_s(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _counts(counts, cells: GridSpec, bins: GridSpec, segments) -> tuple:
    return (counts.per_cell(cells), counts.binned(bins), counts.per_segment(segments))


def bench_size(cluster: PgCluster, n: int, runs: int, refs, geo) -> None:
    url = cluster.create_database(f"bench_hs_{n}")
    store = PostGISStore(url, refs=refs)
    PostGISSpatial(store).load_geography(geo)
    t0 = time.perf_counter()
    added, _ = store.add_cases_stream(_cases(n, refs))
    assert added == n
    with store._tx() as cur:
        cur.execute("ANALYZE cases")
    print(f"\n{n:,} cases loaded in {time.perf_counter() - t0:.0f} s")
    minx, miny, maxx, maxy = geo.boundary.total_bounds
    cells = GridSpec.covering((minx, miny, maxx, maxy), 100.0, crs=geo.crs)
    pad = 120.0
    bins = GridSpec.covering((minx - pad, miny - pad, maxx + pad, maxy + pad), 20.0, crs=geo.crs)
    segs = geo.segments
    t_read, frame = _median_s(lambda: store.cases_frame(), max(1, runs - 1))
    t_proj, frame = _median_s(lambda: to_metric(frame, crs=geo.crs, source="cases"), runs)
    with store._tx() as cur:
        cur.execute("SELECT max(reported_at) FROM cases")
        last = pd.Timestamp(cur.fetchone()[0]).tz_convert("Asia/Shanghai")
    end = last.normalize() + pd.Timedelta(days=1)
    print(f"read the case frame: {t_read:.2f} s (+ reprojection {t_proj:.2f} s)")
    print(
        "| window | cases | Python counts | Python incl. reading | SQL | SQL / Python | SQL / Python incl. reading |"
    )
    print("|---|---|---|---|---|---|---|")
    for label, flt in (
        ("last 90 days", CaseFilter(start=end - pd.Timedelta(days=90), end=end)),
        ("whole year", CaseFilter()),
    ):

        def python(flt: CaseFilter = flt) -> tuple:
            return _counts(FrameCounts(select_cases(frame, flt)), cells, bins, segs)

        def sql(flt: CaseFilter = flt) -> tuple:
            return _counts(PostGISCaseCounts(store, flt, crs=geo.crs), cells, bins, segs)

        t_py, want = _median_s(python, runs)
        t_db, got = _median_s(sql, runs)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[2], want[2])
        assert got[1][1] == want[1][1]
        np.testing.assert_allclose(got[1][0], want[1][0], rtol=0, atol=1e-6)
        n_sel = int(want[1][1])
        full = t_py + t_read + t_proj
        print(
            f"| {label} | {n_sel:,} | {t_py:.2f} s | {full:.2f} s | {t_db:.2f} s "
            f"| ×{t_db / t_py:.2f} | ×{t_db / full:.2f} |"
        )
    store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    refs = load_references()
    geo = load_bundled_geography()
    with PgCluster() as cluster:
        for n in args.sizes:
            bench_size(cluster, n, args.runs, refs, geo)


if __name__ == "__main__":
    main()
