"""Importing with the real OSM boundary of 什刹海街道 (from the reference data) as --boundary."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest

from gis.geography.crs import METRIC
from gis.geography.layers import load_geography
from gis.geography.osm_import import import_osm


def test_zones_tile_the_real_boundary(
    tiny_osm: Path, shichahai_boundary: Path, tmp_path: Path
) -> None:
    layers = import_osm(tiny_osm, out_dir=tmp_path / "geo", boundary=shichahai_boundary)
    area = gpd.read_file(shichahai_boundary).to_crs(METRIC).geometry.union_all()
    zones = layers.zones.to_crs(METRIC)
    assert area.area == pytest.approx(5.776e6, rel=0.01)
    assert zones.geometry.union_all().symmetric_difference(area).area < 1e-6 * area.area
    assert zones.area.sum() == pytest.approx(area.area, rel=1e-6)
    assert (zones.geom_type == "Polygon").all()
    # no zone is a sliver: pieces under a tenth of a 500 m cell merged into a neighbour
    assert zones.area.min() >= 0.1 * 500 * 500
    assert list(zones["zone_id"]) == [f"110102012000{i:03d}" for i in range(1, len(zones) + 1)]
    assert layers.boundary["name"].iloc[0] == "什刹海街道"
    # the streets are clipped to the boundary and the folder loads as a Geography
    assert layers.streets.to_crs(METRIC).within(area.buffer(0.01)).all()
    geo = load_geography(tmp_path / "geo")
    assert len(geo.zones) == len(zones)
