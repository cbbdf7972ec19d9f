"""The day-plan layer: each person's planned walk as a coloured line (data as GeoJSON
properties, text escaped once: folium puts property text into tooltips as HTML)."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence

import folium

from gis.people.dayplan import PersonPlan
from layers import styles

#: Line colour per shift (早 orange, 午 blue, 晚 purple).
SHIFT_COLOURS: dict[str, str] = {"morning": "#e67e22", "midday": "#2e86c1", "evening": "#8e44ad"}


def plans_geojson(plans: Sequence[PersonPlan]) -> dict[str, object]:
    """A FeatureCollection of the planned walks (WGS 84), one feature per person with a line."""
    features = []
    for i, p in enumerate(plans):
        if len(p.line) < 2:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [list(c) for c in p.line]},
                "properties": {
                    "person": html.escape(f"{p.person_id} {p.name}"),
                    "shift": html.escape(f"{p.task} {p.start:%H:%M}–{p.end:%H:%M}"),
                    "length": f"{p.route_m / 1000:.1f} km",
                    "colour": SHIFT_COLOURS.get(p.shift, styles.colour_for(i)),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def day_plan_layer(plans: Sequence[PersonPlan], *, name: str = "今日路线") -> folium.FeatureGroup:
    """The planned walks of the day, coloured by shift, with a tooltip per person."""
    group = folium.FeatureGroup(name=name, show=True)
    data = plans_geojson(plans)
    if not data["features"]:
        return group
    folium.GeoJson(
        json.dumps(data, ensure_ascii=False),
        name=name,
        style_function=lambda f: {
            "color": f["properties"]["colour"],
            "weight": 4,
            "opacity": 0.85,
        },
        tooltip=folium.GeoJsonTooltip(fields=["person", "shift", "length"], labels=False),
    ).add_to(group)
    return group
