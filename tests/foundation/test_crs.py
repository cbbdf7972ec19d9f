"""Datum conversions and CRS discipline."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import Point

from gis.errors import CRSError, ValidationError
from gis.geography.crs import (
    METRIC,
    WGS84,
    from_wgs84,
    normalize_datum,
    require_same_crs,
    to_metric,
    to_wgs84,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")
# a small cloud of points over Shichahai (WGS 84)
RNG = np.random.default_rng(7)
LON = RNG.uniform(116.366, 116.393, 200)
LAT = RNG.uniform(39.921, 39.947, 200)


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_round_trip_within_half_a_metre(datum: str) -> None:
    x, y = from_wgs84(LON, LAT, datum)
    back_x, back_y = to_wgs84(x, y, datum)
    _, _, dist = GEOD.inv(LON, LAT, back_x, back_y)
    assert dist.max() < 0.5


def test_gcj02_offset_at_shichahai_is_the_known_pattern() -> None:
    gx, gy = wgs84_to_gcj02(LON, LAT)
    az, _, dist = GEOD.inv(LON, LAT, gx, gy)
    # GCJ-02 moves Beijing points roughly 500-600 m to the east-north-east
    assert 450 < dist.min() and dist.max() < 700
    assert np.all((az > 60) & (az < 80))


def test_wgs84_is_identity() -> None:
    x, y = to_wgs84(116.38, 39.93, "WGS-84")
    assert (float(x), float(y)) == (116.38, 39.93)


@pytest.mark.parametrize(
    ("alias", "canonical"), [("高德", "gcj02"), ("Baidu", "bd09"), ("EPSG:4326", "wgs84")]
)
def test_datum_aliases(alias: str, canonical: str) -> None:
    assert normalize_datum(alias) == canonical


def test_unknown_datum_names_row_and_field() -> None:
    with pytest.raises(
        ValidationError, match=r"file in.csv, row 4, field 'datum': unknown datum 'mars'"
    ):
        normalize_datum("mars", source="in.csv", row=4)


def test_to_metric_refuses_missing_crs() -> None:
    gdf = gpd.GeoDataFrame(geometry=[Point(116.38, 39.93)])
    with pytest.raises(CRSError, match="has no coordinate reference system"):
        to_metric(gdf, source="pts.geojson")


def test_to_metric_reprojects_to_utm50() -> None:
    gdf = gpd.GeoDataFrame(geometry=[Point(116.38, 39.93)], crs=WGS84)
    out = to_metric(gdf)
    assert out.crs.to_string() == METRIC
    assert out.geometry.iloc[0].x == pytest.approx(446_500, abs=1_000)
    assert gdf.crs.to_string() == WGS84  # input untouched


def test_mixed_crs_raise() -> None:
    a = gpd.GeoSeries([Point(0, 0)], crs=WGS84)
    b = gpd.GeoSeries([Point(0, 0)], crs=METRIC)
    with pytest.raises(CRSError, match="different CRSs"):
        require_same_crs(a, b)
