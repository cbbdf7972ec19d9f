"""Checks of a geography against reference data: boundary IoU and landmark distances."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from gis.geography.crs import WGS84
from gis.geography.layers import Geography


def boundary_iou(geo: Geography, reference: Path | str, *, feature: int = 0) -> float:
    """Intersection over union of our boundary and a reference polygon (in metres²)."""
    ref = gpd.read_file(reference).to_crs(geo.crs).geometry.iloc[feature]
    ours = geo.boundary.union_all()
    return float(ours.intersection(ref).area / ours.union(ref).area)


def _short_name(landmark: str) -> str:
    """'鼓楼 Drum Tower (footprint centre)' → '鼓楼'."""
    return str(landmark).split(" ")[0].strip()


def landmark_distances(geo: Geography, csv_path: Path | str) -> pd.DataFrame:
    """Distance from each reference landmark to the feature of the same name in our drawing.

    A landmark matches a POI of the same Chinese name, else a street of that name (distance
    to the nearest point of the street). Rows that match nothing are returned with
    ``matched=False``; they are not in the drawing. Rows whose ``kind_of_point`` is a
    boundary vertex or a street intersection are alignment facts, not features, and are skipped.
    """
    df = pd.read_csv(csv_path)
    rows = []
    for _, r in df.iterrows():
        kind_of_point = str(r.get("kind_of_point", ""))
        if "vertex" in kind_of_point or "intersection" in kind_of_point:
            continue  # corners and boundary vertices are alignment facts, not features
        name = _short_name(r["landmark"])
        try:
            lon, lat = float(r["lon_wgs84"]), float(r["lat_wgs84"])
        except (TypeError, ValueError):
            continue  # ranges such as the Di'anmen axis are alignment notes, not points
        pt = gpd.GeoSeries([Point(lon, lat)], crs=WGS84).to_crs(geo.crs).iloc[0]
        kind, dist = "", float("nan")
        pois = geo.pois.loc[geo.pois["name"] == name]
        streets = geo.segments.loc[geo.segments["name"] == name]
        if not pois.empty:
            kind, dist = "poi", float(pois.distance(pt).min())
        elif not streets.empty:
            kind, dist = "street", float(streets.distance(pt).min())
        rows.append(
            {
                "landmark": r["landmark"],
                "name": name,
                "matched": bool(kind),
                "kind": kind,
                "distance_m": dist,
            }
        )
    return pd.DataFrame(rows)
