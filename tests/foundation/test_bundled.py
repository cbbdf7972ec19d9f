"""Integration over the bundled Shichahai drawing in data/shichahai/."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from gis.geography.layers import load_bundled_geography
from gis.geography.network import check_network
from gis.geography.reference import boundary_iou, landmark_distances
from gis.settings import Settings

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="module")
def geo():
    return load_bundled_geography(Settings.from_env({}))


def _shared(name: str) -> Path:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"reference data {name} not available (../shared is absent in a user's clone)")
    return path


def test_layer_counts(geo) -> None:
    assert len(geo.boundary) == 1
    assert {"前海", "后海", "西海"} <= set(geo.lakes["name"])
    assert list(geo.fronts["front_id"]) == ["scenic", "main_streets", "gulou_west"]
    assert len(geo.zones) >= 8
    assert len(geo.segments) >= 120
    assert (geo.pois["kind"] == "enforcement_center").sum() == 1
    assert (geo.pois["kind"] == "police_post").sum() >= 1


def test_zone_codes(geo) -> None:
    ids = geo.zones["zone_id"]
    assert ids.is_unique
    assert ids.str.fullmatch(r"110102012\d{6}").all()


def test_graph_is_clean_and_connected(geo) -> None:
    G = geo.graph()
    stats = check_network(G)
    assert stats["zero_length"] == 0
    assert stats["duplicates"] == 0
    assert stats["self_loops"] == 0
    # the lakes are barriers, but bridges join every part of the walkable network
    assert nx.number_connected_components(G) == 1


def test_every_segment_has_one_owner(geo) -> None:
    seg = geo.segments
    street_front = seg["front_id"].isin(["main_streets", "gulou_west"])
    assert seg.loc[street_front, "zone_id"].isna().all()
    assert seg.loc[~street_front, "zone_id"].isin(set(geo.zones["zone_id"])).all()
    assert set(seg.loc[street_front, "front_id"]) == {"main_streets", "gulou_west"}


def test_named_streets_present(geo) -> None:
    names = set(geo.segments["name"])
    for name in ("烟袋斜街", "鼓楼西大街", "银锭桥", "前海北沿", "后海南沿", "柳荫街"):
        assert name in names, name


def test_boundary_overlaps_osm(geo) -> None:
    iou = boundary_iou(geo, _shared("osm/shichahai_and_xicheng_boundary_osm.geojson"))
    assert iou >= 0.90


def test_landmarks_within_40_m(geo) -> None:
    dist = landmark_distances(geo, _shared("landmarks_wgs84.csv"))
    matched = dist.loc[dist["matched"]]
    assert len(matched) >= 8
    worst = matched.sort_values("distance_m").iloc[-1]
    assert worst["distance_m"] <= 40.0, worst.to_dict()
