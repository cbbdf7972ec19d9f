"""A walk on the street graph: its edges in order, length, walking time, deadheading and line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import networkx as nx
import numpy as np
import shapely
from shapely.geometry import LineString

from gis.errors import NotFoundError
from gis.geography.crs import METRIC


class RouteEdge(NamedTuple):
    """One traversal of a segment: walked from ``u`` to ``v``; ``deadhead`` when not patrolling
    (a repeat or a connecting street outside the required set)."""

    u: int
    v: int
    segment_id: str
    length: float
    deadhead: bool


@dataclass(frozen=True)
class Route:
    """A patrol walk and its quality figures (lengths in metres, geometry in :attr:`crs`).

    ``gap`` is ``(total_m - lower_bound_m) / lower_bound_m``: 0 for an exact postman tour.
    """

    edges: tuple[RouteEdge, ...]
    start_node: int
    end_node: int
    total_m: float
    required_m: float
    deadhead_m: float
    lower_bound_m: float
    gap: float
    geometry: LineString
    walk_speed_kmh: float = 4.5
    method: str = "exact"
    extra: dict[str, float] = field(default_factory=dict)
    #: The metric CRS of ``geometry`` (the street graph's ``G.graph["crs"]``).
    crs: str = METRIC

    @classmethod
    def from_edges(
        cls,
        G: nx.MultiGraph,
        edges: list[RouteEdge],
        start_node: int,
        end_node: int,
        lower_bound_m: float,
        walk_speed_kmh: float,
        method: str,
    ) -> Route:
        """A route from its walk: lengths, the bound (never above the walk) and the gap."""
        total = float(sum(e.length for e in edges))
        required = float(sum(e.length for e in edges if not e.deadhead))
        lb = min(lower_bound_m, total)  # guard against rounding above the walk itself
        return cls(
            edges=tuple(edges),
            start_node=start_node,
            end_node=end_node,
            total_m=total,
            required_m=required,
            deadhead_m=total - required,
            lower_bound_m=lb,
            gap=(total - lb) / lb if lb > 0 else 0.0,
            geometry=route_geometry(G, edges, start_node),
            walk_speed_kmh=walk_speed_kmh,
            method=method,
            crs=str(G.graph.get("crs", METRIC)),
        )

    @property
    def duration_min(self) -> float:
        """Walking time at ``walk_speed_kmh`` (no stops)."""
        return self.total_m / (self.walk_speed_kmh * 1000.0 / 60.0)

    @property
    def segment_ids(self) -> list[str]:
        """Segments in walking order (repeats included)."""
        return [e.segment_id for e in self.edges]

    @property
    def nodes(self) -> list[int]:
        """Nodes in walking order, from ``start_node`` to ``end_node``."""
        if not self.edges:
            return [self.start_node]
        return [self.edges[0].u] + [e.v for e in self.edges]


def route_geometry(G: nx.MultiGraph, edges: Sequence[RouteEdge], start_node: int) -> LineString:
    """The walk as one LineString (EPSG:32650), each segment oriented in walking order."""
    if not edges:
        n = G.nodes[start_node]
        return LineString([(n["x"], n["y"]), (n["x"], n["y"])])
    parts: list[np.ndarray] = []
    for e in edges:
        try:
            data = G.edges[e.u, e.v, e.segment_id]
        except KeyError:
            raise NotFoundError(
                f"segment {e.segment_id!r} does not join nodes {e.u} and {e.v}"
            ) from None
        geom = data.get("geometry")
        if geom is None:
            xy = np.array(
                [[G.nodes[e.u]["x"], G.nodes[e.u]["y"]], [G.nodes[e.v]["x"], G.nodes[e.v]["y"]]]
            )
        else:
            xy = shapely.get_coordinates(geom)
            if data.get("from_node", e.u) != e.u:
                xy = xy[::-1]
        parts.append(xy)
    coords = np.concatenate(parts)
    # drop repeated joints between consecutive segments
    keep = np.ones(len(coords), dtype=bool)
    keep[1:] = np.any(coords[1:] != coords[:-1], axis=1)
    coords = coords[keep]
    if len(coords) < 2:
        coords = np.vstack([coords, coords])
    return LineString(coords)
