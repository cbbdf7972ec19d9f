"""The standalone map: every layer present, nothing fetched from the internet."""

from __future__ import annotations

import json
import re
from pathlib import Path

from gis.cli import main
from gis.geography.layers import load_geography
from layers.catalogue import CATALOGUE
from layers.safe import script_json
from layers.standalone import geography_map_html


def _contains(html: str, text: str) -> bool:
    """Text appears raw or JSON-escaped (folium writes layer names through json.dumps)."""
    return text in html or json.dumps(text)[1:-1] in html


EXTERNAL = re.compile(r"<(script|link)[^>]+(src|href)=[\"']?(https?:)?//", re.IGNORECASE)


def test_map_has_every_layer_and_no_external_assets(tiny_dir: Path) -> None:
    html = geography_map_html(load_geography(tiny_dir), lang="zh")
    for spec in CATALOGUE:
        assert _contains(html, spec.title_zh), spec.name
    assert "L.map(" in html and "leaflet" in html.lower()
    assert EXTERNAL.search(html) is None
    assert "cdn." not in html


def test_english_titles(tiny_dir: Path) -> None:
    html = geography_map_html(load_geography(tiny_dir), lang="en")
    for spec in CATALOGUE:
        assert _contains(html, spec.title_en)


def test_tooltip_text_is_escaped(tiny_dir: Path) -> None:
    path = tiny_dir / "streets.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["features"][0]["properties"]["name"] = "<script>alert(1)</script>"
    path.write_text(json.dumps(data), encoding="utf-8")
    html = geography_map_html(load_geography(tiny_dir))
    assert "<script>alert(1)</script>" not in html
    # the name travels as inert JSON data, shown by the page script with textContent
    assert script_json("<script>alert(1)</script>") in html


def test_cli_map_writes_file(tiny_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "map.html"
    assert main(["map", "--data", str(tiny_dir), "--out", str(out)]) == 0
    assert out.stat().st_size > 100_000  # leaflet is inlined
    assert "wrote" in capsys.readouterr().out


def test_cli_reports_errors_as_one_line(tmp_path: Path, capsys) -> None:
    assert (
        main(["map", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m.html")]) == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("error: file ") and "geography folder not found" in err


def test_maps_have_a_max_zoom_without_tiles() -> None:
    """Marker clusters need the map's maxZoom when no tile layer provides one."""
    from layers.basemap import MAX_ZOOM, new_map

    html = new_map(basemap="none").get_root().render()
    assert f'"maxZoom": {MAX_ZOOM}' in html
