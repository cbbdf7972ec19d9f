"""Segments as a graph: adjacency through shared junctions, pieces and network distances."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from gis.errors import ValidationError
from gis.geography.crs import require_metric


@dataclass(frozen=True)
class SegmentGraph:
    """Segments as vertices, adjacency through shared junctions, plus weights and lengths."""

    ids: tuple[str, ...]
    index: Mapping[str, int]
    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    weight: np.ndarray
    front: tuple[str, ...]
    nbrs: tuple[tuple[int, ...], ...]
    #: segments incident to each junction (node id → segment indices)
    at_node: Mapping[int, tuple[int, ...]]
    matrix: sp.csr_matrix  # line-graph distances (half length + half length)
    mid: np.ndarray  # (n, 2) midpoints, metres

    @property
    def n(self) -> int:
        """Number of segments."""
        return len(self.ids)


def check_segments(gdf_segments: gpd.GeoDataFrame) -> None:
    require_metric(gdf_segments, "segments")
    for col in ("segment_id", "u", "v", "length_m"):
        if col not in gdf_segments.columns:
            raise ValidationError(f"segments lack column {col!r}", source="segments", field=col)
    if gdf_segments["segment_id"].duplicated().any():
        dup = gdf_segments.loc[gdf_segments["segment_id"].duplicated(), "segment_id"].iloc[0]
        raise ValidationError(
            f"duplicate segment id {dup!r}", source="segments", field="segment_id"
        )


def build_segment_graph(gdf_segments: gpd.GeoDataFrame, weight: pd.Series) -> SegmentGraph:
    """The line graph of ``gdf_segments`` with ``weight`` (indexed by segment_id)."""
    check_segments(gdf_segments)
    ids = tuple(str(s) for s in gdf_segments["segment_id"])
    index = {s: i for i, s in enumerate(ids)}
    u = gdf_segments["u"].to_numpy(dtype=np.int64)
    v = gdf_segments["v"].to_numpy(dtype=np.int64)
    length = gdf_segments["length_m"].to_numpy(dtype=float)
    w = weight.reindex(list(ids)).to_numpy(dtype=float)
    front = tuple(
        str(f) if f is not None and not (isinstance(f, float) and math.isnan(f)) else ""
        for f in (gdf_segments["front_id"] if "front_id" in gdf_segments else [""] * len(ids))
    )
    at: dict[int, list[int]] = {}
    for i in range(len(ids)):
        at.setdefault(int(u[i]), []).append(i)
        if v[i] != u[i]:
            at.setdefault(int(v[i]), []).append(i)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    nb: list[set[int]] = [set() for _ in ids]
    for segs in at.values():
        for a in segs:
            for b in segs:
                if a != b:
                    nb[a].add(b)
                    rows.append(a)
                    cols.append(b)
                    vals.append(0.5 * (length[a] + length[b]) + 1e-6)
    n = len(ids)
    mat = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    mid = shapely.get_coordinates(
        shapely.line_interpolate_point(gdf_segments.geometry.values, 0.5, normalized=True)
    )
    return SegmentGraph(
        ids=ids,
        index=index,
        u=u,
        v=v,
        length=length,
        weight=w,
        front=front,
        nbrs=tuple(tuple(sorted(s)) for s in nb),
        at_node={k: tuple(vs) for k, vs in at.items()},
        matrix=mat,
        mid=mid,
    )


def connected_pieces(sg: SegmentGraph, members: Iterable[int]) -> list[list[int]]:
    """Connected pieces of a set of segments on the line graph, largest first."""
    todo = set(members)
    out: list[list[int]] = []
    while todo:
        start = min(todo)
        todo.discard(start)
        comp = [start]
        queue = deque([start])
        while queue:
            x = queue.popleft()
            for y in sg.nbrs[x]:
                if y in todo:
                    todo.discard(y)
                    comp.append(y)
                    queue.append(y)
        out.append(sorted(comp))
    out.sort(key=lambda c: (-len(c), c[0]))
    return out


def network_distances(sg: SegmentGraph, sources: Sequence[Sequence[int]]) -> np.ndarray:
    """Network distance from each district's sources to every segment (k × n)."""
    out = np.empty((len(sources), sg.n))
    for d, src in enumerate(sources):
        dist = dijkstra(sg.matrix, directed=False, indices=list(src), min_only=True)
        out[d] = dist
    return out


def shortest_path(sg: SegmentGraph, src: set[int], dst: int, blocked: set[int]) -> list[int] | None:
    """Fewest-segment path from a set to a segment avoiding ``blocked`` (BFS)."""
    prev: dict[int, int] = {s: -1 for s in src}
    q = deque(sorted(src))
    while q:
        x = q.popleft()
        if x == dst:
            path = [x]
            while prev[path[-1]] != -1:
                path.append(prev[path[-1]])
            return path
        for y in sg.nbrs[x]:
            if y not in prev and y not in blocked:
                prev[y] = x
                q.append(y)
    return None


def network_diameter(sg: SegmentGraph, mem: np.ndarray) -> float:
    """Network diameter of a district by double sweep (a tight lower bound), end to end."""
    if len(mem) == 0:
        return 0.0
    sub = sg.matrix[mem][:, mem]
    d0 = dijkstra(sub, directed=False, indices=0)
    d0 = np.where(np.isfinite(d0), d0, -1)
    far = int(np.argmax(d0))
    d1 = dijkstra(sub, directed=False, indices=far)
    d1 = np.where(np.isfinite(d1), d1, -1)
    j = int(np.argmax(d1))
    # midpoint-to-midpoint distance plus the half segments at both ends
    return float(d1[j] + 0.5 * sg.length[mem[far]] + 0.5 * sg.length[mem[j]])
