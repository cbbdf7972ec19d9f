"""The base map: a folium Map with offline Leaflet and an optional tile layer."""

from __future__ import annotations

import folium
from branca.element import Element, Figure

from gis.errors import ValidationError
from layers.assets import AssetMode, leaflet_css, leaflet_js

#: Tianditu vector tiles (CGCS2000 ≈ WGS 84) need a key from the national platform.
TIANDITU_URL = "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk="
TIANDITU_LABELS_URL = "https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=cva&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk="
OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"

#: Deepest zoom of every map (street level; tiles stop at 18-19).
MAX_ZOOM = 19

#: Shichahai's centre (WGS 84) as the default view.
SHICHAHAI_CENTRE = (39.9345, 116.3795)


class OfflineMap(folium.Map):
    """A folium Map whose Leaflet comes from the installed package, with no CDN links.

    folium's default extras (jQuery, Bootstrap, awesome-markers, Font Awesome) are dropped:
    the layers here use only core Leaflet (paths, circle markers, div icons, controls).
    """

    def __init__(self, *args: object, assets: AssetMode | None = None, **kwargs: object) -> None:
        kwargs.setdefault("tiles", None)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        assets = assets or AssetMode()
        if assets.inline:
            self.default_js = []
            self.default_css = []
            root = self.get_root()
            assert isinstance(root, Figure)
            root.header.add_child(
                Element(f"<style>{leaflet_css()}</style>"), name="leaflet_css_inline"
            )
            root.header.add_child(
                Element(f"<script>{leaflet_js()}</script>"), name="leaflet_js_inline"
            )
        else:
            self.default_js = [("leaflet", f"{assets.url_prefix}/leaflet.js")]
            self.default_css = [("leaflet_css", f"{assets.url_prefix}/leaflet.css")]


def new_map(
    *,
    basemap: str = "none",
    tianditu_key: str = "",
    assets: AssetMode | None = None,
    location: tuple[float, float] = SHICHAHAI_CENTRE,
    zoom_start: int = 15,
    height: str = "100%",
) -> OfflineMap:
    """An empty map of Shichahai with the chosen basemap (none, osm or tianditu)."""
    m = OfflineMap(
        location=list(location),
        zoom_start=zoom_start,
        control_scale=True,
        prefer_canvas=True,
        assets=assets,
        height=height,
    )
    # With no tile layer Leaflet has no maxZoom (folium hands max_zoom to the tiles), and
    # plugins such as marker clusters then fail ("Map has no maxZoom specified").
    m.options["max_zoom"] = MAX_ZOOM
    if basemap == "osm":
        folium.TileLayer(
            OSM_URL, attr="© OpenStreetMap contributors", name="OpenStreetMap", max_zoom=19
        ).add_to(m)
    elif basemap == "tianditu":
        if not tianditu_key:
            raise ValidationError(
                "the Tianditu basemap needs a key",
                source="environment",
                field="PATROL_TIANDITU_KEY",
                fix="set PATROL_TIANDITU_KEY or choose PATROL_BASEMAP=none",
            )
        folium.TileLayer(
            TIANDITU_URL + tianditu_key,
            attr="© 天地图 Tianditu",
            name="天地图",
            subdomains="01234567",
            max_zoom=18,
        ).add_to(m)
        folium.TileLayer(
            TIANDITU_LABELS_URL + tianditu_key,
            attr="© 天地图 Tianditu",
            name="天地图注记",
            subdomains="01234567",
            overlay=True,
            max_zoom=18,
        ).add_to(m)
    elif basemap != "none":
        raise ValidationError(
            f"unknown basemap {basemap!r}", field="basemap", fix="use none, osm or tianditu"
        )
    return m
