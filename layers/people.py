"""The day-plan layer: each person's planned walk as a coloured line.

Drawn through :mod:`layers.safe`: names travel as inert GeoJSON properties and are shown as text.
"""

from __future__ import annotations

from collections.abc import Sequence

import folium
from shapely.geometry import LineString

from gis.people.dayplan import PersonPlan
from layers import styles
from layers.safe import DataLayer, clean_text, collection, feature, feature_group, safe_colour

#: Line colour per shift (早 orange, 午 blue, 晚 purple).
SHIFT_COLOURS: dict[str, str] = {"morning": "#e67e22", "midday": "#2e86c1", "evening": "#8e44ad"}


def plans_collection(plans: Sequence[PersonPlan]) -> dict[str, object]:
    """A FeatureCollection of the planned walks (WGS 84), one feature per person with a line."""
    feats = []
    for i, p in enumerate(plans):
        if len(p.line) < 2:
            continue
        colour = safe_colour(SHIFT_COLOURS.get(p.shift, styles.colour_for(i)))
        feats.append(
            feature(
                LineString(p.line),
                {
                    "t": clean_text(f"{p.person_id} {p.name}"),
                    "s": clean_text(f"{p.task} {p.start:%H:%M}–{p.end:%H:%M}"),
                    "k": f"{p.route_m / 1000:.1f} km",
                    "_s": {"color": colour, "weight": 4, "opacity": 0.85},
                },
            )
        )
    return collection(feats)


def day_plan_layer(plans: Sequence[PersonPlan], *, name: str = "今日路线") -> folium.FeatureGroup:
    """The planned walks of the day, coloured by shift, with a tooltip per person."""
    group = feature_group(name)
    data = plans_collection(plans)
    if data["features"]:
        DataLayer(data, tip={"title": "t", "rows": [["", "s"], ["", "k"]]}).add_to(group)
    return group
