"""The base map: a folium Map with offline Leaflet and an optional tile layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import folium
import geopandas as gpd
from branca.element import Figure

from gis.errors import ValidationError
from gis.geography.crs import WGS84
from layers.assets import AssetMode, leaflet_css, leaflet_js
from layers.safe import MetricScale, PageScript, RawHtml, TileFallback

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
                RawHtml(f"<style>{leaflet_css()}</style>"), name="leaflet_css_inline"
            )
            root.header.add_child(
                RawHtml(f"<script>{leaflet_js()}</script>"), name="leaflet_js_inline"
            )
        else:
            self.default_js = [("leaflet", f"{assets.url_prefix}/leaflet.js")]
            self.default_css = [("leaflet_css", f"{assets.url_prefix}/leaflet.css")]
        # the page script (tooltips, labels, legends from JSON) runs before any layer
        PageScript().add_to(self)


def new_map(
    *,
    basemap: str = "none",
    tianditu_key: str = "",
    assets: AssetMode | None = None,
    location: tuple[float, float] = SHICHAHAI_CENTRE,
    zoom_start: int = 15,
    height: str = "100%",
    lang: str = "zh",
    tile_wait_ms: int = 8000,
) -> OfflineMap:
    """An empty map of Shichahai with the chosen basemap (none, osm or tianditu).

    With a tile basemap, a page-side watcher removes the tiles and says so on the map when
    they cannot load (no network, a wrong key): the offline layers then stand alone instead
    of a grey map with no word.
    """
    m = OfflineMap(
        location=list(location),
        zoom_start=zoom_start,
        control_scale=False,  # MetricScale below: metres only
        prefer_canvas=True,
        assets=assets,
        height=height,
    )
    # With no tile layer Leaflet has no maxZoom (folium hands max_zoom to the tiles), and
    # plugins such as marker clusters then fail ("Map has no maxZoom specified").
    m.options["max_zoom"] = MAX_ZOOM
    # quarter zoom steps: fitting a small area fills the view instead of half of it
    m.options["zoom_snap"] = 0.25
    m.options["zoom_delta"] = 0.5
    MetricScale().add_to(m)
    tiles: list[folium.TileLayer] = []
    layer: folium.TileLayer
    if basemap == "osm":
        layer = folium.TileLayer(
            OSM_URL, attr="© OpenStreetMap contributors", name="OpenStreetMap", max_zoom=19
        )
        layer.add_to(m)
        tiles.append(layer)
    elif basemap == "tianditu":
        if not tianditu_key:
            raise ValidationError(
                "the Tianditu basemap needs a key",
                source="environment",
                field="PATROL_TIANDITU_KEY",
                fix="set PATROL_TIANDITU_KEY or choose PATROL_BASEMAP=none",
            )
        if not tianditu_key.isascii() or not tianditu_key.isalnum():
            raise ValidationError(
                "the Tianditu key holds characters other than letters and digits",
                source="environment",
                field="PATROL_TIANDITU_KEY",
                fix="copy the key from the Tianditu console again (32 hexadecimal characters)",
            )
        layer = folium.TileLayer(
            TIANDITU_URL + tianditu_key,
            attr="© 天地图 Tianditu",
            name="天地图",
            subdomains="01234567",
            max_zoom=18,
        )
        layer.add_to(m)
        tiles.append(layer)
        layer = folium.TileLayer(
            TIANDITU_LABELS_URL + tianditu_key,
            attr="© 天地图 Tianditu",
            name="天地图注记",
            subdomains="01234567",
            overlay=True,
            max_zoom=18,
        )
        layer.add_to(m)
        tiles.append(layer)
    elif basemap != "none":
        raise ValidationError(
            f"unknown basemap {basemap!r}", field="basemap", fix="use none, osm or tianditu"
        )
    if tiles:
        TileFallback(
            tiles, TILE_FALLBACK_TEXT["en" if lang == "en" else "zh"], tile_wait_ms
        ).add_to(m)
    return m


#: What the map says when its tile basemap cannot load.
TILE_FALLBACK_TEXT = {
    "zh": "在线底图无法加载（无网络或密钥无效），已切换为离线地图。",
    "en": "The online basemap could not load (no network or a bad key): showing the offline map.",
}


def bounds_of(
    target: gpd.GeoDataFrame | gpd.GeoSeries | Sequence[float],
) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) in WGS 84 of a frame/series (any CRS) or of given bounds.

    Bounds given as four numbers are taken as lon/lat (west, south, east, north). None when
    there is nothing to fit (empty frame, non-finite numbers).
    """
    if isinstance(target, (gpd.GeoDataFrame, gpd.GeoSeries)):
        geoms = target.geometry if isinstance(target, gpd.GeoDataFrame) else target
        geoms = geoms[~(geoms.isna() | geoms.is_empty)]
        if geoms.empty:
            return None
        if geoms.crs is not None and geoms.crs.to_epsg() != 4326:
            geoms = geoms.to_crs(WGS84)
        w, s, e, n = (float(v) for v in geoms.total_bounds)
    else:
        vals = [float(v) for v in target]
        if len(vals) != 4:
            raise ValueError("bounds are four numbers: west, south, east, north")
        w, s, e, n = vals
    if not all(abs(v) < 1e6 for v in (w, s, e, n)) or w > e or s > n:
        return None
    return w, s, e, n


def fit_to(
    m: folium.Map,
    target: gpd.GeoDataFrame | gpd.GeoSeries | Sequence[float],
    *,
    padding_px: int = 24,
    max_zoom: int = 18,
) -> folium.Map:
    """Fit the map's view to a frame (any CRS), a series or (west, south, east, north) bounds.

    A single point (or a tiny area) is shown at ``max_zoom`` rather than the deepest zoom.
    Nothing happens when there is nothing to fit.
    """
    b = bounds_of(target)
    if b is None:
        return m
    w, s, e, n = b
    kwargs: dict[str, Any] = {"padding": (padding_px, padding_px), "max_zoom": max_zoom}
    m.fit_bounds([[s, w], [n, e]], **kwargs)
    return m
