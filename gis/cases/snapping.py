"""Where a report is: the datum check of points and batches, and snapping to the streets.

Reports snap to street segments, zones, fronts and responsible persons, measured in the
geography's own CRS.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from gis.errors import DatumError
from gis.geography.crs import METRIC, WGS84, require_same_crs, to_wgs84
from gis.geography.network import SegmentIndex
from gis.io.intake_files import FieldRows, canonical_column, isnan

if TYPE_CHECKING:
    from gis.cases.intake import Report

#: Median snap distance (m) above which a batch's coordinates are suspicious.
DATUM_SUSPECT_M = 25.0
#: A single point declared WGS 84 is refused when it lies farther than this from every
#: street (m) while its GCJ-02 reading lies within :data:`POINT_DATUM_NEAR_M` of one and
#: at most a quarter as far. On the bundled streets this catches about half of phone
#: (GCJ-02) points sent as WGS 84 (the others land near some street anyway) and spares
#: points on a street or in a courtyard; a lake report may need ``datum_checked``.
POINT_DATUM_FAR_M = 40.0
POINT_DATUM_NEAR_M = 15.0


@lru_cache(maxsize=16)
def to_crs(crs: str) -> Transformer:
    """WGS 84 → ``crs`` (a geography's metric CRS), cached per CRS."""
    return Transformer.from_crs(WGS84, crs, always_xy=True)


def intake_crs(gdf_segments: gpd.GeoDataFrame | None = None, crs: str | None = None) -> str:
    """The metric CRS intake measures in: ``crs``, else the street segments' own, else
    :data:`METRIC` (the CRS of :func:`default_area`, the bundled Shichahai data's)."""
    if crs:
        return str(crs)
    if gdf_segments is not None and gdf_segments.crs is not None:
        return str(gdf_segments.crs.to_string())
    return METRIC


def _metric_points(reports: Sequence[Report], crs: str) -> np.ndarray:
    lon = np.array([r.lon for r in reports], dtype=float)
    lat = np.array([r.lat for r in reports], dtype=float)
    x, y = to_crs(crs).transform(lon, lat)
    return shapely.points(np.column_stack([x, y]))


def _median_snap(points: np.ndarray, gdf_segments: gpd.GeoDataFrame) -> float:
    tree = shapely.STRtree(gdf_segments.geometry.values)
    _, dist = tree.query_nearest(points, return_distance=True)
    return float(np.median(dist)) if len(dist) else 0.0


def check_datum(
    reports: Sequence[Report],
    gdf_segments: gpd.GeoDataFrame,
    *,
    source: str | None = None,
    min_points: int = 5,
) -> dict[str, float]:
    """Detect a batch declared WGS 84 that is really GCJ-02 (or BD-09).

    GCJ-02 shifts Shichahai about 530 m east and 150 m north, so such points sit a
    systematic distance from the streets; read as GCJ-02 they fall back onto them. Raises
    :class:`DatumError` when the median snap distance as declared exceeds
    :data:`DATUM_SUSPECT_M` and reading the batch as another datum more than halves it.
    Returns the median snap distance (m) per datum tried (empty when too few points).
    """
    wgs = [r for r in reports if r.source_datum == "wgs84"]
    return check_datum_lonlat(
        np.array([r.lon for r in wgs], dtype=float),
        np.array([r.lat for r in wgs], dtype=float),
        gdf_segments,
        source=source,
        min_points=min_points,
    )


def check_datum_lonlat(
    lon: np.ndarray,
    lat: np.ndarray,
    gdf_segments: gpd.GeoDataFrame,
    *,
    source: str | None = None,
    min_points: int = 5,
) -> dict[str, float]:
    """:func:`check_datum` on coordinate arrays declared WGS 84."""
    ok = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = lon[ok], lat[ok]
    if len(lon) < min_points:
        return {}
    to_m = to_crs(intake_crs(gdf_segments))
    x, y = to_m.transform(lon, lat)
    medians = {"wgs84": _median_snap(shapely.points(np.column_stack([x, y])), gdf_segments)}
    for d in ("gcj02", "bd09"):
        clon, clat = to_wgs84(lon, lat, d)
        x, y = to_m.transform(clon, clat)
        medians[d] = _median_snap(shapely.points(np.column_stack([x, y])), gdf_segments)
    best = min(medians, key=lambda k: medians[k])
    if (
        medians["wgs84"] > DATUM_SUSPECT_M
        and best != "wgs84"
        and medians[best] < 0.5 * medians["wgs84"]
    ):
        raise DatumError(
            f"the points declared WGS 84 sit a median {medians['wgs84']:.0f} m from the streets; "
            f"read as {best.upper()} they sit {medians[best]:.0f} m away",
            source=source,
            field="datum",
            fix=f"the file is probably {best.upper()} (phone map apps): import it with --datum {best}",
        )
    return medians


def check_point_datum(
    lon: float,
    lat: float,
    gdf_segments: gpd.GeoDataFrame,
    *,
    source: str | None = None,
    row: object = None,
) -> tuple[float, float]:
    """Refuse one point declared WGS 84 that is really GCJ-02 (phone map apps).

    The batch check (:func:`check_datum`) needs several points; for one point compare its
    distance to the street network read as WGS 84 and read as GCJ-02. Returns both
    distances (m); raises :class:`DatumError` when the WGS 84 reading is far from every
    street and the GCJ-02 reading is on one (see :data:`POINT_DATUM_FAR_M`).
    """
    if gdf_segments is None or not len(gdf_segments):
        return (math.nan, math.nan)
    tree = shapely.STRtree(gdf_segments.geometry.values)
    glon, glat = to_wgs84(np.array([lon]), np.array([lat]), "gcj02")
    to_m = to_crs(intake_crs(gdf_segments))
    xs, ys = to_m.transform(np.array([lon, glon[0]]), np.array([lat, glat[0]]))
    _, dist = tree.query_nearest(
        shapely.points(np.column_stack([xs, ys])), return_distance=True, all_matches=False
    )
    d_wgs, d_gcj = float(dist[0]), float(dist[1])
    if d_wgs > POINT_DATUM_FAR_M and d_gcj <= POINT_DATUM_NEAR_M and d_gcj <= 0.25 * d_wgs:
        raise DatumError(
            f"({lon}, {lat}) declared WGS 84 lies {d_wgs:.0f} m from the nearest street; "
            f"read as GCJ-02 it lies {d_gcj:.0f} m from one",
            source=source,
            row=row,
            field="datum",
            fix="phone map apps (AMap, WeChat) give GCJ-02: send it with --datum gcj02; if "
            "the point really is away from the streets (a courtyard, the lake), confirm the "
            "datum (--datum-checked)",
        )
    return d_wgs, d_gcj


def raw_lonlat(
    records: Sequence[tuple[object, Any]] | FieldRows,
) -> tuple[np.ndarray, np.ndarray]:
    """Numeric lon/lat of the records that have them and declare no datum of their own."""
    lons, lats = [], []
    if isinstance(records, FieldRows):  # a CSV block: its columns, no dict per row
        _, block = records.split()
        cols = block.columns()
        datums = cols.get("datum") or [""] * len(block)
        for d, x, y in zip(datums, cols["lon"], cols["lat"], strict=True):
            if d != "":
                continue
            try:
                lon, lat = float(x.strip()), float(y.strip())
            except ValueError:
                continue
            lons.append(lon)
            lats.append(lat)
        return np.array(lons, dtype=float), np.array(lats, dtype=float)
    shapes: dict[tuple[Any, ...], dict[str, Any]] = {}  # header -> {field: its key}
    for _, rec in records:
        if not isinstance(rec, Mapping):
            continue
        keys = tuple(rec)
        field = shapes.get(keys)
        if field is None:
            field = shapes[keys] = {canonical_column(k): k for k in keys}
        d = rec[field["datum"]] if "datum" in field else None
        if d not in (None, "") and not isnan(d):
            continue
        try:
            lon = float(str(rec[field["lon"]] if "lon" in field else None).strip())
            lat = float(str(rec[field["lat"]] if "lat" in field else None).strip())
        except ValueError:
            continue
        lons.append(lon)  # in pairs: a row with a good lon and a bad lat adds neither
        lats.append(lat)
    return np.array(lons, dtype=float), np.array(lats, dtype=float)


def locate_reports(
    reports: Sequence[Report],
    gdf_segments: gpd.GeoDataFrame,
    *,
    gdf_zones: gpd.GeoDataFrame | None = None,
    assignment: Mapping[str, str] | pd.DataFrame | None = None,
    max_distance_m: float = 200.0,
) -> list[Report]:
    """Snap each report to its street segment, zone, front and responsible person.

    The zone and front come from the segment; a segment without a zone (main-street
    fronts) takes the zone polygon containing the point when ``gdf_zones`` is given.
    ``assignment`` maps segment_id -> person_id (a dict, or a frame with both columns,
    as the districts work produces). Distances are measured in the segments' own metric
    CRS (the geography's); ``gdf_zones`` must be in the same CRS.
    """
    if not reports:
        return []
    crs = intake_crs(gdf_segments)
    if gdf_zones is not None:
        require_same_crs(gdf_segments, gdf_zones, what="segments and zones")
    pts = gpd.GeoSeries(_metric_points(reports, crs), crs=gdf_segments.crs)
    snaps = SegmentIndex(gdf_segments).snap_many(pts, max_distance_m=max_distance_m)
    if isinstance(assignment, pd.DataFrame):
        assignment = dict(zip(assignment["segment_id"], assignment["person_id"], strict=True))
    zone_of_point: list[str | None] = [None] * len(reports)
    if gdf_zones is not None and len(gdf_zones):
        joined = gpd.sjoin(
            gpd.GeoDataFrame(geometry=pts, crs=gdf_segments.crs),
            gdf_zones[["zone_id", "geometry"]],
            how="left",
            predicate="within",
        )
        joined = joined[~joined.index.duplicated()]
        zone_of_point = [None if pd.isna(z) else str(z) for z in joined["zone_id"]]

    # plain lists and dicts: per-row pandas indexing costs more than the snapping itself
    def _text(v: Any) -> str | None:
        return None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)

    seg_ids = [str(s) for s in gdf_segments["segment_id"]]
    zone_of_seg = dict(
        zip(
            seg_ids,
            (_text(v) for v in gdf_segments.get("zone_id", pd.Series([None] * len(seg_ids)))),
            strict=True,
        )
    )
    front_of_seg = dict(
        zip(
            seg_ids,
            (_text(v) for v in gdf_segments.get("front_id", pd.Series([None] * len(seg_ids)))),
            strict=True,
        )
    )
    snap_seg = snaps["segment_id"].tolist()
    snap_within = snaps["within"].tolist()
    snap_dist = snaps["distance_m"].tolist()
    out = []
    for i, r in enumerate(reports):
        seg_id = str(snap_seg[i]) if bool(snap_within[i]) else None
        zone = front = None
        if seg_id is not None:
            zone = zone_of_seg.get(seg_id)
            front = front_of_seg.get(seg_id)
        zone = zone or zone_of_point[i]
        person = assignment.get(seg_id) if (assignment and seg_id) else None
        out.append(
            dataclasses.replace(
                r,
                segment_id=seg_id,
                zone_id=zone,
                front_id=front,
                person_id=person,
                snap_distance_m=float(snap_dist[i]),
            )
        )
    return out
