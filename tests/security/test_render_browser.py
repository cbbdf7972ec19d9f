"""Hostile text in real maps in Chromium: no dialog opens, the text shows literally.

Two pages: a standalone map file (hostile zone, street, point and lake names, hostile case
descriptions, a hostile layer name) and the app's overview map served by Streamlit on a
store whose cases were reported through the command line with hostile descriptions.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

from gis.cli import main
from gis.geography.crs import METRIC, WGS84
from gis.geography.layers import load_geography
from gis.i18n import t
from layers.basemap import new_map
from layers.catalogue import add_layer_control, render_geography
from layers.safe import feature_group
from layers.violations import violations_layer
from tests.hotspots.synthetic import make_case_frame
from tests.security.payloads import shown, wrap
from tests.tiny_geography import STEP, X0, Y0, build_tiny_geography

pytestmark = pytest.mark.browser

PAYLOADS = [
    wrap(p)
    for p in (
        "`-alert(document.domain)-`",
        "${alert(1)}",
        "<img src=x onerror=alert(1)>",
        "</script><script>alert(1)</script>",
        "{{7*7}}",
        "{% for i in range(3) %}X{% endfor %}",
        "'-alert(1)-'",
        '"><svg onload=alert(1)>',
    )
]

#: Tooltip texts of every case marker, built exactly as Leaflet builds them on hover.
CASE_TOOLTIPS_JS = """
(mapVar) => {
    const map = mapVar ? window[mapVar] : Object.keys(window)
        .filter(k => k.startsWith('map_')).map(k => window[k]).find(v => v instanceof L.Map);
    const out = [];
    const visit = (l) => {
        if (l.getLayers && !(l.feature)) { l.getLayers().forEach(visit); return; }
        if (!l.feature || l.feature.properties.d === undefined) { return; }
        const tip = l.getTooltip && l.getTooltip();
        if (!tip) { out.push(null); return; }
        const c = tip._content;
        const el = typeof c === 'function' ? c(l) : c;
        out.push(typeof el === 'string' ? {html: el} : el.textContent);
    };
    map.eachLayer(visit);
    return out;
}
"""

#: Where the first case marker is on screen (after zooming a cluster open if needed).
FIRST_CASE_POINT_JS = """
(mapVar) => new Promise((resolve) => {
    const map = mapVar ? window[mapVar] : Object.keys(window)
        .filter(k => k.startsWith('map_')).map(k => window[k]).find(v => v instanceof L.Map);
    let target = null, cluster = null;
    map.eachLayer(l => {
        if (L.MarkerClusterGroup && l instanceof L.MarkerClusterGroup) { cluster = l; }
        if (!target && l.feature && l.feature.properties.d !== undefined && l._map) { target = l; }
    });
    if (!target && cluster && cluster.getLayers().length) { target = cluster.getLayers()[0]; }
    if (!target) { resolve(null); return; }
    // centre it, away from the controls in the corners
    map.setView(target.getLatLng(), cluster ? map.getMaxZoom() : map.getZoom(), {animate: false});
    setTimeout(() => {
        const parent = cluster ? cluster.getVisibleParent(target) : null;
        if (parent && parent !== target && parent.spiderfy) { parent.spiderfy(); }
        setTimeout(() => {
            const p = map.latLngToContainerPoint(target.getLatLng());
            const r = map.getContainer().getBoundingClientRect();
            resolve({x: r.left + p.x, y: r.top + p.y, text: target.feature.properties.d});
        }, 600);
    }, 600);
})
"""


def _poll_tooltips(page, frame, map_var: str | None, timeout_ms: int = 30_000) -> list:
    """The case tooltips once every case marker is on the map (it may still be drawing)."""
    waited = 0
    while True:
        tips = frame.evaluate(CASE_TOOLTIPS_JS, map_var)
        if len(tips) >= len(PAYLOADS) or waited >= timeout_ms:
            return tips
        page.wait_for_timeout(250)
        waited += 250


def _check_tooltips(tips: list, expected: list[str]) -> None:
    assert tips and all(isinstance(x, str) for x in tips), f"tooltips not built as text: {tips}"
    joined = "\n".join(tips)
    for p in expected:
        assert shown(p) in joined, f"payload not shown literally: {p!r}"


def _hover(page, frame, point: dict, frame_box: dict | None = None) -> str:
    """Move the real mouse onto the marker until its tooltip shows; return the tooltip text."""
    dx = frame_box["x"] if frame_box else 0.0
    dy = frame_box["y"] if frame_box else 0.0
    x, y = dx + point["x"], dy + point["y"]
    page.mouse.move(x + 40, y + 40)
    for i in range(40):
        page.mouse.move(x + (i % 2), y, steps=3)
        page.wait_for_timeout(250)
        texts = frame.evaluate(
            "() => Array.from(document.querySelectorAll('.leaflet-tooltip'))"
            ".map(t => t.textContent)"
        )
        hit = [t for t in texts if shown(point["text"]) in t]
        if hit:
            return hit[0]
    raise AssertionError(f"no tooltip with the payload after hovering: {texts}")


def _dialogs(page) -> list[str]:
    seen: list[str] = []

    def on_dialog(d) -> None:
        seen.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    return seen


def _hostile_geography(folder: Path) -> Path:
    build_tiny_geography(folder)
    k = 0
    for name in ("zones", "streets", "pois", "lakes"):
        path = folder / f"{name}.geojson"
        data = json.loads(path.read_text(encoding="utf-8"))
        for f in data["features"]:
            f["properties"]["name"] = PAYLOADS[k % len(PAYLOADS)]
            k += 1
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return folder


def _spread_points(n: int) -> list[tuple[float, float]]:
    return [(X0 + 60 + 30.0 * (i % 4), Y0 + 2 * STEP + 3 + 30.0 * (i // 4)) for i in range(n)]


def test_standalone_map_shows_hostile_text_and_runs_none(offline_page, tmp_path: Path) -> None:
    page = offline_page
    dialogs = _dialogs(page)
    geo = load_geography(_hostile_geography(tmp_path / "geo"))
    frame = make_case_frame(
        _spread_points(len(PAYLOADS)),
        ["2026-05-01 17:00"] * len(PAYLOADS),
        description=PAYLOADS,
        case_id=PAYLOADS,
    )
    m = new_map()
    render_geography(m, geo)
    violations_layer(frame, cluster=False).add_to(m)
    feature_group(PAYLOADS[0]).add_to(m)
    add_layer_control(m)
    page.set_content(m.get_root().render())  # the network stays blocked: it needs none
    page.locator(".leaflet-overlay-pane canvas").first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    assert dialogs == [], "a payload ran in the browser on page load"
    _check_tooltips(_poll_tooltips(page, page.main_frame, None), PAYLOADS)
    point = page.evaluate(FIRST_CASE_POINT_JS, None)
    assert point is not None
    assert shown(point["text"]) in _hover(page, page.main_frame, point)
    page.mouse.click(point["x"], point["y"])
    popup = page.locator(".leaflet-popup-content").first
    popup.wait_for(timeout=10_000)
    assert shown(point["text"]) in popup.inner_text()
    labels = page.evaluate(
        "() => Array.from(document.querySelectorAll('.pm-label')).map(e => e.textContent)"
    )
    assert set(PAYLOADS) & set(labels), labels[:5]
    control = page.locator(".leaflet-control-layers").inner_text()
    assert shown(PAYLOADS[0]) in control
    injected = page.evaluate(
        "() => document.querySelectorAll('img[src=\"x\"], svg[onload], [onerror]').length"
    )
    assert injected == 0
    assert dialogs == []
    assert "QQ49ZZ" not in page.content()


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: pytest.TempPathFactory):
    """The app on a store whose cases were reported with hostile descriptions."""
    import os

    from tests.app.browser import ARTIFACTS, playwright_or_skip, streamlit_server
    from tests.app.conftest import TEST_ROUNDS

    playwright_or_skip()
    base = tmp_path_factory.mktemp("hostile")
    geo_dir = build_tiny_geography(base / "geo")
    store = base / "patrol.gpkg"
    env = {
        "PATROL_DATA_DIR": str(geo_dir),
        "PATROL_DATABASE_URL": str(store),
        "PATROL_LANG": "zh",
        "PATROL_BASEMAP": "none",
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        pts = gpd.GeoSeries([Point(xy) for xy in _spread_points(len(PAYLOADS))], crs=METRIC)
        for p, ll in zip(PAYLOADS, pts.to_crs(WGS84), strict=True):
            argv = ["cases", "new", "--category", "C07", "--lon", f"{ll.x:.7f}"]
            argv += ["--lat", f"{ll.y:.7f}", "--by", "p1", "--description", p]
            assert main(argv) == 0, p
        from gis.access.users import SqliteUserRepository, seed_demo_users

        zones = list(load_geography(geo_dir).zones["zone_id"])
        seed_demo_users(SqliteUserRepository(store), zones, rounds=TEST_ROUNDS)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    with streamlit_server(env, log_path=ARTIFACTS / "streamlit-hostile.log") as url:
        yield url


def test_app_overview_map_shows_hostile_cases_and_runs_none(hostile_app, offline_page) -> None:
    from gis.access.users import DEMO_PASSWORDS
    from tests.app.browser import MAP_FRAME, map_frame, shot
    from tests.app.test_browser import log_in

    page = offline_page
    dialogs = _dialogs(page)
    log_in(page, hostile_app, "leader", DEMO_PASSWORDS["leader"], t("overview.title"))
    frame = map_frame(page)
    page.wait_for_timeout(800)
    assert dialogs == [], "a payload ran in the browser on page load"
    assert page.locator('[data-testid="stException"]').count() == 0
    _check_tooltips(_poll_tooltips(page, frame, "map_div"), PAYLOADS)
    point = frame.evaluate(FIRST_CASE_POINT_JS, "map_div")
    assert point is not None
    box = page.locator(MAP_FRAME).first.bounding_box()
    shot(page, "security-hostile-before-hover")
    assert shown(point["text"]) in _hover(page, frame, point, box)
    shot(page, "security-hostile-overview")
    assert (
        frame.evaluate("() => document.querySelectorAll('img[src=\"x\"], [onerror]').length") == 0
    )
    assert dialogs == []
