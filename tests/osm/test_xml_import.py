"""Importing the hand-written .osm fixture: exact layer contents, zone grid, options."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import box

from gis.errors import ValidationError
from gis.geography.crs import METRIC
from gis.geography.osm_area import GridCodes
from gis.geography.osm_files import read_osm_xml
from gis.geography.osm_import import import_osm

STREETS = {
    # street_id: (name, name_en, highway, kind)
    "W101": ("大金丝套", "Dajinsitao Hutong", "residential", "hutong"),
    "W102": ("柳荫街", "", "footway", "path"),
    "W103": ("地安门外大街", "Di'anmen Outer Street", "secondary", "street"),
    "W104": ("银锭桥", "Yinding Bridge", "footway", "bridge"),
    "W110": ("", "", "path", "path"),
    "W113": ("后海南沿", "", "footway", "lakeside"),
}


def test_streets_exact(tiny_osm: Path, tmp_path: Path) -> None:
    layers = import_osm(tiny_osm, out_dir=tmp_path / "geo", min_component_m=0)
    got = {
        r.street_id: (r.name, r.name_en, r.highway, r.kind)
        for r in layers.streets.itertuples(index=False)
    }
    # foot=no (W105), access=private (W106) and a motorway without sidewalk (W107) are out
    assert got == STREETS
    assert set(layers.streets["front"]) == {""}
    assert list(layers.streets.columns) == [
        "street_id",
        "name",
        "name_en",
        "highway",
        "kind",
        "front",
        "geometry",
    ]


def test_lakes_and_pois_exact(tiny_osm: Path) -> None:
    layers = import_osm(tiny_osm, out_dir=None)
    lakes = layers.lakes.set_index("lake_id")
    assert sorted(lakes.index) == ["R201", "W108"]
    assert lakes.loc["W108", "name"] == "后海"
    assert lakes.loc["R201", "name_en"] == "Qianhai"
    qianhai = lakes.loc["R201", "geometry"]
    assert len(qianhai.interiors) == 1  # the island is a hole
    area = gpd.GeoSeries([qianhai, box(116.3920, 39.9330, 116.3940, 39.9350)], crs=4326)
    outer = shapely.Polygon(qianhai.exterior)
    full = gpd.GeoSeries([outer], crs=4326).to_crs(METRIC).area.iloc[0]
    hole = area.to_crs(METRIC).area.iloc[1]
    lake = area.to_crs(METRIC).area.iloc[0]
    assert lake == pytest.approx(full - hole, rel=1e-9)
    pois = layers.pois.set_index("poi_id")
    assert sorted(pois.index) == ["N23", "N24"]  # the café is not a POI
    assert pois.loc["N23", ["name", "kind"]].tolist() == ["什刹海派出所", "police"]
    assert pois.loc["N24", "kind"] == "historic"
    assert not pois["assumed"].any()


def test_files_written_in_wgs84_with_chinese_names(tiny_osm: Path, tmp_path: Path) -> None:
    out = tmp_path / "geo"
    layers = import_osm(tiny_osm, out_dir=out, min_component_m=0)
    assert layers.out_dir == out.resolve()
    assert sorted(p.name for p in out.iterdir()) == [
        "boundary.geojson",
        "geography.json",
        "lakes.geojson",
        "pois.geojson",
        "streets.geojson",
        "zones.geojson",
    ]
    streets = gpd.read_file(out / "streets.geojson")
    assert streets.crs.to_epsg() == 4326
    assert set(streets["name"]) == {n for n, *_ in STREETS.values()}
    assert "后海南沿" in (out / "streets.geojson").read_text(encoding="utf-8")
    boundary = gpd.read_file(out / "boundary.geojson")
    assert boundary[["name", "adcode"]].iloc[0].tolist() == ["tiny", "110102012"]
    # leaves no temporary folders beside the output
    assert [p.name for p in tmp_path.iterdir()] == ["geo"]


def test_hull_boundary_is_the_walkable_square(tiny_osm: Path) -> None:
    layers = import_osm(tiny_osm, out_dir=None)
    square = box(116.38, 39.93, 116.40, 39.945)
    assert layers.boundary.geometry.iloc[0].symmetric_difference(square).area < 1e-12


def test_main_street_classes_mark_the_front(tiny_osm: Path) -> None:
    layers = import_osm(tiny_osm, out_dir=None, main_street_classes=["secondary"])
    s = layers.streets.set_index("street_id")
    assert s.loc["W103", ["kind", "front"]].tolist() == ["main_street", "main_streets"]
    assert set(s.drop(index="W103")["front"]) == {""}


def test_unknown_main_street_class_refused(tiny_osm: Path) -> None:
    with pytest.raises(ValidationError, match="'highwayz' is not a walkable highway class"):
        import_osm(tiny_osm, out_dir=None, main_street_classes=["primary,highwayz"])


def _tiling_checks(zones: gpd.GeoDataFrame, boundary: gpd.GeoDataFrame, crs: str) -> None:
    z = zones.to_crs(crs)
    b = boundary.to_crs(crs).geometry.union_all()
    assert z.geometry.union_all().symmetric_difference(b).area < 1e-6 * b.area
    assert z.area.sum() == pytest.approx(b.area, rel=1e-6)  # no overlaps
    assert (z.geom_type == "Polygon").all()


def test_zones_tile_the_boundary_numbered_nw_to_se(tiny_osm: Path) -> None:
    layers = import_osm(tiny_osm, out_dir=None)
    zones = layers.zones
    _tiling_checks(zones, layers.boundary, METRIC)
    n = len(zones)
    assert list(zones["zone_id"]) == [f"110102012000{i:03d}" for i in range(1, n + 1)]
    assert zones["name"].iloc[0] == "网格001"
    minx, miny, maxx, maxy = layers.boundary.total_bounds
    nw = shapely.Point(minx + 1e-6, maxy - 1e-6)
    se = shapely.Point(maxx - 1e-6, miny + 1e-6)
    assert zones.geometry.iloc[0].contains(nw)
    assert zones.geometry.iloc[-1].contains(se)
    # west→east within the first row: zone 002 lies east of zone 001
    c = zones.to_crs(METRIC).geometry.centroid
    assert c.iloc[1].x > c.iloc[0].x


def test_grid_size_and_codes(tiny_osm: Path) -> None:
    coarse = import_osm(tiny_osm, out_dir=None, grid_m=1000)
    fine = import_osm(tiny_osm, out_dir=None, grid_m=250, codes=GridCodes("110105", "001", "002"))
    assert len(fine.zones) > len(coarse.zones) >= 1
    assert all(z.startswith("110105001002") and len(z) == 15 for z in fine.zones["zone_id"])
    # every full cell of the fine grid is 250 m × 250 m
    assert fine.zones.to_crs(METRIC).area.max() <= 250 * 250 * (1 + 0.1) + 1e-6
    _tiling_checks(fine.zones, fine.boundary, METRIC)


@pytest.mark.parametrize(
    ("codes", "field"),
    [(GridCodes("11010", "012"), "admin_code"), (GridCodes(street="1a2"), "street_code")],
)
def test_bad_codes(tiny_osm: Path, codes: GridCodes, field: str) -> None:
    with pytest.raises(ValidationError, match=f"field '{field}'.*digit code"):
        import_osm(tiny_osm, out_dir=None, codes=codes)


def test_bbox_boundary(tiny_osm: Path) -> None:
    layers = import_osm(tiny_osm, out_dir=None, boundary_from="bbox")
    geom = layers.boundary.geometry.iloc[0]
    assert geom.equals(box(*geom.bounds))


def test_boundary_file_clips_and_splits_ways(tiny_osm: Path, tmp_path: Path) -> None:
    notched = box(116.379, 39.929, 116.401, 39.946).difference(
        box(116.389, 39.928, 116.391, 39.931)
    )
    path = tmp_path / "area.geojson"
    gpd.GeoDataFrame({"name": ["什刹海测试区"]}, geometry=[notched], crs=4326).to_file(path)
    layers = import_osm(tiny_osm, out_dir=None, boundary=path)
    ids = set(layers.streets["street_id"])
    assert {"W103_1", "W103_2"} <= ids and "W103" not in ids
    assert layers.boundary["name"].iloc[0] == "什刹海测试区"
    parts = layers.streets.set_index("street_id").loc[["W103_1", "W103_2"]]
    assert set(parts["name"]) == {"地安门外大街"}


def test_boundary_file_in_another_crs(tiny_osm: Path, tmp_path: Path) -> None:
    square = gpd.GeoDataFrame(geometry=[box(116.379, 39.929, 116.401, 39.946)], crs=4326)
    path = tmp_path / "area_utm.geojson"
    square.to_crs(METRIC).to_file(path)
    layers = import_osm(tiny_osm, out_dir=None, boundary=path, min_component_m=0)
    assert layers.boundary.crs.to_epsg() == 4326
    assert len(layers.streets) == len(STREETS)


def test_reader_keeps_tags_and_ids(tiny_osm: Path) -> None:
    raw = read_osm_xml(tiny_osm)
    tags = dict(zip(raw["osm_id"], raw["tags"], strict=True))
    assert tags["W105"] == {"highway": "service", "foot": "no"}
    assert "W109" not in tags  # a building is neither street, water nor POI
    assert "W111" not in tags  # untagged member ways only feed the multipolygon
