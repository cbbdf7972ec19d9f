"""Loading and validating geography folders."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

from gis.errors import CRSError, DatumError, GeographyError, ValidationError
from gis.geography.crs import METRIC, wgs84_to_gcj02
from gis.geography.layers import load_geography
from gis.geography.network import check_network
from tests.tiny_geography import STEP, X0, Y0


def test_tiny_geography_loads_with_exact_counts(tiny_dir: Path) -> None:
    geo = load_geography(tiny_dir)
    assert len(geo.segments) == 40  # 10 lines × 4 blocks
    assert geo.segments.crs.to_string() == METRIC
    stats = check_network(geo.graph())
    assert stats["nodes"] == 25
    assert stats["edges"] == 40
    assert stats["length_km"] == pytest.approx(6.0, abs=1e-6)
    assert stats["components"] == 1
    assert stats["zero_length"] == 0 and stats["duplicates"] == 0


def test_every_segment_has_exactly_one_owner(tiny_dir: Path) -> None:
    geo = load_geography(tiny_dir)
    seg = geo.segments
    main = seg["front_id"] == "main_streets"
    assert main.sum() == 4
    assert seg.loc[main, "zone_id"].isna().all()
    assert seg.loc[~main, "zone_id"].notna().all()
    assert set(seg.loc[~main, "zone_id"]) == {"110102012001001", "110102012001002"}
    assert set(seg["front_id"]) == {"scenic", "main_streets"}


def test_fronts_partition_the_boundary(tiny_dir: Path) -> None:
    geo = load_geography(tiny_dir)
    assert list(geo.fronts["front_id"]) == ["scenic", "main_streets"]
    total = geo.fronts.area.sum()
    assert total == pytest.approx(geo.boundary.area.sum(), rel=1e-9)
    # the main-street corridor is 25 m wide on the inner side of the east edge
    assert geo.fronts.loc[geo.fronts.front_id == "main_streets"].area.iloc[0] == pytest.approx(
        25 * 4 * STEP, rel=1e-6
    )


def test_zones_are_clipped_to_the_boundary(tiny_dir: Path) -> None:
    geo = load_geography(tiny_dir)
    assert geo.zones.area.sum() == pytest.approx(geo.boundary.area.sum(), rel=1e-6)


def test_zone_for_point_and_snap(tiny_dir: Path) -> None:
    geo = load_geography(tiny_dir)
    assert geo.zone_for_point(Point(X0 + 10, Y0 + 10)) == "110102012001001"
    assert geo.zone_for_point(Point(X0 - 500, Y0)) is None
    snap = geo.segment_index.snap(Point(X0 + 75, Y0 + 12))
    assert snap.segment_id == "H0-01"
    assert snap.distance_m == pytest.approx(12.0, abs=0.01)
    assert snap.offset_m == pytest.approx(75.0, abs=0.01)


def _edit_geojson(path: Path, fn) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_missing_column_names_file_and_field(tiny_dir: Path) -> None:
    def drop(data: dict) -> None:
        for f in data["features"]:
            f["properties"].pop("highway")

    _edit_geojson(tiny_dir / "streets.geojson", drop)
    with pytest.raises(
        ValidationError, match=r"streets\.geojson.*field 'highway'.*Fix: add the columns"
    ):
        load_geography(tiny_dir)


def test_wrong_geometry_type_names_the_feature(tiny_dir: Path) -> None:
    def to_point(data: dict) -> None:
        data["features"][2]["geometry"] = {"type": "Point", "coordinates": [116.38, 39.93]}

    _edit_geojson(tiny_dir / "streets.geojson", to_point)
    with pytest.raises(
        ValidationError,
        match=r"streets\.geojson, row 3 \(street_id=H2\), field 'geometry': geometry is Point",
    ):
        load_geography(tiny_dir)


def test_invalid_polygon_is_refused_with_reason(tiny_dir: Path) -> None:
    def bowtie(data: dict) -> None:
        ring = data["features"][1]["geometry"]["coordinates"][0]
        (x0, y0), (x1, y1) = ring[0], ring[2]
        data["features"][1]["geometry"]["coordinates"] = [
            [[x0, y0], [x1, y1], [x1, y0], [x0, y1], [x0, y0]]
        ]

    _edit_geojson(tiny_dir / "zones.geojson", bowtie)
    with pytest.raises(
        ValidationError,
        match=r"zones\.geojson, row 2 \(zone_id=110102012001002\).*Self-intersection",
    ):
        load_geography(tiny_dir)


def test_layer_without_crs_is_refused(tiny_dir: Path) -> None:
    lakes = gpd.read_file(tiny_dir / "lakes.geojson")
    (tiny_dir / "lakes.geojson").unlink()
    with pytest.warns(UserWarning, match="crs"):
        lakes.set_crs(None, allow_override=True).to_file(tiny_dir / "lakes.gpkg", driver="GPKG")
    with pytest.raises(CRSError, match=r"lakes\.gpkg: has no coordinate reference system"):
        load_geography(tiny_dir)


def test_gcj02_streets_are_detected(tiny_dir: Path) -> None:
    def shift(data: dict) -> None:
        for f in data["features"]:
            coords = f["geometry"]["coordinates"]
            xs, ys = wgs84_to_gcj02([c[0] for c in coords], [c[1] for c in coords])
            f["geometry"]["coordinates"] = [
                [float(x), float(y)] for x, y in zip(xs, ys, strict=True)
            ]

    _edit_geojson(tiny_dir / "streets.geojson", shift)
    with pytest.raises(DatumError, match=r"streets\.geojson.*GCJ-02.*Fix: convert from GCJ-02"):
        load_geography(tiny_dir)


def test_bad_zone_code_and_duplicate_ids(tiny_dir: Path) -> None:
    def bad_code(data: dict) -> None:
        data["features"][0]["properties"]["zone_id"] = "11010201"

    _edit_geojson(tiny_dir / "zones.geojson", bad_code)
    with pytest.raises(
        ValidationError, match=r"row 1, field 'zone_id': zone id '11010201' is not a 15-digit"
    ):
        load_geography(tiny_dir)


def test_duplicate_street_ids(tiny_dir: Path) -> None:
    def dup(data: dict) -> None:
        data["features"][1]["properties"]["street_id"] = "H0"

    _edit_geojson(tiny_dir / "streets.geojson", dup)
    with pytest.raises(ValidationError, match=r"row 2, field 'street_id': duplicate id 'H0'"):
        load_geography(tiny_dir)


def test_street_crossing_a_lake_is_refused(tiny_dir: Path) -> None:
    def through_lake(data: dict) -> None:
        f = json.loads(json.dumps(data["features"][0]))
        sw = gpd.GeoSeries(
            [Point(X0, Y0 + 1.5 * STEP), Point(X0 + 2 * STEP, Y0 + 1.5 * STEP)], crs=METRIC
        )
        ll = sw.to_crs("EPSG:4326")
        f["properties"].update(street_id="X1", name="穿湖路")
        f["geometry"]["coordinates"] = [[p.x, p.y] for p in ll]
        data["features"].append(f)

    _edit_geojson(tiny_dir / "streets.geojson", through_lake)
    with pytest.raises(GeographyError, match=r"X1-\d\d \(穿湖路\) crosses a lake"):
        load_geography(tiny_dir)


def test_missing_layer_file(tiny_dir: Path) -> None:
    (tiny_dir / "zones.geojson").unlink()
    with pytest.raises(ValidationError, match=r"'zones.geojson' \(or .gpkg\) is missing"):
        load_geography(tiny_dir)


def test_unreadable_file(tiny_dir: Path) -> None:
    (tiny_dir / "streets.geojson").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"streets\.geojson: cannot be read"):
        load_geography(tiny_dir)


def test_empty_optional_layers_load(tiny_dir: Path) -> None:
    empty = '{"type": "FeatureCollection", "features": []}'
    (tiny_dir / "pois.geojson").write_text(empty, encoding="utf-8")
    (tiny_dir / "lakes.geojson").write_text(empty, encoding="utf-8")
    geo = load_geography(tiny_dir)
    assert geo.pois.empty and geo.lakes.empty
    assert {"poi_id", "name", "kind"} <= set(geo.pois.columns)
    assert len(geo.segments) == 40


def test_empty_streets_layer_is_refused(tiny_dir: Path) -> None:
    (tiny_dir / "streets.geojson").write_text(
        '{"type": "FeatureCollection", "features": []}', encoding="utf-8"
    )
    with pytest.raises(ValidationError, match=r"streets\.geojson: layer 'streets' has no features"):
        load_geography(tiny_dir)


def test_coordinates_out_of_range_name_the_feature(tiny_dir: Path) -> None:
    def huge(data: dict) -> None:
        data["features"][3]["geometry"]["coordinates"][0] = [1e10, 39.93]

    _edit_geojson(tiny_dir / "streets.geojson", huge)
    with pytest.raises(
        ValidationError,
        match=r"streets\.geojson, row 4 \(street_id=H3\), field 'geometry': coordinates out of range",
    ):
        load_geography(tiny_dir)


@pytest.mark.parametrize(
    ("column", "value", "pattern"),
    [
        (
            "front",
            "side_streets",
            r"row 2 \(street_id=H1\), field 'front': unknown front 'side_streets'.*or leave empty",
        ),
        ("kind", "alley", r"row 2 \(street_id=H1\), field 'kind': unknown kind 'alley'"),
    ],
)
def test_unknown_front_or_kind(tiny_dir: Path, column: str, value: str, pattern: str) -> None:
    def edit(data: dict) -> None:
        data["features"][1]["properties"][column] = value

    _edit_geojson(tiny_dir / "streets.geojson", edit)
    with pytest.raises(ValidationError, match=pattern):
        load_geography(tiny_dir)
