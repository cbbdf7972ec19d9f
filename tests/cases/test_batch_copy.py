"""The PostGIS batch COPY: its direct route and its fallback store the same rows and audit.

A chunk is copied straight into ``cases``; when a unique key refuses it (ids or content
already stored) it goes through a staging table with ``ON CONFLICT DO NOTHING``. Both
routes must leave identical rows and audit trails; repeats within a chunk are dropped
before the COPY (no fallback needed); the garbage collector's setting comes back after an
import, whether it succeeds or fails.
"""

from __future__ import annotations

import csv
import gc
import uuid

import pytest

import gis.store.case_columns as case_columns
from gis.cases.batch import import_batch
from gis.errors import NotFoundError, ValidationError

from .conftest import NOW, lonlat

_CASE_COLS = (
    "case_id, content_hash, category, tier, state, source, reported_at, deadline_at, "
    "closed_at, zone_id, front_id, segment_id, person_id, lead_dept, depts, owner, reporter, "
    "description, source_datum, src_lon, src_lat, photo_sha256, attributes, flags, joint, "
    "deadline_hours, version, updated_by, updated_at, ST_AsEWKB(footprint), ST_AsEWKB(geom), "
    "subdistrict"
)
_AUDIT_COLS = "case_id, seq, action, from_state, to_state, who, at, note, params, subdistrict"


def _write(path, rows):
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def _rows(n):
    out = []
    for i in range(n):
        lon, lat = lonlat(20 + (i * 37) % 460, 10 + (i * 53) % 480)
        out.append(
            {
                "report_id": f"P{i:03d}",
                "category": ("C07", "C04", "C01", "C29")[i % 4],
                "lon": f"{lon:.6f}",
                "lat": f"{lat:.6f}",
                "reported_at": f"2026-05-{1 + i % 28:02d} {8 + i % 12:02d}:15",
                "source": ("patrol", "12345", "巡查")[i % 3],
                "reporter": f"r{i % 5}",
                "description": ("tab\there", "back\\slash", "行\n换", "plain", "")[i % 5],
            }
        )
    return out


def _dump(url):
    import psycopg2

    con = psycopg2.connect(url)
    try:
        with con.cursor() as cur:
            cur.execute(f"SELECT {_CASE_COLS} FROM cases ORDER BY case_id")
            cases = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
                     for r in cur.fetchall()]  # fmt: skip
            cur.execute(f"SELECT {_AUDIT_COLS} FROM case_audit ORDER BY case_id, seq")
            audit = cur.fetchall()
    finally:
        con.close()
    return cases, audit


@pytest.fixture
def fallbacks(monkeypatch):
    """Counts the chunks that went through the staging table."""
    calls = []
    real = case_columns.stage_and_insert

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(case_columns, "stage_and_insert", spy)
    return calls


@pytest.mark.postgis
def test_direct_copy_and_fallback_store_identical_rows_and_audit(
    pg_url, pg_cluster, refs, tmp_path, fallbacks
):
    from gis.store.postgis import PostGISStore

    rows = _rows(40)
    full = _write(tmp_path / "full.csv", rows)
    seed = _write(tmp_path / "seed.csv", rows[::4])  # a stored row in every chunk of 10

    direct = PostGISStore(pg_url, refs=refs)
    done = import_batch(full, direct, refs=refs, now=NOW, received_by="desk", chunk_rows=10)
    assert (done.added, done.skipped) == (40, 0)
    assert fallbacks == []  # nothing stored before: every chunk went straight in
    direct.close()

    other = pg_cluster.create_database(f"t_{uuid.uuid4().hex[:12]}")
    staged = PostGISStore(other, refs=refs)
    first = import_batch(seed, staged, refs=refs, now=NOW, received_by="desk", chunk_rows=10)
    assert (first.added, first.skipped) == (10, 0)
    assert fallbacks == []
    again = import_batch(full, staged, refs=refs, now=NOW, received_by="desk", chunk_rows=10)
    assert (again.added, again.skipped) == (30, 10)
    # the first chunk goes in pieces of 1, 1, 3 and 5 rows (rows 0, 4 and 8 stored: three
    # pieces fall back), then chunks of 10 rows, each holding stored rows
    assert len(fallbacks) == 6
    staged.close()

    want_cases, want_audit = _dump(pg_url)
    got_cases, got_audit = _dump(other)
    assert len(want_cases) == 40 and len(want_audit) == 40
    assert got_cases == want_cases
    assert got_audit == want_audit


