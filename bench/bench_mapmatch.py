"""Map-matching benchmark: our HMM matcher against leuvenmapmatching and mappymatch on
synthetic patrol walks along known routes of the bundled Shichahai street graph.

Run from the repository root::

    python -m bench.bench_mapmatch                 # 20 walks per setting (ours), 4 (others)
    python -m bench.bench_mapmatch --walks 40 --others 8

Each walk is a 3 km random route (no U-turns except at dead ends) at 1.25 m/s with Gaussian
noise σ = 5, 15, 30 m on each axis and a fix every 1, 5 or 15 s. The score is segment-level
precision, recall and F1 of the matched street path against the segments truly walked;
speed is input fixes per second of matching. The other matchers run on the first
``--others`` walks of each setting, and ours is timed on the same walks for the ratio.

mappymatch requires pandas < 3 and this project runs pandas 3; it is not installed into
the project environment. To include it, install it beside the project without its
dependencies (``pip install --target DIR --no-deps mappymatch==0.7.1 igraph polyline
texttable``) and pass ``--extra-path DIR``. Without it the table says why it is missing.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from gis.geography.layers import load_bundled_geography
from gis.people.mapmatch import MapMatcher, segment_f1
from gis.people.simulate import SimulatedWalk, walk

SIGMAS = (5.0, 15.0, 30.0)
INTERVALS = (1.0, 5.0, 15.0)

Matcher = Callable[[SimulatedWalk], list[str]]


def walks_for(segs, sigma: float, interval: float, n: int, seed: int) -> list[SimulatedWalk]:
    """``n`` walks with a fixed seed per setting (the same traces for every matcher)."""
    rng = np.random.default_rng([seed, int(sigma), int(interval)])
    return [
        walk(segs, length_m=3000.0, interval_s=interval, sigma_m=sigma, rng=rng) for _ in range(n)
    ]


def score(match: Matcher, walks: list[SimulatedWalk]) -> tuple[float, float, float, float]:
    """Mean precision, recall, F1 and fixes per second."""
    prf = []
    fixes = 0
    elapsed = 0.0
    for w in walks:
        t = time.perf_counter()
        path = match(w)
        elapsed += time.perf_counter() - t
        fixes += len(w.x)
        prf.append(segment_f1(path, w.segments))
    p, r, f = np.mean(prf, axis=0)
    return float(p), float(r), float(f), fixes / max(elapsed, 1e-9)


# -- leuvenmapmatching ----------------------------------------------------------------------
def leuven_matcher(segs) -> Callable[[float], Matcher]:
    """A factory: σ → matcher, on the same graph (shape points kept as nodes)."""
    from leuvenmapmatching.map.inmem import InMemMap
    from leuvenmapmatching.matcher.distance import DistanceMatcher

    logging.getLogger("be.kuleuven.cs.dtai.mapmatching").setLevel(logging.ERROR)
    m = InMemMap("shichahai", use_latlon=False, use_rtree=True, index_edges=True)
    owner: dict[tuple[int, int], str] = {}
    inner_id = 10_000_000  # shape points get ids above the junction ids (rtree wants ints)
    for sid, u, v, geom in zip(
        segs["segment_id"], segs["u"], segs["v"], segs.geometry, strict=True
    ):
        coords = list(geom.coords)
        inner = list(range(inner_id, inner_id + len(coords) - 2))
        inner_id += len(inner)
        names = [int(u), *inner, int(v)]
        for name, (x, y) in zip(names, coords, strict=True):
            m.add_node(name, (y, x))
        for a, b in zip(names, names[1:], strict=False):
            m.add_edge(a, b)
            m.add_edge(b, a)
            owner[(a, b)] = owner[(b, a)] = str(sid)

    def make(sigma: float) -> Matcher:
        def match(w: SimulatedWalk) -> list[str]:
            matcher = DistanceMatcher(
                m,
                max_dist=max(60.0, 4 * sigma),
                obs_noise=sigma,
                obs_noise_ne=2 * sigma,
                dist_noise=sigma,
                non_emitting_states=True,
                max_lattice_width=5,
            )
            matcher.match([(y, x) for x, y in zip(w.x, w.y, strict=True)])
            nodes = matcher.path_pred_onlynodes
            path = [owner.get((a, b)) for a, b in zip(nodes, nodes[1:], strict=False)]
            return [p for p in path if p is not None]

        return match

    return make


# -- mappymatch -------------------------------------------------------------------------------
def mappy_matcher(segs) -> Matcher:
    """mappymatch's offline LCSS matcher on the same graph (projected to EPSG:3857)."""
    import geopandas as gpd
    import networkx as nx
    from mappymatch.constructs.trace import Trace
    from mappymatch.maps.nx.nx_map import NxMap
    from mappymatch.matchers.lcss.lcss import LCSSMatcher
    from pyproj import CRS

    web = segs.to_crs("EPSG:3857")
    g = nx.MultiDiGraph()
    g.graph["crs"] = CRS("EPSG:3857")
    for sid, u, v, geom, length in zip(
        web["segment_id"], web["u"], web["v"], web.geometry, segs["length_m"], strict=True
    ):
        for a, b, line in ((u, v, geom), (v, u, geom.reverse())):
            g.add_edge(
                int(a),
                int(b),
                key=str(sid),
                geometry=line,
                kilometers=float(length) / 1000.0,
                minutes=float(length) / 75.0,
                metadata={"segment_id": str(sid)},
            )
    road_map = NxMap(g)
    matcher = LCSSMatcher(road_map)

    def match(w: SimulatedWalk) -> list[str]:
        frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy(w.x, w.y), crs=segs.crs)
        trace = Trace.from_geo_dataframe(frame, xy=True)
        result = matcher.match_trace(trace)
        out: list[str] = []
        for mt in result.matches:
            if mt.road is None:
                continue
            sid = mt.road.road_id.key
            if not out or out[-1] != sid:
                out.append(str(sid))
        return out

    return match


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--walks", type=int, default=20, help="walks per setting for ours")
    ap.add_argument("--others", type=int, default=4, help="walks per setting for the others")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--extra-path", help="a folder with mappymatch installed beside the project")
    args = ap.parse_args(argv)
    if args.extra_path:
        sys.path.append(args.extra_path)
    geo = load_bundled_geography()
    segs = geo.segments
    t = time.perf_counter()
    ours = MapMatcher(segs)
    print(f"graph: {len(segs)} segments; our matcher built in {time.perf_counter() - t:.3f} s")

    def our_match(w: SimulatedWalk) -> list[str]:
        return list(ours.match(w.x, w.y).path)

    others: dict[str, Callable[[float], Matcher] | str] = {}
    try:
        others["leuvenmapmatching"] = leuven_matcher(segs)
    except Exception as exc:  # noqa: BLE001 - report any failure to set up the baseline
        others["leuvenmapmatching"] = f"unavailable: {type(exc).__name__}: {exc}"
    try:
        mappy = mappy_matcher(segs)
        others["mappymatch"] = lambda _sigma: mappy
    except Exception as exc:  # noqa: BLE001
        others["mappymatch"] = f"unavailable: {type(exc).__name__}: {exc}"

    print("\n| σ m | every s | fixes | ours P / R / F1 | ours fixes/s |")
    print("|---|---|---|---|---|")
    for sigma in SIGMAS:
        for interval in INTERVALS:
            walks = walks_for(segs, sigma, interval, args.walks, args.seed)
            p, r, f, speed = score(our_match, walks)
            n = sum(len(w.x) for w in walks)
            print(
                f"| {sigma:g} | {interval:g} | {n} | {p:.3f} / {r:.3f} / {f:.3f} | {speed:,.0f} |"
            )

    for name, factory in others.items():
        print(f"\n{name} (first {args.others} walks per setting, ours on the same walks)")
        if isinstance(factory, str):
            print(f"  {factory}")
            continue
        print(
            "| σ m | every s | theirs F1 | ours F1 | theirs fixes/s | ours fixes/s | speed ×ours |"
        )
        print("|---|---|---|---|---|---|---|")
        for sigma in SIGMAS:
            for interval in INTERVALS:
                walks = walks_for(segs, sigma, interval, args.others, args.seed)
                try:
                    _, _, tf, ts = score(factory(sigma), walks)
                except Exception as exc:  # noqa: BLE001
                    print(f"| {sigma:g} | {interval:g} | failed: {type(exc).__name__}: {exc} |")
                    continue
                _, _, of, os_ = score(our_match, walks)
                print(
                    f"| {sigma:g} | {interval:g} | {tf:.3f} | {of:.3f} | {ts:,.0f} | {os_:,.0f} "
                    f"| {os_ / ts:,.1f} |"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
