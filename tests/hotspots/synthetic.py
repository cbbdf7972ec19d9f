"""Synthetic case frames with a known intensity, for hotspot tests and benchmarks.

The self-exciting ("near-repeat") history is a spatio-temporal Hawkes process on a street
grid: a constant background rate per segment plus, for every case, ``alpha`` expected
follow-up cases, delayed by an exponential with mean ``tau_days`` and displaced by a
Gaussian of ``sigma_m`` metres (then moved onto the nearest street). Its conditional
intensity is therefore known exactly, which makes forecast scores interpretable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.geography.crs import METRIC
from gis.geography.network import grid_segments

TZ = "Asia/Shanghai"
START = pd.Timestamp("2025-12-01 00:00", tz=TZ)  # a Monday


def make_case_frame(
    xy: Sequence[tuple[float, float]],
    times: Sequence[pd.Timestamp | str],
    **columns: Sequence[object],
) -> gpd.GeoDataFrame:
    """A contract case frame from points and report times; other columns get defaults."""
    n = len(xy)
    reported = pd.to_datetime(pd.Series(list(times), dtype=object))
    if n and reported.dt.tz is None:
        reported = reported.dt.tz_localize(TZ)
    elif n:
        reported = reported.dt.tz_convert(TZ)
    else:
        reported = pd.Series([], dtype=f"datetime64[ns, {TZ}]")
    data: dict[str, object] = {
        "case_id": [f"K{i:05d}" for i in range(n)],
        "category": ["C04"] * n,
        "tier": ["general"] * n,
        "state": ["registered"] * n,
        "source": ["patrol"] * n,
        "reported_at": reported.to_numpy(),
        "deadline_at": (reported + pd.Timedelta(days=3)).to_numpy(),
        "closed_at": pd.Series([pd.NaT] * n, dtype=f"datetime64[ns, {TZ}]").to_numpy(),
        "zone_id": ["110102001001001"] * n,
        "front_id": ["scenic"] * n,
        "segment_id": [None] * n,
        "person_id": [None] * n,
        "lead_dept": ["城管"] * n,
        "description": [""] * n,
    }
    for k, v in columns.items():
        data[k] = list(v)
    df = pd.DataFrame(data)
    for c in ("reported_at", "deadline_at", "closed_at"):
        s = pd.to_datetime(df[c])
        df[c] = s.dt.tz_localize(TZ) if s.dt.tz is None else s.dt.tz_convert(TZ)
    geoms = shapely.points(np.asarray(xy, dtype=float).reshape(-1, 2)) if n else []
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs=METRIC).values, crs=METRIC)


@dataclass(frozen=True)
class SyntheticHistory:
    """A generated history and the parameters of its true intensity."""

    cases: gpd.GeoDataFrame
    segments: gpd.GeoDataFrame
    mu_per_day: np.ndarray  # background cases per day per segment
    alpha: float
    tau_days: float
    sigma_m: float
    start: pd.Timestamp
    days: int


def _on_segments(
    segs: gpd.GeoDataFrame, tree: shapely.STRtree, pts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Move points onto their nearest segment; return (xy, segment index)."""
    geoms = shapely.points(pts)
    idx = tree.query_nearest(geoms)
    first = pd.DataFrame({"i": idx[0], "j": idx[1]}).drop_duplicates("i").sort_values("i")
    j = first["j"].to_numpy()
    lines = segs.geometry.values[j]
    snapped = shapely.line_interpolate_point(lines, shapely.line_locate_point(lines, geoms))
    return shapely.get_coordinates(snapped), j


