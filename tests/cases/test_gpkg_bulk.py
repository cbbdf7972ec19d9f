"""Bulk intake into the GeoPackage: the RTree index filled per chunk, not by a trigger per row.

After a bulk load the index must hold exactly what the standard's triggers would have
written (QGIS and GDAL trust it for bounding-box filters), a failure or a killed process
mid-batch must leave neither rows nor a missing trigger, and later single inserts and
location updates must still reach the index through the triggers.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely

from gis.cases.batch import import_batch, read_batch
from gis.errors import StoreError
from gis.store import gpkg_index
from gis.store.geopackage import GeoPackageStore
from gis.store.gpkg_index import gpkg_envelope, gpkg_point_blobs, point_fids_within

from .conftest import NOW, lonlat

TRIGGERS = {f"rtree_cases_geom_{t}" for t in gpkg_index.TRIGGERS}


def _write_csv(path: Path, n: int, prefix: str = "B", start: int = 0) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["report_id", "category", "lon", "lat", "reported_at", "source", "reporter"])
        for i in range(start, start + n):
            lon, lat = lonlat(15 + (i * 37) % 470, 12 + (i * 53) % 475)
            w.writerow([f"{prefix}{i:04d}", "C07", f"{lon:.6f}", f"{lat:.6f}",
                        f"2026-05-{1 + i % 28:02d} 10:{i % 60:02d}", "patrol", f"p{i % 5}"])  # fmt: skip


def _index(path: Path) -> dict[int, tuple[float, ...]]:
    con = sqlite3.connect(path)
    try:
        return {
            r[0]: tuple(r[1:])
            for r in con.execute("SELECT id, minx, maxx, miny, maxy FROM rtree_cases_geom")
        }
    finally:
        con.close()


def _features(path: Path) -> dict[int, tuple[str, tuple[float, float, float, float] | None]]:
    """fid → (case id, envelope of the stored geometry)."""
    con = sqlite3.connect(path)
    try:
        return {
            fid: (cid, gpkg_envelope(blob))
            for fid, cid, blob in con.execute("SELECT fid, case_id, geom FROM cases")
        }
    finally:
        con.close()


def _triggers(path: Path) -> set[str]:
    con = sqlite3.connect(path)  # a fresh connection: what another program sees
    try:
        return {
            r[0]
            for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cases'"
            )
        }
    finally:
        con.close()


def _rounded_out(v: float, up: bool) -> float:
    """What SQLite's R*Tree stores for ``v`` (rtreeValueDown / rtreeValueUp)."""
    f = float(np.float32(v))
    if up and f < v:
        f = float(np.float32(v * (1 + 1 / 8388608 if v > 0 else 1 - 1 / 8388608)))
    if not up and f > v:
        f = float(np.float32(v * (1 - 1 / 8388608 if v > 0 else 1 + 1 / 8388608)))
    return f


def test_bulk_import_fills_the_index_as_the_triggers_would(tmp_path, refs):
    src = tmp_path / "r.csv"
    _write_csv(src, 120)
    bulk = tmp_path / "bulk.gpkg"
    with GeoPackageStore(bulk, refs=refs) as store:
        cache = store._con.execute("PRAGMA cache_size").fetchone()[0]
        done = import_batch(src, store, refs=refs, now=NOW, received_by="desk", chunk_rows=50)
        assert done.added == 120
        assert store._con.execute("PRAGMA cache_size").fetchone()[0] == cache  # given back
    # the same cases stored one by one through the triggers
    each = tmp_path / "each.gpkg"
    with GeoPackageStore(each, refs=refs) as one, GeoPackageStore(bulk, refs=refs) as store:
        for case in store.query_cases():
            one.add_cases([case])
    feats, index = _features(bulk), _index(bulk)
    assert len(index) == len(feats) == 120
    for fid, (_, env) in feats.items():
        assert env is not None
        minx, maxx, miny, maxy = env
        want = (
            _rounded_out(minx, False),
            _rounded_out(maxx, True),
            _rounded_out(miny, False),
            _rounded_out(maxy, True),
        )
        assert index[fid] == want, fid
        assert index[fid][0] <= minx <= maxx <= index[fid][1]
        assert index[fid][2] <= miny <= maxy <= index[fid][3]
    by_id = {cid: index[fid] for fid, (cid, _) in feats.items()}
    index_each = _index(each)
    by_id_each = {cid: index_each[fid] for fid, (cid, _) in _features(each).items()}
    assert by_id == by_id_each  # bit for bit what the standard's triggers write
    assert _triggers(bulk) == TRIGGERS
    # GDAL reads the file as indexed and its bbox answers equal a scan
    assert int(
        pyogrio.read_dataframe(bulk, sql="SELECT HasSpatialIndex('cases', 'geom') AS h").iloc[0, 0]
    )
    xs = sorted(e[0] for _, e in feats.values())
    ys = sorted(e[2] for _, e in feats.values())
    box = (xs[20], ys[30], xs[90], ys[100])
    gdal = set(pyogrio.read_dataframe(bulk, layer="cases", bbox=box)["case_id"])
    scan = {
        cid
        for cid, e in feats.values()
        if box[0] <= e[0] <= box[2] and box[1] <= e[2] <= box[3]  # type: ignore[index]
    }
    assert 0 < len(scan) < 120 and gdal == scan


