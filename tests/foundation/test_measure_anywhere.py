"""True measurement anywhere: each geography measures in its own metric CRS.

Small synthetic geography folders are laid out in WGS 84 at several longitudes, both
hemispheres and at the edge of a UTM zone; lengths must agree with the geodesic on the WGS 84
ellipsoid (pyproj.Geod) within 0.5 %, route-step bearings within 2°, and compass words must
name the direction the street really runs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point, box

from gis.errors import CRSError
from gis.geography.crs import METRIC, WGS84, metric_crs_for, require_same_crs, scale_error
from gis.geography.layers import METADATA_FILE, geography_from_layers, load_geography
from gis.planning.postman import plan_postman_route
from gis.planning.route_sheet import route_steps
from gis.planning.routing import node_for_point, required_segments

GEOD = Geod(ellps="WGS84")

#: (label, lon, lat of the south-west corner, expected CRS)
PLACES = [
    ("san_francisco", -122.42, 37.77, "EPSG:32610"),
    ("zone_10_edge", -120.03, 37.77, "EPSG:32610"),  # 3° from the central meridian
    ("greenwich", 0.001, 51.48, "EPSG:32631"),
    ("urumqi", 87.60, 43.80, "EPSG:32645"),
    ("shichahai", 116.38, 39.93, "EPSG:32650"),
    ("sydney", 151.20, -33.87, "EPSG:32756"),
    ("buenos_aires", -58.38, -34.60, "EPSG:32721"),
    ("tromso_edge", 23.99, 69.65, "EPSG:32634"),  # far north at a zone edge
]

#: The fixture's size in degrees of latitude (~600 m) and a street grid of 3 × 3 lines.
SIDE_LAT = 0.0054


def _side_lon(lat: float) -> float:
    return SIDE_LAT / math.cos(math.radians(lat))


def _write_geography(folder: Path, lon0: float, lat0: float) -> Path:
    """A square area with a 3 × 3 street grid, a diagonal and one enforcement center (WGS 84)."""
    folder.mkdir(parents=True)
    dx, dy = _side_lon(lat0), SIDE_LAT
    area = box(lon0, lat0, lon0 + dx, lat0 + dy)
    streets = []
    for i, f in enumerate((0.1, 0.5, 0.9)):
        y = lat0 + f * dy
        streets.append(
            (f"E{i}", f"东西{i}街", LineString([(lon0 + 0.1 * dx, y), (lon0 + 0.9 * dx, y)]))
        )
        x = lon0 + f * dx
        streets.append(
            (f"N{i}", f"南北{i}街", LineString([(x, lat0 + 0.1 * dy), (x, lat0 + 0.9 * dy)]))
        )
    streets.append(
        (
            "D0",
            "斜街",
            LineString([(lon0 + 0.1 * dx, lat0 + 0.1 * dy), (lon0 + 0.5 * dx, lat0 + 0.5 * dy)]),
        )
    )
    gpd.GeoDataFrame(
        {"name": ["测试街道"], "name_en": ["Test"], "adcode": ["110102012"]},
        geometry=[area],
        crs=WGS84,
    ).to_file(folder / "boundary.geojson", driver="GeoJSON")
    gpd.GeoDataFrame(
        {
            "street_id": [s[0] for s in streets],
            "name": [s[1] for s in streets],
            "name_en": [""] * len(streets),
            "highway": ["residential"] * len(streets),
            "kind": ["hutong"] * len(streets),
        },
        geometry=[s[2] for s in streets],
        crs=WGS84,
    ).to_file(folder / "streets.geojson", driver="GeoJSON")
    gpd.GeoDataFrame(
        {"zone_id": ["110102012000001"], "name": ["网格001"], "name_en": ["Grid 001"]},
        geometry=[area],
        crs=WGS84,
    ).to_file(folder / "zones.geojson", driver="GeoJSON")
    (folder / "lakes.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": []}), encoding="utf-8"
    )
    gpd.GeoDataFrame(
        {
            "poi_id": ["C1"],
            "name": ["执法中心"],
            "name_en": ["Center"],
            "kind": ["enforcement_center"],
        },
        geometry=[Point(lon0 + 0.1 * dx, lat0 + 0.1 * dy)],
        crs=WGS84,
    ).to_file(folder / "pois.geojson", driver="GeoJSON")
    return folder


def _geodesic_m(line_wgs84: LineString) -> float:
    return float(GEOD.geometry_length(line_wgs84))


@pytest.mark.parametrize(
    ("label", "lon", "lat", "expected_crs"), PLACES, ids=[p[0] for p in PLACES]
)
def test_lengths_match_the_geodesic(
    tmp_path: Path, label: str, lon: float, lat: float, expected_crs: str
) -> None:
    geo = load_geography(_write_geography(tmp_path / label, lon, lat))
    assert geo.crs == expected_crs
    assert geo.segments.crs == geo.crs and geo.graph().graph["crs"] == geo.crs
    segs_ll = geo.segments.to_crs(WGS84)
    for length, line in zip(geo.segments["length_m"], segs_ll.geometry, strict=True):
        assert length == pytest.approx(_geodesic_m(line), rel=0.005)
    # areas too: the boundary against the geodesic area of the polygon
    ours = float(geo.boundary.area.sum())
    theirs = abs(GEOD.geometry_area_perimeter(geo.boundary.to_crs(WGS84).geometry.iloc[0])[0])
    assert ours == pytest.approx(theirs, rel=0.01)


@pytest.mark.parametrize(
    ("label", "lon", "lat", "expected_crs"), PLACES, ids=[p[0] for p in PLACES]
)
def test_route_step_bearings_and_compass_words(
    tmp_path: Path, label: str, lon: float, lat: float, expected_crs: str
) -> None:
    geo = load_geography(_write_geography(tmp_path / label, lon, lat))
    G = geo.graph()
    start = node_for_point(G, geo.pois.geometry.iloc[0])[0]
    ids = geo.segments.loc[geo.segments["street_id"].isin(["E0", "N2"]), "segment_id"]
    req = required_segments(G, segment_ids=list(ids))
    route = plan_postman_route(G, req, start, None)
    to_ll = gpd.GeoSeries(
        [Point(G.nodes[n]["x"], G.nodes[n]["y"]) for n in G.nodes], crs=geo.crs
    ).to_crs(WGS84)
    ll = dict(zip(G.nodes, zip(to_ll.x, to_ll.y, strict=True), strict=True))
    steps = route_steps(G, route)
    assert steps
    words = []
    for s in steps:
        first = next(e for e in route.edges if e.segment_id == s.segment_ids[0])
        last = next(e for e in reversed(route.edges) if e.segment_id == s.segment_ids[-1])
        (lon1, lat1), (lon2, lat2) = ll[first.u], ll[last.v]
        azimuth = GEOD.inv(lon1, lat1, lon2, lat2)[0] % 360.0
        diff = (s.bearing_deg - azimuth + 180.0) % 360.0 - 180.0
        assert abs(diff) < 2.0, (s, azimuth)
        words.append(s.text("en"))
    # the walk leaves the center east along the south street, then north along the east one
    assert words[0].startswith("Start") or "east" in words[0]
    assert any("head east" in w for w in words)
    assert any("head north" in w for w in words)


def test_metric_crs_choice_by_hemisphere_and_pole() -> None:
    assert metric_crs_for(116.38, 39.93) == "EPSG:32650"
    assert metric_crs_for(151.2, -33.87) == "EPSG:32756"
    assert metric_crs_for(-180.0, 0.0) == "EPSG:32601"
    assert metric_crs_for(180.0, 0.0) == "EPSG:32660"
    polar = metric_crs_for(15.0, 85.0)  # beyond UTM: a transverse Mercator on the spot
    assert "+proj=tmerc" in polar and scale_error(polar, 15.0, 85.0) < 1e-9
    with pytest.raises(CRSError):
        metric_crs_for(float("nan"), 0.0)


def test_polar_area_measures_true(tmp_path: Path) -> None:
    geo = load_geography(_write_geography(tmp_path / "svalbard_north", 20.0, 85.2))
    assert "+proj=tmerc" in geo.crs
    segs_ll = geo.segments.to_crs(WGS84)
    for length, line in zip(geo.segments["length_m"], segs_ll.geometry, strict=True):
        assert length == pytest.approx(_geodesic_m(line), rel=0.005)


def test_stored_crs_is_used_and_written_by_import(tmp_path: Path) -> None:
    folder = _write_geography(tmp_path / "sf", -122.42, 37.77)
    (folder / METADATA_FILE).write_text('{"crs": "EPSG:3310"}', encoding="utf-8")  # CA Albers
    assert load_geography(folder).crs == "EPSG:3310"


def test_stored_crs_from_another_place_is_refused(tmp_path: Path) -> None:
    """The old behaviour: San Francisco measured in UTM 50N, 36 % too long, silently."""
    folder = _write_geography(tmp_path / "sf", -122.42, 37.77)
    (folder / METADATA_FILE).write_text(json.dumps({"crs": METRIC}), encoding="utf-8")
    with pytest.raises(CRSError, match=r"distorts lengths by .*EPSG:32610"):
        load_geography(folder)


@pytest.mark.parametrize(
    "text",
    ['{"crs": "EPSG:4326"}', '{"crs": "not a crs"}', '{"crs": 5}', "[1, 2]", "{oops", "\x00" * 10],
)
def test_bad_metadata_is_refused_without_quoting_it(tmp_path: Path, text: str) -> None:
    folder = _write_geography(tmp_path / "sf", -122.42, 37.77)
    (folder / METADATA_FILE).write_text(text, encoding="utf-8")
    with pytest.raises(Exception) as info:
        load_geography(folder)
    assert "EPSG:32610" in str(info.value)  # the advice names the CRS that works
    assert "oops" not in str(info.value)


def test_metadata_symlink_and_huge_file_refused(tmp_path: Path) -> None:
    folder = _write_geography(tmp_path / "sf", -122.42, 37.77)
    secret = tmp_path / "secret.txt"
    secret.write_text('{"crs": "EPSG:32610"} root:x:0:0', encoding="utf-8")
    (folder / METADATA_FILE).symlink_to(secret)
    with pytest.raises(Exception) as info:
        load_geography(folder)
    assert "root:x" not in str(info.value)
    (folder / METADATA_FILE).unlink()
    (folder / METADATA_FILE).write_bytes(b" " * (200 * 1024))
    with pytest.raises(Exception, match="not a small regular file"):
        load_geography(folder)


def test_layers_in_different_crss_are_refused(tmp_path: Path) -> None:
    folder = _write_geography(tmp_path / "sf", -122.42, 37.77)
    geo = load_geography(folder)
    with pytest.raises(CRSError, match="layer 'streets' is in"):
        geography_from_layers(
            geo.boundary, geo.lakes, geo.zones, geo.streets.to_crs(METRIC), source="mixed"
        )
    with pytest.raises(CRSError, match="different CRSs"):
        require_same_crs(geo.segments, geo.segments.to_crs(METRIC))


def test_cases_in_the_store_crs_meet_segments_elsewhere_only_when_reprojected(
    tmp_path: Path,
) -> None:
    from gis.analytics.gistar import gistar_segments
    from gis.geography.crs import to_metric

    geo = load_geography(_write_geography(tmp_path / "sf", -122.42, 37.77))
    pts = geo.segments.geometry.interpolate(0.5, normalized=True).to_crs(METRIC)
    cases = gpd.GeoDataFrame(
        {
            "case_id": [f"C{i}" for i in range(len(pts))],
            "category": ["C01"] * len(pts),
            "reported_at": [np.datetime64("2026-05-01T10:00")] * len(pts),
        },
        geometry=pts.values,
        crs=METRIC,
    )
    with pytest.raises(CRSError, match="different CRSs"):
        gistar_segments(cases, geo.segments, permutations=9)
    result = gistar_segments(to_metric(cases, crs=geo.crs), geo.segments, permutations=9)
    assert int(result.gdf["count"].sum()) == len(pts)