def near_repeat_history(
    *,
    nx: int = 20,
    ny: int = 20,
    spacing_m: float = 100.0,
    days: int = 364,
    background_per_day: float = 3.0,
    hot_share: float = 0.5,
    n_hot: int = 12,
    alpha: float = 0.7,
    tau_days: float = 3.0,
    sigma_m: float = 60.0,
    seed: int = 0,
    segments: gpd.GeoDataFrame | None = None,
    hot_segments: Sequence[int] | None = None,
) -> SyntheticHistory:
    """A year of cases from a Hawkes process on an ``nx`` × ``ny`` street grid.

    ``hot_share`` of the background falls on ``n_hot`` randomly chosen segments (the
    long-run hot spots); the rest is spread evenly. ``alpha`` < 1 keeps the process stable:
    each case begets ``alpha`` follow-ups on average. ``segments`` (EPSG:32650, the network
    contract) replaces the synthetic grid, e.g. with the bundled Shichahai streets;
    ``hot_segments`` (row positions) replaces the random choice of hot segments.
    """
    rng = np.random.default_rng(seed)
    segs = grid_segments(nx, ny, spacing_m) if segments is None else segments.reset_index(drop=True)
    m = len(segs)
    mu = np.full(m, background_per_day * (1 - hot_share) / m)
    hot = (
        np.asarray(hot_segments)
        if hot_segments is not None
        else rng.choice(m, size=n_hot, replace=False)
    )
    mu[hot] += background_per_day * hot_share / len(hot)
    tree = shapely.STRtree(segs.geometry.values)
    # background
    counts = rng.poisson(mu * days)
    seg_idx = np.repeat(np.arange(m), counts)
    t = rng.uniform(0, days, size=seg_idx.size)
    frac = rng.uniform(0, 1, size=seg_idx.size)
    xy = shapely.get_coordinates(
        shapely.line_interpolate_point(segs.geometry.values[seg_idx], frac, normalized=True)
    )
    all_t, all_xy, all_seg = [t], [xy], [seg_idx]
    parents_t, parents_xy = t, xy
    while parents_t.size:
        k = rng.poisson(alpha, size=parents_t.size)
        if k.sum() == 0:
            break
        pt = np.repeat(parents_t, k) + rng.exponential(tau_days, size=int(k.sum()))
        pxy = np.repeat(parents_xy, k, axis=0) + rng.normal(0, sigma_m, size=(int(k.sum()), 2))
        keep = pt < days
        pt, pxy = pt[keep], pxy[keep]
        if pt.size == 0:
            break
        sxy, sseg = _on_segments(segs, tree, pxy)
        all_t.append(pt)
        all_xy.append(sxy)
        all_seg.append(sseg)
        parents_t, parents_xy = pt, sxy
    t = np.concatenate(all_t)
    xy = np.concatenate(all_xy)
    sg = np.concatenate(all_seg)
    order = np.argsort(t, kind="stable")
    t, xy, sg = t[order], xy[order], sg[order]
    times = START + pd.to_timedelta(t, unit="D")
    cats = rng.choice(["C03", "C04", "C07", "C09"], size=t.size)
    extra = {}
    if "zone_id" in segs.columns:
        extra["zone_id"] = segs["zone_id"].to_numpy()[sg]
    if "front_id" in segs.columns:
        extra["front_id"] = segs["front_id"].to_numpy()[sg]
    cases = make_case_frame(
        [tuple(p) for p in xy],
        list(times),
        segment_id=segs["segment_id"].to_numpy()[sg],
        category=cats,
        **extra,
    )
    return SyntheticHistory(cases, segs, mu, alpha, tau_days, sigma_m, START, days)


def offspring_segment_probabilities(h: SyntheticHistory, *, samples: int = 200, seed: int = 99):
    """Sparse (cases × segments) chance that a follow-up of each case lands on each segment.

    Monte Carlo over the generator's own displacement (Gaussian of ``sigma_m``, then the
    nearest street), so it matches the process that made the data.
    """
    from scipy import sparse

    rng = np.random.default_rng(seed)
    xy = shapely.get_coordinates(h.cases.geometry.values)
    tree = shapely.STRtree(h.segments.geometry.values)
    n = len(xy)
    pts = np.repeat(xy, samples, axis=0) + rng.normal(0, h.sigma_m, size=(n * samples, 2))
    _, seg = _on_segments(h.segments, tree, pts)
    rows = np.repeat(np.arange(n), samples)
    m = sparse.csr_matrix(
        (np.full(n * samples, 1.0 / samples), (rows, seg)), shape=(n, len(h.segments))
    )
    m.sum_duplicates()
    return m


def true_expected_counts(h: SyntheticHistory, probs, at_day: float, horizon: float = 7.0):
    """Expected cases per segment in ``[at_day, at_day + horizon)`` given the past.

    Background ``mu · horizon`` plus the first-generation follow-ups of past cases (their
    own follow-ups within the week are left out: a slight underestimate).
    """
    days = ((h.cases["reported_at"] - h.start) / pd.Timedelta(days=1)).to_numpy(float)
    age = at_day - days
    w = np.where(
        age > 0,
        h.alpha * np.exp(-age / h.tau_days) * (1 - np.exp(-horizon / h.tau_days)),
        0.0,
    )
    return h.mu_per_day * horizon + probs.T @ w
