"""A standalone HTML map of every zoned layer that renders with no internet."""

from __future__ import annotations

from pathlib import Path

from gis.geography.layers import Geography
from layers.assets import AssetMode
from layers.basemap import new_map
from layers.catalogue import add_layer_control, render_geography


def geography_map_html(
    geo: Geography, *, lang: str = "zh", basemap: str = "none", tianditu_key: str = ""
) -> str:
    """The full map page as one self-contained HTML string (Leaflet inlined)."""
    m = new_map(basemap=basemap, tianditu_key=tianditu_key, assets=AssetMode(inline=True))
    render_geography(m, geo, lang=lang)
    add_layer_control(m)
    return m.get_root().render()


def write_geography_map(geo: Geography, out: Path, **kwargs: str) -> Path:
    """Write :func:`geography_map_html` to ``out`` atomically and return the path."""
    out = Path(out)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(geography_map_html(geo, **kwargs), encoding="utf-8")
    tmp.replace(out)
    return out
