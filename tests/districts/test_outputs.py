"""Outputs: polygons with lakes cut out, per-person summary, signboards, map layer, CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gis.cli import main
from gis.errors import ValidationError
from gis.geography.layers import load_geography
from gis.planning.district_outputs import (
    cut_length,
    district_polygons,
    person_summary,
    polsby_popper,
)
from gis.planning.partition import districts_for_people
from gis.planning.signboards import signboard_html, write_signboards
from layers.assets import AssetMode
from layers.basemap import new_map
from layers.districts import add_districts, person_colours

EXTERNAL = re.compile(r"<(script|link)[^>]+(src|href)=[\"']?(https?:)?//", re.IGNORECASE)


def _contains(page: str, text: str) -> bool:
    """Text appears raw or JSON-escaped (folium writes properties through json.dumps)."""
    return text in page or json.dumps(text)[1:-1] in page


@pytest.fixture
def tiny_plan(tiny_geo_dir: Path):
    geo = load_geography(tiny_geo_dir)
    plan = districts_for_people(geo.segments, 3, allow_front_crossing=True)
    return geo, plan


def test_polygons_tile_the_area_without_lakes(tiny_plan) -> None:
    geo, plan = tiny_plan
    pol = district_polygons(geo.segments, plan.assignment, boundary=geo.boundary, lakes=geo.lakes)
    assert sorted(pol["person_id"]) == ["P01", "P02", "P03"]
    lake = geo.lakes.union_all()
    area = geo.boundary.union_all().difference(lake)
    union = shapely.union_all(pol.geometry.values)
    assert union.symmetric_difference(area).area < 1.0  # m²: the pieces cover the area
    assert sum(pol.geometry.area) == pytest.approx(area.area, rel=1e-6)  # and never overlap
    assert pol.geometry.intersection(lake).area.max() < 1e-6
    assert ((pol["polsby_popper"] > 0) & (pol["polsby_popper"] <= 1)).all()
    assert cut_length(pol) > 0


def test_polsby_popper_of_a_square() -> None:
    assert polsby_popper(shapely.box(0, 0, 10, 10)) == pytest.approx(3.14159265 / 4)


def test_summary_counts_open_cases(tiny_plan) -> None:
    geo, plan = tiny_plan
    segs = list(plan.assignment)[:3]
    cases = pd.DataFrame(
        {
            "segment_id": [segs[0], segs[0], segs[1], segs[2]],
            "state": ["reported", "closed", "rechecking", "duplicate"],
            "closed_at": [pd.NaT, pd.Timestamp("2026-01-02"), pd.NaT, pd.NaT],
        }
    )
    s = person_summary(geo.segments, plan.assignment, plan.workload, cases=cases)
    expected: dict[str, int] = {}
    for seg in (segs[0], segs[1]):
        expected[plan.assignment[seg]] = expected.get(plan.assignment[seg], 0) + 1
    got = dict(zip(s["person_id"], s["open_cases"], strict=True))
    assert got == {p: expected.get(p, 0) for p in plan.people}
    assert s["n_segments"].sum() == len(geo.segments)
    assert s["share"].sum() == pytest.approx(1.0)
    assert s["length_m"].sum() == pytest.approx(geo.segments["length_m"].sum())


def test_signboard_is_self_contained_and_escaped() -> None:
    page = signboard_html(
        {"person_id": "P01", "name": "张<三>", "phone": "010-0000-0001", "fictitious": True},
        ["烟袋斜街", "银锭桥"],
        unnamed=3,
    )
    assert "张&lt;三&gt;" in page and "010-0000-0001" in page
    assert "烟袋斜街" in page and "工作职责" in page and "虚构" in page
    assert "无名街巷 3 段" in page
    assert "http" not in page
    with pytest.raises(ValidationError, match="person 'P02' has no name"):
        signboard_html({"person_id": "P02", "name": " "}, [])


def test_signboards_are_all_or_nothing(tmp_path: Path) -> None:
    summary = pd.DataFrame({"person_id": ["A", "B"], "streets": ["甲街", "乙街"]})
    staff = pd.DataFrame({"person_id": ["A"], "name": ["甲"], "phone": ["1"]})
    with pytest.raises(ValidationError, match="person 'B' has a district but is not in"):
        write_signboards(summary, staff, tmp_path / "boards")
    assert not (tmp_path / "boards").exists()


def test_layer_colours_legend_and_no_cdn(tiny_plan) -> None:
    geo, plan = tiny_plan
    pol = district_polygons(geo.segments, plan.assignment, boundary=geo.boundary, lakes=geo.lakes)
    summary = person_summary(geo.segments, plan.assignment, plan.workload)
    summary["name"] = ["甲", "乙", "丙"]
    m = new_map(assets=AssetMode(inline=True))
    add_districts(m, pol, segments=geo.segments, assignment=plan.assignment, summary=summary)
    page = m.get_root().render()
    colours = person_colours(list(plan.people))
    for person in plan.people:
        assert colours[person] in page
    assert _contains(page, "责任人") and _contains(page, "甲")
    assert EXTERNAL.search(page) is None and "cdn." not in page
    assert "116.3" in page  # coordinates reached the page in WGS 84 longitude


def test_cli_writes_every_output(tiny_geo_dir: Path, tmp_path: Path, capsys) -> None:
    gpkg, gj, boards = tmp_path / "d.gpkg", tmp_path / "d.geojson", tmp_path / "boards"
    rc = main(
        [
            "districts",
            "--people",
            "3",
            "--data",
            str(tiny_geo_dir),
            "--allow-front-crossing",
            "--gpkg",
            str(gpkg),
            "--geojson",
            str(gj),
            "--signboards",
            str(boards),
            "-q",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "max/min workload" in out and "contiguous 3/3" in out
    segs = gpd.read_file(gpkg, layer="district_segments")
    assert segs["person_id"].nunique() == 3
    polys = gpd.read_file(gj)
    assert polys.crs.to_epsg() == 4326 and len(polys) == 3
    assert len(list(boards.glob("*.html"))) == 3


def test_cli_bad_input_saves_nothing(tiny_geo_dir: Path, tmp_path: Path, capsys) -> None:
    gpkg = tmp_path / "d.gpkg"
    args = ["districts", "--data", str(tiny_geo_dir), "--gpkg", str(gpkg), "-q"]
    assert main([*args, "--people", "0"]) == 2
    assert "at least one person is needed" in capsys.readouterr().err
    assert main([*args, "--people", "1"]) == 2  # two fronts, one person, no crossing
    assert "allow front crossing or add people" in capsys.readouterr().err
    assert main([*args, "--people", "999"]) == 2
    assert "only 24 resident duty officers" in capsys.readouterr().err
    assert not gpkg.exists()
