"""What a district plan looks like: polygons, compactness and a per-person summary."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPoint

from gis.cases.workflow import TERMINAL_STATES
from gis.errors import ValidationError
from gis.geography.crs import require_metric, require_same_crs

log = logging.getLogger(__name__)

#: States of a case that is no longer open (the case workflow's terminal states).
CLOSED_STATES: frozenset[str] = TERMINAL_STATES


def _area_mask(
    gdf_segments: gpd.GeoDataFrame,
    boundary: gpd.GeoDataFrame | None,
    lakes: gpd.GeoDataFrame | None,
    margin_m: float,
) -> shapely.Geometry:
    """Where districts may be drawn: the boundary (or the streets' surroundings) minus lakes."""
    if boundary is not None and len(boundary):
        require_same_crs(gdf_segments, boundary, what="segments and boundary")
        area = shapely.union_all(boundary.geometry.values)
    else:
        area = shapely.union_all(shapely.buffer(gdf_segments.geometry.values, margin_m))
    if lakes is not None and len(lakes):
        require_same_crs(gdf_segments, lakes, what="segments and lakes")
        area = area.difference(shapely.union_all(lakes.geometry.values))
    return area


def district_polygons(
    gdf_segments: gpd.GeoDataFrame,
    assignment: Mapping[str, str],
    *,
    boundary: gpd.GeoDataFrame | None = None,
    lakes: gpd.GeoDataFrame | None = None,
    spacing_m: float = 10.0,
    margin_m: float = 50.0,
) -> gpd.GeoDataFrame:
    """One polygon per person: the Voronoi cells of their segments, clipped and with lakes cut.

    Points are laid along every segment every ``spacing_m`` metres (never at the junctions,
    which two districts share); each point's Voronoi cell goes to the segment's owner and
    the cells are merged per person. The result is clipped to ``boundary`` (or, without
    one, to the streets buffered by ``margin_m``) and ``lakes`` are cut out, so neighbouring
    districts meet without gaps or overlaps.

    Returns
    -------
    geopandas.GeoDataFrame
        ``person_id``, ``area_m2``, ``perimeter_m``, ``polsby_popper`` and the geometry
        (EPSG:32650).
    """
    require_metric(gdf_segments, "segments")
    gdf = gdf_segments[gdf_segments["segment_id"].isin(set(assignment))]
    if gdf.empty:
        raise ValidationError("no assigned segments to draw", source="assignment")
    owners = gdf["segment_id"].map(assignment).to_numpy()
    geoms = gdf.geometry.values
    lengths = shapely.length(geoms)
    pts = []
    who = []
    for g, L, o in zip(geoms, lengths, owners, strict=True):
        n = max(1, int(math.ceil(L / spacing_m)))
        fr = (np.arange(n) + 0.5) / n
        pts.append(shapely.line_interpolate_point(g, fr, normalized=True))
        who.append(np.full(n, o, dtype=object))
    points = np.concatenate(pts)
    owner_of = np.concatenate(who)
    mask = _area_mask(gdf, boundary, lakes, margin_m)
    env = shapely.box(*shapely.bounds(mask)).buffer(margin_m)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(MultiPoint(list(points)), extend_to=env, ordered=True)
    )
    if len(cells) != len(points):  # coincident points: fall back to a spatial match
        tree = shapely.STRtree(points)
        idx = [
            int(tree.query(c.representative_point(), predicate="dwithin", distance=1e9)[0])
            for c in cells
        ]
        cell_owner = owner_of[idx]
    else:
        cell_owner = owner_of
    records = []
    for person in sorted(set(owners)):
        part = shapely.coverage_union_all(cells[cell_owner == person])
        geom = shapely.intersection(part, mask)
        geom = shapely.make_valid(geom)
        area = float(geom.area)
        perim = float(geom.length)
        records.append(
            {
                "person_id": person,
                "area_m2": area,
                "perimeter_m": perim,
                "polsby_popper": polsby_popper(geom),
                "geometry": geom,
            }
        )
    return gpd.GeoDataFrame(records, geometry="geometry", crs=gdf_segments.crs)


def polsby_popper(geom: shapely.Geometry) -> float:
    """Compactness 4πA/P² (1 for a disc, near 0 for a thin snake)."""
    perim = float(geom.length)
    if perim <= 0:
        return 0.0
    return float(4.0 * math.pi * geom.area / perim**2)


def cut_length(gdf_polygons: gpd.GeoDataFrame) -> float:
    """Length of border shared between districts, metres (half the perimeters not on the edge)."""
    total = float(gdf_polygons.geometry.length.sum())
    outer = float(shapely.union_all(gdf_polygons.geometry.values).length)
    return max(0.0, 0.5 * (total - outer))


def person_summary(
    gdf_segments: gpd.GeoDataFrame,
    assignment: Mapping[str, str],
    workload: pd.Series,
    *,
    staff: pd.DataFrame | None = None,
    cases: pd.DataFrame | None = None,
    polygons: gpd.GeoDataFrame | None = None,
    diameters: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """One row per person: streets, segments, length, workload and its share, open cases.

    Streets are the distinct street names in the district (Chinese, ``、``-separated,
    unnamed segments left out). ``open_cases`` counts cases on the person's segments that
    are not closed, rejected or duplicate (only when a case frame is given).
    """
    gdf = gdf_segments[gdf_segments["segment_id"].isin(set(assignment))].copy()
    gdf["person_id"] = gdf["segment_id"].map(assignment)
    gdf["workload"] = gdf["segment_id"].map(workload).astype(float)
    total = float(gdf["workload"].sum()) or 1.0
    rows = []
    for person, part in gdf.groupby("person_id", sort=True):
        names = [n for n in dict.fromkeys(part.sort_values("segment_id")["name"]) if n]
        names_en = (
            [n for n in dict.fromkeys(part.sort_values("segment_id")["name_en"]) if n]
            if "name_en" in part
            else []
        )
        row = {
            "person_id": person,
            "streets": "、".join(names),
            "streets_en": ", ".join(str(n) for n in names_en),
            "n_streets": len(names),
            "n_unnamed": int((part["name"].fillna("").astype(str).str.strip() == "").sum()),
            "n_segments": len(part),
            "length_m": float(part["length_m"].sum()),
            "workload": float(part["workload"].sum()),
            "share": float(part["workload"].sum()) / total,
        }
        rows.append(row)
    out = pd.DataFrame(rows)
    if cases is not None and len(cases):
        state = cases["state"] if "state" in cases else pd.Series("reported", index=cases.index)
        open_mask = ~state.isin(CLOSED_STATES)
        if "closed_at" in cases:
            open_mask &= cases["closed_at"].isna()
        owner = cases.loc[open_mask, "segment_id"].map(assignment)
        counts = owner.value_counts()
        out["open_cases"] = out["person_id"].map(counts).fillna(0).astype(int)
    elif cases is not None:
        out["open_cases"] = 0
    if polygons is not None:
        pp = polygons.set_index("person_id")["polsby_popper"]
        out["polsby_popper"] = out["person_id"].map(pp).astype(float)
    if diameters is not None:
        out["diameter_m"] = out["person_id"].map(diameters).astype(float)
    if staff is not None:
        cols = [c for c in ("person_id", "name", "department", "phone", "shift") if c in staff]
        out = out.merge(staff[cols], on="person_id", how="left")
    return out
