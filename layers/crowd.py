"""The crowd layer: watched places coloured by alert level, with occupancy in the tooltip.

Everything about a place travels as GeoJSON properties through :class:`layers.safe.DataLayer`
(text shown with ``textContent`` by the page script, never as HTML or template code). The
colour comes from the level code, one of a fixed set, never from file text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd

from gis.crowd.places import LEVEL_CODES, LEVEL_COLOURS
from gis.geography.crs import to_display
from layers.legend import add_legend
from layers.safe import DataLayer, clean_text, collection, feature, feature_group

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


def _num(value: Any) -> str:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return ""
    return "" if x != x else f"{x:.0f}"


def crowd_features(
    gdf_places: gpd.GeoDataFrame, status: Mapping[str, Mapping[str, Any]], lang: str = "zh"
) -> list[dict[str, Any]]:
    """One GeoJSON feature (WGS 84) per place: name, level, occupancy, capacity, share,
    forecast peak as text properties, and its style from the level code."""
    disp = to_display(gdf_places)
    feats = []
    for rec, geom in zip(
        disp.drop(columns="geometry").to_dict("records"), disp.geometry, strict=True
    ):
        pid = str(rec["place_id"])
        s = status.get(pid, {})
        code = str(s.get("level", "none"))
        code = code if code in LEVEL_CODES else "none"
        cap = float(rec["capacity"])
        occ = s.get("occupancy")
        name = rec["name"] if lang == "zh" or not rec.get("name_en") else rec["name_en"]
        props = {
            "t": clean_text(name),
            "lv": level_label(code, lang),
            "o": _num(occ),
            "c": _num(cap),
            "sh": f"{100 * float(occ) / cap:.0f}%" if occ is not None and cap else "",
            "f": _num(s.get("forecast_peak")),
            "id": clean_text(pid),
            "level": code,
            "_s": {
                "color": "#222222",
                "weight": 2,
                "fillColor": LEVEL_COLOURS[code],
                "fillOpacity": 0.7,
            },
        }
        feats.append(feature(geom, props))
    return feats


def crowd_layer(
    m: folium.Map,
    gdf_places: gpd.GeoDataFrame,
    status: Mapping[str, Mapping[str, Any]],
    *,
    lang: str = "zh",
    legend: bool = True,
) -> folium.FeatureGroup:
    """Add the watched places coloured by level (and the level legend) to a map."""
    z = lang == "zh"
    group = feature_group("客流监测点位" if z else "Crowd watch places")
    tip = {
        "title": "t",
        "rows": [
            ["等级" if z else "Level", "lv"],
            ["现有人数" if z else "People now", "o"],
            ["承载量" if z else "Capacity", "c"],
            ["占承载量" if z else "Share of capacity", "sh"],
            ["120分钟内预测峰值" if z else "Forecast peak, 120 min", "f"],
        ],
        "small": ["id"],
    }
    DataLayer(collection(crowd_features(gdf_places, status, lang)), tip=tip).add_to(group)
    group.add_to(m)
    if legend:
        add_legend(
            m,
            "客流等级" if z else "Crowd level",
            [(LEVEL_COLOURS[c], level_label(c, lang)) for c in LEVEL_CODES],
        )
    return group
