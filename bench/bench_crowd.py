"""Crowd warning: alert precision/recall against baselines, ingest of a year, forecast speed.

1. Alerts on the synthetic truth. A year of 1-minute counts (labelled synthetic, seed 7) for
   the six bundled places; forecasts issued every ``--every`` minutes from 08:00 to 22:45 over
   the evaluation weeks (Mid-Autumn and National Day 2026 inside). For each place, origin t
   and lead L (30, 60 min) a level is *predicted* when the forecast at t + L reaches it and
   *true* when the true intensity at t + L does. Precision and recall of 橙 (≥ 100 %) and 红
   (≥ 120 %) for the kept model and each baseline (same time last week, seasonal naive =
   same time yesterday) on every origin, and for Holt-Winters (statsmodels) with all models
   on a sparser subset of origins (it refits at each origin).
2. Ingest of one year of 1-minute counts for the 10 counters (5,256,000 rows) into PostGIS
   (COPY) and GeoPackage, each against a bare baseline in the same process: COPY of the same
   rows into an unindexed table; executemany into a bare SQLite table.
3. The 120-minute forecast for all places from a year of 5-minute series, against seasonal
   naive on the same series.

Run: python -m bench.bench_crowd [--every 15] [--hw-every 240] [--no-postgis]
     [--no-geopackage] [--no-alerts]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gis.crowd.counts import place_series  # noqa: E402
from gis.crowd.forecast import (  # noqa: E402
    HoltWintersModel,
    LastWeekModel,
    ProfileModel,
    SeasonalNaiveModel,
    forecast_places,
)
from gis.crowd.places import Levels, bundled_places_path, load_places  # noqa: E402
from gis.crowd.synthetic import generate_counts  # noqa: E402
from gis.localtime import LOCAL_TZ as TZ  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
YEAR_START = dt.datetime(2025, 10, 10, tzinfo=TZ)
YEAR_END = dt.datetime(2026, 10, 10, tzinfo=TZ)
EVAL_DAYS = pd.date_range("2026-09-14", "2026-10-09", freq="D", tz=TZ)
LEADS = (30, 60)
LEVELS = ("orange", "red")


def _timed(fn, *a, **kw):
    t = time.perf_counter()
    out = fn(*a, **kw)
    return out, time.perf_counter() - t


def alert_scores(series, truth, places, origins, models) -> pd.DataFrame:
    """Precision/recall per model, level and lead over the origins."""
    caps = places.set_index("place_id")["capacity"].astype(float)
    thr = {lv: caps * s for lv, s in Levels().shares if lv in LEVELS}
    tally = {
        (m.name, lv, lead): [0, 0, 0] for m in models for lv in LEVELS for lead in LEADS
    }  # tp, fp, fn
    times = {m.name: 0.0 for m in models}
    for now in origins:
        hist = series.loc[:now]
        for m in models:
            f, el = _timed(forecast_places, hist, now, horizon_min=max(LEADS), model=m)
            times[m.name] += el
            for lead in LEADS:
                pred = f[f["horizon_min"] == lead].set_index("place_id")["mean"]
                true = truth.loc[now + pd.Timedelta(minutes=lead)]
                for lv in LEVELS:
                    p = pred.reindex(caps.index) >= thr[lv]
                    t = true.reindex(caps.index) >= thr[lv]
                    c = tally[(m.name, lv, lead)]
                    c[0] += int((p & t).sum())
                    c[1] += int((p & ~t).sum())
                    c[2] += int((~p & t).sum())
    rows = []
    for (name, lv, lead), (tp, fp, fn) in tally.items():
        rows.append(
            {
                "model": name,
                "level": lv,
                "lead_min": lead,
                "true_events": tp + fn,
                "precision": tp / (tp + fp) if tp + fp else float("nan"),
                "recall": tp / (tp + fn) if tp + fn else float("nan"),
                "s_per_origin": times[name] / len(origins),
            }
        )
    return pd.DataFrame(rows)


def _origins(every: int) -> list[pd.Timestamp]:
    out = []
    for d in EVAL_DAYS:
        for minutes in range(8 * 60, 23 * 60, every):
            out.append(d + pd.Timedelta(minutes=minutes))
    return out


def bench_alerts(places, year, every: int, hw_every: int) -> None:
    series = place_series(year.counts, list(places["place_id"]), step="5min")
    truth = year.truth.resample("5min").mean()
    base = [ProfileModel(), LastWeekModel(), SeasonalNaiveModel()]
    origins = _origins(every)
    print(f"\n## Alerts: {len(origins)} origins every {every} min, {len(EVAL_DAYS)} days")
    print(alert_scores(series, truth, places, origins, base).to_string(index=False))
    sub = _origins(hw_every)
    print(f"\n## Alerts with Holt-Winters: {len(sub)} origins every {hw_every} min")
    print(
        alert_scores(series, truth, places, sub, [*base, HoltWintersModel()]).to_string(index=False)
    )


def bench_forecast(places, year, runs: int = 7) -> None:
    series = place_series(year.counts, list(places["place_id"]), step="5min")
    now = pd.Timestamp("2026-10-05 14:00", tz=TZ)
    ours = [_timed(forecast_places, series, now, model=ProfileModel())[1] for _ in range(runs)]
    naive = [
        _timed(forecast_places, series, now, model=SeasonalNaiveModel())[1] for _ in range(runs)
    ]
    a, b = statistics.median(ours), statistics.median(naive)
    print(f"\n## 120-min forecast, {series.shape[1]} places, {len(series)} 5-min steps of history")
    print(f"profile (kept): median {a * 1000:.1f} ms over {runs} runs")
    print(f"seasonal naive: median {b * 1000:.1f} ms over {runs} runs")
    print(f"ratio (ours / naive): {a / b:.1f}")


def bench_gpkg(places, counts) -> None:
    from gis.store.geopackage import GeoPackageStore

    with tempfile.TemporaryDirectory() as d:
        con = sqlite3.connect(Path(d) / "bare.sqlite", isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("CREATE TABLE c (counter_id TEXT, at TEXT, place_id TEXT, occupancy INTEGER)")
        at = counts["at"].dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        rows = zip(
            counts["counter_id"].tolist(),
            at.tolist(),
            counts["place_id"].tolist(),
            counts["occupancy"].tolist(),
            strict=True,
        )
        t = time.perf_counter()
        con.execute("BEGIN")
        con.executemany("INSERT INTO c VALUES (?,?,?,?)", rows)
        con.execute("COMMIT")
        bare = time.perf_counter() - t
        con.close()
        store = GeoPackageStore(Path(d) / "patrol.gpkg")
        n, ours = _timed(store.add_counts, counts)
        assert n == len(counts) == store.count_counts()
        store.close()
    print(f"\n## GeoPackage ingest of {len(counts):,} rows (one transaction)")
    print(f"bare executemany, no index, times preformatted: {bare:.1f} s")
    print(f"GeoPackageStore.add_counts (unique key, conflict check, time formatting): {ours:.1f} s")
    print(f"ratio: {ours / bare:.2f}; rows/s: {len(counts) / ours:,.0f}")


def bench_postgis(places, counts) -> None:
    from gis.store.postgis import PostGISStore
    from gis.store.testing import PgCluster, missing_reason

    reason = missing_reason()
    if reason:
        print(f"\n## PostGIS skipped: {reason}")
        return
    with PgCluster(fast=False) as cluster:  # fsync on: the figures hold for a real server
        store = PostGISStore(cluster.url)
        from gis.store.crowd import _count_copy_binary

        data = b"".join(_count_copy_binary(counts))  # built before the clock starts
        con = store._pool.getconn()
        t = time.perf_counter()
        with con, con.cursor() as cur:
            cur.execute(
                "CREATE UNLOGGED TABLE bare (counter_id text, at timestamptz, place_id text, "
                "occupancy integer)"
            )
            cur.copy_expert("COPY bare FROM STDIN WITH (FORMAT binary)", io.BytesIO(data))
        bare = time.perf_counter() - t
        store._pool.putconn(con)
        n, ours = _timed(store.add_counts, counts)
        assert n == len(counts) == store.count_counts()
        store.close()
    print(f"\n## PostGIS ingest of {len(counts):,} rows (one transaction, COPY)")
    print(f"bare binary COPY, prebuilt bytes, unlogged table without key: {bare:.1f} s")
    print(
        f"PostGISStore.add_counts (logged, primary key, binary COPY built from the frame): {ours:.1f} s"
    )
    print(f"ratio: {ours / bare:.2f}; rows/s: {len(counts) / ours:,.0f}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--every", type=int, default=15, help="minutes between forecast origins")
    ap.add_argument("--hw-every", type=int, default=240, help="origins for Holt-Winters")
    ap.add_argument("--no-postgis", action="store_true")
    ap.add_argument("--no-geopackage", action="store_true")
    ap.add_argument("--no-alerts", action="store_true")
    args = ap.parse_args(argv)
    places = load_places(bundled_places_path(ROOT / "data"))
    year, gen = _timed(generate_counts, places, YEAR_START, YEAR_END, seed=7)
    print(f"synthetic year: {len(year.counts):,} rows for {year.counts['counter_id'].nunique()} "
          f"counters in {gen:.1f} s")  # fmt: skip
    bench_forecast(places, year)
    if not args.no_postgis:
        bench_postgis(places, year.counts)
    if not args.no_geopackage:
        bench_gpkg(places, year.counts)
    if not args.no_alerts:
        bench_alerts(places, year, args.every, args.hw_every)


if __name__ == "__main__":
    main()
