"""Hidden-Markov map matching of GPS tracks onto the street segments (Newson & Krumm 2009).

States are candidate positions on segments near each fix (an STR-tree query); the emission
is a Gaussian in the distance from the fix to the candidate; the transition penalises the
difference between the route distance along the street graph and the straight distance
between consecutive fixes (exponential, scale ``beta_m``). Route distances come from one
all-pairs shortest-path table of the junctions (the bundled graph has a few hundred), so
transitions for a whole track are computed at once with numpy; only the Viterbi recursion
runs step by step on small K×K arrays. Fixes closer than ``thin_sigmas``·σ to the last kept
fix add little but noise (Newson & Krumm §4.1 use 2σ; on the short hutong segments 5σ
measured best, see bench/README.md): they are matched with their kept neighbour. A fix
matched within max(10 m, 2σ) of a segment's end stands at the junction, so brushing past a
side street does not count as walking it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from gis.errors import CRSError, ValidationError
from gis.geography.crs import METRIC

log = logging.getLogger(__name__)

_NEG = -1e18


@dataclass(frozen=True)
class MatchResult:
    """Where each fix was matched and the street path walked.

    ``segment`` holds the matched segment id per fix (``None`` where no street was within
    reach); ``path`` is the ordered list of segments walked, including the ones between
    fixes; ``breaks`` counts the places the track could not be followed along the streets.
    """

    segment: tuple[str | None, ...]
    offset_m: np.ndarray
    distance_m: np.ndarray
    path: tuple[str, ...]
    breaks: int
    sigma_m: float

    @property
    def matched_share(self) -> float:
        """Share of fixes matched to a street."""
        if not self.segment:
            return 0.0
        return sum(s is not None for s in self.segment) / len(self.segment)


class MapMatcher:
    """A matcher for one street network (build once, match many tracks).

    Parameters
    ----------
    gdf_segments
        Segments per the network contract (EPSG:32650, ``segment_id``, ``u``, ``v``).
    radius_m
        Candidates are searched this far from each fix (at least ``4σ`` is used).
    max_candidates
        At most this many nearest segments per fix.
    beta_m
        Scale of the transition penalty on |route distance − straight distance|.
    sigma_m
        GPS noise; ``None`` estimates it per track from the distances to the nearest
        street (1.4826 × median, at least 3 m).
    thin_sigmas
        Fixes closer than this many σ to the last kept fix are not HMM steps.
    """

    def __init__(
        self,
        gdf_segments: gpd.GeoDataFrame,
        *,
        radius_m: float = 60.0,
        max_candidates: int = 8,
        beta_m: float = 5.0,
        sigma_m: float | None = None,
        thin_sigmas: float = 5.0,
    ) -> None:
        if gdf_segments.crs is None or gdf_segments.crs.to_string() != METRIC:
            raise CRSError(
                f"segments must be in {METRIC}, got {gdf_segments.crs}",
                source="segments",
                fix="reproject with gis.geography.crs.to_metric",
            )
        if len(gdf_segments) == 0:
            raise ValidationError("no street segments to match onto", field="segments")
        self.radius_m = float(radius_m)
        self.max_candidates = int(max_candidates)
        self.beta_m = float(beta_m)
        self.sigma_m = sigma_m
        self.thin_sigmas = float(thin_sigmas)
        self.ids = np.asarray(gdf_segments["segment_id"].astype(str))
        self.geoms = np.asarray(gdf_segments.geometry.values)
        self.length = shapely.length(self.geoms)
        nodes = np.unique(np.concatenate([gdf_segments["u"], gdf_segments["v"]]))
        index = {int(n): i for i, n in enumerate(nodes)}
        self.u = np.array([index[int(n)] for n in gdf_segments["u"]], dtype=np.int64)
        self.v = np.array([index[int(n)] for n in gdf_segments["v"]], dtype=np.int64)
        n = len(nodes)
        # the shortest segment between each pair of junctions (parallel streets exist)
        best: dict[tuple[int, int], int] = {}
        for i, (a, b) in enumerate(zip(self.u, self.v, strict=True)):
            for key in ((int(a), int(b)), (int(b), int(a))):
                if key not in best or self.length[i] < self.length[best[key]]:
                    best[key] = i
        self._edge = best
        rows = np.array([k[0] for k in best], dtype=np.int64)
        cols = np.array([k[1] for k in best], dtype=np.int64)
        w = np.array([self.length[i] for i in best.values()])
        graph = csr_matrix((np.maximum(w, 1e-3), (rows, cols)), shape=(n, n))
        dist, pred = dijkstra(graph, directed=True, return_predecessors=True)
        dist[~np.isfinite(dist)] = 1e9
        self.D = dist
        self.pred = pred
        self.tree = shapely.STRtree(self.geoms)

    # -- candidates --------------------------------------------------------------------
    def _candidates(
        self, x: np.ndarray, y: np.ndarray, radius: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(T, K) segment index (−1 = none), distance and offset along the segment."""
        T, K = len(x), self.max_candidates
        pts = shapely.points(x, y)
        pi, gi = self.tree.query(pts, predicate="dwithin", distance=radius)
        seg = np.full((T, K), -1, dtype=np.int64)
        dist = np.full((T, K), np.inf)
        off = np.zeros((T, K))
        if len(pi) == 0:
            return seg, dist, off
        d = shapely.distance(pts[pi], self.geoms[gi])
        order = np.lexsort((d, pi))
        pi, gi, d = pi[order], gi[order], d[order]
        first = np.searchsorted(pi, pi, side="left")
        rank = np.arange(len(pi)) - first
        keep = rank < K
        pi, gi, d, rank = pi[keep], gi[keep], d[keep], rank[keep]
        seg[pi, rank] = gi
        dist[pi, rank] = d
        off[pi, rank] = shapely.line_locate_point(self.geoms[gi], pts[pi])
        return seg, dist, off

    def _route_dist(
        self, sa: np.ndarray, oa: np.ndarray, sb: np.ndarray, ob: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Shortest walking distance between positions (broadcast) and which ends were used.

        The second array codes the ends: 0 = same segment, 1…4 = (a.u|a.v) → (b.u|b.v).
        """
        sa0, sb0 = np.maximum(sa, 0), np.maximum(sb, 0)
        la, lb = self.length[sa0], self.length[sb0]
        ua, va, ub, vb = self.u[sa0], self.v[sa0], self.u[sb0], self.v[sb0]
        opts = np.stack(
            [
                oa + self.D[ua, ub] + ob,
                oa + self.D[ua, vb] + (lb - ob),
                (la - oa) + self.D[va, ub] + ob,
                (la - oa) + self.D[va, vb] + (lb - ob),
            ]
        )
        which = opts.argmin(axis=0)
        route = np.take_along_axis(opts, which[None], axis=0)[0]
        same = sa == sb
        route = np.where(same, np.abs(ob - oa), route)
        return route, np.where(same, 0, which + 1)

    # -- matching ----------------------------------------------------------------------
    def match(self, x: ArrayLike, y: ArrayLike) -> MatchResult:
        """Match fixes given in metres (EPSG:32650), in time order."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        T = len(x)
        if T == 0:
            return MatchResult((), np.zeros(0), np.zeros(0), (), 0, 0.0)
        sigma = self._sigma(x, y)
        radius = max(self.radius_m, 4.0 * sigma)
        keep = _thin(x, y, self.thin_sigmas * sigma)
        kx, ky = x[keep], y[keep]
        seg, dist, off = self._candidates(kx, ky, radius)
        valid = seg >= 0
        emis = np.where(valid, -0.5 * (dist / sigma) ** 2, _NEG)
        n = len(kx)
        back = np.zeros((n, self.max_candidates), dtype=np.int64)
        starts = np.zeros(n, dtype=bool)
        starts[0] = True
        if n > 1:
            gc = np.hypot(np.diff(kx), np.diff(ky))
            route, _ = self._route_dist(
                seg[:-1, :, None], off[:-1, :, None], seg[1:, None, :], off[1:, None, :]
            )
            trans = -np.abs(route - gc[:, None, None]) / self.beta_m
            trans = np.where(valid[:-1, :, None] & valid[1:, None, :], trans, _NEG)
        score = emis[0].copy()
        scores = np.empty((n, self.max_candidates))
        scores[0] = score
        cols = np.arange(self.max_candidates)
        for t in range(1, n):
            m = score[:, None] + trans[t - 1]
            b = m.argmax(axis=0)
            new = m[b, cols] + emis[t]
            if new.max() <= _NEG / 2:  # the street path breaks here: start afresh
                starts[t] = True
                new = emis[t].copy()
            back[t] = b
            score = new
            scores[t] = score
        # backtrack each piece
        best = np.full(n, -1, dtype=np.int64)
        t = n - 1
        best[t] = int(score.argmax()) if score.max() > _NEG / 2 else -1
        while t > 0:
            if starts[t]:
                # the previous piece ends at t-1: pick its best end state again
                prev_score = scores[t - 1]
                best[t - 1] = int(prev_score.argmax()) if prev_score.max() > _NEG / 2 else -1
            else:
                best[t - 1] = back[t, best[t]] if best[t] >= 0 else -1
            t -= 1
        rows = np.arange(n)
        chosen = np.where(best >= 0, seg[rows, np.maximum(best, 0)], -1)
        chosen = np.where(valid[rows, np.maximum(best, 0)], chosen, -1)
        coff = off[rows, np.maximum(best, 0)]
        cdist = np.where(chosen >= 0, dist[rows, np.maximum(best, 0)], np.nan)
        path, breaks = self._path(chosen, coff, starts, tol=max(10.0, 2.0 * sigma))
        # thinned fixes take the match of the kept fix before them
        owner = np.cumsum(keep) - 1
        seg_ids = tuple(
            (str(self.ids[chosen[o]]) if chosen[o] >= 0 else None) for o in owner.tolist()
        )
        return MatchResult(
            segment=seg_ids,
            offset_m=coff[owner],
            distance_m=cdist[owner],
            path=tuple(path),
            breaks=breaks,
            sigma_m=sigma,
        )

    def _sigma(self, x: np.ndarray, y: np.ndarray) -> float:
        if self.sigma_m is not None:
            return float(self.sigma_m)
        pts = shapely.points(x, y)
        _, gi = self.tree.query_nearest(pts, return_distance=False, all_matches=False)
        d = shapely.distance(pts, self.geoms[gi])
        return float(max(3.0, 1.4826 * np.median(d)))

    def _path(
        self, chosen: np.ndarray, off: np.ndarray, starts: np.ndarray, tol: float
    ) -> tuple[list[str], int]:
        """The segments walked, in order, with the connecting segments filled in.

        A fix matched within ``tol`` of a segment's end is taken to stand at the junction:
        it is no evidence that the side street was entered.
        """
        path: list[int] = []
        breaks = 0
        prev: tuple[int, int, float] | None = None  # (kind 0=segment 1=node, id, offset)
        for t in range(len(chosen)):
            s = int(chosen[t])
            if s < 0:
                if prev is not None:
                    breaks += 1
                prev = None
                continue
            o = float(off[t])
            L = float(self.length[s])
            edge = min(tol, 0.45 * L)
            if o <= edge:
                cur = (1, int(self.u[s]), 0.0)
            elif o >= L - edge:
                cur = (1, int(self.v[s]), 0.0)
            else:
                cur = (0, s, o)
            if prev is None or (t > 0 and starts[t]):
                if prev is not None and path:  # a new part; a gap (s < 0) counted its own
                    breaks += 1
                if cur[0] == 0:
                    path.append(s)
                prev = cur
                continue
            path += self._connect(prev, cur)
            if cur[0] == 0 and (prev[0] != 0 or prev[1] != s):
                path.append(s)
            prev = cur
        out: list[str] = []
        for s in path:
            sid = str(self.ids[s])
            if not out or out[-1] != sid:
                out.append(sid)
        return out, breaks

    def _connect(self, a: tuple[int, int, float], b: tuple[int, int, float]) -> list[int]:
        """Segments strictly between two positions (a segment position or a junction)."""
        if a[0] == 0 and b[0] == 0 and a[1] == b[1]:
            return []
        if a[0] == 0:
            sa, oa = a[1], a[2]
            ends_a = [(int(self.u[sa]), oa), (int(self.v[sa]), float(self.length[sa]) - oa)]
        else:
            ends_a = [(a[1], 0.0)]
        if b[0] == 0:
            sb, ob = b[1], b[2]
            ends_b = [(int(self.u[sb]), ob), (int(self.v[sb]), float(self.length[sb]) - ob)]
        else:
            ends_b = [(b[1], 0.0)]
        best = min(
            ((da + self.D[na, nb] + db, na, nb) for na, da in ends_a for nb, db in ends_b),
            key=lambda r: r[0],
        )
        return self._node_path(best[1], best[2])

    def _node_path(self, a: int, b: int) -> list[int]:
        """Segments of the shortest path from junction ``a`` to ``b``."""
        nodes = [b]
        while nodes[-1] != a:
            p = int(self.pred[a, nodes[-1]])
            if p < 0:
                return []
            nodes.append(p)
        nodes.reverse()
        return [self._edge[(nodes[i], nodes[i + 1])] for i in range(len(nodes) - 1)]


def _thin(x: np.ndarray, y: np.ndarray, min_step: float) -> np.ndarray:
    """Mask of fixes at least ``min_step`` from the previous kept fix (first and last kept)."""
    n = len(x)
    keep = np.zeros(n, dtype=bool)
    if n == 0:
        return keep
    keep[0] = True
    lx, ly = x[0], y[0]
    step2 = min_step * min_step
    xs, ys = x.tolist(), y.tolist()
    for i in range(1, n):
        dx, dy = xs[i] - lx, ys[i] - ly
        if dx * dx + dy * dy >= step2:
            keep[i] = True
            lx, ly = xs[i], ys[i]
    keep[-1] = True
    return keep


def segment_f1(matched: Sequence[str], truth: Sequence[str]) -> tuple[float, float, float]:
    """Precision, recall and F1 of the matched segments against the true ones (as sets)."""
    m, t = set(matched), set(truth)
    if not m or not t:
        return 0.0, 0.0, 0.0
    hit = len(m & t)
    p, r = hit / len(m), hit / len(t)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)
