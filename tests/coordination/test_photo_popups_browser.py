"""Photo thumbnails in a case popup in Chromium: the image shows, nothing hostile runs."""

from __future__ import annotations

import base64

import pytest

from gis.coordination import evidence
from layers.basemap import new_map
from layers.violations import violations_layer
from tests.hotspots.synthetic import make_case_frame
from tests.security.test_render_browser import FIRST_CASE_POINT_JS
from tests.tiny_geography import STEP, X0, Y0

from .photos import jpeg
from .test_photo_popups import HTML, SVG, _polyglot

pytestmark = pytest.mark.browser

HOSTILE_SOURCES = [
    "data:image/svg+xml;base64," + base64.b64encode(SVG).decode(),
    "data:text/html;base64," + base64.b64encode(HTML).decode(),
    "javascript:alert(1)",
    'data:image/jpeg;base64,/9j/" onerror="alert(1)',
    "http://127.0.0.1:9/x.jpg",
]


def test_popup_shows_before_and_after_thumbnails_and_runs_nothing(offline_page):
    page = offline_page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    thumbs = {
        "K00000": {
            "before": evidence.thumbnail_uri(jpeg(size=(640, 480), color=(200, 30, 30))),
            "after": evidence.thumbnail_uri(_polyglot()),
        },
        "K00001": {"before": HOSTILE_SOURCES[0], "after": HOSTILE_SOURCES[1]},
    }
    frame = make_case_frame(
        [(X0 + 60, Y0 + 2 * STEP + 3), (X0 + 160, Y0 + 2 * STEP + 3)],
        ["2026-05-01 17:00"] * 2,
        description=["<img src=x onerror=alert(1)>门前堆物", "<svg onload=alert(2)>"],
    )
    m = new_map()
    violations_layer(frame, cluster=False, thumbs=thumbs).add_to(m)
    page.set_content(m.get_root().render())
    page.locator(".leaflet-overlay-pane canvas, .leaflet-overlay-pane svg").first.wait_for(
        timeout=30_000
    )
    point = page.evaluate(FIRST_CASE_POINT_JS, None)
    assert point is not None and "门前堆物" in point["text"]
    popup = page.locator(".leaflet-popup-content")
    for _ in range(10):  # a real click on the marker opens its popup
        page.mouse.click(point["x"], point["y"])
        try:
            popup.first.wait_for(timeout=2_000)
            break
        except Exception:
            page.wait_for_timeout(300)
    imgs = popup.first.locator(".pm-photo img")
    imgs.nth(1).wait_for(timeout=10_000)
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.pm-photo img'))"
        ".every(i => i.complete && i.naturalWidth > 0)",
        timeout=10_000,
    )
    sizes = imgs.evaluate_all("els => els.map(i => [i.alt, i.naturalWidth, i.naturalHeight])")
    assert sizes == [["整改前", 160, 120], ["整改后", 160, 107]]
    assert popup.first.locator(".pm-photo figcaption").all_inner_texts() == ["整改前", "整改后"]
    # the hostile case's popup has no image; the page script refuses such sources itself
    refused = page.evaluate("(vs) => vs.map(v => window.PatrolMap.imageSrc(v))", HOSTILE_SOURCES)
    assert refused == [False] * len(HOSTILE_SOURCES)
    assert page.evaluate("(v) => window.PatrolMap.imageSrc(v)", thumbs["K00000"]["before"])
    srcs = page.evaluate(
        "() => Array.from(document.querySelectorAll('img')).map(i => i.getAttribute('src'))"
    )
    assert all(s.startswith("data:image/jpeg;base64,") for s in srcs if s), srcs
    assert page.locator("[onerror], [onload], svg script").count() == 0
    page.wait_for_timeout(300)
    assert dialogs == []
    assert "QQ49ZZ" not in page.content()
    assert page.network.blocked == []
