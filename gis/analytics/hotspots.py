"""Hotspots of violations: kernel density surfaces and Getis-Ord Gi* significance.

Both work on the case frame (see :data:`CASE_COLUMNS`) in EPSG:32650 metres, on grids whose
origin is snapped to a multiple of the cell size, so the same cases always produce the same
cells whatever the map's zoom or extent: the surface is computed here, on the server, and the
map only paints it.

Density units
-------------
:func:`density_surface` returns **cases per km² per month**. With a kernel ``K`` that
integrates to one over the plane (discretised on the grid so that its cell weights sum to
exactly one), the value of a cell is::

    density = Σ_i K(x - x_i) / months            [1/km² per month]

where ``months`` is the length of the time window in days divided by 30.4375 (the mean
month). Hence ``density.sum() * cell_area_km2 * months`` equals the number of cases used
(exactly, unless a caller-given extent cuts kernels off), which is what the tests check.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.signal import fftconvolve

from gis.cases.workflow import CASE_FRAME_COLUMNS
from gis.errors import ValidationError
from gis.geography.crs import METRIC, require_metric, require_same_crs
from gis.localtime import LOCAL_TZ_NAME

log = logging.getLogger(__name__)

#: The case-frame contract columns this module may read.
CASE_COLUMNS: tuple[str, ...] = (*CASE_FRAME_COLUMNS, "geometry")
TIMEZONE = LOCAL_TZ_NAME
#: Mean month in days (365.25 / 12): the unit of "per month".
DAYS_PER_MONTH = 30.4375
DENSITY_UNIT = "cases/km²/month"
DENSITY_UNIT_ZH = "件/平方公里/月"
#: Gi* classes from hottest to coldest.
GI_CLASSES: tuple[str, ...] = ("hot99", "hot95", "hot90", "ns", "cold90", "cold95", "cold99")
#: Sequential palette (light yellow to dark red) for densities and forecasts.
SEQUENTIAL = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
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
DAY_TYPES = ("all", "weekday", "weekend_holiday")


# --------------------------------------------------------------------------- input checks
def require_case_frame(gdf_cases: gpd.GeoDataFrame, *, need: Iterable[str] = ()) -> None:
    """Raise a clear error when the frame is not a metric case frame with ``need`` columns."""
    if not isinstance(gdf_cases, gpd.GeoDataFrame):
        raise ValidationError(
            f"expected a GeoDataFrame of cases, got {type(gdf_cases).__name__}",
            source="cases",
            fix="pass the case frame from the store (gis.store) or gis.cases.workflow",
        )
    require_metric(gdf_cases, "cases")
    missing = [c for c in need if c not in gdf_cases.columns]
    if missing:
        raise ValidationError(
            f"the case frame lacks columns {missing}",
            source="cases",
            fix="build it with the case-frame contract columns " + ", ".join(CASE_COLUMNS),
        )


def to_local_time(values: pd.Series) -> pd.Series:
    """Timestamps as tz-aware Asia/Shanghai (naive values are taken as local time)."""
    s = pd.to_datetime(values)
    if s.dt.tz is None:
        return s.dt.tz_localize(TIMEZONE)
    return s.dt.tz_convert(TIMEZONE)


def as_local_timestamp(value: datetime | date | str | pd.Timestamp) -> pd.Timestamp:
    """One timestamp in Asia/Shanghai (dates mean local midnight)."""
    ts = pd.Timestamp(value)
    return ts.tz_localize(TIMEZONE) if ts.tzinfo is None else ts.tz_convert(TIMEZONE)


# --------------------------------------------------------------------------- filtering
@dataclass(frozen=True)
class CaseFilter:
    """Which cases a surface or test is about.

    ``start`` is inclusive and ``end`` exclusive (local time). ``hours`` keeps cases reported
    in those local hours (0–23). ``day_type`` is ``all``, ``weekday`` (Monday–Friday that are
    not holidays) or ``weekend_holiday`` (Saturday, Sunday and the given ``holidays``).
    """

    categories: tuple[str, ...] | None = None
    tiers: tuple[str, ...] | None = None
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    hours: tuple[int, ...] | None = None
    day_type: str = "all"
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.day_type not in DAY_TYPES:
            raise ValidationError(
                f"unknown day type {self.day_type!r}", field="day_type", fix=f"use {DAY_TYPES}"
            )
        if self.hours is not None:
            bad = [h for h in self.hours if not 0 <= int(h) <= 23]
            if bad:
                raise ValidationError(
                    f"hours {bad} are outside 0–23", field="hours", fix="use local hours 0..23"
                )
        if self.start is not None:
            object.__setattr__(self, "start", as_local_timestamp(self.start))
        if self.end is not None:
            object.__setattr__(self, "end", as_local_timestamp(self.end))
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValidationError(
                f"time window ends ({self.end}) before it starts ({self.start})",
                field="end",
                fix="give an end after the start",
            )

    def months(self, gdf_cases: gpd.GeoDataFrame | None = None) -> float:
        """Length of the window in mean months (from the data's span when open-ended)."""
        start, end = self.start, self.end
        if (start is None or end is None) and gdf_cases is not None and len(gdf_cases):
            t = to_local_time(gdf_cases["reported_at"])
            start = start if start is not None else t.min().normalize()
            end = end if end is not None else t.max().normalize() + pd.Timedelta(days=1)
        if start is None or end is None:
            return 1.0
        return max((end - start) / pd.Timedelta(days=1), 1.0) / DAYS_PER_MONTH

    def describe(self) -> str:
        """Short human description for titles and notes."""
        parts = []
        if self.categories:
            parts.append("categories " + ",".join(self.categories))
        if self.tiers:
            parts.append("tiers " + ",".join(self.tiers))
        if self.start is not None or self.end is not None:
            a = self.start.strftime("%Y-%m-%d") if self.start is not None else "…"
            b = self.end.strftime("%Y-%m-%d") if self.end is not None else "…"
            parts.append(f"{a} to {b}")
        if self.hours:
            parts.append("hours " + ",".join(str(h) for h in sorted(self.hours)))
        if self.day_type != "all":
            parts.append(self.day_type.replace("_", "/"))
        return "; ".join(parts) or "all cases"


def select_cases(gdf_cases: gpd.GeoDataFrame, flt: CaseFilter | None = None) -> gpd.GeoDataFrame:
    """The cases passing ``flt`` (a new frame; the input is not changed)."""
    require_case_frame(gdf_cases, need=("reported_at", "geometry"))
    flt = flt or CaseFilter()
    if gdf_cases.empty:
        return gdf_cases.copy()
    keep = np.ones(len(gdf_cases), dtype=bool)
    t = to_local_time(gdf_cases["reported_at"])
    if flt.categories is not None:
        keep &= gdf_cases["category"].isin(flt.categories).to_numpy()
    if flt.tiers is not None:
        keep &= gdf_cases["tier"].isin(flt.tiers).to_numpy()
    if flt.start is not None:
        keep &= (t >= flt.start).to_numpy()
    if flt.end is not None:
        keep &= (t < flt.end).to_numpy()
    if flt.hours is not None:
        keep &= t.dt.hour.isin([int(h) for h in flt.hours]).to_numpy()
    if flt.day_type != "all":
        days = t.dt.date
        off = (t.dt.day_of_week >= 5).to_numpy() | days.isin(flt.holidays).to_numpy()
        keep &= off if flt.day_type == "weekend_holiday" else ~off
    geom_ok = ~(gdf_cases.geometry.isna() | gdf_cases.geometry.is_empty).to_numpy()
    if (keep & ~geom_ok).any():
        log.warning(
            "%d selected cases have no location and are left out", int((keep & ~geom_ok).sum())
        )
    return gdf_cases.loc[keep & geom_ok].copy()


def window_note(flt: CaseFilter, *, now: pd.Timestamp | None = None) -> str:
    """A message when the window lies (partly) in the future, else ``""``."""
    now = as_local_timestamp(now) if now is not None else pd.Timestamp.now(tz=TIMEZONE)
    if flt.start is not None and flt.start > now:
        return (
            f"the time window starts {flt.start:%Y-%m-%d %H:%M}, after now "
            f"({now:%Y-%m-%d %H:%M}): there can be no cases yet"
        )
    if flt.end is not None and flt.end > now:
        return f"the time window runs past now ({now:%Y-%m-%d %H:%M}): the period is incomplete"
    return ""


# --------------------------------------------------------------------------- grids
@dataclass(frozen=True)
class GridSpec:
    """A square metric grid: lower-left corner ``(x0, y0)``, ``nx`` × ``ny`` cells."""

    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int
    #: The metric CRS the grid is laid out in (the cases').
    crs: str = METRIC

    @classmethod
    def covering(
        cls,
        bounds: tuple[float, float, float, float],
        cell_m: float,
        *,
        pad_m: float = 0.0,
        crs: str = METRIC,
    ) -> GridSpec:
        """The grid aligned to multiples of ``cell_m`` that covers ``bounds`` plus ``pad_m``."""
        if not cell_m > 0:
            raise ValidationError(f"cell size {cell_m} m must be positive", field="cell_m")
        minx, miny, maxx, maxy = bounds
        if not all(math.isfinite(v) for v in bounds):
            raise ValidationError(f"bounds {bounds} are not finite", field="bounds")
        x0 = math.floor((minx - pad_m) / cell_m) * cell_m
        y0 = math.floor((miny - pad_m) / cell_m) * cell_m
        nx = max(1, math.ceil((maxx + pad_m - x0) / cell_m))
        ny = max(1, math.ceil((maxy + pad_m - y0) / cell_m))
        if nx * ny > 25_000_000:
            raise ValidationError(
                f"a {nx}×{ny} grid of {cell_m} m cells is too large",
                field="cell_m",
                fix="use larger cells or a smaller extent",
            )
        return cls(float(x0), float(y0), float(cell_m), int(nx), int(ny), crs)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) in EPSG:32650."""
        return (
            self.x0,
            self.y0,
            self.x0 + self.nx * self.cell_m,
            self.y0 + self.ny * self.cell_m,
        )

    @property
    def cell_area_km2(self) -> float:
        """Area of one cell in km²."""
        return self.cell_m * self.cell_m / 1e6

    def index_of(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int64]:
        """Flat cell index (row-major from the south-west) of points; -1 outside the grid."""
        col = np.floor((np.asarray(x) - self.x0) / self.cell_m).astype(np.int64)
        row = np.floor((np.asarray(y) - self.y0) / self.cell_m).astype(np.int64)
        inside = (col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny)
        return np.where(inside, row * self.nx + col, -1)

    def cell_ids(self) -> NDArray[np.str_]:
        """Stable ids ``"<x>_<y>"`` of each cell's lower-left corner in whole metres."""
        cols, rows = np.meshgrid(np.arange(self.nx), np.arange(self.ny))
        xs = (self.x0 + cols.ravel() * self.cell_m).round().astype(np.int64)
        ys = (self.y0 + rows.ravel() * self.cell_m).round().astype(np.int64)
        return np.char.add(np.char.add(xs.astype(str), "_"), ys.astype(str))

    def centres(self) -> NDArray[np.float64]:
        """(n, 2) cell centres, row-major from the south-west."""
        cols, rows = np.meshgrid(np.arange(self.nx), np.arange(self.ny))
        return np.column_stack(
            [
                self.x0 + (cols.ravel() + 0.5) * self.cell_m,
                self.y0 + (rows.ravel() + 0.5) * self.cell_m,
            ]
        )

    def to_gdf(self) -> gpd.GeoDataFrame:
        """Every cell as a square polygon with ``cell_id``, ``row``, ``col``."""
        cols, rows = np.meshgrid(np.arange(self.nx), np.arange(self.ny))
        x = self.x0 + cols.ravel() * self.cell_m
        y = self.y0 + rows.ravel() * self.cell_m
        geoms = shapely.box(x, y, x + self.cell_m, y + self.cell_m)
        return gpd.GeoDataFrame(
            {"cell_id": self.cell_ids(), "row": rows.ravel(), "col": cols.ravel()},
            geometry=geoms,
            crs=self.crs,
        )


