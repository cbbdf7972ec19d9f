"""Bad input says what is wrong; the ``patrol route`` command end to end; bundled data."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest
from shapely.geometry import Point

from gis.cli import main
from gis.errors import InfeasibleError, NetworkError, NotFoundError, ValidationError
from gis.geography.network import graph_from_segments, grid_segments
from gis.planning.postman import plan_postman_route
from gis.planning.routing import node_for_point, required_segments
from tests.routing.conftest import graph_from_edges
from tests.tiny_geography import build_tiny_geography


def test_start_point_far_from_any_street(grid6):
    far = Point(448_000.0 - 1234.0, 4_421_000.0)  # 1 234 m west of the grid's corner
    with pytest.raises(NetworkError, match=r"start point is 1234 m from the nearest street"):
        node_for_point(grid6, far)
    node, d = node_for_point(grid6, Point(448_030.0, 4_421_020.0))
    assert (grid6.nodes[node]["x"], grid6.nodes[node]["y"]) == (448_000.0, 4_421_000.0)
    assert d == pytest.approx(20.0)


def test_empty_required_set(grid6):
    with pytest.raises(ValidationError, match="required segment set is empty"):
        plan_postman_route(grid6, [], 0)


def test_unknown_segment(grid6):
    with pytest.raises(NotFoundError, match="segments not in the street graph: NOPE-01"):
        plan_postman_route(grid6, ["H000-01", "NOPE-01"], 0)


def test_unknown_start(grid6):
    with pytest.raises(NotFoundError, match="start node 99999 is not in the street graph"):
        plan_postman_route(grid6, ["H000-01"], 99999)


def test_unjoinable_required_set():
    # two islands: 0-1-2 and 3-4
    G = graph_from_edges([(0, 1, 5.0), (1, 2, 5.0), (3, 4, 7.0)])
    with pytest.raises(InfeasibleError, match="lie on 2 separate networks"):
        plan_postman_route(G, ["s0", "s2"], 0)
    with pytest.raises(InfeasibleError, match="separate networks"):
        plan_postman_route(G, ["s0"], 0, 4)


def test_zone_and_front_selection():
    G = graph_from_segments(grid_segments(2, 2))
    nx.set_edge_attributes(G, {e: "z1" for e in list(G.edges(keys=True))[:3]}, "zone_id")
    assert len(required_segments(G, zone_id="z1")) == 3
    assert len(required_segments(G, front_id="scenic")) == 12
    with pytest.raises(NotFoundError, match="no street segment has zone_id = 'z9'"):
        required_segments(G, zone_id="z9")


@pytest.fixture
def tiny_env(tmp_path, monkeypatch) -> Path:
    folder = build_tiny_geography(tmp_path / "geo")
    monkeypatch.setenv("PATROL_DATA_DIR", str(folder))
    return tmp_path


def test_cli_route_writes_gpx_geojson_sheet(tiny_env, capsys):
    out = tiny_env
    rc = main(
        [
            "route",
            "--gpx",
            str(out / "r.gpx"),
            "--geojson",
            str(out / "r.geojson"),
            "--sheet",
            str(out / "r.html"),
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    # 5×5 lines of 600 m in 150 m blocks: 6 000 m of streets; 12 odd nodes, 3 per side:
    # 4 side pairs of 150 m and 2 pairs round a corner of 300 m repeat 1 200 m
    assert "route: 7200 m (patrol 6000 m, passing 1200 m)" in text
    assert "gap 0.0% [exact]" in text and "回到起点" in text
    ET.parse(out / "r.gpx")
    assert json.loads((out / "r.geojson").read_text())["type"] == "FeatureCollection"
    assert "<svg" in (out / "r.html").read_text()


def test_cli_route_people_and_budget(tiny_env, capsys):
    rc = main(["route", "--people", "2", "--from", "派出所", "--lang", "en"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "2 people: longest" in text and "person 2:" in text and "Back at the start" in text
    w = tiny_env / "w.csv"
    w.write_text("segment_id,weight\nH0-01,5\nV2-03,3\n", encoding="utf-8")
    rc = main(["route", "--budget-min", "60", "--weights", str(w), "--dwell-min", "3"])
    assert rc == 0
    assert "budget 60 min: weight 8" in capsys.readouterr().out


@pytest.mark.parametrize(
    "data",
    [
        "\ufeffsegment_id,weight\r\nH0-01,5\r\nV2-03,3\r\n".encode(),  # Excel "CSV UTF-8"
        "segment_id,weight,备注\r\nH0-01,5,银锭桥\r\nV2-03,3,烟袋斜街\r\n".encode("gbk"),
    ],
    ids=["utf8-bom", "gbk"],
)
def test_cli_route_weights_from_excel(tiny_env, capsys, data):
    w = tiny_env / "w.csv"
    w.write_bytes(data)
    rc = main(["route", "--budget-min", "60", "--weights", str(w), "--dwell-min", "3"])
    assert rc == 0, capsys.readouterr().err
    assert "budget 60 min: weight 8" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nan", "w.csv, row 3, field 'weight': 'nan' is not a finite weight >= 0"),
        ("inf", "w.csv, row 3, field 'weight': 'inf' is not a finite weight >= 0"),
        ("-2", "w.csv, row 3, field 'weight': '-2' is not a finite weight >= 0"),
        ("lots", "w.csv, row 3, field 'weight': 'lots' is not a number"),
    ],
)
def test_cli_route_bad_weights_name_the_row(tiny_env, capsys, value, message):
    w = tiny_env / "w.csv"
    w.write_text(f"segment_id,weight\nH0-01,5\nV2-03,{value}\n", encoding="utf-8")
    assert main(["route", "--budget-min", "60", "--weights", str(w)]) == 2
    assert message in capsys.readouterr().err


def test_cli_route_errors(tiny_env, capsys):
    assert main(["route", "--people", "0"]) == 2
    assert "k must be a positive number of people" in capsys.readouterr().err
    assert main(["route", "--from", "116.0,39.0"]) == 2
    assert "from the nearest street" in capsys.readouterr().err


def test_bundled_geography_routes():
    from gis.geography.layers import load_bundled_geography
    from gis.planning.routing import plan_k_routes
    from gis.settings import Settings

    settings = Settings.from_env({})
    if not (Path(settings.data_dir) / "shichahai").is_dir():
        pytest.skip("the bundled geography (data/shichahai) is not in this checkout")
    geo = load_bundled_geography(settings)
    G = geo.graph()
    assert nx.is_connected(G)
    centre = geo.pois.loc[geo.pois["kind"] == "enforcement_center"].geometry.iloc[0]
    depot, dist = node_for_point(G, centre)
    assert dist < 50.0
    ids = required_segments(G)
    fast = plan_postman_route(G, ids, depot)
    # optimality against networkx's complete-graph matching (340 odd nodes, about a minute)
    # is checked in bench/bench_routing.py
    assert fast.method == "exact" and fast.gap == 0.0
    assert fast.total_m > fast.required_m
    assert {e.segment_id for e in fast.edges if not e.deadhead} == set(ids)
    kr = plan_k_routes(G, ids, depot, 3, search_moves=30)
    patrolled = sorted(e.segment_id for r in kr.routes for e in r.edges if not e.deadhead)
    assert patrolled == sorted(ids)
    assert kr.lower_bound_m <= kr.max_m


def test_cli_budget_route_takes_weights_from_the_forecast(tiny_env, capsys, monkeypatch):
    monkeypatch.setenv("PATROL_DATABASE_URL", str(tiny_env / "store.gpkg"))
    assert main(["route", "--budget-min", "60"]) == 2
    assert "no hotspot weights: the store has no cases" in capsys.readouterr().err
    assert main(["demo-history", "--seed", "3", "--days", "60", "--end", "2026-11-01T00:00"]) == 0
    capsys.readouterr()
    assert main(["route", "--budget-min", "60"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("budget 60 min: weight ") and "greedy baseline" in text


@pytest.mark.parametrize("bad", ["999,999", "nan,nan", "inf,39.9"])
def test_cli_route_refuses_impossible_coordinates(tiny_env, capsys, bad):
    assert main(["route", "--from", bad]) == 2
    err = capsys.readouterr().err
    assert "field '--from/--to'" in err and "is not a longitude,latitude pair" in err


def test_node_for_point_refuses_non_finite_point(grid6):
    with pytest.raises(NetworkError, match="no finite coordinates"):
        node_for_point(grid6, Point(float("nan"), float("nan")))


def test_cli_route_weights_link_and_size_refused(tiny_env, capsys, monkeypatch):
    secret = tiny_env / "secret.csv"
    secret.write_text("segment_id,weight\nroot:x:0:0,1\n", encoding="utf-8")
    link = tiny_env / "w.csv"
    link.symlink_to(secret)
    assert main(["route", "--budget-min", "60", "--weights", str(link)]) == 2
    err = capsys.readouterr().err
    assert "symbolic link" in err and "root:x" not in err
    import gis.cli.route as route_cli

    monkeypatch.setattr(route_cli, "WEIGHTS_MAX_BYTES", 10)
    assert main(["route", "--budget-min", "60", "--weights", str(secret)]) == 2
    assert "more than the" in capsys.readouterr().err