def test_a_failure_mid_batch_leaves_no_rows_and_the_triggers(tmp_path, refs, monkeypatch):
    first, src = tmp_path / "first.csv", tmp_path / "r.csv"
    _write_csv(first, 3, prefix="A")
    _write_csv(src, 100, start=3)  # other places and times: none is a duplicate
    path = tmp_path / "c.gpkg"
    store = GeoPackageStore(path, refs=refs)
    import_batch(first, store, refs=refs, now=NOW, received_by="desk")
    before = (_features(path), _index(path))
    real = store.add_case_columns
    seen = []

    def failing(chunks):
        def gen():
            for chunk in chunks:
                seen.append(len(chunk))
                if len(seen) == 2:  # the first chunk is in the file by now
                    raise OSError("disk went away")
                yield chunk

        return real(gen())

    monkeypatch.setattr(store, "add_case_columns", failing)
    with pytest.raises(OSError, match="disk went away"):
        import_batch(src, store, refs=refs, now=NOW, received_by="desk", chunk_rows=40)
    assert len(seen) == 2 and seen[0] > 0  # failed with one chunk written, in the transaction
    assert (_features(path), _index(path)) == before
    assert _triggers(path) == TRIGGERS
    monkeypatch.undo()
    # the index still follows single inserts (through the restored trigger) and moves
    _write_csv(src, 1, prefix="S", start=7)
    (report,) = read_batch(src, refs=refs, now=NOW).reports
    store.add_reports([report], received_by="desk")  # one report: the trigger's path
    feats, index = _features(path), _index(path)
    assert len(feats) == len(index) == 4
    (fid,) = (f for f, (cid, _) in feats.items() if cid == "S0007")
    assert index[fid][0] <= report.lon <= index[fid][1]
    moved = gpkg_point_blobs([116.39], [39.94])[0]
    with store._write():
        store._con.execute("UPDATE cases SET geom = ? WHERE case_id = 'A0001'", (moved,))
    fid = next(f for f, (cid, _) in _features(path).items() if cid == "A0001")
    box = _index(path)[fid]
    assert box[0] <= 116.39 <= box[1] and box[2] <= 39.94 <= box[3]
    store.close()


