"""The catalogue of zoned layers: one LayerSpec per layer, rendered to folium."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd

from gis.crs import to_display
from gis.geography import Geography
from layers import styles
from layers.legend import add_legend

StyleFn = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class LayerSpec:
    """One map layer: where its features come from and how they look."""

    name: str
    title_zh: str
    title_en: str
    geometry: str  # polygon | line | point
    source: str  # attribute of Geography
    tooltip: tuple[str, ...]
    visible: bool = True

    def title(self, lang: str = "zh") -> str:
        """The layer's title in the user's language."""
        return self.title_zh if lang == "zh" else self.title_en


CATALOGUE: tuple[LayerSpec, ...] = (
    LayerSpec("boundary", "街道边界", "Subdistrict boundary", "polygon", "boundary", ("name",)),
    LayerSpec("fronts", "三条战线", "Three fronts", "polygon", "fronts", ("name", "name_en")),
    LayerSpec(
        "zones", "网格片区", "Zones (grids)", "polygon", "zones", ("zone_id", "name", "community")
    ),
    LayerSpec("lakes", "湖面", "Lakes", "polygon", "lakes", ("name", "name_en")),
    LayerSpec(
        "main_streets",
        "主要街道",
        "Main streets",
        "line",
        "segments",
        ("name", "highway", "front_id"),
    ),
    LayerSpec(
        "hutongs",
        "胡同街巷",
        "Hutongs and lanes",
        "line",
        "segments",
        ("name", "segment_id", "zone_id"),
    ),
    LayerSpec("pois", "重点点位", "Points of interest", "point", "pois", ("name", "kind")),
)

_MAIN_KINDS = {"main_street", "street", "bridge"}


def layer_frame(spec: LayerSpec, geo: Geography) -> gpd.GeoDataFrame:
    """The features of one layer, in WGS 84 for display."""
    gdf = getattr(geo, spec.source)
    if spec.name == "main_streets":
        gdf = gdf.loc[
            gdf["kind"].isin(_MAIN_KINDS) | gdf["front_id"].isin(("main_streets", "gulou_west"))
        ]
    elif spec.name == "hutongs":
        gdf = gdf.loc[
            ~(gdf["kind"].isin(_MAIN_KINDS) | gdf["front_id"].isin(("main_streets", "gulou_west")))
        ]
    return to_display(gdf)


def _style(spec: LayerSpec, zone_colours: dict[str, str]) -> StyleFn:
    if spec.name == "boundary":
        return lambda f: {"color": styles.BOUNDARY, "weight": 3, "fill": False, "dashArray": "8 4"}
    if spec.name == "fronts":
        return lambda f: {
            "color": styles.FRONT_COLOURS.get(f["properties"]["front_id"], "#999"),
            "weight": 1,
            "fillColor": styles.FRONT_COLOURS.get(f["properties"]["front_id"], "#999"),
            "fillOpacity": 0.35 if f["properties"]["front_id"] != "scenic" else 0.12,
        }
    if spec.name == "zones":
        return lambda f: {
            "color": "#444",
            "weight": 1,
            "fillColor": zone_colours.get(f["properties"]["zone_id"], "#ccc"),
            "fillOpacity": 0.18,
        }
    if spec.name == "lakes":
        return lambda f: {
            "color": "#4a90c2",
            "weight": 1,
            "fillColor": styles.WATER,
            "fillOpacity": 0.85,
        }
    return lambda f: {
        "color": styles.FRONT_COLOURS.get(f["properties"].get("front_id", ""), None)
        if f["properties"].get("front_id") in ("main_streets", "gulou_west")
        else styles.STREET_COLOURS.get(f["properties"].get("kind", ""), "#888"),
        "weight": styles.STREET_WEIGHTS.get(f["properties"].get("kind", ""), 2),
        "opacity": 0.9,
    }


def _tooltip_frame(gdf: gpd.GeoDataFrame, fields: tuple[str, ...]) -> gpd.GeoDataFrame:
    keep = [f for f in fields if f in gdf.columns]
    out = gdf[
        keep
        + ["geometry"]
        + [c for c in ("front_id", "zone_id", "kind") if c in gdf.columns and c not in keep]
    ].copy()
    for col in keep:  # escape once here: folium puts property text into HTML as is
        out[col] = out[col].fillna("").astype(str).map(html.escape)
    return out


def render_layer(spec: LayerSpec, geo: Geography, lang: str = "zh") -> folium.FeatureGroup:
    """One catalogue layer as a folium FeatureGroup (shown in the layer control)."""
    group = folium.FeatureGroup(name=spec.title(lang), show=spec.visible)
    gdf = layer_frame(spec, geo)
    if gdf.empty:
        return group
    if spec.geometry == "point":
        for _, row in gdf.iterrows():
            colour = styles.POI_COLOURS.get(row.get("kind", ""), "#333")
            label = html.escape(str(row.get("name", "")))
            folium.CircleMarker(
                location=[row.geometry.y, row.geometry.x],
                radius=7,
                color="#fff",
                weight=2,
                fill=True,
                fill_color=colour,
                fill_opacity=0.95,
                tooltip=label,
            ).add_to(group)
        return group
    zone_colours = {}
    if "zone_id" in geo.zones.columns:
        zone_colours = {z: styles.colour_for(i) for i, z in enumerate(geo.zones["zone_id"])}
    frame = _tooltip_frame(gdf, spec.tooltip)
    fields = [f for f in spec.tooltip if f in frame.columns]
    folium.GeoJson(
        frame.to_json(),
        name=spec.title(lang),
        style_function=_style(spec, zone_colours),
        tooltip=folium.GeoJsonTooltip(fields=fields) if fields else None,
    ).add_to(group)
    return group


def render_geography(
    m: folium.Map, geo: Geography, *, lang: str = "zh", names: tuple[str, ...] | None = None
) -> folium.Map:
    """Add every catalogue layer (or those named) to a map, with legend and layer control."""
    for spec in CATALOGUE:
        if names is None or spec.name in names:
            render_layer(spec, geo, lang).add_to(m)
    fronts = [
        (styles.FRONT_COLOURS[f], n if lang == "zh" else e)
        for f, n, e in zip(
            geo.fronts["front_id"], geo.fronts["name"], geo.fronts["name_en"], strict=True
        )
    ]
    add_legend(
        m,
        "三条战线" if lang == "zh" else "Fronts",
        fronts + [(styles.WATER, "湖面" if lang == "zh" else "Lakes")],
    )
    bounds = to_display(geo.boundary).total_bounds
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return m


def add_layer_control(m: folium.Map) -> folium.Map:
    """The layer switcher; add it last, after every layer."""
    folium.LayerControl(collapsed=False).add_to(m)
    return m
