"""Fixtures for the districts tests: path graphs with known optimal splits, street grids."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString

from gis.geography.crs import METRIC
from gis.geography.network import SEGMENT_COLUMNS, assign_node_ids, grid_segments

ZONE = "110102012001001"


def path_segments(n: int, *, length: float = 100.0) -> gpd.GeoDataFrame:
    """``n`` segments in a straight east-west row: s1 … sn, each touching the next."""
    x0, y0 = 447_000.0, 4_421_000.0
    rows = []
    for i in range(n):
        rows.append(
            {
                "segment_id": f"s{i + 1}",
                "street_id": "S",
                "name": f"第{i + 1}段",
                "name_en": f"Part {i + 1}",
                "highway": "residential",
                "kind": "hutong",
                "front_id": "scenic",
                "zone_id": ZONE,
                "geometry": LineString([(x0 + i * length, y0), (x0 + (i + 1) * length, y0)]),
            }
        )
    gdf = assign_node_ids(gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC))
    gdf["length_m"] = gdf.geometry.length
    return gdf[SEGMENT_COLUMNS + ["geometry"]]


def zoned_grid(nx_cells: int, ny_cells: int, spacing: float = 100.0) -> gpd.GeoDataFrame:
    """A grid street network whose segments all lie in one zone of the scenic front."""
    gdf = grid_segments(nx_cells, ny_cells, spacing)
    gdf["zone_id"] = ZONE
    return gdf


def random_weights(gdf: gpd.GeoDataFrame, seed: int = 1) -> pd.Series:
    """Workloads between 20 and 100 minutes per segment."""
    rng = np.random.default_rng(seed)
    return pd.Series(rng.uniform(20, 100, len(gdf)), index=gdf["segment_id"].to_numpy())


@pytest.fixture
def grid12() -> gpd.GeoDataFrame:
    """A 12 × 12 block grid: 312 segments."""
    return zoned_grid(12, 12)
