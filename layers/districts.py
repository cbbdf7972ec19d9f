"""The districts-per-person layer: one colour per responsible person, legend and tooltips."""

from __future__ import annotations

import html
from collections.abc import Mapping

import folium
import geopandas as gpd
import pandas as pd

from gis.crs import to_display
from layers import styles
from layers.legend import add_legend


def person_colours(people: list[str]) -> dict[str, str]:
    """A stable colour per person (palette order = sorted person ids)."""
    return {p: styles.colour_for(i) for i, p in enumerate(sorted(people))}


def _labels(summary: pd.DataFrame | None, lang: str) -> dict[str, str]:
    if summary is None or summary.empty:
        return {}
    out = {}
    for rec in summary.to_dict("records"):
        name = str(rec.get("name") or "")
        load = rec.get("workload")
        extra = f" · {load:.0f} {'分钟/月' if lang == 'zh' else 'min/month'}" if load else ""
        out[str(rec["person_id"])] = f"{name or rec['person_id']}{extra}"
    return out


def districts_layer(
    polygons: gpd.GeoDataFrame,
    *,
    segments: gpd.GeoDataFrame | None = None,
    assignment: Mapping[str, str] | None = None,
    summary: pd.DataFrame | None = None,
    lang: str = "zh",
    show: bool = True,
) -> folium.FeatureGroup:
    """District polygons (and, if given, their segments) coloured per person.

    Parameters
    ----------
    polygons
        From :func:`gis.district_outputs.district_polygons` (EPSG:32650 or WGS 84).
    segments, assignment
        Optional: draw each segment in its owner's colour over the polygons.
    summary
        Optional per-person summary (name, phone, streets, workload) for the tooltips.
    """
    title = "责任片区" if lang == "zh" else "Districts per person"
    group = folium.FeatureGroup(name=title, show=show)
    colours = person_colours([str(p) for p in polygons["person_id"]])
    frame = to_display(polygons)[["person_id", "geometry"]].copy()
    frame["person_id"] = frame["person_id"].astype(str)
    info = summary.set_index("person_id") if summary is not None else None
    fields = ["person_id"]
    aliases = ["编号" if lang == "zh" else "ID"]
    for col, zh, en in (
        ("name", "责任人", "Person"),
        ("phone", "电话", "Phone"),
        ("workload", "工作量(分钟/月)", "Workload (min/month)"),
        ("streets", "街巷", "Streets"),
    ):
        if info is not None and col in info.columns:
            vals = frame["person_id"].map(info[col])
            if col == "workload":
                vals = vals.map(lambda x: f"{x:.0f}")
            frame[col] = vals.fillna("").astype(str).map(html.escape)
            fields.append(col)
            aliases.append(zh if lang == "zh" else en)
    frame["person_id"] = frame["person_id"].map(html.escape)
    folium.GeoJson(
        frame.to_json(),
        name=title,
        style_function=lambda f: {
            "color": "#333333",
            "weight": 1,
            "fillColor": colours.get(html.unescape(f["properties"]["person_id"]), "#999"),
            "fillOpacity": 0.45,
        },
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases),
    ).add_to(group)
    if segments is not None and assignment is not None:
        seg = segments[segments["segment_id"].isin(set(assignment))][
            ["segment_id", "name", "geometry"]
        ].copy()
        seg["person_id"] = seg["segment_id"].map(assignment).astype(str)
        seg = to_display(seg)
        for col in ("segment_id", "name"):
            seg[col] = seg[col].fillna("").astype(str).map(html.escape)
        folium.GeoJson(
            seg.to_json(),
            name=f"{title} (路段)" if lang == "zh" else f"{title} (segments)",
            style_function=lambda f: {
                "color": colours.get(f["properties"]["person_id"], "#555"),
                "weight": 3,
                "opacity": 0.95,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["name", "segment_id", "person_id"],
                aliases=["街巷", "路段", "责任人"]
                if lang == "zh"
                else ["Street", "Segment", "Person"],
            ),
        ).add_to(group)
    return group


def add_districts(
    m: folium.Map,
    polygons: gpd.GeoDataFrame,
    *,
    segments: gpd.GeoDataFrame | None = None,
    assignment: Mapping[str, str] | None = None,
    summary: pd.DataFrame | None = None,
    lang: str = "zh",
) -> folium.Map:
    """Add the districts layer and its legend (one swatch per person) to a map."""
    districts_layer(
        polygons, segments=segments, assignment=assignment, summary=summary, lang=lang
    ).add_to(m)
    colours = person_colours([str(p) for p in polygons["person_id"]])
    labels = _labels(summary, lang)
    add_legend(
        m,
        "责任人" if lang == "zh" else "Responsible person",
        [(colours[p], labels.get(p, p)) for p in sorted(colours)],
    )
    return m
