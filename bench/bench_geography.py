"""Reading a subdistrict's geography from the store, per store, against the folder it came from.

The baseline is loading the same geography from its folder of layer files in the same run
(read, validate, derive fronts, clip zones, cut segments: what every process did before
the layers were in the store). Measured per geography (the bundled Shichahai, and the
Helsinki centre import of the tests when ``--helsinki`` is given): saving into the store,
reading back, and the cheap check the app runs at most every 10 s (the layer version).

    python -m bench.bench_geography [--runs 7] [--postgis] [--helsinki]

``--postgis`` starts a throwaway PostGIS cluster (Debian's postgresql-15-postgis-3).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gis.geography.layers import load_geography
from gis.settings import BUNDLED_DATA_DIR

EXTRACT = Path(__file__).resolve().parents[1] / "tests/osm/fixtures/helsinki_small.osm.bz2"


def _median_ms(func: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        func()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def measure(store: Any, folder: Path, runs: int, label: str) -> None:
    geo = load_geography(folder)
    base = _median_ms(lambda: load_geography(folder), runs)
    save = _median_ms(lambda: store.save_geography(geo, by="bench"), max(2, runs // 2))
    read = _median_ms(store.read_geography, runs)
    check = _median_ms(store.geography_version, runs * 20)
    print(
        f"{label}: folder {base:.0f} ms (baseline), store save {save:.0f} ms (×{save / base:.2f}), "
        f"read {read:.0f} ms (×{read / base:.2f}), version check {check:.2f} ms "
        f"(×{check / base:.4f}); median of {runs}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--postgis", action="store_true")
    ap.add_argument("--helsinki", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folders = [("shichahai", BUNDLED_DATA_DIR / "shichahai")]
        if args.helsinki:
            from gis.cli import main as patrol

            out = Path(tmp) / "helsinki"
            patrol(["import-osm", str(EXTRACT), "--out", str(out), "--allow-outside-china"])
            folders.append(("helsinki_centre", out))
        from gis.store.geopackage import GeoPackageStore

        for code, folder in folders:
            with GeoPackageStore(Path(tmp) / "bench.gpkg", subdistrict=code) as s:
                measure(s, folder, args.runs, f"GeoPackage {code}")
        if args.postgis:
            from gis.store.postgis import PostGISStore
            from gis.store.testing import PgCluster

            with PgCluster() as cluster:
                url = cluster.create_database("bench_geography")
                for code, folder in folders:
                    with PostGISStore(url, subdistrict=code) as s:
                        measure(s, folder, args.runs, f"PostGIS {code}")


if __name__ == "__main__":
    main()