def _xy(gdf: gpd.GeoDataFrame) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    geoms = gdf.geometry.values
    if len(geoms) and not (shapely.get_type_id(geoms) == 0).all():
        geoms = shapely.centroid(geoms)  # polygons (structures) count at their centroid
    xy = shapely.get_coordinates(geoms)
    return xy[:, 0], xy[:, 1]


# --------------------------------------------------------------------------- legends
@dataclass(frozen=True)
class Legend:
    """Class breaks in real units: class ``k`` covers ``breaks[k] < v <= breaks[k+1]``.

    An *empty* legend (no cases, or an all-zero surface) has no classes and one label that
    says so; renderers must then paint nothing rather than a full-red map.
    """

    breaks: tuple[float, ...]
    colors: tuple[str, ...]
    labels: tuple[str, ...]
    unit: str
    title: str = ""
    empty: bool = False

    def classify(self, values: NDArray[np.float64]) -> NDArray[np.int64]:
        """Class index per value; ``-1`` for zero/no-data (painted transparent)."""
        v = np.asarray(values, dtype=float)
        if self.empty or len(self.breaks) < 2:
            return np.full(v.shape, -1, dtype=np.int64)
        k = np.searchsorted(np.asarray(self.breaks[1:-1]), v, side="left")
        k = np.clip(k, 0, len(self.colors) - 1).astype(np.int64)
        return np.where((v > self.breaks[0]) & np.isfinite(v), k, -1)


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    digits = max(0, 2 - int(math.floor(math.log10(abs(v)))) - 1)
    return f"{v:,.{digits}f}"


