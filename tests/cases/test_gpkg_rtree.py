"""The GeoPackage RTree index on cases: registered for GDAL/QGIS, and kept right by triggers."""

from __future__ import annotations

import sqlite3

import pyogrio
import pytest
import shapely

from gis.store.geopackage import GeoPackageStore, gpkg_point_blobs
from gis.store.gpkg_index import bbox_fids, gpkg_envelope, register_functions


def _index_matches_table(path) -> tuple[dict[int, tuple], dict[int, tuple]]:
    """(what the index holds, what it should hold from the geometries), by fid."""
    con = sqlite3.connect(path)
    try:
        held = {
            r[0]: tuple(r[1:])
            for r in con.execute("SELECT id, minx, maxx, miny, maxy FROM rtree_cases_geom")
        }
        want = {}
        for fid, blob in con.execute("SELECT fid, geom FROM cases"):
            env = gpkg_envelope(blob)
            if env is not None:
                want[fid] = env
    finally:
        con.close()
    return held, want


def _close(a: dict[int, tuple], b: dict[int, tuple]) -> bool:
    # the index stores 32-bit floats rounded outwards (a step of ~8e-6 degrees here)
    return a.keys() == b.keys() and all(
        a[k][0] <= b[k][0] + 1e-6
        and a[k][1] >= b[k][1] - 1e-6
        and a[k][2] <= b[k][2] + 1e-6
        and a[k][3] >= b[k][3] - 1e-6
        and max(abs(x - y) for x, y in zip(a[k], b[k], strict=True)) < 5e-5
        for k in a
    )


def test_new_store_has_a_registered_rtree_gdal_uses(tmp_path, ten_reports, refs):
    path = tmp_path / "c.gpkg"
    with GeoPackageStore(path, refs=refs) as store:
        store.add_reports(ten_reports, received_by="desk1")
    con = sqlite3.connect(path)
    ext = con.execute(
        "SELECT table_name, column_name, extension_name, scope FROM gpkg_extensions"
    ).fetchall()
    triggers = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    con.close()
    assert ("cases", "geom", "gpkg_rtree_index", "write-only") in ext
    assert {
        f"rtree_cases_geom_{t}"
        for t in ("insert", "update1", "update2", "update3", "update4", "delete")
    } <= triggers
    info = pyogrio.read_info(path, layer="cases")
    assert info["capabilities"]["fast_spatial_filter"] is True
    has = pyogrio.read_dataframe(path, sql="SELECT HasSpatialIndex('cases', 'geom') AS h")
    assert int(has.iloc[0, 0]) == 1
    held, want = _index_matches_table(path)
    assert len(held) == 10 and _close(held, want)


def test_bbox_answers_from_the_index_equal_a_full_scan(tmp_path, ten_reports, refs):
    path = tmp_path / "c.gpkg"
    store = GeoPackageStore(path, refs=refs)
    store.add_reports(ten_reports, received_by="desk1")
    lons = sorted(r.lon for r in ten_reports)
    lats = sorted(r.lat for r in ten_reports)
    box = (lons[2], lats[1], lons[7], lats[8])
    from_index = set(bbox_fids(store._con, "cases", "geom", box))
    in_box = shapely.box(*box)
    scan = {
        fid
        for fid, lon, lat in store._con.execute("SELECT fid, lon, lat FROM cases")
        if in_box.covers(shapely.Point(lon, lat))
    }
    assert 0 < len(scan) < 10 and from_index == scan
    gdal = pyogrio.read_dataframe(path, layer="cases", bbox=box)
    got = {r.case_id for r in store.query_cases() if r.lon is not None}
    assert set(gdal["case_id"]) <= got and len(gdal) == len(scan)
    store.close()


def test_index_follows_inserts_updates_and_deletes(tmp_path, ten_reports, refs):
    path = tmp_path / "c.gpkg"
    store = GeoPackageStore(path, refs=refs)
    store.add_reports(ten_reports[:6], received_by="desk1")
    store.add_reports(ten_reports[6:], received_by="desk1")  # a second insert batch
    # a workflow step rewrites the row (not the geometry)
    store.apply_transition("T01", "register", who="a", expected_version=1)
    con = store._con
    moved = gpkg_point_blobs([116.39], [39.94])[0]
    with store._write():
        con.execute("UPDATE cases SET geom = ? WHERE case_id = 'T02'", (moved,))  # update1
        con.execute("UPDATE cases SET geom = NULL WHERE case_id = 'T03'")  # update2
        con.execute("UPDATE cases SET fid = 1000 WHERE case_id = 'T04'")  # update3
        con.execute("UPDATE cases SET fid = 1001, geom = NULL WHERE case_id = 'T05'")  # 4
        con.execute("DELETE FROM cases WHERE case_id = 'T06'")  # delete
    held, want = _index_matches_table(path)
    assert len(want) == 7 and _close(held, want)
    assert 1000 in held and 1001 not in held
    t02 = con.execute("SELECT fid FROM cases WHERE case_id = 'T02'").fetchone()[0]
    assert bbox_fids(con, "cases", "geom", (116.3899, 39.9399, 116.3901, 39.9401)) == [t02]
    store.close()


def test_a_rollback_leaves_the_index_as_it_was(tmp_path, ten_reports, refs):
    path = tmp_path / "c.gpkg"
    store = GeoPackageStore(path, refs=refs)
    store.add_reports(ten_reports[:3], received_by="desk1")
    before = _index_matches_table(path)[0]
    with pytest.raises(RuntimeError), store._write():
        store._con.execute("DELETE FROM cases")
        raise RuntimeError("abandon")
    assert _index_matches_table(path)[0] == before
    store.close()


def test_envelope_functions_read_every_geometry_form():
    (blob,) = gpkg_point_blobs([116.3], [39.9])
    assert gpkg_envelope(blob) == (116.3, 116.3, 39.9, 39.9)
    line = shapely.to_wkb(shapely.LineString([(1, 2), (3, -4)]), byte_order=1)
    assert gpkg_envelope(blob[:8] + line) == (1.0, 3.0, -4.0, 2.0)
    empty = b"GP\x00\x11" + blob[4:8] + shapely.to_wkb(shapely.Point(), byte_order=1)
    assert gpkg_envelope(empty) is None
    assert gpkg_envelope(None) is None and gpkg_envelope(b"junk") is None
    con = sqlite3.connect(":memory:")
    register_functions(con)
    row = con.execute(
        "SELECT ST_MinX(?), ST_MaxY(?), ST_IsEmpty(?), ST_IsEmpty(?)", (blob, blob, blob, empty)
    ).fetchone()
    assert row == (116.3, 39.9, 0, 1)


def test_reopening_repairs_an_index_whose_triggers_were_lost(tmp_path, ten_reports, refs):
    path = tmp_path / "c.gpkg"
    with GeoPackageStore(path, refs=refs) as store:
        store.add_reports(ten_reports, received_by="desk1")
    con = sqlite3.connect(path)  # a table rebuild (or another tool) dropped the triggers
    for (name,) in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'rtree_cases%'"
    ).fetchall():
        con.execute(f'DROP TRIGGER "{name}"')
    moved = gpkg_point_blobs([116.39], [39.94])[0]
    con.execute("UPDATE cases SET geom = ? WHERE case_id = 'T02'", (moved,))
    con.execute("DELETE FROM cases WHERE case_id = 'T03'")
    con.commit()
    con.close()
    held, want = _index_matches_table(path)
    assert not _close(held, want)  # stale
    GeoPackageStore(path, refs=refs).close()
    held, want = _index_matches_table(path)
    assert len(want) == 9 and _close(held, want)
