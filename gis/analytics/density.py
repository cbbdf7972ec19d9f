"""Quartic kernel density of cases in cases per km² per month."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.signal import fftconvolve

from gis.analytics.counts import CaseCounts, FrameCounts
from gis.analytics.grid import GridSpec
from gis.analytics.legend import DENSITY_UNIT, DENSITY_UNIT_ZH, Legend, class_breaks
from gis.analytics.selection import CaseFilter, select_cases, window_note
from gis.errors import ValidationError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DensitySurface:
    """A density raster in cases per km² per month; ``values[row, col]``, row 0 is south.

    With a kernel ``K`` that integrates to one over the plane (discretised on the grid so
    that its cell weights sum to exactly one), the value of a cell is::

        density = Σ_i K(x - x_i) / months            [1/km² per month]

    where ``months`` is the window's length in days divided by 30.4375 (the mean month).
    Hence ``values.sum() * cell_area_km2 * months`` equals the number of cases used (exactly,
    unless a caller-given extent cuts kernels off): :meth:`integral`.
    """

    grid: GridSpec
    values: NDArray[np.float64]
    n_cases: int
    months: float
    bandwidth_m: float
    description: str
    note: str = ""

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Extent (minx, miny, maxx, maxy) in the grid's metric CRS."""
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


def density_surface(
    gdf_cases: gpd.GeoDataFrame | None,
    flt: CaseFilter | None = None,
    *,
    bandwidth_m: float = 100.0,
    cell_m: float = 20.0,
    bounds: tuple[float, float, float, float] | None = None,
    now: pd.Timestamp | None = None,
    counts: CaseCounts | None = None,
) -> DensitySurface:
    """Quartic-kernel density of the selected cases in cases per km² per month.

    The quartic (biweight) kernel with radius ``bandwidth_m`` is the crime-mapping standard:
    a case counts fully at its spot and not at all beyond the radius. Points are linearly
    binned to cell centres and convolved with the discretised kernel (normalised to sum to
    one), so the surface integrates to the case count (see :class:`DensitySurface`).

    Parameters
    ----------
    gdf_cases
        The case frame, in the geography's metric CRS (None when ``counts`` is given).
    flt
        Which cases; its window also sets ``months``. Open windows use the data's span.
    bandwidth_m, cell_m
        Kernel radius and raster cell size in metres.
    bounds
        Fixed extent (e.g. the subdistrict's), else the cases' extent padded by the
        bandwidth. Cases outside a fixed extent are dropped with a warning.
    now
        The present, to say when a window lies in the future (default: the clock).
    counts
        The cases ``flt`` selects, counted elsewhere (in the database: the same bins as the
        frame's, see :class:`~gis.analytics.counts.CaseCounts`).
    """
    if not bandwidth_m > 0:
        raise ValidationError(
            f"bandwidth {bandwidth_m} m must be positive", field="bandwidth_m", fix="e.g. 100"
        )
    flt = flt or CaseFilter()
    if counts is None:
        if gdf_cases is None:
            raise ValidationError("no cases given", field="gdf_cases", fix="pass a case frame")
        counts = FrameCounts(select_cases(gdf_cases, flt))
    note = window_note(flt, now=now)
    months = flt.months(span=counts.span())
    total = counts.total()
    if bounds is None:
        extent = counts.extent()
        if extent is None:
            extent = (
                tuple(gdf_cases.total_bounds)
                if gdf_cases is not None and len(gdf_cases) and gdf_cases.geometry.notna().any()
                else (0.0, 0.0, cell_m, cell_m)
            )
        grid = GridSpec.covering(extent, cell_m, pad_m=bandwidth_m + cell_m, crs=counts.crs)
    else:
        grid = GridSpec.covering(bounds, cell_m, crs=counts.crs)
    values = np.zeros((grid.ny, grid.nx))
    n = 0
    if total:
        binned, n = counts.binned(grid)
        if n < total:
            log.warning("%d cases lie outside the extent and are left out", total - n)
        if n:
            kernel = _quartic_kernel(bandwidth_m, cell_m)
            dens = fftconvolve(binned, kernel, mode="same")
            dens[dens < 1e-12 * max(1.0, float(dens.max()))] = 0.0
            values = dens / grid.cell_area_km2 / months
    if n == 0 and not note:
        note = f"no cases match ({flt.describe()})"
    return DensitySurface(grid, values, n, months, float(bandwidth_m), flt.describe(), note)
