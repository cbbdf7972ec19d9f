"""Big batches: streamed in chunks inside one transaction, all or nothing, idempotent.

Small files with a small chunk size stand in for the 200 MB run of bench/bench_import.py.
Runs on the GeoPackage and the PostGIS store.
"""

from __future__ import annotations

import datetime as dt

import pytest

from gis.cases.batch import import_batch
from gis.errors import DatumError, ValidationError
from gis.localtime import LOCAL_TZ as TZ
from tests.security.conftest import snapshot

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=TZ)


def write(path, n: int, *, bad_at: int | None = None, dup_at: int | None = None):
    lines = ["report_id,category,lon,lat,reported_at,description"]
    for i in range(n):
        rid = "S00001" if dup_at is not None and i == dup_at else f"S{i:05d}"
        cat = "C99" if bad_at is not None and i == bad_at else "C07"
        lines.append(f"{rid},{cat},{116.37 + i * 1e-6:.6f},39.935,2026-05-01 10:00,{{{{7*7}}}} {i}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(store, path, **kw):
    return import_batch(path, store, refs=store.refs, now=NOW, received_by="desk",
                        chunk_rows=50, **kw)  # fmt: skip


def test_chunks_commit_together(store_factory, tmp_path) -> None:
    store = store_factory()
    done = run(store, write(tmp_path / "a.csv", 260))
    assert (done.added, done.skipped, done.rejected, done.rows) == (260, 0, 0, 260)
    assert store.count_cases() == 260
    assert store.get_case("S00259").description == "{{7*7}} 259"
    assert len(store.audit_trail("S00100")) == 1
    again = run(store, write(tmp_path / "a.csv", 260))
    assert (again.added, again.skipped) == (0, 260)


@pytest.mark.parametrize("where", ["bad_at", "dup_at"])
def test_a_bad_row_in_the_last_chunk_stores_nothing(store_factory, tmp_path, where) -> None:
    store = store_factory()
    run(store, write(tmp_path / "seed.csv", 3))
    before = snapshot(store)
    path = write(tmp_path / "b.csv", 260, **{where: 255})
    with pytest.raises(ValidationError, match="1 bad row"):
        run(store, path)
    assert snapshot(store) == before
    rejects = tmp_path / "rej.csv"
    done = run(store, path, keep_good=True, rejects_path=rejects)
    assert done.rejected == 1 and done.added == 256
    assert len(rejects.read_text(encoding="utf-8-sig").splitlines()) == 2


def test_an_error_inside_the_store_rolls_back(store_factory, tmp_path, monkeypatch) -> None:
    store = store_factory()
    import gis.cases.batch as v

    calls = {"n": 0}
    real = v.chunk_cases

    def flaky(*a, **k):
        calls["n"] += 1
        if calls["n"] == 4:  # three chunks of 50 are written: fail in the fourth
            raise RuntimeError("disk full")
        return real(*a, **k)

    monkeypatch.setattr(v, "chunk_cases", flaky)
    with pytest.raises(RuntimeError):
        run(store, write(tmp_path / "c.csv", 260))
    assert store.count_cases() == 0


def test_datum_is_checked_on_the_first_chunk(store_factory, tmp_path) -> None:
    from gis.geography.crs import wgs84_to_gcj02
    from tests.cases.conftest import lonlat

    store = store_factory()
    from gis.geography.network import grid_segments

    segments = grid_segments(5, 5, 100.0, origin=(446500.0, 4420300.0))
    lines = ["report_id,category,lon,lat,reported_at"]
    for i in range(20):
        lon, lat = lonlat(20 * i, 100 * (i % 5))
        glon, glat = wgs84_to_gcj02([lon], [lat])
        lines.append(f"D{i},C04,{glon[0]:.6f},{glat[0]:.6f},2026-05-01 10:00")
    path = tmp_path / "gcj.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DatumError):
        run(store, path, gdf_segments=segments)
    assert store.count_cases() == 0
    done = run(store, path, gdf_segments=segments, datum="gcj02")
    assert done.added == 20


_KILL_SCRIPT = """
import sys, time, pathlib, datetime as dt
import gis.cases.batch as v
from gis.localtime import LOCAL_TZ as TZ
from gis.store import geopackage, postgis
backend, target, flag, path = sys.argv[1:5]
store = (geopackage.GeoPackageStore if backend == "geopackage" else postgis.PostGISStore)(target)
real, calls = v.chunk_cases, [0]
def slow(*a, **k):
    calls[0] += 1
    if calls[0] == 4:  # three chunks of 50 are written: stop in the fourth
        pathlib.Path(flag).write_text("inside")
        time.sleep(120)
    return real(*a, **k)
v.chunk_cases = slow
v.import_batch(pathlib.Path(path), store, refs=store.refs, received_by="killed",
               now=dt.datetime(2026, 6, 1, 12, tzinfo=TZ), chunk_rows=50)
"""


@pytest.mark.slow
def test_killed_streaming_import_stores_nothing(store_factory, tmp_path) -> None:
    """kill -9 in the middle of a streamed import: the chunks already written vanish too."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    store = store_factory()
    run(store, write(tmp_path / "seed.csv", 3))
    path = write(tmp_path / "k.csv", 260)
    flag = tmp_path / "flag"
    args = [sys.executable, "-c", _KILL_SCRIPT, store_factory.backend, store_factory.target,
            str(flag), str(path)]  # fmt: skip
    proc = subprocess.Popen(args, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    try:
        deadline = time.monotonic() + 90
        while not flag.exists():
            assert proc.poll() is None, "the importer died before the fourth chunk"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(0.2)
    fresh = store_factory()
    assert fresh.count_cases() == 3
    done = run(fresh, path)
    assert (done.added, done.skipped) == (257, 3)
