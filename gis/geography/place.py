"""What is at a clicked or typed point: inside the subdistrict?, which front, zone and street."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
from shapely.geometry import Point

from gis.errors import NetworkError
from gis.geography.crs import METRIC, WGS84, to_wgs84
from gis.geography.layers import Geography

log = logging.getLogger(__name__)

#: A click farther than this from every street names no street.
STREET_REACH_M = 60.0


@dataclass(frozen=True)
class Place:
    """The answer for one point; ids are None where nothing applies."""

    lon: float  # WGS 84
    lat: float
    point: Point  # in the geography's metric CRS
    inside: bool
    front_id: str | None = None
    front_name: str = ""
    zone_id: str | None = None
    zone_name: str = ""
    segment_id: str | None = None
    segment_name: str = ""
    distance_m: float | None = None


def metric_point(
    lon: float, lat: float, datum: str = "wgs84", *, crs: str = METRIC
) -> tuple[float, float, Point]:
    """A point given in any datum as (WGS 84 lon, WGS 84 lat, point in the metric ``crs``)."""
    x, y = to_wgs84([lon], [lat], datum)
    wlon, wlat = float(x[0]), float(y[0])
    pt = gpd.GeoSeries([Point(wlon, wlat)], crs=WGS84).to_crs(crs).iloc[0]
    return wlon, wlat, pt


#: A point this close to the boundary (metres) counts as inside: streets drawn on the boundary
#: line, and a point rounded to six decimals on the way through a form, stay the subdistrict's.
EDGE_M = 1.0


def acceptance_area(geo: Geography) -> Any:
    """Where reports are taken in: the boundary polygon and :data:`EDGE_M` around it, the
    same area in which :func:`place_at` says a point is inside (every front end, both ways)."""
    return geo.boundary.union_all().buffer(EDGE_M)


def place_at(geo: Geography, lon: float, lat: float, datum: str = "wgs84") -> Place:
    """Describe the point (lon, lat) declared in ``datum`` against the geography.

    A point outside the boundary is returned with ``inside=False`` and nothing else, so the
    caller can say so instead of attaching it to the nearest zone.
    """
    wlon, wlat, pt = metric_point(lon, lat, datum, crs=geo.crs)
    if not bool(geo.boundary.dwithin(pt, EDGE_M).any()):
        return Place(wlon, wlat, pt, inside=False)
    front_hits = geo.fronts.loc[geo.fronts.contains(pt)]
    front_id = str(front_hits["front_id"].iloc[0]) if len(front_hits) else None
    front_name = str(front_hits["name"].iloc[0]) if len(front_hits) else ""
    zone_id = geo.zone_for_point(pt)
    zone_name = ""
    if zone_id is not None:
        zone_name = str(geo.zones.loc[geo.zones["zone_id"] == zone_id, "name"].iloc[0])
    segment_id, segment_name, distance = None, "", None
    try:
        snap = geo.segment_index.snap(pt, max_distance_m=STREET_REACH_M)
    except NetworkError:
        snap = None
    if snap is not None:
        segment_id = snap.segment_id
        row = geo.segments.loc[geo.segments["segment_id"] == segment_id].iloc[0]
        segment_name = str(row["name"])
        distance = float(np.round(snap.distance_m, 1))
    return Place(
        wlon,
        wlat,
        pt,
        inside=True,
        front_id=front_id,
        front_name=front_name,
        zone_id=zone_id,
        zone_name=zone_name,
        segment_id=segment_id,
        segment_name=segment_name,
        distance_m=distance,
    )


def datum_suspect(geo: Geography, lon: float, lat: float, declared: str) -> str | None:
    """The datum a point outside the subdistrict probably has, when that puts it inside.

    A GCJ-02 point declared as WGS 84 lands about 500 m off; if reading it as GCJ-02 (or
    BD-09) puts it inside the boundary, that datum is returned so the user can be told.
    """
    if place_at(geo, lon, lat, declared).inside:
        return None
    for other in ("gcj02", "bd09", "wgs84"):
        if other != declared and place_at(geo, lon, lat, other).inside:
            return other
    return None
