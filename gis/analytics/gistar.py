"""Getis-Ord Gi* hot and cold spots on grid cells and street segments, FDR-corrected."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from gis.analytics.counts import CaseCounts, FrameCounts
from gis.analytics.grid import GridSpec
from gis.analytics.legend import Legend
from gis.analytics.selection import CaseFilter, require_case_frame, select_cases
from gis.errors import ValidationError
from gis.geography.crs import require_metric, require_same_crs

log = logging.getLogger(__name__)

#: Gi* classes from hottest to coldest.
GI_CLASSES: tuple[str, ...] = ("hot99", "hot95", "hot90", "ns", "cold90", "cold95", "cold99")
#: Diverging colours of the Gi* classes.
GI_COLORS: dict[str, str] = {
    "hot99": "#d7191c",
    "hot95": "#f17c4a",
    "hot90": "#fec980",
    "ns": "#eeeeee",
    "cold90": "#c7e6f4",
    "cold95": "#7fb6d6",
    "cold99": "#2c7bb6",
}


@dataclass(frozen=True)
class HotspotResult:
    """Gi* per unit (``gdf``: id, count, gi_z, p_value, q_value, gi_class) and class counts."""

    gdf: gpd.GeoDataFrame
    counts: dict[str, int]
    unit: str  # "cell" or "segment"
    permutations: int
    fdr: bool
    note: str = ""

    @property
    def tested(self) -> int:
        """Units that received a p-value (0 when there was nothing to test)."""
        return int(self.gdf["p_value"].notna().sum()) if "p_value" in self.gdf else 0

    @property
    def n_significant(self) -> int:
        """Units in a hot or cold class."""
        return sum(v for k, v in self.counts.items() if k != "ns")


def benjamini_hochberg(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Benjamini–Hochberg adjusted p-values (q-values); NaN stays NaN."""
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return q
    pv = p[ok]
    order = np.argsort(pv, kind="stable")
    ranked = pv[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.clip(ranked, 0.0, 1.0)
    q[ok] = out
    return q


def gi_classes(z: NDArray[np.float64], p: NDArray[np.float64]) -> NDArray[np.str_]:
    """hot99/95/90 (p ≤ .01/.05/.10 and z > 0), cold… likewise for z < 0, else ns.

    ``z`` only gives the direction (the Gi* z-score, or the side of the permutation
    distribution the observation falls on).
    """
    z = np.asarray(z, dtype=float)
    p = np.asarray(p, dtype=float)
    out = np.full(z.shape, "ns", dtype=object)
    for level, thr in (("90", 0.10), ("95", 0.05), ("99", 0.01)):
        sig = np.isfinite(p) & (p <= thr) & np.isfinite(z)
        out[sig & (z > 0)] = "hot" + level
        out[sig & (z < 0)] = "cold" + level
    return out.astype(str)


def _gistar(
    y: NDArray[np.float64],
    neighbours: list[NDArray[np.int64]],
    *,
    permutations: int,
    seed: int,
    fdr: bool,
    randomization: str = "conditional",
) -> tuple[pd.DataFrame, str]:
    """Gi* (binary weights, self included) with permutation p-values and optional FDR.

    ``conditional`` (esda's): the focal unit keeps its value and its neighbours are drawn
    from the others — it asks whether the *surroundings* are unusual, so a lone high unit
    among ordinary neighbours is not a hot spot. ``total``: the whole neighbourhood
    (focal unit included) is drawn from all units — it also flags a lone high unit. Either
    way the p-value is the smaller tail share, counting ties on both sides, so
    ``p = 1/(permutations+1)`` needs every permutation strictly on one side.
    """
    from esda.getisord import G_Local
    from libpysal.weights import W

    if randomization not in RANDOMIZATIONS:
        raise ValidationError(
            f"unknown randomization {randomization!r}",
            field="randomization",
            fix="use total or conditional",
        )
    if permutations < 0:
        raise ValidationError(
            f"{permutations} permutations", field="permutations", fix="use 999 (0: analytic)"
        )
    n = len(y)
    z = np.full(n, np.nan)
    p = np.full(n, np.nan)
    direction = np.zeros(n)
    note = ""
    islands = np.array([len(nb) == 0 for nb in neighbours], dtype=bool)
    active = np.flatnonzero(~islands)
    if n == 0:
        note = "no units to test"
    elif len(active) < 3:
        note = "fewer than three connected units: Gi* cannot be tested"
    elif float(np.ptp(y[active])) == 0.0:
        note = (
            "no cases in the selection: nothing to test"
            if float(y[active].max()) == 0
            else "every unit has the same count: no hot or cold spots"
        )
    else:
        pos = -np.ones(n, dtype=np.int64)
        pos[active] = np.arange(len(active))
        nb = {
            int(pos[i]): [int(pos[j]) for j in neighbours[i] if pos[j] >= 0 and j != i]
            for i in active
        }
        w = W(nb, silence_warnings=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = G_Local(
                y[active].astype(float),
                w,
                transform="B",
                star=True,
                permutations=permutations if randomization != "total" else 0,
                seed=seed,
                keep_simulations=randomization != "total",
                n_jobs=1,
            )
        z[active] = np.asarray(g.Zs, dtype=float)
        if permutations == 0:  # analytic: one-sided normal tail of the Gi* z-score
            from scipy.stats import norm

            za = z[active]
            ge = le = None  # type: ignore[assignment]
            p[active] = norm.sf(np.abs(za))
            direction[active] = np.sign(za)
        elif randomization == "total":
            ya = y[active].astype(float)
            sizes = np.array([len(nb[i]) + 1 for i in range(len(active))], dtype=np.int64)
            obs_sum = ya + np.array([ya[nb[i]].sum() for i in range(len(active))])
            ge, le = _total_randomization(ya, obs_sum, sizes, permutations, seed)
        else:
            # Tie-aware folded p-values: esda folds "share of permutations >= observed",
            # which turns ties (every sparse count cell: 0 >= 0) into false extremes.
            sims = np.asarray(g.rGs, dtype=float)
            obs = np.asarray(g.Gs, dtype=float)[:, None]
            tol = 1e-12 * np.maximum(np.abs(obs), 1.0)
            ge = (sims >= obs - tol).sum(axis=1)
            le = (sims <= obs + tol).sum(axis=1)
        if ge is not None and le is not None:
            p_hot = (ge + 1.0) / (permutations + 1.0)
            p_cold = (le + 1.0) / (permutations + 1.0)
            p[active] = np.minimum(np.minimum(p_hot, p_cold), 1.0)
            direction[active] = np.sign(le - ge)
        if islands.any():
            note = f"{int(islands.sum())} units without neighbours were not tested"
    q = benjamini_hochberg(p) if fdr else p.copy()
    df = pd.DataFrame({"gi_z": z, "p_value": p, "q_value": q})
    df["gi_class"] = gi_classes(direction, q)
    return df, note


RANDOMIZATIONS = ("total", "conditional")


def _total_randomization(
    y: NDArray[np.float64],
    obs_sum: NDArray[np.float64],
    sizes: NDArray[np.int64],
    permutations: int,
    seed: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Counts of permuted neighbourhood sums at or above / at or below the observed ones.

    Each permutation draws ``max(sizes)`` values without replacement from all units; the
    sum of its first ``k`` values is the null draw for every neighbourhood of size ``k``
    (one shared stream, as esda shares its random ids).
    """
    rng = np.random.default_rng(seed)
    n, kmax = len(y), int(sizes.max())
    ge = np.zeros(len(obs_sum), dtype=np.int64)
    le = np.zeros(len(obs_sum), dtype=np.int64)
    tol = 1e-9 * np.maximum(np.abs(obs_sum), 1.0)
    for _ in range(permutations):
        draw = np.cumsum(y[rng.choice(n, size=kmax, replace=False)])
        null = draw[sizes - 1]
        ge += null >= obs_sum - tol
        le += null <= obs_sum + tol
    return ge, le


def _counts_of(
    gdf_cases: gpd.GeoDataFrame | None, flt: CaseFilter, counts: CaseCounts | None
) -> CaseCounts:
    """``counts`` when given, else the frame's cases that ``flt`` selects."""
    if counts is not None:
        return counts
    if gdf_cases is None:
        raise ValidationError("no cases given", field="gdf_cases", fix="pass a case frame")
    require_case_frame(gdf_cases, need=("reported_at", "geometry"))
    return FrameCounts(select_cases(gdf_cases, flt))


def _class_counts(classes: Iterable[str]) -> dict[str, int]:
    s = pd.Series(list(classes), dtype=object).value_counts()
    return {c: int(s.get(c, 0)) for c in GI_CLASSES}


def gistar_cells(
    gdf_cases: gpd.GeoDataFrame | None,
    flt: CaseFilter | None = None,
    *,
    cell_m: float = 100.0,
    bounds: tuple[float, float, float, float] | None = None,
    mask: shapely.Geometry | None = None,
    permutations: int = 999,
    seed: int = 0,
    fdr: bool = True,
    randomization: str = "total",
    counts: CaseCounts | None = None,
) -> HotspotResult:
    """Getis-Ord Gi* of case counts on square cells (queen neighbours, self included).

    The statistic and its z-score are esda's ``G_Local`` with ``star=True`` and binary
    weights. p-values come from ``permutations`` random permutations (folded one-sided, ties
    counted on both sides, so the smallest is ``1/(permutations+1)``) and, with ``fdr``, are
    Benjamini–Hochberg adjusted over all tested cells before classing: hot99/hot95/hot90
    mean an adjusted p ≤ 0.01/0.05/0.10 with the observation in the upper tail.

    ``randomization="total"`` (default) draws the whole neighbourhood, the cell itself
    included, from all cells — the null hypothesis of the Gi* statistic, which counts the
    cell itself. ``"conditional"`` is esda's: the cell keeps its value and only its
    neighbours are drawn, which asks whether the *surroundings* are unusual. ``permutations=0``
    uses the analytic normal tail of the z-score instead (fast; optimistic for skewed counts).

    With ``m`` cells, a BH-adjusted p cannot go below ``m / ((permutations + 1) · k)`` for
    ``k`` equally extreme cells: for thousands of cells keep 999 permutations or more.

    Parameters
    ----------
    cell_m
        Cell size, 50–100 m for Shichahai's hutong blocks.
    bounds
        Extent (default: the cases' extent padded by one cell).
    mask
        Keep only cells intersecting this geometry (e.g. the subdistrict or its streets), so
        lakes and empty land do not dilute the test.
    counts
        The cases ``flt`` selects, counted elsewhere (in the database); ``gdf_cases`` may
        then be None.
    """
    if not 10 <= cell_m <= 1000:
        raise ValidationError(f"cell size {cell_m} m is out of range", field="cell_m", fix="50–100")
    flt = flt or CaseFilter()
    counts = _counts_of(gdf_cases, flt, counts)
    total = counts.total()
    if bounds is None:
        if mask is not None and not mask.is_empty:
            bounds = tuple(mask.bounds)
        elif total and (extent := counts.extent()) is not None:
            bounds = extent
        else:
            empty = gpd.GeoDataFrame(
                {
                    "cell_id": [],
                    "count": [],
                    "gi_z": [],
                    "p_value": [],
                    "q_value": [],
                    "gi_class": [],
                },
                geometry=[],
                crs=counts.crs,
            )
            return HotspotResult(
                empty,
                _class_counts([]),
                "cell",
                permutations,
                fdr,
                f"no cases match ({flt.describe()}) and no extent was given",
            )
        grid = GridSpec.covering(bounds, cell_m, pad_m=cell_m, crs=counts.crs)
    else:
        grid = GridSpec.covering(bounds, cell_m, crs=counts.crs)
    cells = grid.to_gdf()
    per_cell = np.zeros(grid.nx * grid.ny)
    if total:
        per_cell = counts.per_cell(grid).astype(float)
    cells["count"] = per_cell
    if mask is not None:
        keep = shapely.intersects(cells.geometry.values, mask)
        if (per_cell[~keep] > 0).any():
            log.info("%d cases fall in cells outside the mask", int(per_cell[~keep].sum()))
        cells = cells.loc[keep].reset_index(drop=True)
    rc_to_i = {(r, c): i for i, (r, c) in enumerate(zip(cells["row"], cells["col"], strict=True))}
    neighbours = []
    for r, c in zip(cells["row"], cells["col"], strict=True):
        nb = [
            rc_to_i[(r + dr, c + dc)]
            for dr in (-1, 0, 1)
            for dc in (-1, 0, 1)
            if (dr or dc) and (r + dr, c + dc) in rc_to_i
        ]
        neighbours.append(np.asarray(nb, dtype=np.int64))
    df, note = _gistar(
        cells["count"].to_numpy(float),
        neighbours,
        permutations=permutations,
        seed=seed,
        fdr=fdr,
        randomization=randomization,
    )
    if not total:
        note = f"no cases match ({flt.describe()})"
    out = pd.concat([cells.drop(columns=["row", "col"]), df], axis=1)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=counts.crs)
    return HotspotResult(out, _class_counts(out["gi_class"]), "cell", permutations, fdr, note)


def segment_neighbours(
    gdf_segments: gpd.GeoDataFrame, *, how: str = "network", distance_m: float = 150.0
) -> list[NDArray[np.int64]]:
    """Neighbour lists by network adjacency (a shared junction) or a midpoint distance band."""
    n = len(gdf_segments)
    if how == "network":
        by_node: dict[int, list[int]] = {}
        for i, (u, v) in enumerate(zip(gdf_segments["u"], gdf_segments["v"], strict=True)):
            by_node.setdefault(int(u), []).append(i)
            if int(v) != int(u):
                by_node.setdefault(int(v), []).append(i)
        sets: list[set[int]] = [set() for _ in range(n)]
        for members in by_node.values():
            for i in members:
                sets[i].update(members)
        return [np.asarray(sorted(s - {i}), dtype=np.int64) for i, s in enumerate(sets)]
    if how == "distance":
        from scipy.spatial import cKDTree

        mids = shapely.get_coordinates(
            shapely.line_interpolate_point(gdf_segments.geometry.values, 0.5, normalized=True)
        )
        tree = cKDTree(mids)
        lists = tree.query_ball_point(mids, r=distance_m)
        return [np.asarray(sorted(set(lst) - {i}), dtype=np.int64) for i, lst in enumerate(lists)]
    raise ValidationError(f"unknown neighbour rule {how!r}", field="how", fix="network or distance")


def gistar_segments(
    gdf_cases: gpd.GeoDataFrame | None,
    gdf_segments: gpd.GeoDataFrame,
    flt: CaseFilter | None = None,
    *,
    neighbours: str = "network",
    distance_m: float = 150.0,
    value: str = "count",
    permutations: int = 999,
    seed: int = 0,
    fdr: bool = True,
    randomization: str = "total",
    counts: CaseCounts | None = None,
) -> HotspotResult:
    """Gi* on street segments: cases counted per segment, neighbours along the network.

    ``value="per_100m"`` tests cases per 100 m of frontage instead of raw counts, so long
    streets are not hot merely for being long. Neighbours are segments sharing a junction
    (``network``) or with midpoints within ``distance_m`` (``distance``). ``counts`` gives the
    cases ``flt`` selects counted elsewhere (in the database); ``gdf_cases`` may then be None.
    """
    require_metric(gdf_segments, "segments")
    flt = flt or CaseFilter()
    counts = _counts_of(gdf_cases, flt, counts)
    require_same_crs(gpd.GeoSeries([], crs=counts.crs), gdf_segments, what="cases and segments")
    if value not in ("count", "per_100m"):
        raise ValidationError(f"unknown value {value!r}", field="value", fix="count or per_100m")
    segs = gdf_segments.reset_index(drop=True)
    if segs.empty:
        empty = segs.assign(count=[], gi_z=[], p_value=[], q_value=[], gi_class=[])
        return HotspotResult(
            empty,
            _class_counts([]),
            "segment",
            permutations,
            fdr,
            "the area has no streets: nothing to test",
        )
    total = counts.total()
    per_seg = np.zeros(len(segs))
    off_street = ""
    if total:
        per_seg = counts.per_segment(segs).astype(float)
        lost = total - int(per_seg.sum())
        if lost:
            off_street = (
                f"{lost} of {total} cases are more than 200 m from every street "
                "and were left out (check the geography and the cases' datum)"
            )
    length = np.maximum(segs["length_m"].to_numpy(), 1.0)
    yv = per_seg if value == "count" else per_seg / length * 100
    nbs = segment_neighbours(segs, how=neighbours, distance_m=distance_m)
    df, note = _gistar(
        yv, nbs, permutations=permutations, seed=seed, fdr=fdr, randomization=randomization
    )
    if not total:
        note = f"no cases match ({flt.describe()})"
    elif off_street:
        note = f"{off_street}; {note}" if note else off_street
    cols = [c for c in ("segment_id", "name", "name_en", "zone_id", "length_m") if c in segs]
    out = pd.concat([segs[cols], pd.DataFrame({"count": per_seg}), df], axis=1)
    out = gpd.GeoDataFrame(out, geometry=segs.geometry.values, crs=gdf_segments.crs)
    return HotspotResult(out, _class_counts(out["gi_class"]), "segment", permutations, fdr, note)


def gi_legend(result: HotspotResult, *, lang: str = "en") -> Legend:
    """Legend of the Gi* classes with their cell counts (classes present only)."""
    zh = {
        "hot99": "热点 99%",
        "hot95": "热点 95%",
        "hot90": "热点 90%",
        "ns": "不显著",
        "cold90": "冷点 90%",
        "cold95": "冷点 95%",
        "cold99": "冷点 99%",
    }
    en = {
        "hot99": "Hot spot, 99%",
        "hot95": "Hot spot, 95%",
        "hot90": "Hot spot, 90%",
        "ns": "Not significant",
        "cold90": "Cold spot, 90%",
        "cold95": "Cold spot, 95%",
        "cold99": "Cold spot, 99%",
    }
    names = zh if lang == "zh" else en
    present = [c for c in GI_CLASSES if result.counts.get(c, 0) > 0]
    unit = "单元" if lang == "zh" else ("cells" if result.unit == "cell" else "segments")
    title = "Gi* 热点（FDR 校正）" if lang == "zh" else "Gi* hot spots (FDR-corrected)"
    if not result.fdr:
        title = "Gi* 热点" if lang == "zh" else "Gi* hot spots (uncorrected)"
    if not present or result.tested == 0:
        msg = result.note or ("无案件" if lang == "zh" else "no cases")
        return Legend((), (), (msg,), unit, title, empty=True)
    return Legend(
        (),
        tuple(GI_COLORS[c] for c in present),
        tuple(f"{names[c]} ({result.counts[c]} {unit})" for c in present),
        unit,
        title,
    )
