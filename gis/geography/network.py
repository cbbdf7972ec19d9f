"""The walkable street graph: noding street lines into segments, building and snapping.

Contract used by every other module (districts, routing, cases, hotspots):

* ``gdf_segments`` — one row per street segment between two junctions, in the geography's
  metric CRS (``Geography.crs``; EPSG:32650 for the bundled Shichahai data), columns
  ``segment_id`` (str, unique), ``u``, ``v`` (int node ids; the geometry runs from u to v),
  ``street_id``, ``name`` (Chinese, ``""`` when unnamed), ``name_en``, ``highway`` (OSM class),
  ``kind``, ``front_id``, ``zone_id`` (str or None for main-street fronts), ``length_m``.
* ``G`` — an undirected ``networkx.MultiGraph`` with ``G.graph["crs"]`` that metric CRS;
  nodes carry ``x``, ``y`` (metres); each edge carries the segment's columns as attributes
  (``segment_id``, ``length`` in metres, ``name``, ``highway``, ``kind``, ``front_id``,
  ``zone_id``, ``geometry``) and the edge key is the ``segment_id``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Point

from gis.errors import CRSError, NetworkError, ValidationError
from gis.geography.crs import METRIC, require_metric

log = logging.getLogger(__name__)

#: Coordinates are snapped to this grid (metres) so junctions match exactly.
GRID_M = 0.01
#: Segments shorter than this (metres) are noding slivers and are dropped.
MIN_SEGMENT_M = 0.5

SEGMENT_COLUMNS = [
    "segment_id",
    "u",
    "v",
    "street_id",
    "name",
    "name_en",
    "highway",
    "kind",
    "front_id",
    "zone_id",
    "length_m",
]


def _require_metric(gdf: gpd.GeoDataFrame, what: str) -> str:
    return require_metric(gdf, what)


def _round_to_grid(geoms: np.ndarray) -> Any:
    """Round every coordinate to the grid (set_precision skips geometries already gridded)."""
    return shapely.transform(geoms, lambda c: np.round(c / GRID_M) * GRID_M)


def segments_from_lines(gdf_lines: gpd.GeoDataFrame, *, snap_m: float = 2.0) -> gpd.GeoDataFrame:
    """Split street lines at every junction into segments.

    Lines are snapped to one another within ``snap_m`` (hand-drawn T-junctions rarely meet
    exactly), noded, and each piece keeps the attributes of the street it came from.
    Segment ids are ``{street_id}-{n:02d}`` numbered along the street, so they are stable
    for the same input.

    Parameters
    ----------
    gdf_lines
        Street centre lines in a metric CRS with at least ``street_id`` and ``name``.
    snap_m
        Endpoints within this distance of another line are moved onto it.
    """
    _require_metric(gdf_lines, "street lines")
    if gdf_lines.empty:
        raise NetworkError("no street lines to build a network from")
    lines = gdf_lines.copy()
    lines["geometry"] = shapely.line_merge(lines.geometry.values)
    lines = lines.explode(index_parts=False).reset_index(drop=True)
    lines = lines[lines.geometry.geom_type == "LineString"].reset_index(drop=True)
    geoms = _round_to_grid(np.asarray(lines.geometry.values, dtype=object))
    # Snap dangling endpoints onto nearby lines so T-junctions become real junctions. The
    # snap point is also inserted as a vertex of the line it lands on: rounding to the grid
    # could otherwise leave it millimetres off that line and the junction would be missed.
    tree = shapely.STRtree(geoms)
    snapped = list(geoms)
    inserts: dict[int, list[Point]] = {}
    for i, g in enumerate(geoms):
        if g is None or g.is_empty:
            continue
        coords = list(g.coords)
        changed = False
        for end in (0, -1):
            p = Point(coords[end])
            near = [int(j) for j in tree.query(p, predicate="dwithin", distance=snap_m) if j != i]
            if any(geoms[j].distance(p) < GRID_M for j in near):
                continue  # already on a street: a junction, not a dangle
            best = min(near, key=lambda j: (geoms[j].distance(p), j), default=None)
            if best is None:
                continue
            other = geoms[best]
            q = other.interpolate(other.project(p))
            coords[end] = (q.x, q.y)
            inserts.setdefault(best, []).append(q)
            changed = True
        if changed:
            snapped[i] = LineString(coords)
    for j, points in inserts.items():
        snapped[j] = shapely.snap(snapped[j], shapely.MultiPoint(points), GRID_M)
    snapped_arr = _round_to_grid(np.array(snapped, dtype=object))
    noded = shapely.union_all(snapped_arr)
    pieces = list(shapely.get_parts(noded))
    src_tree = shapely.STRtree(snapped_arr)
    rows = []
    for piece in pieces:
        if piece.length < MIN_SEGMENT_M:
            continue
        mid = piece.interpolate(0.5, normalized=True)
        cands = src_tree.query(mid, predicate="dwithin", distance=0.05)
        if len(cands) == 0:
            cands = np.array([src_tree.nearest(mid)])
        src = int(min(cands, key=lambda k: (snapped_arr[k].distance(mid), k)))
        line = snapped_arr[src]
        # orient the piece along its source street
        a = line.project(Point(piece.coords[0]))
        b = line.project(Point(piece.coords[-1]))
        if b < a:
            piece = LineString(list(piece.coords)[::-1])
            a, b = b, a
        rows.append((src, a, piece))
    if not rows:
        raise NetworkError("street lines produced no segments longer than 0.5 m")
    rows.sort(key=lambda r: (r[0], r[1]))
    records = []
    # number per street, not per drawn line: a street drawn in several parts (a
    # MultiLineString) must not reuse a segment id
    counters: dict[str, int] = {}
    line_attrs = lines.drop(columns="geometry").to_dict("records")
    for src, _pos, piece in rows:
        attrs = dict(line_attrs[src])
        n = counters.get(str(attrs["street_id"]), 0) + 1
        counters[str(attrs["street_id"])] = n
        attrs["segment_id"] = f"{attrs['street_id']}-{n:02d}"
        attrs["geometry"] = piece
        records.append(attrs)
    out = gpd.GeoDataFrame(records, geometry="geometry", crs=gdf_lines.crs)
    out = assign_node_ids(out)
    out["length_m"] = out.geometry.length
    return out


def assign_node_ids(gdf_segments: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Give every distinct endpoint (to the centimetre) an integer id, sorted by x then y."""
    starts = shapely.get_point(gdf_segments.geometry.values, 0)
    ends = shapely.get_point(gdf_segments.geometry.values, -1)
    sxy = np.round(shapely.get_coordinates(starts) / GRID_M).astype(np.int64)
    exy = np.round(shapely.get_coordinates(ends) / GRID_M).astype(np.int64)
    allxy = np.vstack([sxy, exy])
    uniq, inverse = np.unique(allxy, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    n = len(gdf_segments)
    out = gdf_segments.copy()
    out["u"] = inverse[:n].astype(int)
    out["v"] = inverse[n:].astype(int)
    out.attrs["node_xy"] = uniq * GRID_M
    return out


def graph_from_segments(gdf_segments: gpd.GeoDataFrame) -> nx.MultiGraph:
    """Build the walkable graph from segments (bundled geography and OSM imports alike)."""
    crs = _require_metric(gdf_segments, "segments")
    missing = [c for c in ("segment_id", "u", "v", "length_m") if c not in gdf_segments.columns]
    if missing:
        raise ValidationError(
            f"segments lack columns {missing}",
            source="segments",
            fix="build them with segments_from_lines",
        )
    if gdf_segments["segment_id"].duplicated().any():
        dup = gdf_segments.loc[gdf_segments["segment_id"].duplicated(), "segment_id"].iloc[0]
        raise ValidationError(
            f"duplicate segment id {dup!r}", source="segments", field="segment_id"
        )
    G = nx.MultiGraph(crs=crs)
    starts = shapely.get_coordinates(shapely.get_point(gdf_segments.geometry.values, 0))
    ends = shapely.get_coordinates(shapely.get_point(gdf_segments.geometry.values, -1))
    cols = [c for c in gdf_segments.columns if c not in ("geometry", "u", "v", "length_m")]
    records = gdf_segments[cols].to_dict("records")
    for i, (u, v, length, geom, rec) in enumerate(
        zip(
            gdf_segments["u"].to_numpy(),
            gdf_segments["v"].to_numpy(),
            gdf_segments["length_m"].to_numpy(),
            gdf_segments.geometry.values,
            records,
            strict=True,
        )
    ):
        u, v = int(u), int(v)
        if u not in G:
            G.add_node(u, x=float(starts[i, 0]), y=float(starts[i, 1]))
        if v not in G:
            G.add_node(v, x=float(ends[i, 0]), y=float(ends[i, 1]))
        attrs = {
            k: (None if (isinstance(val, float) and np.isnan(val)) else val)
            for k, val in rec.items()
        }
        attrs["length"] = float(length)
        attrs["geometry"] = geom
        attrs["from_node"] = u
        G.add_edge(u, v, key=attrs["segment_id"], **attrs)
    return G


def edge_geometry_from(G: nx.MultiGraph, u: int, v: int, key: str) -> LineString:
    """The edge's geometry oriented so that it starts at node ``u``."""
    data = G.edges[u, v, key]
    geom: LineString = data["geometry"]
    if data.get("from_node", u) == u:
        return geom
    return LineString(list(geom.coords)[::-1])


@dataclass(frozen=True)
class Snap:
    """Where a point meets the street network."""

    segment_id: str
    distance_m: float
    offset_m: float  # distance along the segment from its start (node u)
    point: Point  # the nearest point on the segment, in the segments' CRS
    u: int
    v: int


class SegmentIndex:
    """Spatial index over segments for snapping points (violations, posts, route starts)."""

    def __init__(self, gdf_segments: gpd.GeoDataFrame) -> None:
        _require_metric(gdf_segments, "segments")
        self._gdf = gdf_segments.reset_index(drop=True)
        self._geoms = self._gdf.geometry.values
        self._tree = shapely.STRtree(self._geoms)

    def snap(self, point: Point, *, max_distance_m: float = 200.0) -> Snap:
        """Nearest segment to ``point`` (segments' CRS); raises when none is within reach."""
        if point is None or point.is_empty:
            raise NetworkError("cannot snap an empty point")
        idx, dist = self._tree.query_nearest(point, return_distance=True, all_matches=True)
        if len(idx) == 0:
            raise NetworkError("the street network is empty")
        order = sorted(range(len(idx)), key=lambda k: self._gdf.at[int(idx[k]), "segment_id"])
        i = int(idx[order[0]])
        d = float(dist[order[0]])
        if d > max_distance_m:
            raise NetworkError(
                f"point is {d:.0f} m from the nearest street (limit {max_distance_m:.0f} m): "
                "check the coordinates and their datum"
            )
        geom = self._geoms[i]
        offset = float(geom.project(point))
        row = self._gdf.iloc[i]
        return Snap(
            segment_id=str(row["segment_id"]),
            distance_m=d,
            offset_m=offset,
            point=geom.interpolate(offset),
            u=int(row["u"]),
            v=int(row["v"]),
        )

    def snap_many(self, points: gpd.GeoSeries, *, max_distance_m: float = 200.0) -> pd.DataFrame:
        """Vectorised nearest segment for many points: segment_id and distance_m per point."""
        if points.crs != self._gdf.crs:
            raise CRSError(
                f"points are in {points.crs}, the segments in {self._gdf.crs}",
                source="points",
                fix="reproject the points to the geography's CRS (gis.geography.crs.to_metric)",
            )
        idx, dist = self._tree.query_nearest(points.values, return_distance=True)
        # idx is (2, m): input index, tree index; keep the first match per input
        df = pd.DataFrame({"i": idx[0], "j": idx[1], "d": dist}).drop_duplicates("i")
        out = pd.DataFrame(index=range(len(points)), columns=["segment_id", "distance_m"])
        out.loc[df["i"].to_numpy(), "segment_id"] = self._gdf["segment_id"].to_numpy()[
            df["j"].to_numpy()
        ]
        out.loc[df["i"].to_numpy(), "distance_m"] = df["d"].to_numpy()
        out["distance_m"] = out["distance_m"].astype(float)
        out["within"] = out["distance_m"] <= max_distance_m
        out.index = points.index
        return out


def check_network(G: nx.MultiGraph) -> dict[str, float]:
    """Summary and sanity figures: nodes, edges, length, components, zero-length, duplicates."""
    lengths = [d["length"] for _, _, d in G.edges(data=True)]
    pairs: dict[tuple[int, int, float], int] = {}
    dup = 0
    for u, v, d in G.edges(data=True):
        k = (min(u, v), max(u, v), round(d["length"], 1))
        pairs[k] = pairs.get(k, 0) + 1
        if pairs[k] > 1:
            dup += 1
    return {
        "nodes": G.number_of_nodes(),
        "edges": G.number_of_edges(),
        "length_km": float(sum(lengths)) / 1000.0,
        "components": nx.number_connected_components(G) if len(G) else 0,
        "zero_length": int(sum(1 for x in lengths if x <= MIN_SEGMENT_M / 2)),
        "duplicates": dup,
        "self_loops": nx.number_of_selfloops(G),
    }


def grid_segments(
    nx_cells: int,
    ny_cells: int,
    spacing_m: float = 100.0,
    *,
    origin: tuple[float, float] = (448000.0, 4421000.0),
    crs: str = METRIC,
) -> gpd.GeoDataFrame:
    """A synthetic street grid (for tests and benchmarks): ``(nx+1)·ny + nx·(ny+1)`` segments.

    ``origin`` is the south-west corner in ``crs`` (default: Shichahai in UTM 50N).
    """
    ox, oy = origin
    rows = []
    for j in range(ny_cells + 1):
        for i in range(nx_cells):
            rows.append(
                {
                    "street_id": f"H{j:03d}",
                    "name": f"横{j}条",
                    "name_en": f"East-west {j}",
                    "highway": "residential",
                    "kind": "hutong",
                    "front_id": "scenic",
                    "zone_id": None,
                    "geometry": LineString(
                        [
                            (ox + i * spacing_m, oy + j * spacing_m),
                            (ox + (i + 1) * spacing_m, oy + j * spacing_m),
                        ]
                    ),
                }
            )
    for i in range(nx_cells + 1):
        for j in range(ny_cells):
            rows.append(
                {
                    "street_id": f"V{i:03d}",
                    "name": f"竖{i}条",
                    "name_en": f"North-south {i}",
                    "highway": "residential",
                    "kind": "hutong",
                    "front_id": "scenic",
                    "zone_id": None,
                    "geometry": LineString(
                        [
                            (ox + i * spacing_m, oy + j * spacing_m),
                            (ox + i * spacing_m, oy + (j + 1) * spacing_m),
                        ]
                    ),
                }
            )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    counters: dict[str, int] = {}
    ids = []
    for sid in gdf["street_id"]:
        counters[sid] = counters.get(sid, 0) + 1
        ids.append(f"{sid}-{counters[sid]:02d}")
    gdf["segment_id"] = ids
    gdf = assign_node_ids(gdf)
    gdf["length_m"] = gdf.geometry.length
    return gdf[SEGMENT_COLUMNS + ["geometry"]]
