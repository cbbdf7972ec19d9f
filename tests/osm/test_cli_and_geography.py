"""``patrol import-osm`` end to end, and the imported folders loaded as a Geography."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import pandas as pd
import pytest

from gis.cli import main
from gis.geography.layers import load_geography
from gis.geography.network import check_network
from gis.geography.osm_import import OsmLayers


def test_cli_imports_a_file(tiny_osm: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "geo"
    code = main(
        [
            "import-osm",
            str(tiny_osm),
            "--out",
            str(out),
            "--main-street-classes",
            "secondary",
            "--grid-m",
            "1000",
            "--street-code",
            "007",
            "--min-component-m",
            "300",
        ]
    )
    assert code == 0
    printed = capsys.readouterr()
    # the bridge (140 m, cut off from the rest) is dropped as a stray piece, and said so
    assert "streets.geojson        5 features" in printed.out
    assert "dropped 1 stray street piece(s) of 140 m in all (shorter than 300 m" in printed.out
    assert "main_street 1" in printed.out
    assert "measured in EPSG:32650" in printed.out
    assert "import-osm" in printed.err  # the tqdm bar
    zones = gpd.read_file(out / "zones.geojson")
    assert all(z.startswith("110102007000") for z in zones["zone_id"])
    streets = gpd.read_file(out / "streets.geojson").set_index("street_id")
    assert streets.loc["W103", "front"] == "main_streets"


def test_cli_reports_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.osm"
    bad.write_text('<!DOCTYPE osm [<!ENTITY a "b">]><osm/>', encoding="utf-8")
    assert main(["import-osm", str(bad), "--out", str(tmp_path / "geo")]) == 2
    err = capsys.readouterr().err
    assert "error: file" in err and "bad.osm: refused: DOCTYPE" in err
    assert not (tmp_path / "geo").exists()


def test_cli_needs_something_to_import(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["import-osm", "--out", str(tmp_path / "geo")]) == 2
    assert "nothing to import" in capsys.readouterr().err


def test_tiny_import_loads_as_geography(tiny_osm: Path, tmp_path: Path) -> None:
    out = tmp_path / "geo"
    from gis.geography.osm_import import import_osm

    import_osm(tiny_osm, out_dir=out, main_street_classes=["secondary"], min_component_m=0)
    geo = load_geography(out)
    figures = check_network(geo.graph())
    # the square of four ways is one loop; the bridge and the lakeside path stand alone
    assert (figures["nodes"], figures["edges"], figures["components"]) == (8, 6, 3)
    assert set(geo.segments["front_id"]) == {"scenic", "main_streets"}
    seg = geo.segments.set_index("street_id")
    assert pd.isna(seg.loc["W103", "zone_id"])
    assert seg.drop(index="W103")["zone_id"].notna().all()


def test_helsinki_import_builds_a_connected_graph(helsinki: OsmLayers) -> None:
    assert helsinki.out_dir is not None
    geo = load_geography(helsinki.out_dir)
    G = geo.graph()
    figures = check_network(G)
    assert figures["zero_length"] == 0 and figures["self_loops"] == 0
    assert figures["duplicates"] == 0
    assert figures["edges"] >= len(helsinki.streets)  # ways split at junctions
    biggest = max(nx.connected_components(G), key=len)
    share = sum(d["length"] for _, _, d in G.subgraph(biggest).edges(data=True)) / sum(
        d["length"] for _, _, d in G.edges(data=True)
    )
    assert share > 0.95
    # every segment belongs to exactly one zone or to the main-street front
    seg = geo.segments
    assert (seg["zone_id"].notna() ^ (seg["front_id"] == "main_streets")).all()
