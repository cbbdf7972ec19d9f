"""``patrol db``: upgrading stores written by older code, backup, restore, clear refusals.

The old stores in tests/fixtures/store_e434d85 were written by the code of commit e434d85
(cases and audit rows only, schema version 1); make_fixtures.py there rebuilds them.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pyogrio
import pytest

from gis.cli import main
from gis.errors import StoreError
from gis.store import migrate
from gis.store.geopackage import GeoPackageStore
from gis.store.testing import pg_bin_dir

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "store_e434d85"
OLD_TABLES = ("cases", "case_audit", "patrol_meta")


def _gpkg_rows(path: Path, table: str, columns: list[str] | None = None) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        cols = columns or [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
        rows = con.execute(f"SELECT {','.join(cols)} FROM {table} ORDER BY rowid").fetchall()
    finally:
        con.close()
    return rows


def _gpkg_columns(path: Path, table: str) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
    finally:
        con.close()


@pytest.fixture
def old_gpkg(tmp_path) -> Path:
    path = tmp_path / "old.gpkg"
    shutil.copy(FIXTURES / "cases.gpkg", path)
    return path


def test_old_geopackage_is_upgraded_without_losing_a_row(old_gpkg, refs, capsys):
    before = {t: (_gpkg_columns(old_gpkg, t), _gpkg_rows(old_gpkg, t)) for t in OLD_TABLES}
    assert len(before["cases"][1]) == 24 and len(before["case_audit"][1]) > 24
    assert main(["db", "status", "--url", str(old_gpkg)]) == 1  # behind: pending steps
    assert "pending" in capsys.readouterr().out
    assert main(["db", "migrate", "--url", str(old_gpkg)]) == 0
    out = capsys.readouterr().out
    assert f"upgraded from schema version 1 to {migrate.gpkg_code_version()}" in out
    for table, (cols, rows) in before.items():
        after = _gpkg_rows(old_gpkg, table, cols)
        if table == "patrol_meta":  # only the version changes
            rows = [r for r in rows if r[1] != "schema_version"]
            after = [r for r in after if r[1] != "schema_version"]
        assert after == rows, table
    assert main(["db", "status", "--url", str(old_gpkg)]) == 0
    assert main(["db", "migrate", "--url", str(old_gpkg)]) == 0
    assert "nothing to do" in capsys.readouterr().out
    # the upgraded file works with today's code and GDAL
    with GeoPackageStore(old_gpkg, refs=refs) as store:
        assert store.count_cases() == 24
        assert store.get_case("OLD000").state == "closed"
        trail = store.audit_trail("OLD000")
        assert [e.action for e in trail][:2] == ["report", "register"]
        assert trail[1].note == "步骤 0\n第二行 'q'"
        assert store.get_meta("geography_digest") == "e434d85-fixture"
        assert store.people.list_people() == []
    info = pyogrio.read_info(old_gpkg, layer="cases")
    assert info["features"] == 24 and info["capabilities"]["fast_spatial_filter"]


def test_geopackage_from_a_newer_release_is_refused(old_gpkg, refs, capsys):
    con = sqlite3.connect(old_gpkg)
    con.execute("UPDATE patrol_meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    data = {t: _gpkg_rows(old_gpkg, t) for t in OLD_TABLES}
    with pytest.raises(StoreError, match="newer than this code knows"):
        GeoPackageStore(old_gpkg, refs=refs)
    assert main(["db", "migrate", "--url", str(old_gpkg)]) == 2
    assert "newer release" in capsys.readouterr().err
    assert {t: _gpkg_rows(old_gpkg, t) for t in OLD_TABLES} == data
    assert "rtree_cases_geom" not in str(_gpkg_rows(old_gpkg, "sqlite_master", ["name"]))


def test_geopackage_with_an_unknown_version_text_is_refused(old_gpkg, refs):
    con = sqlite3.connect(old_gpkg)
    con.execute("UPDATE patrol_meta SET value = 'v2-beta' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="unknown schema version 'v2-beta'"):
        GeoPackageStore(old_gpkg, refs=refs)


def test_init_creates_and_then_refuses(tmp_path, capsys):
    path = tmp_path / "new.gpkg"
    assert main(["db", "status", "--url", str(path)]) == 1
    assert "does not exist yet" in capsys.readouterr().out
    assert main(["db", "init", "--url", str(path)]) == 0
    assert f"schema version {migrate.gpkg_code_version()}" in capsys.readouterr().out
    assert main(["db", "init", "--url", str(path)]) == 2
    assert "already holds a store" in capsys.readouterr().err


def test_geopackage_backup_and_restore(old_gpkg, tmp_path, refs, capsys, ten_reports):
    store = GeoPackageStore(old_gpkg, refs=refs)
    store.add_reports(ten_reports, received_by="desk1")  # rows in the WAL of an open store
    backup = tmp_path / "b.gpkg"
    assert main(["db", "backup", "--url", str(old_gpkg), str(backup)]) == 0
    assert main(["db", "backup", "--url", str(old_gpkg), str(backup)]) == 2  # exists
    assert "--replace" in capsys.readouterr().err
    store.close()
    cols = _gpkg_columns(old_gpkg, "cases")
    want = _gpkg_rows(old_gpkg, "cases", cols), _gpkg_rows(old_gpkg, "case_audit")
    target = tmp_path / "restored.gpkg"
    assert main(["db", "restore", "--url", str(target), str(backup)]) == 0
    assert (_gpkg_rows(target, "cases", cols), _gpkg_rows(target, "case_audit")) == want
    # a store holding rows is not overwritten unless told
    other = tmp_path / "other.gpkg"
    with GeoPackageStore(other, refs=refs) as s:
        s.add_reports(ten_reports[:1], received_by="desk1")
    assert main(["db", "restore", "--url", str(other), str(backup)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert _gpkg_rows(other, "cases", ["case_id"]) == [("T01",)]
    assert main(["db", "restore", "--replace", "--url", str(other), str(backup)]) == 0
    assert _gpkg_rows(other, "cases", cols) == want[0]
    with GeoPackageStore(other, refs=refs) as s:
        assert s.count_cases() == 34


def test_restore_refuses_what_is_not_a_backup(tmp_path, capsys):
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"not a database at all" * 100)
    assert main(["db", "restore", "--url", str(tmp_path / "t.gpkg"), str(junk)]) == 2
    assert "not an SQLite/GeoPackage file" in capsys.readouterr().err
    assert not (tmp_path / "t.gpkg").exists()


def test_bad_urls_are_named(capsys):
    assert main(["db", "status", "--url", "mysql://root:hunter2@db/x"]) == 2
    err = capsys.readouterr().err
    assert "unsupported database URL" in err and "hunter2" not in err
    url = "postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=2"
    assert main(["db", "status", "--url", url]) == 2
    err = capsys.readouterr().err
    assert "cannot connect to PostGIS (postgresql://nobody:***@" in err and "secret" not in err


def test_missing_pg_dump_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr(migrate.shutil, "which", lambda name: None)
    monkeypatch.setattr("gis.store.testing.pg_bin_dir", lambda: None)
    with pytest.raises(StoreError, match="pg_dump was not found: install the PostgreSQL"):
        migrate.backup_postgis("postgresql://x@127.0.0.1:1/none", tmp_path / "b.dump")


# -- PostGIS ---------------------------------------------------------------------------
def _pg_rows(url: str, *, keyed: bool = False) -> dict[str, list[tuple]]:
    """Every column of the old tables (``keyed``: without the subdistrict key migration 8
    adds, after checking that every row got the key of the fixture's geography)."""
    import psycopg2

    con = psycopg2.connect(url)
    try:
        with con.cursor() as cur:
            out = {}
            for table, key in (("cases", "case_id"), ("case_audit", "id"), ("patrol_meta", "key")):
                cur.execute(f"SELECT * FROM {table} ORDER BY {key}")  # noqa: S608 - constants
                names = [d[0] for d in cur.description]
                rows = [
                    tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
                    for r in cur.fetchall()
                ]
                if keyed:
                    at = names.index("subdistrict")
                    assert {r[at] for r in rows} <= {"shichahai"}, table
                    rows = [r[:at] + r[at + 1 :] for r in rows]
                out[table] = rows
            return out
    finally:
        con.close()


def _psql(url: str, path: Path) -> None:
    bindir = pg_bin_dir()
    assert bindir is not None
    res = subprocess.run(
        [str(bindir / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr


@pytest.mark.postgis
def test_old_postgis_is_upgraded_without_losing_a_row(pg_url, refs, capsys):
    from gis.store.postgis import PostGISStore

    _psql(pg_url, FIXTURES / "postgis.sql")
    before = _pg_rows(pg_url)
    assert len(before["cases"]) == 24 and len(before["case_audit"]) > 24
    assert main(["db", "status", "--url", pg_url]) == 1
    assert "pending: 003_people.sql" in capsys.readouterr().out
    assert main(["db", "migrate", "--url", pg_url]) == 0
    assert f"to {migrate.code_version()}" in capsys.readouterr().out
    assert _pg_rows(pg_url, keyed=True) == before
    with PostGISStore(pg_url, refs=refs) as store:
        with store._tx() as cur:
            cur.execute("SELECT version FROM schema_version ORDER BY version")
            assert [r[0] for r in cur.fetchall()] == [v for v, _ in migrate.migrations()]
        assert store.get_case("OLD000").state == "closed"
        assert store.audit_trail("OLD002")[-1].action == "call_joint"
        assert store.people.list_people() == []
    assert main(["db", "status", "--url", pg_url]) == 0


@pytest.mark.postgis
def test_postgis_from_a_newer_release_is_refused(pg_url, refs, capsys):
    from gis.store.postgis import PostGISStore

    PostGISStore(pg_url, refs=refs).close()
    import psycopg2

    con = psycopg2.connect(pg_url)
    with con, con.cursor() as cur:
        cur.execute("INSERT INTO schema_version (version, name) VALUES (99, '099_future.sql')")
    con.close()
    with pytest.raises(StoreError, match="schema version 99, newer than this code knows"):
        PostGISStore(pg_url, refs=refs)
    assert main(["db", "status", "--url", pg_url]) == 1
    assert "NEWER than this code" in capsys.readouterr().out


@pytest.mark.postgis
def test_postgis_backup_and_restore(pg_cluster, pg_url, tmp_path, refs, ten_reports, capsys):
    from gis.store.postgis import PostGISStore

    with PostGISStore(pg_url, refs=refs) as store:
        store.add_reports(ten_reports, received_by="desk1")
        store.apply_transition("T01", "register", who="a", expected_version=1)
    dump = tmp_path / "b.dump"
    assert main(["db", "backup", "--url", pg_url, str(dump)]) == 0
    assert dump.read_bytes()[:5] == b"PGDMP"
    want = _pg_rows(pg_url)
    fresh = pg_cluster.create_database("restored_db")
    assert main(["db", "restore", "--url", fresh, str(dump)]) == 0
    assert _pg_rows(fresh) == want
    # a database with tables is not overwritten unless told
    other = pg_cluster.create_database("other_db")
    with PostGISStore(other, refs=refs) as store:
        store.add_reports(ten_reports[:2], received_by="desk2")
    assert main(["db", "restore", "--url", other, str(dump)]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert len(_pg_rows(other)["cases"]) == 2
    assert main(["db", "restore", "--replace", "--url", other, str(dump)]) == 0
    assert _pg_rows(other)["cases"] == want["cases"]
    # a file that is not a dump
    assert main(["db", "restore", "--url", fresh, str(FIXTURES / "postgis.sql")]) == 2
    assert "not a PostgreSQL custom-format dump" in capsys.readouterr().err


@pytest.mark.postgis
def test_postgis_backup_carries_the_users(pg_cluster, pg_url, tmp_path, monkeypatch, capsys):
    """Users live in the database (schema version 7): pg_dump carries them; a backup made
    before that, with its user file beside it, still restores them into the store."""
    from gis.access.users import User, hash_password, open_user_repository
    from gis.settings import Settings
    from gis.store.postgis import PostGISStore

    monkeypatch.chdir(tmp_path)
    PostGISStore(pg_url).close()
    repo = open_user_repository(Settings(database_url=pg_url))
    repo.add(User(username="chief", role="leadership"), hash_password("a long passphrase"))
    assert main(["db", "backup", "--url", pg_url, "b.dump"]) == 0
    assert not (tmp_path / "var").exists()  # no user file beside the app any more
    fresh = pg_cluster.create_database("users_restored")
    assert main(["db", "restore", "--url", fresh, "b.dump"]) == 0
    restored = open_user_repository(Settings(database_url=fresh))
    assert [u.username for u in restored.list_users()] == ["chief"]
    # an older backup: the users were in b2.dump.users.sqlite beside the dump
    old = pg_cluster.create_database("users_old")
    PostGISStore(old).close()
    with open_user_repository(Settings(database_url=old)).db.tx() as cur:
        # as the old release left the database
        cur.execute(
            "DROP TABLE patrol_users, patrol_login_failures, patrol_login_clients, "
            "patrol_sessions, patrol_session_secret"
        )
        cur.execute("DELETE FROM schema_version WHERE version = 7")
    assert main(["db", "backup", "--url", old, "b2.dump"]) == 0
    side = open_user_repository(Settings(database_url=str(tmp_path / "side.gpkg")))
    side.add(User(username="old", role="admin"), hash_password("another passphrase"))
    (tmp_path / "side.gpkg").rename(tmp_path / "b2.dump.users.sqlite")
    target = pg_cluster.create_database("users_target")
    assert main(["db", "restore", "--url", target, "b2.dump"]) == 0
    assert "now in the store" in capsys.readouterr().out
    back = open_user_repository(Settings(database_url=target))
    assert [u.username for u in back.list_users()] == ["old"]
