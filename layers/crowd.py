"""The crowd layer: watched places coloured by alert level, with occupancy in the tooltip.

Everything about a place reaches the map as GeoJSON properties; text from the places file
(names) is HTML-escaped once here because folium's tooltip inserts property text as HTML.
The colour comes from the level code, which is one of a fixed set, never from file text.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd

from gis.crowd.places import LEVEL_CODES, LEVEL_COLOURS
from gis.crs import to_display
from layers.legend import add_legend

LEVEL_LABELS: Mapping[str, tuple[str, str]] = {
    "none": ("正常", "normal"),
    "blue": ("蓝色（≥60%）", "blue (≥ 60 %)"),
    "yellow": ("黄色（≥80%）", "yellow (≥ 80 %)"),
    "orange": ("橙色（≥100%）", "orange (≥ 100 %)"),
    "red": ("红色（≥120%）", "red (≥ 120 %)"),
}


def level_label(code: str, lang: str = "zh") -> str:
    """The display name of a level code."""
    zh, en = LEVEL_LABELS.get(code, (code, code))
    return zh if lang == "zh" else en


def crowd_frame(
    gdf_places: gpd.GeoDataFrame, status: Mapping[str, Mapping[str, Any]], lang: str = "zh"
) -> gpd.GeoDataFrame:
    """Places in WGS 84 with display properties: ``level`` (a code), escaped ``label``,
    ``level_name``, ``occupancy``, ``capacity``, ``share`` and ``forecast`` (peak, 120 min)."""
    out = gdf_places[["place_id", "name", "name_en", "capacity", "geometry"]].copy()
    levels, occ, share, peak = [], [], [], []
    for pid, cap in zip(out["place_id"], out["capacity"], strict=True):
        s = status.get(pid, {})
        code = str(s.get("level", "none"))
        levels.append(code if code in LEVEL_CODES else "none")
        o = s.get("occupancy")
        occ.append("" if o is None else f"{float(o):.0f}")
        share.append("" if o is None or not cap else f"{100 * float(o) / float(cap):.0f}%")
        p = s.get("forecast_peak")
        peak.append("" if p is None else f"{float(p):.0f}")
    out["level"] = levels
    out["level_name"] = [level_label(c, lang) for c in levels]
    out["label"] = [
        html.escape(str(n if lang == "zh" or not e else e))
        for n, e in zip(out["name"], out["name_en"], strict=True)
    ]
    out["occupancy"] = occ
    out["share"] = share
    out["forecast"] = peak
    out["capacity"] = out["capacity"].astype(int).astype(str)
    out = out.drop(columns=["name", "name_en"])
    out["place_id"] = out["place_id"].map(lambda v: html.escape(str(v)))
    return to_display(out)


def crowd_layer(
    m: folium.Map,
    gdf_places: gpd.GeoDataFrame,
    status: Mapping[str, Mapping[str, Any]],
    *,
    lang: str = "zh",
    legend: bool = True,
) -> folium.FeatureGroup:
    """Add the watched places coloured by level (and the level legend) to a map."""
    title = "客流监测点位" if lang == "zh" else "Crowd watch places"
    group = folium.FeatureGroup(name=title, show=True)
    frame = crowd_frame(gdf_places, status, lang)
    aliases = (
        ["点位", "等级", "现有人数", "承载量", "占承载量", "120分钟内预测峰值"]
        if lang == "zh"
        else ["Place", "Level", "People now", "Capacity", "Share of capacity", "Peak, 120 min"]
    )
    folium.GeoJson(
        frame.to_json(),
        name=title,
        style_function=lambda f: {
            "color": "#222222",
            "weight": 2,
            "fillColor": LEVEL_COLOURS.get(f["properties"]["level"], "#999999"),
            "fillOpacity": 0.7,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=["label", "level_name", "occupancy", "capacity", "share", "forecast"],
            aliases=aliases,
        ),
    ).add_to(group)
    group.add_to(m)
    if legend:
        add_legend(
            m,
            "客流等级" if lang == "zh" else "Crowd level",
            [(LEVEL_COLOURS[c], level_label(c, lang)) for c in LEVEL_CODES],
        )
    return group