def test_a_process_killed_mid_batch_leaves_the_file_as_it_was(tmp_path, refs):
    first, src = tmp_path / "first.csv", tmp_path / "r.csv"
    _write_csv(first, 3, prefix="A")
    _write_csv(src, 100, start=3)  # other places and times: none is a duplicate
    path = tmp_path / "c.gpkg"
    with GeoPackageStore(path, refs=refs) as store:
        import_batch(first, store, refs=refs, now=NOW, received_by="desk")
    before = (_features(path), _index(path))
    script = textwrap.dedent(
        f"""
        import datetime as dt, os
        from gis.cases.batch import import_batch, read_batch
        from gis.store.geopackage import GeoPackageStore
        store = GeoPackageStore({str(path)!r})
        real = store.add_case_columns
        def killed(chunks):
            def gen():
                for i, chunk in enumerate(chunks):
                    if i == 1:
                        n = store._con.execute("SELECT count(*) FROM cases").fetchone()[0]
                        t = store._con.execute(
                            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                            "AND name = 'rtree_cases_geom_insert'").fetchone()[0]
                        print("MID", n, t, flush=True)
                        os._exit(9)
                    yield chunk
            return real(gen())
        store.add_case_columns = killed
        now = dt.datetime.fromisoformat({NOW.isoformat()!r})
        import_batch({str(src)!r}, store, refs=store.refs, now=now, received_by="desk",
                     chunk_rows=40)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    res = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 9, res.stderr
    mid = res.stdout.split()
    # killed with the first chunk (or its first piece) in and the trigger dropped
    assert mid[0] == "MID" and int(mid[1]) > 3 and mid[2] == "0", res.stdout
    assert _triggers(path) == TRIGGERS
    assert (_features(path), _index(path)) == before
    with GeoPackageStore(path, refs=refs) as store:  # and it takes the batch afterwards
        assert import_batch(src, store, refs=refs, now=NOW, received_by="desk").added == 100
    feats, index = _features(path), _index(path)
    assert len(feats) == len(index) == 103 and _triggers(path) == TRIGGERS


def test_streamed_cases_use_the_bulk_path_for_big_chunks_only(tmp_path, refs, monkeypatch):
    src = tmp_path / "r.csv"
    _write_csv(src, 30)
    path = tmp_path / "c.gpkg"
    store = GeoPackageStore(path, refs=refs)
    import_batch(src, store, refs=refs, now=NOW, received_by="desk")
    cases = store.query_cases()
    with store._write():  # the newest row goes: its id must not come back (AUTOINCREMENT)
        store._con.execute("DELETE FROM cases WHERE fid = 30")
    again = GeoPackageStore(tmp_path / "d.gpkg", refs=refs)
    dropped: list[str] = []
    real = gpkg_index.BulkPointIndex.takes

    def takes(self, n):
        took = real(self, n)
        dropped.append(f"{n}:{took}")
        return took

    monkeypatch.setattr(gpkg_index.BulkPointIndex, "takes", takes)
    monkeypatch.setattr(gpkg_index, "BULK_MIN_ROWS", 10)
    renamed = [dataclasses.replace(c, case_id="N" + c.case_id[1:], content_hash=None)
               for c in cases]  # fmt: skip
    store.add_cases_stream([renamed[:4], renamed[4:20]])
    again.add_cases_stream([cases[:4], cases[4:30]])
    assert dropped == ["4:False", "16:True", "4:False", "26:True"]
    for p in (path, tmp_path / "d.gpkg"):
        feats, index = _features(p), _index(p)
        assert set(feats) == set(index) and _triggers(p) == TRIGGERS
        for fid, (_, env) in feats.items():
            assert env is not None
            assert index[fid][0] <= env[0] <= index[fid][1]
            assert index[fid][2] <= env[2] <= index[fid][3]
    assert sorted(_features(path))[-20:] == list(range(31, 51))
    store.close()
    again.close()


def test_bulk_index_needs_a_transaction_and_restores_on_error(tmp_path, refs):
    path = tmp_path / "c.gpkg"
    store = GeoPackageStore(path, refs=refs)
    with pytest.raises(RuntimeError, match="open write transaction"):
        with gpkg_index.bulk_point_index(store._con, "cases", "geom"):
            pass
    with pytest.raises(StoreError, match="nothing stored"), store._write():
        with gpkg_index.bulk_point_index(store._con, "cases", "geom", min_rows=1) as index:
            assert index.takes(1)
            store._con.execute("INSERT INTO cases (fid) VALUES (1)")  # NOT NULL columns fail
    assert _triggers(path) == TRIGGERS
    store.close()


def test_points_within_an_area_from_the_index_equal_an_exact_scan(tmp_path):
    con = sqlite3.connect(tmp_path / "p.gpkg")
    con.execute("CREATE TABLE pts (fid INTEGER PRIMARY KEY, geom BLOB)")
    gpkg_index.register_functions(con)
    con.execute("BEGIN")
    gpkg_index.ensure_rtree(con, "pts", "geom")
    area = shapely.Polygon(
        [(116.380, 39.930), (116.390, 39.931), (116.392, 39.940), (116.381, 39.938)],
        holes=[[(116.384, 39.933), (116.386, 39.933), (116.386, 39.935), (116.384, 39.935)]],
    )
    rng = np.random.default_rng(3)
    x = rng.uniform(116.378, 116.394, 3000)
    y = rng.uniform(39.928, 39.942, 3000)
    # points on the boundary and within a float32 step of it, inside and outside
    edge = shapely.segmentize(area.boundary, 0.0005)
    ex, ey = shapely.get_coordinates(edge).T
    for d in (0.0, 1e-7, -1e-7, 2e-6, -2e-6):
        x, y = np.concatenate([x, ex + d]), np.concatenate([y, ey - d])
    x, y = np.append(x, np.nan), np.append(y, 39.935)  # an empty point: never inside
    con.executemany(
        "INSERT INTO pts VALUES (?, ?)",
        zip(range(1, len(x) + 1), gpkg_point_blobs(x, y), strict=True),
    )
    con.execute("COMMIT")
    got = point_fids_within(con, "pts", "geom", area)
    want = np.flatnonzero(shapely.contains_xy(area, x, y)) + 1
    assert 500 < len(want) < 2500
    assert got.tolist() == want.tolist()
    assert point_fids_within(con, "pts", "geom", shapely.box(0, 0, 1, 1)).tolist() == []
    line = shapely.to_wkb(shapely.LineString([(116.385, 39.932), (116.386, 39.936)]), byte_order=1)
    con.execute(
        "INSERT INTO pts VALUES (?, ?)", (len(x) + 1, gpkg_point_blobs([0], [0])[0][:8] + line)
    )
    con.commit()
    with pytest.raises(ValueError, match=f"wider than a point \\(fid {len(x) + 1}\\)"):
        point_fids_within(con, "pts", "geom", area)
    con.close()
