"""Maps a person can read: labels, names not codes, scope fitting, legends, tile fallback."""

from __future__ import annotations

import re

import pytest

from gis.geography.layers import load_bundled_geography
from layers.basemap import TILE_FALLBACK_TEXT, new_map
from layers.catalogue import CATALOGUE, labels_layer, render_geography, render_layer
from layers.safe import DataLayer, script_json
from layers.violations import case_features, case_legend, violations_layer
from tests.hotspots.synthetic import make_case_frame

LAKES = ("西海", "后海", "前海", "北海")
FRONT_STREETS = ("景山前街", "景山后街", "景山西街", "西黄城根北街", "鼓楼西大街")


@pytest.fixture(scope="module")
def bundled():
    return load_bundled_geography()


def _data_layers(element) -> list[DataLayer]:
    out = []
    for child in element._children.values():
        if isinstance(child, DataLayer):
            out.append(child)
        out += _data_layers(child)
    return out


def _labels(group) -> list[dict]:
    return [
        f["properties"]
        for layer in _data_layers(group)
        for f in layer.collection["features"]
        if "_label" in f["properties"]
    ]


def test_labels_cover_lakes_front_streets_zones_and_key_points(bundled) -> None:
    labels = _labels(labels_layer(bundled))
    texts = {p["_label"] for p in labels}
    assert set(LAKES) <= texts
    assert set(FRONT_STREETS) <= texts
    assert set(bundled.zones["name"]) <= texts
    assert set(bundled.pois["name"]) <= texts
    shown_always = {p["_label"] for p in labels if p["_s"]["minzoom"] == 0}
    assert set(LAKES) | set(FRONT_STREETS) <= shown_always  # legible at every zoom in use
    lake_prio = min(p["_s"]["prio"] for p in labels if p["_label"] in LAKES)
    assert lake_prio > max(p["_s"]["prio"] for p in labels if p["_s"]["cls"] == "zone")
    for p in labels:  # street labels follow the street and stay upright
        assert -90 < p["_s"].get("rotate", 0) <= 90


def test_english_labels(bundled) -> None:
    texts = {p["_label"] for p in _labels(labels_layer(bundled, lang="en"))}
    assert {"Houhai", "Gulou West Street", "Xihuangchenggen North Street"} <= texts


def test_tooltips_name_fields_in_the_users_language(bundled) -> None:
    for spec in CATALOGUE:
        (layer,) = _data_layers(render_layer(spec, bundled, "zh"))
        spec_json = layer.spec_json
        for raw in ('"name"', '"name_en"', '"zone_id"', '"front_id"', '"highway"'):
            assert raw not in spec_json, (spec.name, raw)
        props = layer.collection["features"][0]["properties"]
        assert not {"name", "name_en", "zone_id", "front_id", "kind"} & set(props), spec.name
    (streets,) = _data_layers(render_layer(CATALOGUE[4], bundled, "zh"))
    assert script_json(["战线", "f"]) in streets.spec_json
    first = streets.collection["features"][0]["properties"]
    assert first["k"] in ("主干道", "街道", "桥") and first["f"] in (
        "什刹海景区",
        "四条大街",
        "鼓楼西大街",
    )


def test_highlighted_zones_stand_out_and_the_view_fits_them(bundled) -> None:
    zone = bundled.zones.iloc[3]
    m = new_map()
    render_geography(m, bundled, highlight_zones=[zone["name"]])
    page = m.get_root().render()
    (zones,) = _data_layers(render_layer(CATALOGUE[2], bundled, highlight_zones=[zone["zone_id"]]))
    weights = {
        f["properties"]["id"]: f["properties"]["_s"]["weight"] for f in zones.collection["features"]
    }
    assert weights[zone["zone_id"]] > 3 and sorted(weights.values())[-2] == 1
    w, s, e, n = bundled.zones.iloc[[3]].to_crs(4326).total_bounds
    fit = re.findall(r"fitBounds\(\s*\[\[([\d.]+), ([\d.]+)\], \[([\d.]+), ([\d.]+)\]\]", page)
    assert fit and [float(v) for v in fit[-1]] == pytest.approx([s, w, n, e], abs=1e-9)


