"""Reference checks on the tiny fixture (exact), independent of ../shared."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from shapely.affinity import translate

from gis.geography.crs import WGS84
from gis.geography.layers import load_geography
from gis.geography.reference import boundary_iou, landmark_distances


def test_iou_of_shifted_square(tiny_dir: Path, tmp_path: Path) -> None:
    geo = load_geography(tiny_dir)
    ref = geo.boundary.copy()
    ref["geometry"] = ref.geometry.map(lambda g: translate(g, xoff=60.0))  # 600 m square moved 60 m
    path = tmp_path / "ref.geojson"
    ref.to_crs(WGS84).to_file(path)
    assert boundary_iou(geo, path) == pytest.approx(540 / 660, rel=1e-6)


def test_landmarks_match_pois_and_streets(tiny_dir: Path, tmp_path: Path) -> None:
    geo = load_geography(tiny_dir)
    poi = geo.pois.to_crs(WGS84).iloc[0].geometry
    street = geo.segments.loc[geo.segments.name == "东大街"].to_crs(WGS84).geometry.iloc[0].centroid
    csv = tmp_path / "lm.csv"
    pd.DataFrame(
        {
            "landmark": [
                "综合执法中心 center",
                "东大街 east",
                "某塔 tower",
                "轴线 axis",
                "综合执法中心 NE corner",
            ],
            "lon_wgs84": [poi.x, street.x, 116.39, 116.3902, 116.40],
            "lat_wgs84": [poi.y, street.y, 39.93, "39.9268-39.9387", 39.95],
            "kind_of_point": ["centroid", "centroid", "centroid", "vertices", "vertex of boundary"],
        }
    ).to_csv(csv, index=False)
    out = landmark_distances(geo, csv)
    # the range row and the boundary-vertex row are alignment facts and are skipped
    assert list(out["matched"]) == [True, True, False]
    assert out["distance_m"].iloc[0] == pytest.approx(0.0, abs=0.01)
    assert out["distance_m"].iloc[1] == pytest.approx(0.0, abs=0.01)
