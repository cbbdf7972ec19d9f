"""Cases counted per grid cell (plain and linearly binned) and per street segment."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from gis.analytics.grid import GridSpec, case_xy
from gis.analytics.selection import to_local_time

log = logging.getLogger(__name__)


def linear_bins(
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


def case_segments(
    gdf_cases: gpd.GeoDataFrame, gdf_segments: gpd.GeoDataFrame, *, max_distance_m: float = 200.0
) -> pd.Series:
    """Each case's segment id: the frame's ``segment_id`` where known, else the nearest
    within ``max_distance_m`` (None beyond)."""
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
        idx = tree.query_nearest(geoms, max_distance=max_distance_m, all_matches=True)
        ids = gdf_segments["segment_id"].to_numpy()
        # a case equally near several segments (beside a junction) goes to the lowest id,
        # as the database decides (gis.store.pg_counts)
        first = (
            pd.DataFrame({"i": idx[0], "sid": ids[idx[1]].astype(str)})
            .sort_values(["i", "sid"], kind="stable")
            .drop_duplicates("i")
        )
        filled = np.full(int(missing.sum()), None, dtype=object)
        filled[first["i"].to_numpy()] = ids[idx[1]][first.index.to_numpy()]
        sid = sid.copy()
        sid.loc[missing] = filled
    return sid


def cell_counts(
    x: NDArray[np.float64], y: NDArray[np.float64], grid: GridSpec
) -> NDArray[np.int64]:
    """Cases per cell of ``grid`` (flat, row-major from the south-west); outside ones dropped."""
    idx = grid.index_of(x, y)
    return np.bincount(idx[idx >= 0], minlength=grid.nx * grid.ny).astype(np.int64)


class CaseCounts(Protocol):
    """One selection of cases, counted where the cases are (a frame, or the database)."""

    @property
    def crs(self) -> str:
        """The metric CRS the counts are measured in (the geography's)."""
        ...

    def total(self) -> int:
        """How many cases the selection holds (with a location)."""
        ...

    def span(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """First and last report time, None without cases."""
        ...

    def extent(self) -> tuple[float, float, float, float] | None:
        """(minx, miny, maxx, maxy) of the cases, None without cases."""
        ...

    def per_cell(self, grid: GridSpec) -> NDArray[np.int64]:
        """Cases per cell of ``grid`` (flat, row-major from the south-west)."""
        ...

    def binned(self, grid: GridSpec) -> tuple[NDArray[np.float64], int]:
        """Linear bins (:func:`linear_bins`, ``(ny, nx)``) of the cases inside the grid's
        extent, and how many cases that is."""
        ...

    def per_segment(
        self, gdf_segments: gpd.GeoDataFrame, *, max_distance_m: float = 200.0
    ) -> NDArray[np.int64]:
        """Cases per segment, in the order of ``gdf_segments`` (:func:`case_segments`)."""
        ...


@dataclass(frozen=True)
class FrameCounts:
    """:class:`CaseCounts` of selected cases held in a frame (the embedded store's path)."""

    cases: gpd.GeoDataFrame

    @property
    def crs(self) -> str:
        """The frame's metric CRS."""
        return str(self.cases.crs)

    def total(self) -> int:
        """Rows of the frame."""
        return len(self.cases)

    def span(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """First and last ``reported_at``."""
        if self.cases.empty:
            return None
        t = to_local_time(self.cases["reported_at"])
        return t.min(), t.max()

    def extent(self) -> tuple[float, float, float, float] | None:
        """The frame's total bounds."""
        if self.cases.empty:
            return None
        minx, miny, maxx, maxy = (float(v) for v in self.cases.total_bounds)
        return minx, miny, maxx, maxy

    def per_cell(self, grid: GridSpec) -> NDArray[np.int64]:
        """:func:`cell_counts` of the cases."""
        if self.cases.empty:
            return np.zeros(grid.nx * grid.ny, dtype=np.int64)
        x, y = case_xy(self.cases)
        return cell_counts(x, y, grid)

    def binned(self, grid: GridSpec) -> tuple[NDArray[np.float64], int]:
        """:func:`linear_bins` of the cases inside ``grid.bounds``."""
        if self.cases.empty:
            return np.zeros((grid.ny, grid.nx)), 0
        x, y = case_xy(self.cases)
        minx, miny, maxx, maxy = grid.bounds
        inside = (x >= minx) & (x < maxx) & (y >= miny) & (y < maxy)
        n = int(inside.sum())
        if not n:
            return np.zeros((grid.ny, grid.nx)), 0
        return linear_bins(x[inside], y[inside], np.ones(n), grid), n

    def per_segment(
        self, gdf_segments: gpd.GeoDataFrame, *, max_distance_m: float = 200.0
    ) -> NDArray[np.int64]:
        """Counts of :func:`case_segments` in the order of ``gdf_segments``."""
        n = len(gdf_segments)
        if self.cases.empty or n == 0:
            return np.zeros(n, dtype=np.int64)
        sid = case_segments(self.cases, gdf_segments, max_distance_m=max_distance_m)
        pos = pd.Series(np.arange(n), index=gdf_segments["segment_id"].to_numpy())
        hit = sid[sid.isin(pos.index)]
        return np.bincount(pos.loc[hit].to_numpy(), minlength=n).astype(np.int64)
