"""Every payload of the hostile corpus through every map renderer: nothing runs, all shows.

A renderer fails when rendering raises (a template syntax error), when a canary folder
appears (server-side code ran), when an executed payload's trace is in the page
(``QQ49ZZ`` where ``QQ{{7*7}}ZZ`` was), when a payload reaches the page raw (outside the inert
JSON the page script reads), or when the text does not travel unchanged as data.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from gis.cli import main
from gis.geography.crs import METRIC
from gis.geography.layers import load_geography
from gis.geography.network import graph_from_segments, grid_segments
from gis.planning.postman import plan_postman_route
from gis.planning.route_sheet import route_steps
from gis.planning.routing import required_segments
from layers.assets import AssetMode
from layers.basemap import new_map
from layers.catalogue import add_layer_control, render_geography
from layers.districts import add_districts
from layers.hotspots import forecast_layer, write_hotspot_map
from layers.legend import add_legend
from layers.route import route_layer
from layers.safe import clean_text, inert, script_json
from layers.standalone import geography_map_html
from layers.violations import violations_layer
from tests.hotspots.synthetic import make_case_frame
from tests.security.payloads import (
    FAMILIES,
    all_payloads,
    canaries,
    executed_in,
    makedirs_at,
    shown,
    wrap,
)
from tests.tiny_geography import build_tiny_geography

#: Characters that must never reach a page raw from data (they travel as \\u escapes).
_DANGEROUS = re.compile(r"[<>`{}$]")


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder so a payload that creates PWNED there is seen."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _render(m) -> str:
    return m.get_root().render()


def check_page(page: str, payloads: list[str], where: Path, *, limit: int = 300) -> None:
    """The shared verdict: nothing ran, nothing raw, every payload present as data."""
    assert canaries(where) == [], "a template payload ran on the server"
    assert not (where / "owned").exists(), "a template payload ran on the server"
    assert executed_in(page) == [], "a template payload was evaluated"
    for p in payloads:
        text = shown(p)
        if _DANGEROUS.search(text):
            assert text not in page, f"payload reached the page raw: {text[:60]!r}"
        head = clean_text(text, limit=limit)[: limit - 1]
        assert script_json(head)[1:-1] in page, f"payload not carried as data: {text[:60]!r}"


FAMILY_IDS = sorted(FAMILIES)


def _family(name: str) -> list[str]:
    return [wrap(p) for p in FAMILIES[name]] + (
        [wrap(makedirs_at(Path.cwd() / "owned"))] if name == "jinja_rce" else []
    )


# ----------------------------------------------------------------------------- cases
def _cases(payloads: list[str]) -> gpd.GeoDataFrame:
    n = len(payloads)
    xy = [(448000.0 + 7.0 * i, 4421000.0 + 3.0 * (i % 11)) for i in range(n)]
    return make_case_frame(
        xy,
        ["2026-05-01 17:00"] * n,
        case_id=payloads,
        description=payloads,
        category=["C07"] * n,
        lead_dept=payloads,
        zone_id=payloads,
        state=(["reported", "notice_served", "closed"] * n)[:n],
    )


@pytest.mark.parametrize("family", FAMILY_IDS)
@pytest.mark.parametrize("cluster", [True, False])
def test_violations_layer(family: str, cluster: bool, in_tmp: Path) -> None:
    payloads = _family(family)
    frame = _cases(payloads)
    m = new_map()
    violations_layer(frame, cluster=cluster, category_names={"C07": payloads[0]}).add_to(m)
    page = _render(m)
    check_page(page, payloads, in_tmp, limit=80)  # descriptions are cut at 80 characters


@pytest.mark.parametrize("family", FAMILY_IDS)
def test_violations_layer_department_and_zone_names(family: str, in_tmp: Path) -> None:
    payloads = _family(family)
    frame = _cases(payloads).assign(description="")
    m = new_map()
    violations_layer(
        frame,
        dept_names={p: "D" + p for p in payloads},
        zone_names={p: "Z" + p for p in payloads},
    ).add_to(m)
    page = _render(m)
    check_page(page, ["D" + p for p in payloads] + ["Z" + p for p in payloads], in_tmp)


def test_violations_graded_cells_and_legend(in_tmp: Path) -> None:
    payloads = [p for _, p in all_payloads()]
    m = new_map()
    violations_layer(_cases(payloads), max_markers=5).add_to(m)
    add_legend(m, payloads[0], [("#123456", p) for p in payloads[:40]])
    page = _render(m)
    check_page(page, payloads[:40], in_tmp, limit=120)


# ------------------------------------------------------------------------ geography
def _hostile_geography(folder: Path, payloads: list[str]) -> Path:
    """The tiny geography with every name, community and id text replaced by payloads."""
    build_tiny_geography(folder)
    cycle = payloads * 50
    k = 0
    for name in ("zones", "streets", "pois", "lakes", "boundary"):
        path = folder / f"{name}.geojson"
        data = json.loads(path.read_text(encoding="utf-8"))
        for f in data["features"]:
            props = f["properties"]
            for key in ("name", "name_en", "community"):
                if key in props:
                    props[key] = cycle[k]
                    k += 1
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return folder


def _held(geo) -> list[str]:
    """Every name the geography holds (zones, streets, points, lakes, boundary)."""
    out: set[str] = set()
    for frame in (geo.zones, geo.segments, geo.pois, geo.lakes, geo.boundary):
        for col in ("name", "name_en", "community"):
            if col in frame.columns:
                out |= {str(v) for v in frame[col] if str(v).startswith("QQ")}
    return sorted(out)


@pytest.mark.parametrize("family", FAMILY_IDS)
def test_geography_map_with_hostile_names(family: str, in_tmp: Path) -> None:
    payloads = _family(family)
    geo = load_geography(_hostile_geography(in_tmp / "geo", payloads))
    payloads = _held(geo)  # as the file reader gives them back (it stops at a NUL)
    page = geography_map_html(geo, lang="zh")
    check_page(page, payloads, in_tmp)
    from layers.catalogue import labels_layer

    m = new_map()
    zone = str(geo.zones["zone_id"].iloc[0])
    render_geography(m, geo, lang="en", highlight_zones=[zone, payloads[0]])
    labels_layer(geo, lang="en").add_to(m)
    add_layer_control(m)
    check_page(_render(m), payloads, in_tmp)


def test_patrol_map_cli_with_hostile_osm_style_names(in_tmp: Path) -> None:
    payloads = [p for _, p in all_payloads()]
    data = _hostile_geography(in_tmp / "geo", payloads)
    out = in_tmp / "map.html"
    assert main(["map", "--data", str(data), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    check_page(page, _held(load_geography(data)), in_tmp)


# ------------------------------------------------------------------------- districts
@pytest.mark.parametrize("family", FAMILY_IDS)
def test_districts_layer(family: str, in_tmp: Path) -> None:
    payloads = _family(family)
    n = len(payloads)
    people = [f"P{i:02d}" for i in range(n)]
    polygons = gpd.GeoDataFrame(
        {"person_id": payloads},
        geometry=[box(448000 + 100 * i, 4421000, 448090 + 100 * i, 4421090) for i in range(n)],
        crs=METRIC,
    )
    summary = pd.DataFrame(
        {
            "person_id": payloads,
            "name": payloads,
            "phone": payloads,
            "streets": payloads,
            "workload": [10.0] * n,
        }
    )
    segs = grid_segments(2, 1, 50.0, origin=(448000.0, 4421000.0)).head(n)
    segs = segs.assign(name=payloads[: len(segs)])
    assignment = dict(zip(segs["segment_id"], payloads, strict=False))
    m = new_map()
    add_districts(m, polygons, segments=segs, assignment=assignment, summary=summary)
    check_page(_render(m), payloads, in_tmp)
    assert people  # one district per payload


# ----------------------------------------------------------------------------- route
@pytest.fixture(scope="module")
def small_route():
    segs = grid_segments(2, 2, 100.0)
    G = graph_from_segments(segs)
    return G, plan_postman_route(G, required_segments(G), 0)


@pytest.mark.parametrize("family", FAMILY_IDS)
def test_route_layer_with_hostile_street_names_and_layer_name(
    family: str, in_tmp: Path, small_route
) -> None:
    G, route = small_route
    payloads = _family(family)
    G = G.copy()
    for i, (_u, _v, _k, d) in enumerate(G.edges(keys=True, data=True)):
        d["name"] = payloads[i % len(payloads)]
    steps = route_steps(G, route)
    m = new_map()
    route_layer(route, steps=steps, name=payloads[0], colour=payloads[-1]).add_to(m)
    add_layer_control(m)
    page = _render(m)
    named = sorted({s.name for s in steps if s.name})
    check_page(page, named, in_tmp)
    # the layer name sits in the layer control (an HTML slot): there it is inert
    assert (
        script_json(inert(payloads[0], limit=80))[1:-1] in page
        or _DANGEROUS.search(payloads[0]) is None
    )
    assert 'colour":"#c0392b' in page  # a hostile colour falls back to the default


# --------------------------------------------------------------------------- hotspots
@pytest.mark.parametrize("family", ["jinja_expr", "jinja_rce", "jinja_broken", "js", "html"])
def test_hotspot_maps_with_hostile_ids(family: str, in_tmp: Path) -> None:
    payloads = _family(family)
    n = len(payloads)
    cells = [box(448000 + 100 * i, 4421000, 448100 + 100 * i, 4421100) for i in range(n)]
    forecast = gpd.GeoDataFrame(
        {
            "unit_id": payloads,
            "risk": [float(n - i) for i in range(n)],
            "risk_per_km2": [float(n - i) * 100 for i in range(n)],
        },
        geometry=cells,
        crs=METRIC,
    )
    m = new_map()
    forecast_layer(m, forecast, score_note=payloads[0])
    check_page(_render(m), payloads[:1], in_tmp)
    segs = grid_segments(2, 2, 100.0).assign(segment_id=lambda d: payloads[0] + d["segment_id"])
    out = write_hotspot_map(
        in_tmp / "h.html", "forecast", forecast, note=payloads[0], gdf_segments=segs
    )
    check_page(out.read_text(encoding="utf-8"), payloads[:1], in_tmp)


# ------------------------------------------------------------------- the shared checks
def test_script_json_is_inert_for_every_payload() -> None:
    from jinja2 import Template

    for _fam, p in all_payloads():
        s = script_json({"t": p, "rows": [[p, p]]})
        assert Template(s).render() == s  # nothing for Jinja to do
        assert json.loads(s) == {"t": p, "rows": [[p, p]]}  # the same text, as data
        for literal in re.findall(r'"(?:[^"\\\\]|\\\\.)*"', s):
            assert not re.search(r"[<>`{}$'&]", literal), literal[:60]


def test_inert_text_is_the_same_text_in_html_and_nothing_in_jinja_or_js() -> None:
    import html

    from jinja2 import Template

    for _fam, p in all_payloads():
        s = inert(p, limit=10**6)
        assert Template(s).render() == s
        assert not re.search(r"[<>`{}$\\\\'\"]", s)
        assert html.unescape(s) == shown(p)


def test_fit_to_frames_bounds_and_nothing() -> None:
    from layers.basemap import fit_to

    m = new_map()
    fit_to(m, (116.37, 39.93, 116.39, 39.95))
    fit_to(m, gpd.GeoSeries([shapely.Point(448000, 4421000)], crs=METRIC))
    fit_to(m, gpd.GeoDataFrame(geometry=[], crs=METRIC))  # nothing to fit: no change
    page = _render(m)
    assert page.count('"padding": [24, 24]') == 2
    with pytest.raises(ValueError, match="four numbers"):
        fit_to(m, (1.0, 2.0))


def test_assets_still_offline() -> None:
    page = _render(new_map(assets=AssetMode(inline=True)))
    assert "window.PatrolMap" in page and "cdn." not in page


@pytest.mark.parametrize("family", ["jinja_expr", "jinja_rce", "jinja_broken", "js", "html"])
def test_gistar_and_density_layers_with_hostile_ids(family: str, in_tmp: Path) -> None:
    import numpy as np

    from gis.analytics.density import density_surface
    from gis.analytics.gistar import gistar_segments
    from layers.hotspots import density_layer, gistar_layer

    payload = _family(family)[0]
    rng = np.random.default_rng(1)
    xy = rng.normal(0, 30, size=(150, 2)) + (448300.0, 4421300.0)
    segs = grid_segments(6, 6, 100.0)
    segs = segs.assign(segment_id=payload + "-" + segs["segment_id"])
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=METRIC)
    near = gpd.sjoin_nearest(pts, segs[["segment_id", "geometry"]])
    cases = make_case_frame(
        [tuple(p) for p in xy], ["2026-05-01 17:00"] * 150, segment_id=list(near["segment_id"])
    )
    result = gistar_segments(cases, segs, permutations=99, fdr=False)
    assert (result.gdf["gi_class"] != "ns").any()
    m = new_map()
    gistar_layer(m, result)
    density_layer(m, density_surface(cases, cell_m=50), mode="cells")
    check_page(_render(m), [payload], in_tmp)


def test_no_text_is_handed_to_folium_widgets_outside_the_safe_path() -> None:
    """The structural fix stays structural: no module builds folium text widgets itself."""
    root = Path(__file__).resolve().parents[2]
    banned = re.compile(
        r"folium\.(Tooltip|Popup|DivIcon|GeoJson|GeoJsonTooltip|GeoJsonPopup|Marker|"
        r"CircleMarker|PolyLine|Polygon|Circle)\(|\bElement\(f?[\"']"
    )
    offenders = []
    for folder in ("layers", "ui", "gis"):
        for path in sorted((root / folder).rglob("*.py")):
            if path.name == "safe.py":
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if banned.search(line):
                    offenders.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    assert offenders == []
