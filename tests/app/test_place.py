"""Looking up what is at a clicked or typed point."""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import Point

from gis.geography.crs import METRIC, WGS84, wgs84_to_gcj02
from gis.geography.place import acceptance_area, datum_suspect, place_at
from tests.tiny_geography import STEP, X0, Y0


def _wgs(x: float, y: float) -> tuple[float, float]:
    p = gpd.GeoSeries([Point(x, y)], crs=METRIC).to_crs(WGS84).iloc[0]
    return p.x, p.y


def test_point_on_a_west_hutong(tiny_geo) -> None:
    lon, lat = _wgs(X0 + 75, Y0 + 2 * STEP + 3)  # 3 m north of 横2胡同, west half
    place = place_at(tiny_geo, lon, lat)
    assert place.inside
    assert place.zone_id == "110102012001001"
    assert place.zone_name == "西片"
    assert place.front_id == "scenic"
    assert place.segment_name == "横2胡同"
    assert place.distance_m is not None and abs(place.distance_m - 3.0) < 0.2


def test_point_on_the_main_street_front(tiny_geo) -> None:
    lon, lat = _wgs(X0 + 4 * STEP - 5, Y0 + 75)
    place = place_at(tiny_geo, lon, lat)
    assert place.front_id == "main_streets"
    assert place.segment_name == "东大街"


def test_point_outside_names_nothing(tiny_geo) -> None:
    lon, lat = _wgs(X0 - 300, Y0 + 100)
    place = place_at(tiny_geo, lon, lat)
    assert not place.inside
    assert place.zone_id is None and place.segment_id is None


def test_gcj02_declared_as_wgs84_is_recognised(tiny_geo) -> None:
    lon, lat = _wgs(X0 + 300, Y0 + 300)
    glon, glat = wgs84_to_gcj02([lon], [lat])
    assert not place_at(tiny_geo, float(glon[0]), float(glat[0]), "wgs84").inside
    assert place_at(tiny_geo, float(glon[0]), float(glat[0]), "gcj02").inside
    assert datum_suspect(tiny_geo, float(glon[0]), float(glat[0]), "wgs84") == "gcj02"
    assert datum_suspect(tiny_geo, lon, lat, "wgs84") is None


def test_a_point_on_the_boundary_line_is_inside(tiny_geo) -> None:
    """A boundary street's point, rounded to six decimals by a form, stays the subdistrict's
    (the patrol page's "report a problem here" on a boundary street); 5 m out does not."""
    edge = tiny_geo.boundary.geometry.iloc[0].exterior
    on = edge.interpolate(0.3, normalized=True)
    lon, lat = _wgs(on.x, on.y)
    assert place_at(tiny_geo, round(lon, 6), round(lat, 6)).inside
    assert not tiny_geo.boundary.contains(Point(on.x, on.y)).any()  # the old test failed here
    # intake's acceptance area agrees with the map (a report there is taken in)
    assert acceptance_area(tiny_geo).contains(
        place_at(tiny_geo, round(lon, 6), round(lat, 6)).point
    )
    lon, lat = _wgs(X0 - 5, Y0 + 100)
    assert not place_at(tiny_geo, lon, lat).inside
