"""The districts-per-person layer: one colour per responsible person, legend and tooltips."""

from __future__ import annotations

from collections.abc import Mapping

import folium
import geopandas as gpd
import pandas as pd

from gis.geography.crs import to_display
from layers import styles
from layers.legend import add_legend
from layers.safe import DataLayer, clean_text, collection, feature, feature_group


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
        From :func:`gis.planning.district_outputs.district_polygons` (EPSG:32650 or WGS 84).
    segments, assignment
        Optional: draw each segment in its owner's colour over the polygons.
    summary
        Optional per-person summary (name, phone, streets, workload) for the tooltips.
    """
    z = lang == "zh"
    title = "责任片区" if z else "Districts per person"
    group = feature_group(title, show=show)
    colours = person_colours([str(p) for p in polygons["person_id"]])
    disp = to_display(polygons)
    info: dict[str, dict[str, object]] = {}
    if summary is not None and not summary.empty:
        info = {str(r["person_id"]): r for r in summary.to_dict("records")}
    feats = []
    labels = []
    for pid, geom in zip(disp["person_id"].astype(str), disp.geometry, strict=True):
        if geom is None or geom.is_empty:
            continue
        rec = info.get(pid, {})
        load = rec.get("workload")
        name = clean_text(rec.get("name")) or clean_text(pid)
        props = {
            "t": name,
            "ph": clean_text(rec.get("phone")),
            "w": f"{float(load):.0f}" if isinstance(load, (int, float)) and load == load else "",
            "st": clean_text(rec.get("streets"), limit=300),
            "id": clean_text(pid),
            "_s": {
                "color": "#333333",
                "weight": 1,
                "fillColor": colours.get(pid, "#999999"),
                "fillOpacity": 0.45,
            },
        }
        feats.append(feature(geom, props))
        spot = geom if geom.geom_type == "Polygon" else max(geom.geoms, key=lambda g: g.area)
        labels.append(
            feature(
                spot.representative_point(),
                {"_label": name, "_s": {"shape": "label", "cls": "zone-hl", "prio": 88}},
            )
        )
    tip = {
        "title": "t",
        "rows": [
            ["电话" if z else "Phone", "ph"],
            ["工作量(分钟/月)" if z else "Workload (min/month)", "w"],
            ["街巷" if z else "Streets", "st"],
        ],
        "small": ["id"],
    }
    DataLayer(collection(feats), tip=tip, sticky=True).add_to(group)
    if segments is not None and assignment is not None:
        seg = segments[segments["segment_id"].isin(set(assignment))]
        seg = to_display(seg)
        sfeats = []
        for rec, geom in zip(
            seg.drop(columns="geometry").to_dict("records"), seg.geometry, strict=True
        ):
            pid = str(assignment[rec["segment_id"]])
            who = info.get(pid, {})
            sfeats.append(
                feature(
                    geom,
                    {
                        "t": clean_text(rec.get("name")) or ("无名街巷" if z else "Unnamed lane"),
                        "p": clean_text(who.get("name")) or clean_text(pid),
                        "id": clean_text(rec.get("segment_id")),
                        "_s": {"color": colours.get(pid, "#555555"), "weight": 3, "opacity": 0.95},
                    },
                )
            )
        DataLayer(
            collection(sfeats),
            tip={"title": "t", "rows": [["责任人" if z else "Person", "p"]], "small": ["id"]},
            sticky=True,
        ).add_to(group)
    if labels:
        DataLayer(collection(labels), labels=True).add_to(group)
    return group


def add_districts(
    m: folium.Map | folium.FeatureGroup,
    polygons: gpd.GeoDataFrame,
    *,
    segments: gpd.GeoDataFrame | None = None,
    assignment: Mapping[str, str] | None = None,
    summary: pd.DataFrame | None = None,
    lang: str = "zh",
) -> folium.Map | folium.FeatureGroup:
    """Add the districts layer and its legend (one swatch per person) to a map, or to a
    group (the legend then shows while the group is on the map)."""
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
