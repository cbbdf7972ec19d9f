"""Loading geography plus graph, against a plain geopandas.read_file of the same files.

Run: python -m bench.bench_foundation [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import geopandas as gpd

from gis.geography.layers import bundled_data_dir, load_bundled_geography
from gis.geography.network import check_network
from gis.settings import Settings


def _median_seconds(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    settings = Settings.from_env({})
    folder = bundled_data_dir(settings)
    files = sorted(folder.glob("*.geojson"))

    def plain() -> None:
        for f in files:
            gpd.read_file(f)

    def ours() -> None:
        load_bundled_geography(settings).graph()

    ours()  # warm imports and caches of third-party code
    base = _median_seconds(plain, args.runs)
    full = _median_seconds(ours, args.runs)
    geo = load_bundled_geography(settings)
    stats = check_network(geo.graph())
    print(
        "layers: "
        + ", ".join(
            f"{n}={len(getattr(geo, n))}"
            for n in ("boundary", "lakes", "fronts", "zones", "streets", "segments", "pois")
        )
    )
    print(
        f"graph: nodes={stats['nodes']} edges={stats['edges']} length={stats['length_km']:.2f} km components={stats['components']}"
    )
    print(
        f"plain read_file of {len(files)} files: median {base * 1000:.1f} ms over {args.runs} runs"
    )
    print(f"load_bundled_geography + graph:      median {full * 1000:.1f} ms over {args.runs} runs")
    print(f"ratio (ours / plain read): {full / base:.2f}")


if __name__ == "__main__":
    main()
