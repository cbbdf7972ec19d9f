"""A real-OSM-derived extract (central Helsinki, bzip2) with stray pieces: import, route, districts."""

from __future__ import annotations

import bz2
import gzip
from pathlib import Path

import networkx as nx
import pytest

from gis.cli import main
from gis.geography.layers import load_geography
from gis.geography.osm_import import MIN_COMPONENT_M, import_osm

EXTRACT = Path(__file__).resolve().parent / "fixtures" / "helsinki_small.osm.bz2"
START = "24.944,60.169"


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hs") / "geo"
    assert main(["import-osm", str(EXTRACT), "--out", str(out), "--allow-outside-china"]) == 0
    return out


def test_compressed_forms_import_alike(tmp_path: Path) -> None:
    text = bz2.decompress(EXTRACT.read_bytes())
    plain = tmp_path / "extract.osm"
    plain.write_bytes(text)
    gz = tmp_path / "extract.osm.gz"
    gz.write_bytes(gzip.compress(text))
    odd = tmp_path / "download"  # no suffix at all: the content decides
    odd.write_bytes(bz2.compress(text))
    got = [import_osm(p, out_dir=None, allow_outside_china=True) for p in (EXTRACT, plain, gz, odd)]
    ids = [sorted(g.streets["street_id"]) for g in got]
    assert ids[0] and all(i == ids[0] for i in ids)
    assert {g.crs for g in got} == {"EPSG:32635"}


def test_stray_pieces_are_dropped_and_reported(
    imported: Path, capsys: pytest.CaptureFixture
) -> None:
    layers = import_osm(EXTRACT, out_dir=None, allow_outside_china=True)
    assert len(layers.dropped) >= 10
    assert all(m < MIN_COMPONENT_M for _ids, m in layers.dropped)
    kept = set(layers.streets["street_id"])
    assert not kept & {sid for ids, _m in layers.dropped if len(ids) == 1 for sid in ids}
    G = load_geography(imported).graph()
    assert nx.number_connected_components(G) == 1
    keep_all = import_osm(EXTRACT, out_dir=None, allow_outside_china=True, min_component_m=0)
    assert keep_all.dropped == () and len(keep_all.streets) > len(layers.streets)


def test_cli_report_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["import-osm", str(EXTRACT), "--out", str(tmp_path / "g"), "--allow-outside-china"])
    assert code == 0
    out = capsys.readouterr().out
    assert "measured in EPSG:32635 (geography.json)" in out
    assert "stray street piece(s)" in out and "shorter than 500 m" in out


def test_route_and_districts_work_on_the_import(
    imported: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["route", "--data", str(imported), "--from", START, "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "gap 0.0%" in out or "gap" in out
    assert "head " in out
    assert main(["districts", "--data", str(imported), "--people", "3", "-q"]) == 0
    out = capsys.readouterr().out
    assert "contiguous 3/3" in out
    ratio = float(out.split("max/min workload ")[1].split()[0])
    assert ratio < 1.2


def test_separate_networks_advice_works_when_followed(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    raw = tmp_path / "raw"
    args = ["import-osm", str(EXTRACT), "--out", str(raw), "--allow-outside-china"]
    assert main([*args, "--min-component-m", "0"]) == 0
    capsys.readouterr()
    assert main(["route", "--data", str(raw), "--from", START]) == 2
    err = capsys.readouterr().err
    assert "separate networks" in err and "--min-component-m" in err
    suggested = err.split("--min-component-m ")[1].split()[0]
    assert main([*args, "--min-component-m", suggested]) == 0
    capsys.readouterr()
    assert main(["route", "--data", str(raw), "--from", START]) == 0


def test_outside_china_advice_works_when_followed(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    args = ["import-osm", str(EXTRACT), "--out", str(tmp_path / "g")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--allow-outside-china" in err
    assert main([*args, "--allow-outside-china"]) == 0


def test_route_without_a_center_starts_at_the_middle(
    imported: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["route", "--data", str(imported), "--lang", "en"]) == 0
    captured = capsys.readouterr()
    assert "nearest the area's centre" in captured.err
    assert "Back at the start" in captured.out


@pytest.mark.slow  # the k-route local search re-plans ~1,200 postman tours on this extract
def test_split_route_without_a_center_starts_at_the_middle(
    imported: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["route", "--data", str(imported), "--people", "2", "--lang", "en"]) == 0
    captured = capsys.readouterr()
    assert "nearest the area's centre" in captured.err
    assert "2 people: longest" in captured.out
