"""Steps, GPX, GeoJSON, the HTML route sheet and the folium route layer."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET

import geopandas as gpd
import networkx as nx
import pytest
from shapely.geometry import LineString

from gis.geography.crs import METRIC
from gis.geography.network import graph_from_segments
from gis.planning.postman import plan_postman_route
from gis.planning.route_sheet import (
    pdf_engine,
    route_sheet_html,
    route_steps,
    route_to_geojson,
    route_to_gpx,
    write_route_sheet_pdf,
)
from gis.planning.routing import required_segments

GPX_NS = "{http://www.topografix.com/GPX/1/1}"
X0, Y0 = 447_000.0, 4_420_000.0


@pytest.fixture
def l_street() -> nx.MultiGraph:
    """烟袋斜街 runs east in three segments (60 + 40 + 20 m), then an unnamed lane turns north
    (left) for 50 m, then 银锭桥 turns east (right) for 30 m."""
    pts = [(X0, Y0), (X0 + 60, Y0), (X0 + 100, Y0), (X0 + 120, Y0)]
    rows = []
    for n, (a, b) in enumerate(zip(pts, pts[1:], strict=False)):
        rows.append(("YD", f"YD-{n + 1:02d}", "烟袋斜街", "Yandai Xiejie", LineString([a, b])))
    rows.append(("L1", "L1-01", "", "", LineString([(X0 + 120, Y0), (X0 + 120, Y0 + 50)])))
    rows.append(
        (
            "YB",
            "YB-01",
            "银锭桥",
            "Yinding Bridge",
            LineString([(X0 + 120, Y0 + 50), (X0 + 150, Y0 + 50)]),
        )
    )
    gdf = gpd.GeoDataFrame(
        [
            {"street_id": st, "segment_id": sid, "name": nm, "name_en": en, "geometry": g}
            for st, sid, nm, en, g in rows
        ],
        geometry="geometry",
        crs=METRIC,
    )
    from gis.geography.network import assign_node_ids

    gdf = assign_node_ids(gdf)
    gdf["length_m"] = gdf.geometry.length
    return graph_from_segments(gdf)


def _open_route(G):
    nodes = sorted(G.nodes, key=lambda n: (G.nodes[n]["x"], G.nodes[n]["y"]))
    start = nodes[0]
    end = max(G.nodes, key=lambda n: G.nodes[n]["x"] + G.nodes[n]["y"])
    return plan_postman_route(G, required_segments(G), start, end)


def test_steps_collapse_same_street_and_turn(l_street):
    r = _open_route(l_street)
    assert r.total_m == pytest.approx(200.0)
    steps = route_steps(l_street, r)
    assert [s.text_zh for s in steps] == [
        "沿烟袋斜街向东 120 米",
        "左转进入无名胡同，向北 50 米，至银锭桥",
        "右转进入银锭桥，向东 30 米",
    ]
    assert steps[0].segment_ids == ("YD-01", "YD-02", "YD-03")
    assert steps[1].text_en == "Turn left onto unnamed lane, head north 50 m, to Yinding Bridge"
    assert steps[2].text_en == "Turn right onto Yinding Bridge, head east 30 m"


def test_unnamed_lanes_walked_straight_on_are_one_step(l_street):
    """Regression: every unnamed segment was its own "直行进入无名胡同" step."""
    # split the unnamed lane into three lanes with different street ids, all heading north
    from gis.geography.network import assign_node_ids

    rows = []
    for _u, _v, d in l_street.edges(data=True):
        geom = d["geometry"]
        if d["segment_id"] != "L1-01":
            rows.append(
                {
                    **{c: d[c] for c in ("street_id", "segment_id", "name", "name_en")},
                    "geometry": geom,
                }
            )
            continue
        (x0, y0), (_x1, y1) = geom.coords[0], geom.coords[-1]
        for n in range(3):
            a = (x0, y0 + (y1 - y0) * n / 3)
            b = (x0, y0 + (y1 - y0) * (n + 1) / 3)
            rows.append(
                {
                    "street_id": f"L{n}",
                    "segment_id": f"L{n}-01",
                    "name": "",
                    "name_en": "",
                    "geometry": LineString([a, b]),
                }
            )
    gdf = assign_node_ids(gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC))
    gdf["length_m"] = gdf.geometry.length
    G = graph_from_segments(gdf)
    steps = route_steps(G, _open_route(G))
    texts = [s.text_zh for s in steps]
    assert texts == [
        "沿烟袋斜街向东 120 米",
        "左转进入无名胡同，向北 50 米，至银锭桥",
        "右转进入银锭桥，向东 30 米",
    ]
    assert steps[1].segment_ids == ("L0-01", "L1-01", "L2-01")


def test_steps_mark_u_turns_and_passing_through(l_street):
    start = min(l_street.nodes, key=lambda n: l_street.nodes[n]["x"])
    r = plan_postman_route(l_street, ["YD-01", "YD-02", "YD-03"], start)  # there and back
    texts = [s.text_zh for s in route_steps(l_street, r)]
    assert texts == ["沿烟袋斜街向东 120 米", "掉头沿烟袋斜街向西 120 米（途经）"]


def test_gpx_is_valid_with_one_point_per_vertex(grid6):
    r = plan_postman_route(grid6, required_segments(grid6), 0)
    root = ET.fromstring(route_to_gpx(r, name="测试 <路线>"))
    assert root.tag == f"{GPX_NS}gpx" and root.attrib["version"] == "1.1"
    trk = root.findall(f"{GPX_NS}trk")
    assert len(trk) == 1
    pts = trk[0].findall(f"{GPX_NS}trkseg/{GPX_NS}trkpt")
    assert len(pts) == len(r.geometry.coords)
    # every vertex of the 9 600 m walk over 100 m segments is a junction: 96 + 1
    assert len(pts) == 97
    lat = [float(p.attrib["lat"]) for p in pts]
    lon = [float(p.attrib["lon"]) for p in pts]
    assert all(39.9 < y < 40.0 for y in lat) and all(116.3 < x < 116.5 for x in lon)
    assert root.find(f"{GPX_NS}metadata/{GPX_NS}name").text == "测试 <路线>"


def test_geojson_features_in_walking_order(grid6):
    r = plan_postman_route(grid6, required_segments(grid6), 0)
    fc = json.loads(route_to_geojson(grid6, r))
    feats = fc["features"]
    assert len(feats) == len(r.edges)
    assert [f["properties"]["seq"] for f in feats] == list(range(1, len(r.edges) + 1))
    assert sum(not f["properties"]["deadhead"] for f in feats) == 84
    first = feats[0]["geometry"]["coordinates"]
    assert 116.3 < first[0][0] < 116.5 and 39.9 < first[0][1] < 40.0


def test_route_sheet_is_self_contained(l_street):
    r = _open_route(l_street)
    page = route_sheet_html(l_street, r, title="烟袋斜街巡查")
    assert "<svg" in page and "沿烟袋斜街向东 120 米" in page and "到达终点" in page
    assert "0.20 km" in page
    # nothing to fetch: no external URLs apart from XML namespaces
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page))
    assert urls <= {"http://www.w3.org/2000/svg"}
    en = route_sheet_html(l_street, r, lang="en")
    assert "Arrive at the destination" in en and "Expected time" in en


def test_route_sheet_pdf(l_street, tmp_path):
    if pdf_engine() is None:
        if os.environ.get("PATROL_REQUIRE_BROWSER") == "1":
            pytest.fail("PATROL_REQUIRE_BROWSER=1 but no Chromium is installed")
        pytest.skip("no local Chromium to print PDF")
    out = write_route_sheet_pdf(
        route_sheet_html(l_street, _open_route(l_street)), tmp_path / "r.pdf"
    )
    assert out.read_bytes()[:5] == b"%PDF-"


def test_route_layer_has_arrows_and_numbered_stops(grid6):
    import folium

    from layers.route import route_layer

    r = plan_postman_route(grid6, required_segments(grid6), 0)
    steps = route_steps(grid6, r)
    fg = route_layer(r, steps=steps, arrow_every_m=400.0)
    m = folium.Map(location=[39.94, 116.39], tiles=None)
    fg.add_to(m)
    page = m.get_root().render()
    assert page.count('"shape":"arrow"') == 24  # 9 600 m / 400 m
    assert page.count('"shape":"stop"') == len(steps)
    assert '"rotate":' in page
