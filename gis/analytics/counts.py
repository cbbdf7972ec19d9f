"""Cases counted per grid cell (plain and linearly binned) and per street segment."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from gis.analytics.grid import GridSpec

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
