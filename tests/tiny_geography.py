"""A tiny synthetic geography folder near Shichahai: 600 m square, 5×5 street grid, one lake."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from shapely.geometry import LineString, Point, box

from gis.geography.crs import METRIC, WGS84

#: South-west corner of the fixture in EPSG:32650 (inside Shichahai).
X0, Y0 = 446_600.0, 4_420_600.0
STEP = 150.0
N = 4  # blocks per side → 5 lines each way


def _write(gdf: gpd.GeoDataFrame, path: Path) -> None:
    gdf.to_crs(WGS84).to_file(path, driver="GeoJSON")


def build_tiny_geography(folder: Path) -> Path:
    """Write boundary, lakes, zones, streets and pois GeoJSON files and return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    side = N * STEP
    boundary = gpd.GeoDataFrame(
        {"name": ["测试街道"], "name_en": ["Test subdistrict"], "adcode": ["110102012"]},
        geometry=[box(X0, Y0, X0 + side, Y0 + side)],
        crs=METRIC,
    )
    lake = box(X0 + STEP + 20, Y0 + STEP + 20, X0 + 2 * STEP - 20, Y0 + 2 * STEP - 20)
    lakes = gpd.GeoDataFrame(
        {"lake_id": ["L1"], "name": ["小海"], "name_en": ["Little lake"]},
        geometry=[lake],
        crs=METRIC,
    )
    zones = gpd.GeoDataFrame(
        {
            "zone_id": ["110102012001001", "110102012001002"],
            "name": ["西片", "东片"],
            "name_en": ["West", "East"],
            "community": ["测试社区", "测试社区"],
        },
        geometry=[
            box(X0 - 50, Y0 - 50, X0 + 2 * STEP + 1, Y0 + side + 50),
            box(X0 + 2 * STEP + 1, Y0 - 50, X0 + side + 50, Y0 + side + 50),
        ],
        crs=METRIC,
    )
    rows = []
    for j in range(N + 1):
        rows.append(
            {
                "street_id": f"H{j}",
                "name": f"横{j}胡同" if j % 2 == 0 else "",
                "name_en": f"Heng {j} Hutong" if j % 2 == 0 else "unnamed lane",
                "highway": "residential",
                "kind": "hutong",
                "front": "",
                "geometry": LineString([(X0, Y0 + j * STEP), (X0 + side, Y0 + j * STEP)]),
            }
        )
    for i in range(N + 1):
        main = i == N
        rows.append(
            {
                "street_id": f"V{i}",
                "name": "东大街" if main else f"竖{i}胡同",
                "name_en": "East Main Street" if main else f"Shu {i} Hutong",
                "highway": "secondary" if main else "residential",
                "kind": "main_street" if main else "hutong",
                "front": "main_streets" if main else "",
                "geometry": LineString([(X0 + i * STEP, Y0), (X0 + i * STEP, Y0 + side)]),
            }
        )
    streets = gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC)
    pois = gpd.GeoDataFrame(
        {
            "poi_id": ["P1", "P2"],
            "name": ["综合执法中心", "派出所"],
            "name_en": ["Enforcement center", "Police station"],
            "kind": ["enforcement_center", "police_post"],
            "assumed": [True, True],
        },
        geometry=[Point(X0 + 5, Y0 + 5), Point(X0 + side - 5, Y0 + side - 5)],
        crs=METRIC,
    )
    for name, gdf in (
        ("boundary", boundary),
        ("lakes", lakes),
        ("zones", zones),
        ("streets", streets),
        ("pois", pois),
    ):
        _write(gdf, folder / f"{name}.geojson")
    return folder
