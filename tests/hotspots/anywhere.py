"""The tiny test geography moved to any place on Earth, and cases clustered on one of its streets."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from pyproj import Transformer
from shapely.geometry import Point

from gis.geography.crs import METRIC, WGS84, metric_crs_for
from tests.hotspots.synthetic import make_case_frame
from tests.tiny_geography import STEP, X0, Y0, build_tiny_geography

#: (label, lon, lat) of the places the analytics are checked at.
PLACES = [
    ("seattle", -122.335, 47.608),
    ("sydney", 151.207, -33.868),
    ("shichahai", 116.380, 39.935),
]
#: The cluster's centre in the tiny geography's own metres (on street 横2, mid-block).
CLUSTER_LOCAL = (X0 + 0.5 * STEP, Y0 + 2 * STEP)


def geography_at(folder: Path, lon: float, lat: float) -> Path:
    """The tiny geography (600 m square, 5×5 streets) with its south-west corner at (lon, lat).

    Shapes keep their true size in metres: they are laid out in the UTM zone of the place.
    """
    src = build_tiny_geography(folder.parent / f"{folder.name}-src")
    folder.mkdir(parents=True, exist_ok=True)
    crs = metric_crs_for(lon, lat)
    x, y = Transformer.from_crs(WGS84, crs, always_xy=True).transform(lon, lat)
    for path in sorted(src.glob("*.geojson")):
        gdf = gpd.read_file(path).to_crs(METRIC)
        moved = gdf.geometry.translate(x - X0, y - Y0).set_crs(crs, allow_override=True)
        out = gpd.GeoDataFrame(gdf.drop(columns="geometry"), geometry=moved)
        out.to_crs(WGS84).to_file(folder / path.name, driver="GeoJSON")
    return folder


def cluster_lonlat(lon: float, lat: float) -> tuple[float, float]:
    """WGS 84 position of the cluster centre of the geography placed at (lon, lat)."""
    crs = metric_crs_for(lon, lat)
    x, y = Transformer.from_crs(WGS84, crs, always_xy=True).transform(lon, lat)
    cx, cy = x + CLUSTER_LOCAL[0] - X0, y + CLUSTER_LOCAL[1] - Y0
    return Transformer.from_crs(crs, WGS84, always_xy=True).transform(cx, cy)


def clustered_frame(
    lon: float, lat: float, *, n: int = 60, end: pd.Timestamp, spread_m: float = 12.0
) -> gpd.GeoDataFrame:
    """``n`` cases within ``spread_m`` of the cluster centre over the 15 days before ``end``,
    as the store gives them: in its own CRS (EPSG:32650), whatever the place."""
    crs = metric_crs_for(lon, lat)
    clon, clat = cluster_lonlat(lon, lat)
    cx, cy = Transformer.from_crs(WGS84, crs, always_xy=True).transform(clon, clat)
    pts = [
        Point(cx + spread_m * ((i % 5) - 2) / 2, cy + spread_m * ((i // 5 % 5) - 2) / 2)
        for i in range(n)
    ]
    store_xy = gpd.GeoSeries(pts, crs=crs).to_crs(METRIC)
    times = [end - pd.Timedelta(hours=6 * (i + 1)) for i in range(n)]
    return make_case_frame([(p.x, p.y) for p in store_xy], times)
