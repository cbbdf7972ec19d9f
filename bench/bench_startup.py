"""Start-up time of the ``patrol`` command against a bare interpreter, printed as ratios.

Run from the repository root: ``python -m bench.bench_startup --runs 15``. Each figure is
the median wall time of fresh interpreter processes started one after another, in
alternation, so that the baseline (``python -c pass``) meets the same machine load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CASES: dict[str, list[str]] = {
    "python -c pass (baseline)": ["-c", "pass"],
    "patrol --help": ["-m", "gis.cli", "--help"],
    "patrol route --help": ["-m", "gis.cli", "route", "--help"],
    "patrol import-osm --help": ["-m", "gis.cli", "import-osm", "--help"],
    "every command module imported (the old --help)": [
        "-c",
        "from gis.cli import build_parser; build_parser()",
    ],
}


def _run(args: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=15)
    runs = ap.parse_args().runs
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for args in CASES.values():  # warm the file cache
        _run(args, env)
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(runs):
        for name, args in CASES.items():
            times[name].append(_run(args, env))
    base = statistics.median(times["python -c pass (baseline)"])
    print(f"{'command':<48} {'median':>9} {'ratio':>7}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<48} {med * 1000:7.0f} ms {med / base:7.2f}")


if __name__ == "__main__":
    main()