def class_breaks(
    values: NDArray[np.float64] | Iterable[float],
    *,
    k: int = 5,
    method: str = "quantile",
    unit: str = DENSITY_UNIT,
    title: str = "",
    palette: tuple[str, ...] = SEQUENTIAL,
    empty_label: str = "no cases in the selection",
) -> Legend:
    """Class breaks over the positive values, with labels in ``unit``.

    ``quantile`` puts equal numbers of non-zero cells in each class (the default: densities
    are very skewed), ``equal`` splits the range evenly. Zero cells are not a class: they are
    painted transparent. With no positive value the legend is empty and says so.
    """
    v = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float)
    pos = v[np.isfinite(v) & (v > 0)]
    if pos.size == 0:
        return Legend((), (), (empty_label,), unit, title, empty=True)
    if k < 1:
        raise ValidationError(f"k={k} classes is not positive", field="k")
    vmax = float(pos.max())
    if method == "quantile":
        inner = np.quantile(pos, np.linspace(0, 1, k + 1)[1:-1])
    elif method == "equal":
        inner = np.linspace(0, vmax, k + 1)[1:-1]
    else:
        raise ValidationError(f"unknown method {method!r}", field="method", fix="quantile or equal")
    uppers = sorted({float(b) for b in inner if 0 < b < vmax} | {vmax})
    breaks = (0.0, *uppers)
    n = len(breaks) - 1
    idx = np.round(np.linspace(0, len(palette) - 1, n)).astype(int) if n > 1 else [len(palette) - 1]
    colors = tuple(palette[i] for i in idx)
    labels = tuple(
        (f"≤ {_fmt(breaks[1])}" if i == 0 else f"{_fmt(breaks[i])} – {_fmt(breaks[i + 1])}")
        + f" {unit}"
        for i in range(n)
    )
    return Legend(breaks, colors, labels, unit, title)


