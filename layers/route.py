"""The route layer: the walk as a polyline with direction arrows and numbered stops (offline)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import folium
import geopandas as gpd
from shapely.geometry import Point

from gis.geography.crs import to_display
from gis.planning.route_sheet import Step
from gis.planning.walk import Route
from layers.safe import (
    DataLayer,
    PreparedData,
    clean_text,
    collection,
    feature,
    feature_group,
    prepare_data,
    safe_colour,
)

#: Default spacing of direction arrows along the route (metres).
ARROW_EVERY_M = 80.0


def _arrow_points(route: Route, every_m: float) -> list[tuple[Point, float]]:
    """Points every ``every_m`` metres along the walk with the grid bearing there (degrees)."""
    line = route.geometry
    out: list[tuple[Point, float]] = []
    if line.length <= 0 or every_m <= 0:
        return out
    d = every_m / 2.0
    while d < line.length:
        p = line.interpolate(d)
        q = line.interpolate(min(d + 2.0, line.length))
        if q.equals(p):
            q = p
            p = line.interpolate(max(d - 2.0, 0.0))
        bearing = math.degrees(math.atan2(q.x - p.x, q.y - p.y)) % 360.0
        out.append((line.interpolate(d), bearing))
        d += every_m
    return out


def route_layer(
    route: Route,
    *,
    steps: Sequence[Step] | None = None,
    name: str = "巡查路线",
    colour: str = "#c0392b",
    arrow_every_m: float = ARROW_EVERY_M,
    lang: str = "zh",
    show: bool = True,
) -> folium.FeatureGroup:
    """A folium FeatureGroup for one route (see :func:`prepare_route` for what it draws)."""
    prepared = prepare_route(
        route, steps=steps, colour=colour, arrow_every_m=arrow_every_m, lang=lang
    )
    return route_layer_from(prepared, name=name, show=show)


def route_layer_from(
    prepared: PreparedData, *, name: str = "巡查路线", show: bool = True
) -> folium.FeatureGroup:
    """A new FeatureGroup around a route prepared by :func:`prepare_route` (which a page may
    cache per process: the features are not built or serialised again on each run)."""
    fg = feature_group(name, show=show)
    DataLayer.from_prepared(prepared).add_to(fg)
    return fg


def prepare_route(
    route: Route,
    *,
    steps: Sequence[Step] | None = None,
    colour: str = "#c0392b",
    arrow_every_m: float = ARROW_EVERY_M,
    lang: str = "zh",
) -> PreparedData:
    """One route's features, serialised once (immutable).

    The route (in ``route.crs``) is reprojected to WGS 84 with :func:`gis.geography.crs.to_display`. Arrows are
    rotated marks (plain Leaflet, no plugin or CDN), numbered circles mark where each step
    starts, with the step's instruction as tooltip; all of it one GeoJSON layer drawn by
    the page script (:mod:`layers.safe`), so street names stay data.
    """
    colour = safe_colour(colour, "#c0392b")
    line = to_display(gpd.GeoDataFrame(geometry=[route.geometry], crs=route.crs)).geometry.iloc[0]
    z = lang != "en"
    tip = f"{route.total_m / 1000:.2f} km · {route.duration_min:.0f} {'分钟' if z else 'min'}"
    feats = [
        feature(
            line,
            {"t": tip, "_s": {"color": colour, "weight": 4, "opacity": 0.85}},
        )
    ]
    arrows = _arrow_points(route, arrow_every_m)
    if arrows:
        pts = to_display(gpd.GeoDataFrame(geometry=[p for p, _ in arrows], crs=route.crs))
        # ➤ points east; rotate it clockwise to the walking bearing
        feats += [
            feature(
                geom, {"_s": {"shape": "arrow", "rotate": round(bearing - 90, 0), "colour": colour}}
            )
            for geom, (_p, bearing) in zip(pts.geometry, arrows, strict=True)
        ]
    if steps:
        starts = to_display(
            gpd.GeoDataFrame(geometry=[Point(s.start_xy) for s in steps], crs=route.crs)
        )
        feats += [
            feature(
                geom,
                {
                    "_label": str(s.number),
                    "t": f"{s.number}. {clean_text(s.text(lang))}",
                    "_s": {"shape": "stop", "colour": colour},
                },
            )
            for geom, s in zip(starts.geometry, steps, strict=True)
        ]
    return prepare_data(collection(feats), tip={"title": "t"})
