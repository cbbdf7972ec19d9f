"""Square metric grids aligned to multiples of the cell size, in the geography's CRS."""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from gis.errors import ValidationError


@dataclass(frozen=True)
class GridSpec:
    """A square metric grid: lower-left corner ``(x0, y0)``, ``nx`` × ``ny`` cells."""

    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int
    #: The metric CRS the grid is laid out in (the geography's, which the cases are in).
    crs: str

    @classmethod
    def covering(
        cls,
        bounds: tuple[float, float, float, float],
        cell_m: float,
        *,
        crs: str,
        pad_m: float = 0.0,
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
        """(minx, miny, maxx, maxy) in :attr:`crs`."""
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


def case_xy(gdf: gpd.GeoDataFrame) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Point coordinates of the cases (polygons, such as structures, at their centroid)."""
    geoms = gdf.geometry.values
    if len(geoms) and not (shapely.get_type_id(geoms) == 0).all():
        geoms = shapely.centroid(geoms)  # polygons (structures) count at their centroid
    xy = shapely.get_coordinates(geoms)
    return xy[:, 0], xy[:, 1]