# --------------------------------------------------------------------------- KDE
@dataclass(frozen=True)
class DensitySurface:
    """A density raster in cases per km² per month; ``values[row, col]``, row 0 is south."""

    grid: GridSpec
    values: NDArray[np.float64]
    n_cases: int
    months: float
    bandwidth_m: float
    description: str
    note: str = ""

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Extent (minx, miny, maxx, maxy) in EPSG:32650."""
        return self.grid.bounds

    @property
    def is_empty(self) -> bool:
        """True when no case contributed (the legend then says so)."""
        return self.n_cases == 0 or not np.any(self.values > 0)

    def integral(self) -> float:
        """Σ density · cell area · months: the number of cases the surface holds."""
        return float(self.values.sum() * self.grid.cell_area_km2 * self.months)

    def legend(self, k: int = 5, method: str = "quantile", *, lang: str = "en") -> Legend:
        """Class breaks of the non-zero cells, labelled in cases/km²/month."""
        unit = DENSITY_UNIT_ZH if lang == "zh" else DENSITY_UNIT
        empty = "所选范围内无案件" if lang == "zh" else "no cases in the selection"
        title = "案件密度" if lang == "zh" else "Case density"
        return class_breaks(
            self.values.ravel(), k=k, method=method, unit=unit, title=title, empty_label=empty
        )

    def to_gdf(self, *, drop_zero: bool = True, min_value: float = 1e-9) -> gpd.GeoDataFrame:
        """Cells as polygons with ``density`` (cases/km²/month), zero cells dropped."""
        gdf = self.grid.to_gdf()
        gdf["density"] = self.values.ravel()
        if drop_zero:
            gdf = gdf.loc[gdf["density"] > min_value].reset_index(drop=True)
        return gdf


def _quartic_kernel(bandwidth_m: float, cell_m: float) -> NDArray[np.float64]:
    r = int(math.ceil(bandwidth_m / cell_m))
    off = np.arange(-r, r + 1) * cell_m
    dx, dy = np.meshgrid(off, off)
    d2 = (dx * dx + dy * dy) / (bandwidth_m * bandwidth_m)
    k = np.where(d2 < 1.0, (1.0 - d2) ** 2, 0.0)
    if k.sum() == 0:  # bandwidth below half a cell: all mass stays in the cell
        k[r, r] = 1.0
    return k / k.sum()


def _linear_binning(
    x: NDArray[np.float64], y: NDArray[np.float64], w: NDArray[np.float64], grid: GridSpec
) -> NDArray[np.float64]:
    """Spread each point's weight over the four nearest cell centres (bilinear)."""
    gx = (x - grid.x0) / grid.cell_m - 0.5
    gy = (y - grid.y0) / grid.cell_m - 0.5
    c0 = np.floor(gx).astype(np.int64)
    r0 = np.floor(gy).astype(np.int64)
    fx = gx - c0
    fy = gy - r0
    out = np.zeros((grid.ny, grid.nx))
    for dr, dc, ww in (
        (0, 0, (1 - fx) * (1 - fy)),
        (0, 1, fx * (1 - fy)),
        (1, 0, (1 - fx) * fy),
        (1, 1, fx * fy),
    ):
        rr = np.clip(r0 + dr, 0, grid.ny - 1)
        cc = np.clip(c0 + dc, 0, grid.nx - 1)
        np.add.at(out, (rr, cc), w * ww)
    return out


