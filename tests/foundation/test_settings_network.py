"""Settings from the environment and the street-network contract."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import pytest
from shapely.geometry import LineString, Point

from gis.errors import CRSError, NetworkError, ValidationError
from gis.geography.crs import METRIC
from gis.geography.network import (
    SegmentIndex,
    check_network,
    edge_geometry_from,
    graph_from_segments,
    grid_segments,
    segments_from_lines,
)
from gis.settings import Settings


def test_settings_defaults_and_overrides() -> None:
    s = Settings.from_env({})
    assert s.basemap == "none" and s.language == "zh" and not s.uses_postgis
    s2 = Settings.from_env(
        {"PATROL_DATABASE_URL": "postgresql://x@localhost/db", "PATROL_LANG": "en"}
    )
    assert s2.uses_postgis and s2.language == "en"


@pytest.mark.parametrize(
    ("env", "pattern"),
    [
        (
            {"PATROL_WALK_SPEED_KMH": "fast"},
            r"field 'PATROL_WALK_SPEED_KMH': 'fast' is not a number",
        ),
        ({"PATROL_WALK_SPEED_KMH": "-1"}, r"must be positive"),
        ({"PATROL_BASEMAP": "google"}, r"unknown basemap 'google'"),
        ({"PATROL_LANG": "fr"}, r"unknown language 'fr'"),
    ],
)
def test_bad_settings(env: dict[str, str], pattern: str) -> None:
    with pytest.raises(ValidationError, match=pattern):
        Settings.from_env(env)


def test_grid_graph_contract() -> None:
    seg = grid_segments(3, 2, 100.0)
    assert len(seg) == 4 * 2 + 3 * 3
    G = graph_from_segments(seg)
    assert G.graph["crs"] == METRIC
    assert G.number_of_nodes() == 12
    u, v, key, data = next(iter(G.edges(keys=True, data=True)))
    assert key == data["segment_id"] and data["length"] == pytest.approx(100.0)
    geom = edge_geometry_from(G, v, u, key)
    assert geom.coords[0] == (G.nodes[v]["x"], G.nodes[v]["y"])


def test_noding_splits_crossings_and_snaps_t_junctions() -> None:
    lines = gpd.GeoDataFrame(
        {"street_id": ["A", "B", "C"], "name": ["甲街", "乙街", ""]},
        geometry=[
            LineString([(0, 0), (200, 0)]),
            LineString([(100, -100), (100, 100)]),  # crosses A at (100, 0)
            LineString([(150, 1.5), (150, 80)]),  # T-junction drawn 1.5 m short of A
        ],
        crs=METRIC,
    )
    seg = segments_from_lines(lines)
    assert sorted(seg["segment_id"]) == ["A-01", "A-02", "A-03", "B-01", "B-02", "C-01"]
    G = graph_from_segments(seg)
    assert nx.is_connected(G)
    stats = check_network(G)
    assert stats["edges"] == 6 and stats["nodes"] == 7
    assert seg.set_index("segment_id").loc["C-01", "length_m"] == pytest.approx(80.0, abs=0.01)


def test_noding_refuses_wrong_crs_and_empty() -> None:
    wgs = gpd.GeoDataFrame(
        {"street_id": ["A"], "name": [""]}, geometry=[LineString([(0, 0), (1, 1)])], crs="EPSG:4326"
    )
    with pytest.raises(CRSError, match="must be in a metric"):
        segments_from_lines(wgs)
    with pytest.raises(NetworkError, match="no street lines"):
        segments_from_lines(wgs.to_crs(METRIC).iloc[0:0])


def test_snap_far_point_says_how_far() -> None:
    idx = SegmentIndex(grid_segments(2, 2, 100.0))
    with pytest.raises(
        NetworkError, match=r"point is 1000 m from the nearest street \(limit 200 m\)"
    ):
        idx.snap(Point(448_000 - 1000, 4_421_000))


def test_snap_many_matches_single_snap() -> None:
    seg = grid_segments(3, 3, 100.0)
    idx = SegmentIndex(seg)
    pts = gpd.GeoSeries([Point(448_030, 4_421_004), Point(448_297, 4_421_260)], crs=METRIC)
    many = idx.snap_many(pts)
    for i, p in enumerate(pts):
        one = idx.snap(p)
        assert many["segment_id"].iloc[i] == one.segment_id
        assert many["distance_m"].iloc[i] == pytest.approx(one.distance_m)


def test_t_junction_onto_a_diagonal_stays_connected() -> None:
    """A snapped end rounded to the 1 cm grid must still meet the diagonal it was snapped to."""
    x1, y1 = 304.2155345145171, 74.34502245765718
    px, py, off = 123.88495344655068, 30.27534297631377, 0.9898867970543759
    lines = gpd.GeoDataFrame(
        {"street_id": ["D", "T", "X"], "name": ["斜街", "", ""]},
        geometry=[
            LineString([(0.0, 0.0), (x1, y1)]),
            LineString([(px - 30, py + 40), (px - off * 0.3, py + off)]),  # ends ~1 m off D
            LineString([(x1 * 0.9, 0.0), (x1 * 0.85, y1)]),  # crosses D
        ],
        crs=METRIC,
    )
    seg = segments_from_lines(lines)
    G = graph_from_segments(seg)
    assert nx.is_connected(G)
    assert sorted(seg["segment_id"]) == ["D-01", "D-02", "D-03", "T-01", "X-01", "X-02"]


def test_street_in_several_parts_gets_distinct_segment_ids() -> None:
    from shapely.geometry import MultiLineString

    lines = gpd.GeoDataFrame(
        {"street_id": ["M", "N"], "name": ["两段街", ""]},
        geometry=[
            MultiLineString([[(0, 0), (100, 0)], [(300, 0), (400, 0)]]),
            LineString([(50, -50), (50, 50)]),
        ],
        crs=METRIC,
    )
    seg = segments_from_lines(lines)
    assert sorted(seg["segment_id"]) == ["M-01", "M-02", "M-03", "N-01", "N-02"]
    assert seg["segment_id"].is_unique
