"""Next week's hotspots from past cases, and how well each forecast would have done."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy import sparse
from scipy.spatial import cKDTree

from gis.analytics.counts import case_segments
from gis.analytics.grid import GridSpec, case_xy
from gis.analytics.selection import as_local_timestamp, require_case_frame, to_local_time
from gis.errors import ValidationError
from gis.geography.crs import require_metric, require_same_crs
from gis.localtime import LOCAL_TZ_NAME

log = logging.getLogger(__name__)

METHODS: tuple[str, ...] = ("last4", "kde_decay", "near_repeat")
COVERAGES: tuple[float, ...] = (0.01, 0.05, 0.10)
HINDSIGHT = "hindsight"


@dataclass(frozen=True)
class ForecastParams:
    """Tunable constants of the three forecasts (defaults suit Shichahai's hutong scale)."""

    last_weeks: int = 4
    kde_bandwidth_m: float = 100.0
    kde_tau_days: float = 21.0
    kde_lookback_days: float = 120.0
    baseline_weeks: int = 26
    baseline_own_share: float = 0.8
    nr_alpha: float = 1.0
    nr_tau_days: float = 4.0
    nr_length_m: float = 60.0
    nr_radius_m: float = 200.0
    nr_window_days: float = 28.0
    horizon_days: float = 7.0
    #: When not empty, ``near_repeat`` picks ``alpha`` from these each week: the value whose
    #: forecasts caught most cases in the top ``tune_coverage`` over the previous
    #: ``tune_weeks`` weeks (past data only). Where violations do not repeat nearby it falls
    #: to 0 (the long-run baseline); where they do, it finds the boost's weight.
    nr_alpha_grid: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0, 2.0)
    tune_weeks: int = 8
    tune_coverage: float = 0.05


@dataclass(frozen=True)
class Units:
    """Forecast units: ids, polygons or lines, their measure (m² or m) and kind."""

    ids: NDArray[np.str_]
    geometry: gpd.GeoSeries
    measure: NDArray[np.float64]
    kind: str  # "cell" or "segment"

    def __len__(self) -> int:
        return len(self.ids)

    def to_gdf(self, **columns: NDArray[np.float64]) -> gpd.GeoDataFrame:
        """The units as a GeoDataFrame with ``unit_id`` and any extra columns."""
        data = {"unit_id": self.ids, **columns}
        return gpd.GeoDataFrame(data, geometry=self.geometry.values, crs=self.geometry.crs)


def cell_units(
    bounds: tuple[float, float, float, float], cell_m: float = 100.0, *, crs: str
) -> Units:
    """Square cells covering ``bounds`` (aligned to multiples of ``cell_m``) in metric ``crs``."""
    require_metric(gpd.GeoSeries([], crs=crs), "forecast cells")
    grid = GridSpec.covering(bounds, cell_m, crs=crs)
    gdf = grid.to_gdf()
    return Units(
        gdf["cell_id"].to_numpy(str),
        gdf.geometry,
        np.full(len(gdf), cell_m * cell_m),
        "cell",
    )


def segment_units(gdf_segments: gpd.GeoDataFrame) -> Units:
    """Street segments as units, measured by length."""
    require_metric(gdf_segments, "segments")
    segs = gdf_segments.reset_index(drop=True)
    return Units(
        segs["segment_id"].astype(str).to_numpy(),
        segs.geometry,
        np.maximum(segs["length_m"].to_numpy(float), 1.0),
        "segment",
    )


