"""Synthetic patrol tracks walked along known routes of a street network.

For tests, benchmarks and the demo: the true segments are known, so a matcher's answer can be
scored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString

from gis.errors import ValidationError


@dataclass(frozen=True)
class SimulatedWalk:
    """A walk: the segments in order, the walked line, and noisy timed fixes (metres)."""

    segments: tuple[str, ...]
    line: LineString
    x: np.ndarray
    y: np.ndarray
    seconds: np.ndarray


def random_route(
    gdf_segments: gpd.GeoDataFrame,
    length_m: float,
    rng: np.random.Generator,
    *,
    start_node: int | None = None,
) -> tuple[list[str], LineString]:
    """A random walk along the streets (no U-turns except at dead ends) of ``length_m``.

    Returns the segment ids in walking order and the walked line (EPSG:32650).
    """
    if len(gdf_segments) == 0:
        raise ValidationError("no segments to walk on", field="segments")
    ids = gdf_segments["segment_id"].astype(str).to_numpy()
    us = gdf_segments["u"].astype(int).to_numpy()
    vs = gdf_segments["v"].astype(int).to_numpy()
    geoms = gdf_segments.geometry.to_numpy()
    adj: dict[int, list[int]] = {}
    for i, (a, b) in enumerate(zip(us, vs, strict=True)):
        adj.setdefault(int(a), []).append(i)
        adj.setdefault(int(b), []).append(i)
    node = int(start_node) if start_node is not None else int(rng.choice(list(adj)))
    walked: list[int] = []
    coords: list[tuple[float, float]] = []
    total = 0.0
    last = -1
    while total < length_m:
        options = [i for i in adj[node] if i != last] or adj[node]
        i = int(options[rng.integers(len(options))])
        pts = list(geoms[i].coords)
        if int(us[i]) != node:
            pts.reverse()
        coords += pts if not coords else pts[1:]
        walked.append(i)
        total += float(geoms[i].length)
        node = int(vs[i]) if int(us[i]) == node else int(us[i])
        last = i
    return [str(ids[i]) for i in walked], LineString(coords)


def walk(
    gdf_segments: gpd.GeoDataFrame,
    *,
    length_m: float,
    interval_s: float,
    sigma_m: float,
    rng: np.random.Generator,
    speed_mps: float = 1.25,
) -> SimulatedWalk:
    """Walk a random route at ``speed_mps``, a fix every ``interval_s`` with Gaussian noise
    of ``sigma_m`` on each axis."""
    segs, line = random_route(gdf_segments, length_m, rng)
    n = int(line.length / (speed_mps * interval_s)) + 1
    secs = np.arange(n) * interval_s
    pts = shapely.line_interpolate_point(line, np.minimum(secs * speed_mps, line.length))
    x = shapely.get_x(pts) + rng.normal(0.0, sigma_m, n)
    y = shapely.get_y(pts) + rng.normal(0.0, sigma_m, n)
    return SimulatedWalk(tuple(segs), line, x, y, secs)


def fix_times(start: dt.datetime, seconds: Sequence[float]) -> list[dt.datetime]:
    """Timestamps of fixes ``seconds`` after ``start``."""
    return [start + dt.timedelta(seconds=float(s)) for s in seconds]
