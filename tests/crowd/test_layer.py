"""The crowd layer: colours by level; hostile place names travel as data and never run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gis.crowd.places import LEVEL_COLOURS, places_from_geojson, places_geojson
from layers.basemap import new_map
from layers.crowd import crowd_features, crowd_layer
from tests.security.payloads import FAMILIES, wrap
from tests.security.test_render_maps import check_page

from .conftest import DATA


def test_features_carry_level_colour_and_figures(places):
    status = {"YDQ": {"level": "orange", "occupancy": 650, "forecast_peak": 700.4}}
    feats = {f["properties"]["id"]: f["properties"] for f in crowd_features(places, status)}
    ydq = feats["YDQ"]
    assert ydq["_s"]["fillColor"] == LEVEL_COLOURS["orange"]
    assert (ydq["t"], ydq["o"], ydq["c"], ydq["sh"], ydq["f"]) == (
        "银锭桥", "650", "630", "103%", "700",
    )  # fmt: skip
    assert feats["GWF"]["_s"]["fillColor"] == LEVEL_COLOURS["none"]
    # an unknown level code from anywhere is drawn as "none", never used as a colour
    bad = crowd_features(places, {"YDQ": {"level": "url(javascript:x)"}})
    assert bad[0]["properties"]["_s"]["fillColor"] == LEVEL_COLOURS["none"]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_hostile_place_names_never_run(family, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    doc = json.loads((DATA / "crowd" / "places.geojson").read_text(encoding="utf-8"))
    payloads = [wrap(p) for p in FAMILIES[family]][: len(doc["features"])]
    for f, p in zip(doc["features"], payloads, strict=False):
        f["properties"]["name"] = p
    gdf = places_from_geojson(doc)
    m = new_map()
    crowd_layer(m, gdf, {})
    page = m.get_root().render()
    check_page(page, payloads, tmp_path)
    assert places_geojson(gdf)["features"][0]["properties"]["name"] == payloads[0]
