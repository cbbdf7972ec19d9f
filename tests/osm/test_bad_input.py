"""Bad OSM input: no walkable ways, outside China, damaged files, DOCTYPE/entities, clobbering."""

from __future__ import annotations

from pathlib import Path

import pytest
from shapely.geometry import box

from gis.errors import ValidationError
from gis.geography.osm_import import import_osm

from .conftest import write_osm

NODES = """
  <node id="1" lat="39.9300" lon="116.3800"/>
  <node id="2" lat="39.9300" lon="116.3900"/>
  <node id="3" lat="39.9400" lon="116.3900"/>
"""


def test_no_walkable_ways_names_the_file(tmp_path: Path) -> None:
    path = write_osm(
        tmp_path / "buildings.osm",
        NODES
        + """
  <way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/>
    <tag k="building" v="yes"/></way>
  <way id="2"><nd ref="1"/><nd ref="3"/>
    <tag k="highway" v="footway"/><tag k="foot" v="no"/></way>
  <way id="3"><nd ref="2"/><nd ref="3"/><tag k="highway" v="motorway"/></way>
""",
    )
    with pytest.raises(ValidationError, match=r"buildings\.osm: contains no walkable ways"):
        import_osm(path, out_dir=tmp_path / "geo")
    assert not (tmp_path / "geo").exists()


def test_empty_osm_file(tmp_path: Path) -> None:
    path = write_osm(tmp_path / "empty.osm", "")
    with pytest.raises(ValidationError, match=r"empty\.osm: contains no walkable ways"):
        import_osm(path, out_dir=None)


def test_file_outside_china(tmp_path: Path) -> None:
    path = write_osm(
        tmp_path / "helsinki.osm",
        """
  <node id="1" lat="60.17" lon="24.94"/>
  <node id="2" lat="60.18" lon="24.95"/>
  <way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>
""",
    )
    with pytest.raises(ValidationError, match=r"helsinki\.osm: the area .* lies outside China"):
        import_osm(path, out_dir=None)


def test_swapped_coordinates_are_outside_china(tmp_path: Path) -> None:
    path = write_osm(
        tmp_path / "swapped.osm",
        """
  <node id="1" lat="116.38" lon="39.93"/>
  <node id="2" lat="116.39" lon="39.94"/>
  <way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>
""",
    )
    # latitude 116 is caught while reading, before any geometry is built
    with pytest.raises(ValidationError, match="swapped"):
        import_osm(path, out_dir=None)


def test_polygon_outside_china_refused_before_any_download() -> None:
    with pytest.raises(ValidationError, match=r"polygon: the area .* lies outside China"):
        import_osm(box(2.33, 48.85, 2.35, 48.87), out_dir=None)


def test_boundary_file_outside_china(tiny_osm: Path, tmp_path: Path) -> None:
    import geopandas as gpd

    path = tmp_path / "paris.geojson"
    gpd.GeoDataFrame(geometry=[box(2.33, 48.85, 2.35, 48.87)], crs=4326).to_file(path)
    with pytest.raises(ValidationError, match=r"outside China"):
        import_osm(tiny_osm, out_dir=None, boundary=path)


def test_truncated_xml_names_the_file(tiny_osm: Path, tmp_path: Path) -> None:
    path = tmp_path / "cut.osm"
    path.write_bytes(tiny_osm.read_bytes()[:1500])
    with pytest.raises(ValidationError, match=r"cut\.osm: is not well-formed OSM XML"):
        import_osm(path, out_dir=None)


def test_bad_attribute_names_the_file(tmp_path: Path) -> None:
    path = write_osm(tmp_path / "badnode.osm", '<node id="1" lat="north" lon="116.38"/>')
    with pytest.raises(ValidationError, match=r"badnode\.osm: has a <node> element with a missing"):
        import_osm(path, out_dir=None)


def test_not_osm_xml(tmp_path: Path) -> None:
    path = tmp_path / "page.osm"
    path.write_text("<html><body>not osm</body></html>", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"page\.osm: refused: root element <html>"):
        import_osm(path, out_dir=None)


@pytest.mark.parametrize(
    "prolog",
    [
        # internal entities: the "billion laughs" family
        '<!DOCTYPE osm [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>\n',
        # an external entity that would read a local file
        '<!DOCTYPE osm [<!ENTITY x SYSTEM "file:///etc/hostname">]>\n',
        # a bare DOCTYPE is refused too: OSM XML never has one
        '<!DOCTYPE osm SYSTEM "osm.dtd">\n',
    ],
)
def test_doctype_and_entities_refused(tmp_path: Path, prolog: str) -> None:
    body = NODES + '<way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="path"/></way>'
    path = write_osm(tmp_path / "evil.osm", body, prolog=prolog)
    with pytest.raises(ValidationError, match=r"evil\.osm: refused: DOCTYPE or entity"):
        import_osm(path, out_dir=None)


def test_corrupt_pbf_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.osm.pbf"
    path.write_bytes(b"\x00\x00\x00\x0dnot a pbf at all" * 64)
    with pytest.raises(ValidationError, match=r"broken\.osm\.pbf: cannot be read as an OSM PBF"):
        import_osm(path, out_dir=None)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"nowhere\.osm\.pbf: OSM file not found"):
        import_osm(tmp_path / "nowhere.osm.pbf", out_dir=None)


def test_bad_grid_size(tiny_osm: Path) -> None:
    with pytest.raises(ValidationError, match="grid size -5 must be a positive"):
        import_osm(tiny_osm, out_dir=None, grid_m=-5)


def test_refuses_to_replace_an_unrelated_folder(tiny_osm: Path, tmp_path: Path) -> None:
    out = tmp_path / "home"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(ValidationError, match="does not hold a geography layer set"):
        import_osm(tiny_osm, out_dir=out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_failed_import_leaves_previous_output_intact(tiny_osm: Path, tmp_path: Path) -> None:
    out = tmp_path / "geo"
    import_osm(tiny_osm, out_dir=out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    broken = tmp_path / "cut.osm"
    broken.write_bytes(tiny_osm.read_bytes()[:900])
    with pytest.raises(ValidationError):
        import_osm(broken, out_dir=out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # a successful re-import replaces the set and leaves no temporary folders behind
    import_osm(tiny_osm, out_dir=out, grid_m=1000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.osm", "geo"]
    assert (out / "zones.geojson").read_bytes() != before["zones.geojson"]


def test_single_way_spans_no_area(tmp_path: Path) -> None:
    path = write_osm(
        tmp_path / "one.osm",
        NODES + '<way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="path"/></way>',
    )
    with pytest.raises(ValidationError, match=r"one\.osm: the walkable ways span no area"):
        import_osm(path, out_dir=None)