def test_case_tooltips_use_names_and_keep_codes_small() -> None:
    frame = make_case_frame(
        [(448000.0, 4421000.0)],
        ["2026-05-01 17:00"],
        category=["C07"],
        lead_dept=["environment"],
        state=["notice_served"],
        tier=["major"],
        zone_id=["Z1"],
    )
    (zh,) = case_features(frame, frame.geometry, zone_names={"Z1": "烟袋斜街片区"})
    p = zh["properties"]
    assert (p["t"], p["s"], p["r"], p["l"], p["z"]) == (
        "噪声扰民",
        "限期整改",
        "重大",
        "环保",
        "烟袋斜街片区",
    )
    assert (p["id"], p["c"]) == ("K00000", "C07")  # codes as small print
    assert p["_s"]["dashArray"]  # in progress: dashed outline
    (en,) = case_features(frame, frame.geometry, lang="en")
    assert (en["properties"]["s"], en["properties"]["r"]) == ("Notice served", "Major")


def test_case_legend_by_group_and_state_with_the_layer() -> None:
    frame = make_case_frame(
        [(448000.0, 4421000.0)] * 2, ["2026-05-01"] * 2, category=["C07", "C12"]
    )
    legend = case_legend(frame)
    groups, states = legend.spec["sections"]
    assert [i[1] for i in groups["items"]] == ["交通秩序", "环境卫生"]
    assert [i[1] for i in states["items"]] == ["待处理", "处置中", "已结束"]
    assert {i[2] for i in states["items"]} == {"circle", "dashed", "ring"}
    page = new_map().add_child(violations_layer(frame)).get_root().render()
    assert page.count("window.PatrolMap.legend(") == 1
    assert "diamond" not in script_json(legend.spec)  # points of interest look different


def test_tile_basemap_has_a_fallback_and_no_basemap_needs_none() -> None:
    osm = new_map(basemap="osm").get_root().render()
    assert "window.PatrolMap.tileFallback(" in osm
    assert script_json(TILE_FALLBACK_TEXT["zh"]) in osm
    assert "window.PatrolMap.tileFallback(" not in new_map().get_root().render()


def test_the_scale_bar_is_in_metres_only() -> None:
    """Regression: folium's scale bar showed feet beside metres ("2000 ft" on a Chinese map)."""
    page = new_map().get_root().render()
    assert "L.control.scale({imperial: false" in page
    assert "L.control.scale()" not in page  # folium's own, with feet and miles


# ------------------------------------------------------------------------------ browser
LABEL_STATE_JS = """
() => Array.from(document.querySelectorAll('.pm-label')).map(e => {
    const r = e.firstChild.getBoundingClientRect();
    return {text: e.textContent, visible: e.style.visibility !== 'hidden',
            size: parseFloat(getComputedStyle(e.firstChild).fontSize),
            box: [r.left, r.top, r.right, r.bottom]};
})
"""


def _overlaps(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _check_legible(labels: list[dict]) -> list[str]:
    shown = [x for x in labels if x["visible"]]
    for i, a in enumerate(shown):
        assert a["size"] >= 11, a
        for b in shown[i + 1 :]:
            assert not _overlaps(a["box"], b["box"]), (a["text"], b["text"])
    return [x["text"] for x in shown]


@pytest.mark.browser
def test_labels_are_legible_in_chromium_and_tiles_fall_back(offline_page, bundled) -> None:
    page = offline_page
    m = new_map()
    render_geography(m, bundled)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.set_content(m.get_root().render())
    page.locator(".pm-label .pm-in").first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    shown = _check_legible(page.evaluate(LABEL_STATE_JS))
    assert set(LAKES) <= set(shown) and set(FRONT_STREETS) <= set(shown), shown
    page.locator(".leaflet-control-zoom-in").click()
    page.locator(".leaflet-control-zoom-in").click()
    page.wait_for_timeout(800)
    _check_legible(page.evaluate(LABEL_STATE_JS))

    osm = new_map(basemap="osm", tile_wait_ms=1500)
    render_geography(osm, bundled)
    page.set_content(osm.get_root().render())  # tile requests are aborted: no network
    notice = page.locator(".pm-notice")
    notice.wait_for(timeout=15_000)
    assert notice.inner_text() == TILE_FALLBACK_TEXT["zh"]
    assert page.locator(".leaflet-tile-pane img").count() == 0
    assert page.locator(".pm-label").count() > 20  # the offline map stands alone