class _Prepared:
    """Case times, units and unit–case kernels computed once for many cut-offs."""

    def __init__(self, gdf_cases: gpd.GeoDataFrame, units: Units, params: ForecastParams) -> None:
        require_case_frame(gdf_cases, need=("reported_at", "geometry"))
        cases = gdf_cases.loc[
            ~(gdf_cases.geometry.isna() | gdf_cases.geometry.is_empty)
        ].reset_index(drop=True)
        self.units = units
        self.params = params
        self._parts: dict[float, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
        t = to_local_time(cases["reported_at"])
        self.epoch = pd.Timestamp("2000-01-01", tz=t.dt.tz if len(t) else LOCAL_TZ_NAME)
        self.days = ((t - self.epoch) / pd.Timedelta(days=1)).to_numpy(float)
        x, y = case_xy(cases) if len(cases) else (np.zeros(0), np.zeros(0))
        self.unit_of_case = self._assign(cases, x, y)
        radius = max(params.kde_bandwidth_m, params.nr_radius_m)
        ui, ci, d = self._pairs(x, y, radius)
        n_u, n_c = len(units), len(cases)
        h = params.kde_bandwidth_m
        kq = np.where(d < h, (1 - (d / h) ** 2) ** 2, 0.0)
        self.K_kde = sparse.csr_matrix((kq, (ui, ci)), shape=(n_u, n_c))
        # each case spreads unit mass over the units around it (column-normalised)
        colsum = np.asarray(self.K_kde.sum(axis=0)).ravel()
        spread = self.K_kde @ sparse.diags(np.where(colsum > 0, 1 / np.maximum(colsum, 1e-12), 0))
        ok = self.unit_of_case >= 0
        own = sparse.csr_matrix(
            (np.ones(int(ok.sum())), (self.unit_of_case[ok], np.flatnonzero(ok))), shape=(n_u, n_c)
        )
        share = params.baseline_own_share
        self.K_base = (share * own + (1 - share) * spread).tocsr()
        ke = np.where(d <= params.nr_radius_m, np.exp(-d / params.nr_length_m), 0.0)
        K_nr = sparse.csr_matrix((ke, (ui, ci)), shape=(n_u, n_c))
        colsum = np.asarray(K_nr.sum(axis=0)).ravel()
        self.K_nr = K_nr @ sparse.diags(np.where(colsum > 0, 1 / np.maximum(colsum, 1e-12), 0))

    def _assign(
        self, cases: gpd.GeoDataFrame, x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> NDArray[np.int64]:
        units = self.units
        if len(cases) == 0:
            return np.zeros(0, dtype=np.int64)
        if units.kind == "cell":
            tree = shapely.STRtree(units.geometry.values)
            pts = shapely.points(x, y)
            idx = tree.query(pts, predicate="intersects")
            out = np.full(len(cases), -1, dtype=np.int64)
            # a point on a shared edge belongs to the first cell found (stable)
            first = pd.DataFrame({"i": idx[0], "j": idx[1]}).drop_duplicates("i")
            out[first["i"].to_numpy()] = first["j"].to_numpy()
            return out
        segs = gpd.GeoDataFrame(
            {"segment_id": units.ids}, geometry=units.geometry.values, crs=units.geometry.crs
        )
        sid = case_segments(cases, segs)
        pos = pd.Series(np.arange(len(units)), index=units.ids)
        return sid.map(pos).fillna(-1).astype(np.int64).to_numpy()

    def _pairs(
        self, x: NDArray[np.float64], y: NDArray[np.float64], radius: float
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        if len(x) == 0 or len(self.units) == 0:
            z = np.zeros(0)
            return z.astype(np.int64), z.astype(np.int64), z
        if self.units.kind == "cell":
            centres = shapely.get_coordinates(shapely.centroid(self.units.geometry.values))
            pairs = cKDTree(centres).sparse_distance_matrix(
                cKDTree(np.column_stack([x, y])), radius, output_type="coo_matrix"
            )
            ui, ci, d = pairs.row, pairs.col, pairs.data
            # sparse_distance_matrix drops exact zeros: add the cases' own cells back
            own = self.unit_of_case >= 0
            extra_u = self.unit_of_case[own]
            extra_c = np.flatnonzero(own)
            have = set(zip(ui.tolist(), ci.tolist(), strict=True))
            add = [(u, c) for u, c in zip(extra_u, extra_c, strict=True) if (u, c) not in have]
            if add:
                au, ac = np.array(add).T
                ad = np.hypot(centres[au, 0] - x[ac], centres[au, 1] - y[ac])
                ui, ci, d = np.r_[ui, au], np.r_[ci, ac], np.r_[d, ad]
            return ui.astype(np.int64), ci.astype(np.int64), d.astype(float)
        pts = shapely.points(x, y)
        tree = shapely.STRtree(self.units.geometry.values)
        ci, ui = tree.query(pts, predicate="dwithin", distance=radius)
        d = shapely.distance(pts[ci], self.units.geometry.values[ui])
        return ui.astype(np.int64), ci.astype(np.int64), np.asarray(d, dtype=float)

    def day(self, when: pd.Timestamp) -> float:
        return float((as_local_timestamp(when) - self.epoch) / pd.Timedelta(days=1))

    def actual(self, t0: float, t1: float) -> NDArray[np.float64]:
        sel = (self.days >= t0) & (self.days < t1) & (self.unit_of_case >= 0)
        return np.bincount(self.unit_of_case[sel], minlength=len(self.units)).astype(float)

    def score(self, method: str, t: float) -> NDArray[np.float64]:
        p = self.params
        age = t - self.days
        past = age > 0
        if method == "last4":
            return self.actual(t - 7 * p.last_weeks, t)
        if method == "kde_decay":
            w = np.where(past & (age <= p.kde_lookback_days), np.exp(-age / p.kde_tau_days), 0.0)
            return self.K_kde @ w
        if method == "near_repeat":
            baseline, boost = self._nr_parts(t)
            return baseline + self.alpha_at(t) * boost
        raise ValidationError(f"unknown method {method!r}", field="method", fix=f"use {METHODS}")

    def _nr_parts(self, t: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Baseline (expected cases next week) and the boost per unit of ``alpha``."""
        key = round(t, 6)
        if key in self._parts:
            return self._parts[key]
        p = self.params
        age = t - self.days
        past = age > 0
        base_w = np.where(past & (age <= 7 * p.baseline_weeks), 1.0, 0.0)
        first = float(self.days.min()) if len(self.days) else t
        history = min(7.0 * p.baseline_weeks, max(t - first, 7.0))
        baseline = (self.K_base @ base_w) * (p.horizon_days / history)
        gain = 1 - math.exp(-p.horizon_days / p.nr_tau_days)
        trig = np.where(past & (age <= p.nr_window_days), gain * np.exp(-age / p.nr_tau_days), 0.0)
        self._parts[key] = (baseline, self.K_nr @ trig)
        return self._parts[key]

    def alpha_at(self, t: float) -> float:
        """The near-repeat weight used at cut-off ``t`` (tuned on earlier weeks only)."""
        p = self.params
        grid = p.nr_alpha_grid
        if not grid:
            return p.nr_alpha
        hits = np.zeros(len(grid))
        for k in range(1, p.tune_weeks + 1):
            t0 = t - 7.0 * k
            actual = self.actual(t0, t0 + 7.0)
            if actual.sum() == 0 or t0 <= (float(self.days.min()) if len(self.days) else t0):
                continue
            base, boost = self._nr_parts(t0)
            for j, a in enumerate(grid):
                idx = select_top(base + a * boost, self.units.measure, p.tune_coverage)
                hits[j] += actual[idx].sum()
        if not hits.any():
            return p.nr_alpha
        best = np.flatnonzero(hits == hits.max())
        # ties: the value closest to the default weight
        return float(min((grid[j] for j in best), key=lambda a: (abs(a - p.nr_alpha), a)))


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValidationError(f"unknown method {method!r}", field="method", fix=f"use {METHODS}")


def forecast(
    gdf_cases: gpd.GeoDataFrame,
    units: Units,
    *,
    at: pd.Timestamp | str,
    method: str = "near_repeat",
    params: ForecastParams | None = None,
) -> gpd.GeoDataFrame:
    """Risk score per unit for the week starting at ``at``, from cases before ``at``.

    Three forecasts score every unit (grid cell or street segment) at a cut-off time ``t``:

    ``last4``
        Cases in the unit over the four weeks before ``t`` (the usual "last month's map").
    ``kde_decay``
        Quartic kernel density of past cases, each weighted by ``exp(-age / tau)``.
    ``near_repeat``
        Expected cases next week under a self-exciting model: a long-run baseline (the last
        ``baseline_weeks`` per week, ``baseline_own_share`` kept in each case's own unit and
        the rest spread by the kernel) plus, for every recent case, ``alpha``
        expected follow-ups that decay with time (``exp(-age / tau)``) and distance
        (``exp(-d / length)``): a new violation raises the risk of the same and neighbouring
        frontage for days.

    Returns the units with ``risk`` (the method's score: cases in the last four weeks,
    decayed density, or expected cases next week) and ``risk_per_km`` / ``risk_per_km2``
    (the score per unit measure, which is what the maps grade and the backtest ranks by).
    """
    _check_method(method)
    require_same_crs(gdf_cases, units.geometry, what="cases and forecast units")
    prep = _Prepared(gdf_cases, units, params or ForecastParams())
    risk = prep.score(method, prep.day(as_local_timestamp(at)))
    per = risk / units.measure * (1e3 if units.kind == "segment" else 1e6)
    name = "risk_per_km" if units.kind == "segment" else "risk_per_km2"
    return units.to_gdf(risk=risk, **{name: per})


def near_repeat_weight(
    gdf_cases: gpd.GeoDataFrame,
    units: Units,
    *,
    at: pd.Timestamp | str,
    params: ForecastParams | None = None,
) -> float:
    """The near-repeat weight ``alpha`` the forecast at ``at`` uses (tuned on past weeks)."""
    return near_repeat_weights(gdf_cases, units, at=[at], params=params)[0]


def near_repeat_weights(
    gdf_cases: gpd.GeoDataFrame,
    units: Units,
    *,
    at: Sequence[pd.Timestamp | str],
    params: ForecastParams | None = None,
) -> list[float]:
    """The near-repeat weights of forecasts at each of ``at`` (the cases' kernels once)."""
    prep = _Prepared(gdf_cases, units, params or ForecastParams())
    return [prep.alpha_at(prep.day(as_local_timestamp(when))) for when in at]


def select_top(
    scores: NDArray[np.float64], measure: NDArray[np.float64], coverage: float
) -> NDArray[np.int64]:
    """Indices of the highest-risk units (by score per measure) covering ``coverage``.

    Units are taken in decreasing order of ``score / measure`` (ties: larger score, then
    lower index) while their total measure stays within ``coverage`` of the whole; at
    least one unit is always taken so that tiny coverages still mean something.
    """
    if not 0 < coverage <= 1:
        raise ValidationError(f"coverage {coverage} must be in (0, 1]", field="coverage")
    scores = np.asarray(scores, dtype=float)
    measure = np.asarray(measure, dtype=float)
    n = len(scores)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((np.arange(n), -scores, -(scores / measure)))
    cum = np.cumsum(measure[order])
    budget = coverage * measure.sum() * (1 + 1e-9)
    k = max(1, int(np.searchsorted(cum, budget, side="right")))
    return order[:k]


@dataclass(frozen=True)
class Score:
    """One forecast's score at one coverage."""

    hits: float
    cases: float
    area_share: float

    @property
    def hit_rate(self) -> float:
        """Share of the period's cases in the selected units (NaN without cases)."""
        return self.hits / self.cases if self.cases else float("nan")

    @property
    def pai(self) -> float:
        """Predictive accuracy index: hit rate divided by the area (or length) share."""
        return self.hit_rate / self.area_share if self.area_share else float("nan")


def score_selection(
    scores: NDArray[np.float64],
    actual: NDArray[np.float64],
    measure: NDArray[np.float64],
    coverage: float,
) -> Score:
    """Hit rate and PAI of the ``coverage`` share picked by ``scores`` against ``actual``."""
    idx = select_top(scores, measure, coverage)
    measure = np.asarray(measure, dtype=float)
    return Score(
        float(np.asarray(actual)[idx].sum()),
        float(np.asarray(actual).sum()),
        float(measure[idx].sum() / measure.sum()) if len(measure) else 0.0,
    )


@dataclass(frozen=True)
class Backtest:
    """Weekly scores (one row per week × method × coverage) and their pooled summary."""

    weekly: pd.DataFrame
    summary: pd.DataFrame
    unit: str
    note: str = ""

    def pai(self, method: str, coverage: float) -> float:
        """Pooled PAI of ``method`` at ``coverage`` (NaN when never scored)."""
        row = self.summary[
            (self.summary["method"] == method) & np.isclose(self.summary["coverage"], coverage)
        ]
        return float(row["pai"].iloc[0]) if len(row) else float("nan")


def backtest(
    gdf_cases: gpd.GeoDataFrame,
    units: Units,
    *,
    start: pd.Timestamp | str | None = None,
    end: pd.Timestamp | str | None = None,
    warmup_weeks: int = 4,
    methods: Sequence[str] = METHODS,
    coverages: Sequence[float] = COVERAGES,
    params: ForecastParams | None = None,
) -> Backtest:
    """Rolling weekly backtest: forecast each week from the weeks before it, then score.

    Weeks start on Mondays (local time). The first scored week starts ``warmup_weeks``
    after the first case (or at ``start``); the last one ends by ``end`` or the last case.
    Weeks without cases are skipped (a hit rate needs cases). The summary pools hits and
    cases over all weeks (hit rate = Σ hits / Σ cases; PAI = hit rate / mean area share).

    The backtest rolls a weekly cut-off over the history. For each coverage (1 %, 5 %, 10 % of
    the area or of the street length) it takes the highest-risk units (risk per m² or per metre,
    so long segments are not favoured for their length) up to that share, counts the next
    week's cases that fall in them (hit rate) and divides by the share actually covered
    (PAI = hit rate / area share). The *hindsight* row ranks units by the cases that actually
    happened: the best any map could have done (exact for equal cells; a greedy bound for
    segments of unequal length).
    """
    for m in methods:
        _check_method(m)
    prep = _Prepared(gdf_cases, units, params or ForecastParams())
    cols = ["week_start", "method", "coverage", "cases", "hits", "area_share", "hit_rate", "pai"]
    if len(prep.days) == 0 or len(units) == 0:
        empty = pd.DataFrame(columns=cols)
        return Backtest(empty, _summarise(empty), units.kind, "no cases to backtest")
    first = prep.epoch + pd.Timedelta(days=float(prep.days.min()))
    last = prep.epoch + pd.Timedelta(days=float(prep.days.max()))
    t0 = as_local_timestamp(start) if start is not None else first.normalize()
    t0 = t0.normalize() - pd.Timedelta(days=t0.day_of_week)  # back to Monday
    if start is None:
        t0 = t0 + pd.Timedelta(weeks=warmup_weeks)
    t_end = as_local_timestamp(end) if end is not None else last
    rows = []
    week = t0
    while week + pd.Timedelta(days=7) <= t_end + pd.Timedelta(seconds=1):
        d0 = prep.day(week)
        actual = prep.actual(d0, d0 + 7)
        if actual.sum() > 0:
            ranked = {m: prep.score(m, d0) for m in methods}
            ranked[HINDSIGHT] = actual
            for m, s in ranked.items():
                for cov in coverages:
                    sc = score_selection(s, actual, units.measure, cov)
                    rows.append(
                        (week, m, cov, sc.cases, sc.hits, sc.area_share, sc.hit_rate, sc.pai)
                    )
        week = week + pd.Timedelta(days=7)
    weekly = pd.DataFrame(rows, columns=cols)
    note = "" if rows else "no complete week with cases after the warm-up"
    lost = int((prep.unit_of_case < 0).sum())
    if lost:
        where = "outside the grid" if units.kind == "cell" else "more than 200 m from every street"
        msg = f"{lost} of {len(prep.days)} cases are {where} and were not scored"
        note = f"{note}; {msg}" if note else msg
    return Backtest(weekly, _summarise(weekly), units.kind, note)


def _summarise(weekly: pd.DataFrame) -> pd.DataFrame:
    cols = ["method", "coverage", "weeks", "cases", "hits", "hit_rate", "area_share", "pai"]
    if weekly.empty:
        return pd.DataFrame(columns=cols)
    g = weekly.groupby(["method", "coverage"], sort=False)
    out = g.agg(
        weeks=("week_start", "size"),
        cases=("cases", "sum"),
        hits=("hits", "sum"),
        area_share=("area_share", "mean"),
    ).reset_index()
    out["hit_rate"] = out["hits"] / out["cases"]
    out["pai"] = out["hit_rate"] / out["area_share"]
    return out[cols]


def segment_risk_weights(
    gdf_cases: gpd.GeoDataFrame,
    gdf_segments: gpd.GeoDataFrame,
    *,
    at: pd.Timestamp | str | None = None,
    method: str = "near_repeat",
    params: ForecastParams | None = None,
    keep_top: float | None = None,
) -> dict[str, float]:
    """Relative risk per segment for the coming week, for the time-budgeted patrol route.

    The forecast's risk (expected cases next week for ``near_repeat``) scaled so the riskiest
    segment weighs 1.0; every segment of ``gdf_segments`` is present, with 0.0 where nothing
    is expected (and everywhere when there are no cases). ``at`` defaults to now.
    ``keep_top`` (e.g. 0.10) zeroes every segment outside the riskiest share of street
    length — the area the backtest scores — so a route planner is not handed hundreds of
    barely-positive targets.
    """
    when = as_local_timestamp(at) if at is not None else pd.Timestamp.now(tz=LOCAL_TZ_NAME)
    if gdf_segments.empty:
        return {}
    units = segment_units(gdf_segments)
    if gdf_cases.empty:
        return {str(s): 0.0 for s in units.ids}
    risk = forecast(gdf_cases, units, at=when, method=method, params=params)["risk"].to_numpy()
    if keep_top is not None:
        keep = np.zeros(len(risk), dtype=bool)
        keep[select_top(risk, units.measure, keep_top)] = True
        risk = np.where(keep, risk, 0.0)
    top = float(risk.max()) if len(risk) else 0.0
    w = risk / top if top > 0 else np.zeros_like(risk)
    return {str(s): float(v) for s, v in zip(units.ids, w, strict=True)}
