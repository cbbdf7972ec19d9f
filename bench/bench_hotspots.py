"""Hotspot analytics: Gi* on 10k cells, KDE on 100k points, forecast quality over a year.

Run: python -m bench.bench_hotspots [--runs N] [--seeds 0,1,2]

Each timing is a median over ``--runs`` and is printed next to a baseline run in the same
process:

* Gi* — ``gis.analytics.gistar.gistar_cells`` (grid, weights, 999 permutations, tie-aware p-values,
  FDR) against a bare ``esda.G_Local`` call on the same counts and weights;
* KDE — ``gis.analytics.density.density_surface`` (linear binning + FFT convolution) against the
  exact direct sum of the quartic kernel over all point–cell pairs (cKDTree), with the
  largest difference between the two in cases/km²/month;
* forecast — the rolling weekly backtest of a year of a synthetic near-repeat history (its
  generator knows the true intensity), on street segments and on 100 m cells: PAI at 5 %
  per method next to the hindsight optimum, and the time of the whole analysis of a year
  (density + Gi* + backtest).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gis.analytics import forecast as fc  # noqa: E402
from gis.analytics.density import density_surface  # noqa: E402
from gis.analytics.gistar import gistar_cells  # noqa: E402
from gis.analytics.grid import GridSpec  # noqa: E402
from gis.analytics.selection import CaseFilter  # noqa: E402
from gis.geography.crs import METRIC  # noqa: E402
from tests.hotspots.synthetic import (  # noqa: E402
    START,
    make_case_frame,
    near_repeat_history,
    offspring_segment_probabilities,
    true_expected_counts,
)


def _median(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_gistar(runs: int) -> None:
    from esda.getisord import G_Local
    from libpysal.weights import lat2W

    rng = np.random.default_rng(0)
    n_side, cell = 100, 50.0
    xy = rng.uniform(0, n_side * cell, size=(30_000, 2)) + (448000.0, 4420000.0)
    cases = make_case_frame([tuple(p) for p in xy], [START] * len(xy))
    bounds = (448000.0, 4420000.0, 448000.0 + n_side * cell, 4420000.0 + n_side * cell)
    grid = GridSpec.covering(bounds, cell, crs=METRIC)
    counts = np.bincount(grid.index_of(xy[:, 0], xy[:, 1]), minlength=grid.nx * grid.ny)
    w = lat2W(n_side, n_side, rook=False)

    def baseline() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            G_Local(
                counts.astype(float),
                w,
                transform="B",
                star=True,
                permutations=999,
                seed=0,
                keep_simulations=False,
                n_jobs=1,
            )

    base = _median(baseline, runs)
    for how in ("total", "conditional"):

        def ours(how: str = how) -> None:
            gistar_cells(
                cases, cell_m=cell, bounds=bounds, permutations=999, seed=0, randomization=how
            )

        t = _median(ours, runs)
        r = gistar_cells(
            cases, cell_m=cell, bounds=bounds, permutations=999, seed=0, randomization=how
        )
        print(
            f"Gi* 999 permutations ({how}) on {grid.nx * grid.ny} cells: ours {t:.2f} s, "
            f"bare esda.G_Local (conditional) {base:.2f} s (ratio {t / base:.2f}); "
            f"significant after FDR on uniform noise: {r.n_significant}"
        )


def bench_kde(runs: int) -> None:
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(1)
    n = 100_000
    centres = rng.uniform(0, 3000, size=(40, 2))
    xy = centres[rng.integers(0, 40, n)] + rng.normal(0, 120, size=(n, 2))
    xy = np.clip(xy, 0, 3000) + (448000.0, 4420000.0)
    times = START + pd.to_timedelta(rng.uniform(0, 365, n), unit="D")
    cases = make_case_frame([tuple(p) for p in xy], list(times))
    flt = CaseFilter(start=START, end=START + pd.Timedelta(days=365))
    h, cell = 100.0, 20.0

    def ours() -> object:
        return density_surface(cases, flt, bandwidth_m=h, cell_m=cell)

    s = ours()
    centres_xy = s.grid.centres()

    def baseline() -> np.ndarray:
        tree = cKDTree(xy)
        pairs = cKDTree(centres_xy).sparse_distance_matrix(tree, h, output_type="coo_matrix")
        k = (1 - (pairs.data / h) ** 2) ** 2 * 3 / (np.pi * h * h)  # per m²
        dens = np.bincount(pairs.row, weights=k, minlength=len(centres_xy))
        return dens * 1e6 / s.months  # cases/km²/month

    t = _median(ours, runs)
    base = _median(baseline, max(1, runs // 2))
    exact = baseline()
    diff = np.abs(s.values.ravel() - exact)
    print(
        f"KDE of {n} points on {s.grid.nx}×{s.grid.ny} cells of {cell:.0f} m, radius {h:.0f} m: "
        f"ours {t:.2f} s, exact direct sum {base:.2f} s (ratio {t / base:.3f}); "
        f"max |difference| {diff.max():.1f} of peak {exact.max():.0f} cases/km²/month "
        f"({100 * diff.max() / exact.max():.1f} %), integral {s.integral():.0f}"
    )


def _oracle_pai(h, units: fc.Units, coverage: float = 0.05) -> float:
    """PAI of the true conditional intensity (segments only): the best any forecast can do."""
    probs = offspring_segment_probabilities(h)
    days = ((h.cases["reported_at"] - h.start) / pd.Timedelta(days=1)).to_numpy(float)
    pos = pd.Series(np.arange(len(units)), index=units.ids)
    seg_of = h.cases["segment_id"].map(pos).to_numpy()
    hits = cases = share = 0.0
    weeks = 0
    for k in range(4, h.days // 7):
        t0 = 7.0 * k
        sel = (days >= t0) & (days < t0 + 7)
        if not sel.any():
            continue
        actual = np.bincount(seg_of[sel], minlength=len(units)).astype(float)
        sc = fc.score_selection(true_expected_counts(h, probs, t0), actual, units.measure, coverage)
        hits, cases, share, weeks = (
            hits + sc.hits,
            cases + sc.cases,
            share + sc.area_share,
            weeks + 1,
        )
    return (hits / cases) / (share / weeks)


def _year_analysis(h, units: dict[str, fc.Units]) -> None:
    flt = CaseFilter(start=h.start, end=h.start + pd.Timedelta(days=h.days))
    density_surface(h.cases, flt)
    gistar_cells(h.cases, flt, cell_m=100.0)
    for u in units.values():
        fc.backtest(h.cases, u)


def bench_forecast(seeds: list[int], runs: int) -> None:
    rows = []
    for seed in seeds:
        h = near_repeat_history(seed=seed)
        units = {
            "segments": fc.segment_units(h.segments),
            "cells 100 m": fc.cell_units(tuple(h.segments.total_bounds), 100.0, crs=METRIC),
        }
        for name, u in units.items():
            bt = fc.backtest(h.cases, u)
            rows.append(
                {
                    "seed": seed,
                    "units": name,
                    "cases": len(h.cases),
                    "weeks": int(bt.summary["weeks"].max()),
                    **{m: round(bt.pai(m, 0.05), 2) for m in fc.METHODS},
                    "true intensity": round(_oracle_pai(h, u), 2) if name == "segments" else None,
                    fc.HINDSIGHT: round(bt.pai(fc.HINDSIGHT, 0.05), 2),
                }
            )
        if seed == seeds[0]:
            t = _median(lambda h=h, units=units: _year_analysis(h, units), runs)
            seg = units["segments"]
            t_last4 = _median(
                lambda h=h, seg=seg: fc.backtest(h.cases, seg, methods=("last4",)), runs
            )
            print(
                f"a year ({len(h.cases)} cases, {len(h.segments)} segments): density + Gi* + "
                f"two backtests {t:.2f} s; last4-only backtest on segments {t_last4:.2f} s "
                f"(ratio {t / t_last4:.1f})"
            )
    df = pd.DataFrame(rows)
    print("PAI at 5 % coverage (pooled over weekly backtests):")
    print(df.to_string(index=False))
    wins = (df["near_repeat"] > df["last4"]).sum()
    print(f"near_repeat beats last4 in {wins} of {len(df)} runs")


def bench_demo_history(runs: int) -> None:
    """Forecast scores on the cases work's demo history over the bundled Shichahai streets.

    Its generator records the true expected count per segment and hour, so "true
    intensity" ranks segments by the truth for each week. Skipped (with a message) when
    the demo history or the bundled geography is not available.
    """
    try:
        import importlib

        from gis.geography.layers import load_bundled_geography
        from gis.settings import Settings

        cases_to_frame = importlib.import_module("gis.cases.workflow").cases_to_frame
        generate_demo_history = importlib.import_module(
            "gis.cases.demo_history"
        ).generate_demo_history
        geo = load_bundled_geography(Settings.from_env())
    except Exception as exc:  # not merged yet, or no bundled data
        print(f"demo history: skipped ({exc})")
        return
    t0 = time.perf_counter()
    hist = generate_demo_history(geo.segments, geo.pois)
    cases = cases_to_frame(hist.cases)
    t_gen = time.perf_counter() - t0
    units = fc.segment_units(geo.segments)
    t = _median(lambda: fc.backtest(cases, units), runs)
    bt = fc.backtest(cases, units)
    weeks = sorted(bt.weekly["week_start"].unique())
    pos = pd.Series(np.arange(len(units)), index=units.ids)
    seg_of = cases["segment_id"].map(pos)
    hits = n_cases = share = 0.0
    for w in weeks:
        end = w + pd.Timedelta(days=7)
        truth = hist.expected_by_segment(w.to_pydatetime(), end.to_pydatetime())
        score = truth.reindex(units.ids).fillna(0.0).to_numpy()
        sel = (cases["reported_at"] >= w) & (cases["reported_at"] < end) & seg_of.notna()
        actual = np.bincount(seg_of[sel].astype(int), minlength=len(units)).astype(float)
        sc = fc.score_selection(score, actual, units.measure, 0.05)
        hits, n_cases, share = hits + sc.hits, n_cases + sc.cases, share + sc.area_share
    oracle = (hits / n_cases) / (share / len(weeks))
    cells = ", ".join(f"{m} {bt.pai(m, 0.05):.2f}" for m in fc.METHODS)
    print(
        f"demo history ({len(cases)} cases, {len(geo.segments)} segments, generated in "
        f"{t_gen:.1f} s): backtest {t:.2f} s over {len(weeks)} weeks; PAI at 5 % of street "
        f"length: {cells}, true intensity {oracle:.2f}, hindsight {bt.pai(fc.HINDSIGHT, 0.05):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    bench_gistar(args.runs)
    bench_kde(args.runs)
    bench_forecast(seeds, args.runs)
    bench_demo_history(args.runs)


if __name__ == "__main__":
    main()