@pytest.mark.postgis
def test_a_fully_stored_file_is_skipped_and_adds_no_audit(pg_url, refs, tmp_path, fallbacks):
    from gis.store.postgis import PostGISStore

    path = _write(tmp_path / "r.csv", _rows(25))
    store = PostGISStore(pg_url, refs=refs)
    import_batch(path, store, refs=refs, now=NOW, received_by="desk", chunk_rows=10)
    before = _dump(pg_url)
    again = import_batch(path, store, refs=refs, now=NOW, received_by="desk", chunk_rows=10)
    assert (again.added, again.skipped) == (0, 25)
    assert fallbacks  # the unique keys refused the direct COPY
    assert _dump(pg_url) == before
    store.close()


def test_repeated_content_within_a_chunk_is_dropped_before_the_copy(
    store_factory, refs, tmp_path, fallbacks
):
    rows = _rows(12)
    # same content (hash) under another id, in the same piece of the ramped first chunk
    rows[10] = {**rows[8], "report_id": "P-again"}
    path = _write(tmp_path / "r.csv", rows)
    store = store_factory()
    done = import_batch(path, store, refs=refs, now=NOW, received_by="desk", chunk_rows=50)
    assert (done.added, done.skipped) == (11, 1)
    assert fallbacks == []
    assert store.count_cases() == 11
    assert [a.action for a in store.audit_trail("P008")] == ["report"]
    with pytest.raises(NotFoundError, match="P-again"):
        store.get_case("P-again")


def test_the_collector_setting_comes_back_after_an_import(store_factory, refs, tmp_path):
    before = gc.get_threshold()
    good = _write(tmp_path / "good.csv", _rows(5))
    store = store_factory()
    import_batch(good, store, refs=refs, now=NOW, received_by="desk")
    assert gc.get_threshold() == before
    bad = _write(tmp_path / "bad.csv", [{**_rows(1)[0], "category": "C99"}])
    with pytest.raises(ValidationError):
        import_batch(bad, store, refs=refs, now=NOW, received_by="desk")
    assert gc.get_threshold() == before


@pytest.mark.postgis
def test_migration_010_drops_the_audit_subdistrict_index_and_keeps_rows(pg_url, refs, tmp_path):
    import psycopg2

    from gis.store.postgis import PostGISStore

    store = PostGISStore(pg_url, refs=refs)
    path = _write(tmp_path / "r.csv", _rows(6))
    import_batch(path, store, refs=refs, now=NOW, received_by="desk")
    store.close()
    con = psycopg2.connect(pg_url)
    con.autocommit = True
    with con.cursor() as cur:  # back to version 9: the index as 008 made it
        cur.execute("CREATE INDEX case_audit_subdistrict ON case_audit (subdistrict, case_id)")
        cur.execute("DELETE FROM schema_version WHERE version = 10")
    PostGISStore(pg_url, refs=refs).close()
    with con.cursor() as cur:
        cur.execute(  # (later versions stay recorded: 10 is applied again alone)
            "SELECT to_regclass('case_audit_subdistrict'), count(*) FROM schema_version "
            "WHERE version = 10"
        )
        assert cur.fetchone() == (None, 1)
        cur.execute("SELECT count(*) FROM cases")
        assert cur.fetchone()[0] == 6
        cur.execute("SELECT count(*) FROM case_audit")
        assert cur.fetchone()[0] == 6
    con.close()


@pytest.mark.postgis
def test_a_connection_in_another_encoding_stores_the_same(pg_url, pg_cluster, refs, tmp_path):
    """The COPY text is built as UTF-8; a GB18030 client connection gets it as text."""
    from gis.store.postgis import PostGISStore

    path = _write(tmp_path / "r.csv", _rows(15))
    utf8 = PostGISStore(pg_url, refs=refs)
    import_batch(path, utf8, refs=refs, now=NOW, received_by="desk", chunk_rows=10)
    utf8.close()
    other = pg_cluster.create_database(f"t_{uuid.uuid4().hex[:12]}")
    gb = PostGISStore(other + "?client_encoding=GB18030", refs=refs)
    con = gb._pool.getconn()
    assert con.encoding == "GB18030"
    gb._pool.putconn(con)
    done = import_batch(path, gb, refs=refs, now=NOW, received_by="desk", chunk_rows=10)
    assert (done.added, done.skipped) == (15, 0)
    gb.close()
    assert _dump(other) == _dump(pg_url)
