"""Photo thumbnails in map popups: only re-encoded JPEG data: URIs reach the page."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from gis.access.users import User
from gis.coordination import evidence
from gis.errors import ValidationError
from layers.basemap import new_map
from layers.safe import image_src
from layers.violations import case_features, violations_layer
from tests.hotspots.synthetic import make_case_frame
from tests.tiny_geography import STEP, X0, Y0

from .conftest import NOW
from .photos import jpeg

USER = User(username="p1", role="patrol", person_id="P01")
PAYLOAD = b"<script>alert('QQ49ZZ')</script>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert('QQ49ZZ')</script><rect width='9' height='9'/></svg>"
)
HTML = b"<!DOCTYPE html><html><body><img src=x onerror=\"alert('QQ49ZZ')\"></body></html>"


def _polyglot() -> bytes:
    """A JPEG Pillow reads, with HTML in a comment segment and after the end of the image."""
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (20, 120, 200)).save(out, format="JPEG", comment=PAYLOAD)
    return out.getvalue() + PAYLOAD


def _decoded(uri: str) -> bytes:
    return base64.b64decode(uri.split(",", 1)[1])


def test_a_real_jpeg_yields_a_small_jpeg_thumbnail():
    uri = evidence.thumbnail_uri(jpeg(size=(800, 600)))
    assert uri.startswith("data:image/jpeg;base64,")
    with Image.open(io.BytesIO(_decoded(uri))) as img:
        assert img.format == "JPEG" and img.size == (160, 120)
    assert image_src(uri) == uri


@pytest.mark.parametrize("data", [SVG, HTML, b"GIF89a" + PAYLOAD, b""], ids=["svg", "html",
                                                                               "gif-head", "empty"])  # fmt: skip
def test_what_is_not_an_image_never_becomes_a_thumbnail(loaded, data):
    with pytest.raises(ValidationError):
        evidence.thumbnail_uri(data)
    with pytest.raises(ValidationError):
        evidence.add_photo(loaded, "T01", data, USER)
    assert loaded.coord_rows("coord_photos", columns=["photo_id"]) == []


def test_a_polyglot_is_reencoded_so_its_payload_never_reaches_the_page(loaded):
    data = _polyglot()
    assert PAYLOAD in data
    evidence.add_photo(loaded, "T01", data, USER, kind="before", at=NOW)
    thumbs = evidence.case_thumbnails(loaded, ["T01", "T02"])
    assert list(thumbs) == ["T01"] and list(thumbs["T01"]) == ["before"]
    pixels = _decoded(thumbs["T01"]["before"])
    assert b"script" not in pixels and b"QQ49ZZ" not in pixels
    page = _map_html(thumbs)
    assert thumbs["T01"]["before"] in page
    assert "QQ49ZZ" not in page and base64.b64encode(PAYLOAD).decode() not in page


@pytest.mark.parametrize(
    "value",
    [
        "data:image/svg+xml;base64," + base64.b64encode(SVG).decode(),
        "data:text/html;base64," + base64.b64encode(HTML).decode(),
        "data:image/jpeg;base64," + base64.b64encode(HTML).decode(),  # not JPEG bytes
        "data:image/png;base64," + base64.b64encode(b"\xff\xd8\xff" + PAYLOAD).decode(),
        "data:image/jpeg," + "%3Cscript%3E",  # not base64
        "javascript:alert(1)//data:image/jpeg;base64,/9j/",
        "http://example.com/x.jpg",
        'data:image/jpeg;base64,/9j/4AAQ" onerror="alert(1)',
        "data:image/jpeg;base64,/9j/" + "A" * 100_000,  # too long
        "data:image/jpeg;base64,/9j/4A",  # not whole base64
        b"\xff\xd8\xff",
        None,
    ],
)
def test_image_src_refuses_anything_but_a_small_jpeg_or_png(value):
    assert image_src(value) is None
    feats = case_features(_frame(), _frame().to_crs(4326).geometry,
                          thumbs={"K00000": {"before": value, "after": value}})  # fmt: skip
    assert "pb" not in feats[0]["properties"] and "pa" not in feats[0]["properties"]


def test_hostile_thumbnails_handed_to_the_layer_are_dropped():
    hostile = {
        "before": "data:image/svg+xml;base64," + base64.b64encode(SVG).decode(),
        "after": "javascript:alert('QQ49ZZ')",
    }
    page = _map_html({"K00000": hostile})
    assert "svg+xml" not in page and "javascript:alert" not in page and "QQ49ZZ" not in page


def test_before_first_after_latest(loaded):
    import datetime as dt

    for i, (colour, kind) in enumerate(
        [((0, 0, 255), "after"), ((255, 0, 0), "before"), ((0, 255, 0), "before"),
         ((255, 255, 0), "after")]
    ):  # fmt: skip
        evidence.add_photo(loaded, "T02", jpeg(color=colour), USER, kind=kind,
                           at=NOW + dt.timedelta(minutes=i))  # fmt: skip
    thumbs = evidence.case_thumbnails(loaded, ["T02"])["T02"]

    def colour(uri: str) -> tuple[int, ...]:
        with Image.open(io.BytesIO(_decoded(uri))) as img:
            return tuple(round(v / 64) for v in img.convert("RGB").getpixel((10, 10)))

    assert colour(thumbs["before"]) == (4, 0, 0)
    assert colour(thumbs["after"]) == (4, 4, 0)


def _frame():
    return make_case_frame([(X0 + 60, Y0 + 2 * STEP + 3)], ["2026-05-01 17:00"])


def _map_html(thumbs) -> str:
    frame = _frame()
    frame["case_id"] = list(thumbs)[:1]
    m = new_map()
    violations_layer(frame, cluster=False, thumbs=thumbs).add_to(m)
    return m.get_root().render()
