"""Watched places: the bundled file, capacity per LB/T 034-2014, levels, validation, geography."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from pyproj import Transformer

from gis.crowd.places import (
    Levels,
    capacity,
    counter_map,
    level_rank,
    load_places,
    places_from_geojson,
    places_geojson,
)
from gis.errors import ValidationError
from gis.geography.layers import load_geography
from tests.osm.conftest import shared_data_dir

from .conftest import DATA

NAMES = {"银锭桥", "烟袋斜街口", "荷花市场", "前海北沿酒吧街", "恭王府门前", "北海北门"}


def _doc() -> dict:
    return json.loads((DATA / "crowd" / "places.geojson").read_text(encoding="utf-8"))


def test_bundled_places_and_capacity(places):
    assert set(places["name"]) == NAMES
    ydq = places.set_index("place_id").loc["YDQ"]
    # C = usable area / per-person space, rounded down
    assert ydq["capacity"] == int(ydq["usable_area_m2"] // ydq["per_person_m2"])
    assert capacity(630, 1.0) == 630
    assert capacity(448, 1.5) == 298
    assert (places.area >= places["usable_area_m2"]).all()
    assert len(counter_map(places)) == 10


def test_per_person_space_is_configurable():
    gdf = places_from_geojson(_doc(), per_person_override={"YDQ": 0.5})
    assert gdf.set_index("place_id").loc["YDQ", "capacity"] == 1260


def test_levels_default_and_custom():
    lv = Levels()
    assert lv.thresholds(100) == {"blue": 60, "yellow": 80, "orange": 100, "red": 120}
    assert [lv.level(x, 100) for x in (59, 60, 80, 99, 100, 119.9, 120)] == [
        "none", "blue", "yellow", "yellow", "orange", "orange", "red",
    ]  # fmt: skip
    custom = Levels.from_shares(0.5, 0.7, 0.9, 1.1)
    assert custom.level(90, 100) == "orange"
    assert level_rank("red") == 4
    with pytest.raises(ValidationError, match="positive and rising"):
        Levels.from_shares(0.8, 0.6, 1.0, 1.2)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: d["features"][1]["properties"].update(place_id="YDQ"), "empty or repeated"),
        (lambda d: d["features"][0]["properties"].update(usable_area_m2=99999), "exceeds"),
        (lambda d: d["features"][0]["properties"].update(per_person_m2=0), "positive number"),
        (lambda d: d["features"][1]["properties"].update(counters=["YDQ-CAM1"]), "already used"),
        (lambda d: d["features"][0]["properties"].update(counters=["<b>x</b>"]), "characters"),
        (lambda d: d["features"][0].update(geometry={"type": "Point", "coordinates": [1, 2]}),
         "Point"),
    ],
)  # fmt: skip
def test_bad_places_name_the_feature_and_field(edit, match):
    doc = copy.deepcopy(_doc())
    edit(doc)
    with pytest.raises(ValidationError, match=match) as err:
        places_from_geojson(doc, source="places.geojson")
    assert "places.geojson" in str(err.value)


def test_places_round_trip_as_geojson(places):
    doc = places_geojson(places, {"YDQ": {"level": "orange"}})
    again = places_from_geojson(doc)
    assert list(again["capacity"]) == list(places["capacity"])
    assert doc["features"][0]["properties"]["level"] == "orange"


def test_places_lie_on_the_bundled_geography(places):
    geo = load_geography(DATA / "shichahai")
    boundary = geo.boundary.geometry.union_all()
    lakes = geo.lakes.geometry.union_all()
    for _, p in places.iterrows():
        assert boundary.contains(p.geometry.representative_point()), p["name"]
        wet = p.geometry.intersection(lakes).area / p.geometry.area
        if p["place_id"] == "YDQ":  # the bridge spans the narrows between 前海 and 后海
            assert wet > 0.25
        else:  # a walkable place, not the water
            assert wet < 0.25, p["name"]
    streets = geo.streets.set_index("name")
    near = {"YDQ": "银锭桥", "YDXJ": "烟袋斜街", "HHSC": "荷花市场", "QHBY": "前海北沿",
            "GWF": "前海西街"}  # fmt: skip
    for pid, street in near.items():
        geom = places.set_index("place_id").loc[pid, "geometry"]
        line = streets.loc[[street]].geometry.union_all()
        assert geom.distance(line) == 0.0, pid
    gate = geo.poi("北海公园北门").geometry
    assert places.set_index("place_id").loc["BHBM", "geometry"].distance(gate) < 20


def test_places_sit_where_the_real_places_are(places):
    """Against OSM facts kept beside the project (skipped in a fresh clone)."""
    shared = shared_data_dir()
    path = shared / "landmarks_wgs84.csv" if shared else None
    if path is None or not path.exists():
        pytest.skip("reference data ../shared/data is not present")
    text = path.read_text(encoding="utf-8").splitlines()
    rows = {r["landmark"].split(" ")[0]: r for r in csv.DictReader(text)}
    to_m = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)

    def pt(name: str) -> shapely.Point:
        r = rows[name]
        return shapely.Point(to_m.transform(float(r["lon_wgs84"]), float(r["lat_wgs84"])))

    by = places.set_index("place_id")["geometry"]
    # the gate plaza of 恭王府 faces its museum outline's centroid from the south, < 200 m
    assert by["GWF"].distance(pt("恭王府")) < 200
    # 烟袋斜街口: the lane's east end, within 150 m of its OSM centroid, east of it
    assert by["YDXJ"].distance(pt("烟袋斜街")) < 150
    assert by["YDXJ"].centroid.x > pt("烟袋斜街").x
    # 银锭桥 is north-west of the Drum Tower, 250–400 m away
    d = by["YDQ"].centroid.distance(pt("鼓楼"))
    assert 250 < d < 400
    assert isinstance(places, gpd.GeoDataFrame)


def test_load_places_unreadable_file(tmp_path: Path):
    bad = tmp_path / "p.geojson"
    bad.write_bytes(b"\xff\xfe{")
    with pytest.raises(ValidationError, match="p.geojson.*cannot read places"):
        load_places(bad)