def density_surface(
    gdf_cases: gpd.GeoDataFrame,
    flt: CaseFilter | None = None,
    *,
    bandwidth_m: float = 100.0,
    cell_m: float = 20.0,
    bounds: tuple[float, float, float, float] | None = None,
    now: pd.Timestamp | None = None,
) -> DensitySurface:
    """Quartic-kernel density of the selected cases in cases per km² per month.

    The quartic (biweight) kernel with radius ``bandwidth_m`` is the crime-mapping standard:
    a case counts fully at its spot and not at all beyond the radius. Points are linearly
    binned to cell centres and convolved with the discretised kernel (normalised to sum to
    one), so the surface integrates to the case count (see the module docstring).

    Parameters
    ----------
    gdf_cases
        The case frame (EPSG:32650).
    flt
        Which cases; its window also sets ``months``. Open windows use the data's span.
    bandwidth_m, cell_m
        Kernel radius and raster cell size in metres.
    bounds
        Fixed extent (e.g. the subdistrict's), else the cases' extent padded by the
        bandwidth. Cases outside a fixed extent are dropped with a warning.
    now
        The present, to say when a window lies in the future (default: the clock).
    """
    if not bandwidth_m > 0:
        raise ValidationError(
            f"bandwidth {bandwidth_m} m must be positive", field="bandwidth_m", fix="e.g. 100"
        )
    flt = flt or CaseFilter()
    sel = select_cases(gdf_cases, flt)
    note = window_note(flt, now=now)
    months = flt.months(sel)
    if bounds is None:
        if sel.empty:
            bounds = (
                tuple(gdf_cases.total_bounds)
                if len(gdf_cases) and gdf_cases.geometry.notna().any()
                else (0.0, 0.0, cell_m, cell_m)
            )
        else:
            bounds = tuple(sel.total_bounds)
        grid = GridSpec.covering(bounds, cell_m, pad_m=bandwidth_m + cell_m, crs=str(gdf_cases.crs))
    else:
        grid = GridSpec.covering(bounds, cell_m, crs=str(gdf_cases.crs))
    values = np.zeros((grid.ny, grid.nx))
    n = 0
    if not sel.empty:
        x, y = _xy(sel)
        minx, miny, maxx, maxy = grid.bounds
        inside = (x >= minx) & (x < maxx) & (y >= miny) & (y < maxy)
        if not inside.all():
            log.warning("%d cases lie outside the extent and are left out", int((~inside).sum()))
        x, y = x[inside], y[inside]
        n = int(inside.sum())
        if n:
            counts = _linear_binning(x, y, np.ones(n), grid)
            kernel = _quartic_kernel(bandwidth_m, cell_m)
            dens = fftconvolve(counts, kernel, mode="same")
            dens[dens < 1e-12 * max(1.0, float(dens.max()))] = 0.0
            values = dens / grid.cell_area_km2 / months
    if n == 0 and not note:
        note = f"no cases match ({flt.describe()})"
    return DensitySurface(grid, values, n, months, float(bandwidth_m), flt.describe(), note)


