"""The route layer: the walk as a polyline with direction arrows and numbered stops (offline)."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import folium
import geopandas as gpd
from shapely.geometry import Point

from gis.crs import to_display
from gis.postman import Route
from gis.route_sheet import Step

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
    """A folium FeatureGroup for one route.

    The route (in ``route.crs``) is reprojected to WGS 84 with :func:`gis.crs.to_display`. Arrows are
    rotated DivIcons (plain Leaflet, no plugin or CDN), numbered circles mark where each step
    starts, with the step's instruction as tooltip.
    """
    fg = folium.FeatureGroup(name=name, show=show)
    line = to_display(gpd.GeoDataFrame(geometry=[route.geometry], crs=route.crs)).geometry.iloc[0]
    latlon = [(y, x) for x, y in line.coords]
    tip = f"{route.total_m / 1000:.2f} km · {route.duration_min:.0f} min"
    folium.PolyLine(latlon, color=colour, weight=4, opacity=0.85, tooltip=tip).add_to(fg)

    arrows = _arrow_points(route, arrow_every_m)
    if arrows:
        pts = to_display(gpd.GeoDataFrame(geometry=[p for p, _ in arrows], crs=route.crs))
        for geom, (_p, bearing) in zip(pts.geometry, arrows, strict=True):
            # ➤ points east; rotate it clockwise to the walking bearing
            icon = folium.DivIcon(
                html=(
                    f'<div style="transform: rotate({bearing - 90:.0f}deg); color: {colour}; '
                    'font-size: 14px; line-height: 14px; width: 14px; text-align: center;">'
                    "&#10148;</div>"
                ),
                icon_size=(14, 14),
                icon_anchor=(7, 7),
                class_name="route-arrow",
            )
            folium.Marker([geom.y, geom.x], icon=icon).add_to(fg)

    if steps:
        starts = to_display(
            gpd.GeoDataFrame(geometry=[Point(s.start_xy) for s in steps], crs=route.crs)
        )
        for geom, s in zip(starts.geometry, steps, strict=True):
            icon = folium.DivIcon(
                html=(
                    f'<div style="background: #fff; border: 2px solid {colour}; '
                    "border-radius: 50%; width: 18px; height: 18px; font: 11px/18px sans-serif; "
                    f'text-align: center;">{s.number}</div>'
                ),
                icon_size=(22, 22),
                icon_anchor=(11, 11),
                class_name="route-stop",
            )
            folium.Marker(
                [geom.y, geom.x], icon=icon, tooltip=html.escape(f"{s.number}. {s.text(lang)}")
            ).add_to(fg)
    return fg