# --------------------------------------------------------------------------- Gi*
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


def _class_counts(classes: Iterable[str]) -> dict[str, int]:
    s = pd.Series(list(classes), dtype=object).value_counts()
    return {c: int(s.get(c, 0)) for c in GI_CLASSES}


def gistar_cells(
    gdf_cases: gpd.GeoDataFrame,
    flt: CaseFilter | None = None,
    *,
    cell_m: float = 100.0,
    bounds: tuple[float, float, float, float] | None = None,
    mask: shapely.Geometry | None = None,
    permutations: int = 999,
    seed: int = 0,
    fdr: bool = True,
    randomization: str = "total",
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
    """
    if not 10 <= cell_m <= 1000:
        raise ValidationError(f"cell size {cell_m} m is out of range", field="cell_m", fix="50–100")
    flt = flt or CaseFilter()
    sel = select_cases(gdf_cases, flt)
    if bounds is None:
        if mask is not None and not mask.is_empty:
            bounds = tuple(mask.bounds)
        elif not sel.empty:
            bounds = tuple(sel.total_bounds)
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
                crs=gdf_cases.crs,
            )
            return HotspotResult(
                empty,
                _class_counts([]),
                "cell",
                permutations,
                fdr,
                f"no cases match ({flt.describe()}) and no extent was given",
            )
        grid = GridSpec.covering(bounds, cell_m, pad_m=cell_m, crs=str(gdf_cases.crs))
    else:
        grid = GridSpec.covering(bounds, cell_m, crs=str(gdf_cases.crs))
    cells = grid.to_gdf()
    counts = np.zeros(grid.nx * grid.ny)
    if not sel.empty:
        x, y = _xy(sel)
        idx = grid.index_of(x, y)
        counts = np.bincount(idx[idx >= 0], minlength=len(counts)).astype(float)
    cells["count"] = counts
    if mask is not None:
        keep = shapely.intersects(cells.geometry.values, mask)
        if (counts[~keep] > 0).any():
            log.info("%d cases fall in cells outside the mask", int(counts[~keep].sum()))
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
    if sel.empty:
        note = f"no cases match ({flt.describe()})"
    out = pd.concat([cells.drop(columns=["row", "col"]), df], axis=1)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=gdf_cases.crs)
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


def case_segments(
    gdf_cases: gpd.GeoDataFrame, gdf_segments: gpd.GeoDataFrame, *, max_distance_m: float = 200.0
) -> pd.Series:
    """Each case's segment id: the frame's ``segment_id`` where known, else the nearest."""
    sid = (
        gdf_cases["segment_id"].astype(object)
        if "segment_id" in gdf_cases.columns
        else pd.Series([None] * len(gdf_cases), index=gdf_cases.index, dtype=object)
    )
    known = set(gdf_segments["segment_id"])
    missing = ~sid.isin(known)
    if missing.any() and len(gdf_segments):
        tree = shapely.STRtree(gdf_segments.geometry.values)
        geoms = gdf_cases.geometry.values[missing.to_numpy()]
        idx, dist = tree.query_nearest(geoms, return_distance=True, max_distance=max_distance_m)
        first = pd.DataFrame({"i": idx[0], "j": idx[1]}).drop_duplicates("i")
        filled = np.full(int(missing.sum()), None, dtype=object)
        filled[first["i"].to_numpy()] = gdf_segments["segment_id"].to_numpy()[first["j"].to_numpy()]
        sid = sid.copy()
        sid.loc[missing] = filled
    return sid


def gistar_segments(
    gdf_cases: gpd.GeoDataFrame,
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
) -> HotspotResult:
    """Gi* on street segments: cases counted per segment, neighbours along the network.

    ``value="per_100m"`` tests cases per 100 m of frontage instead of raw counts, so long
    streets are not hot merely for being long. Neighbours are segments sharing a junction
    (``network``) or with midpoints within ``distance_m`` (``distance``).
    """
    require_case_frame(gdf_cases, need=("reported_at", "geometry"))
    require_metric(gdf_segments, "segments")
    require_same_crs(gdf_cases, gdf_segments, what="cases and segments")
    if value not in ("count", "per_100m"):
        raise ValidationError(f"unknown value {value!r}", field="value", fix="count or per_100m")
    flt = flt or CaseFilter()
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
    sel = select_cases(gdf_cases, flt)
    counts = np.zeros(len(segs))
    off_street = ""
    if not sel.empty:
        sid = case_segments(sel, segs)
        pos = pd.Series(np.arange(len(segs)), index=segs["segment_id"])
        hit = sid[sid.isin(pos.index)]
        counts = np.bincount(pos.loc[hit].to_numpy(), minlength=len(segs)).astype(float)
        lost = len(sel) - len(hit)
        if lost:
            off_street = (
                f"{lost} of {len(sel)} cases are more than 200 m from every street "
                "and were left out (check the geography and the cases' datum)"
            )
    yv = counts if value == "count" else counts / np.maximum(segs["length_m"].to_numpy(), 1.0) * 100
    nbs = segment_neighbours(segs, how=neighbours, distance_m=distance_m)
    df, note = _gistar(
        yv, nbs, permutations=permutations, seed=seed, fdr=fdr, randomization=randomization
    )
    if sel.empty:
        note = f"no cases match ({flt.describe()})"
    elif off_street:
        note = f"{off_street}; {note}" if note else off_street
    cols = [c for c in ("segment_id", "name", "name_en", "zone_id", "length_m") if c in segs]
    out = pd.concat([segs[cols], pd.DataFrame({"count": counts}), df], axis=1)
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


def time_window(
    end: datetime | date | str | pd.Timestamp, days: int
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The ``days``-day window ending (exclusively) at local midnight after ``end``'s date."""
    e = as_local_timestamp(end).normalize() + pd.Timedelta(days=1)
    return e - pd.Timedelta(days=days), e
