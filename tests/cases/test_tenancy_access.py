"""Users and sessions carry the subdistrict key (version 9): a user belongs to one
subdistrict or the district level; sessions, trusted clients and failed logins take their
user's key. Upgrades keep every row (stores written before version 9, both backends)."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from gis.access import db as access_db
from gis.access.db import PostgresAccessDB, SqliteAccessDB
from gis.access.session_token import SessionTokens
from gis.access.users import StoreUserRepository
from gis.store import migrate, tenancy
from gis.store.geopackage import GeoPackageStore

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
TABLES = ("patrol_users", "patrol_sessions", "patrol_login_failures")
A = "shichahai"


def _rows(cur, table: str) -> tuple[list[str], list[str]]:
    cur.execute(f"SELECT * FROM {table}")  # noqa: S608 - constants
    names = [d[0] for d in cur.description]
    return names, sorted(repr(tuple(r)) for r in cur.fetchall())


def test_geopackage_users_and_sessions_are_keyed(tmp_path, refs, monkeypatch):
    path = tmp_path / "v8.gpkg"
    with monkeypatch.context() as m:  # a file as the code before version 9 wrote it
        m.setattr(migrate, "gpkg_code_version", lambda sql_dir=None: 8)
        m.setattr(tenancy, "_key_gpkg_access_tables", lambda con, present: None)
        m.setattr(access_db, "_GPKG_ADDED_COLUMNS", access_db._GPKG_ADDED_COLUMNS[:3])
        GeoPackageStore(path, refs=refs).close()
    con = sqlite3.connect(path)
    with con:  # the rows the login code of version 7/8 writes
        for name in ("leader", "desk"):
            con.execute(
                "INSERT INTO patrol_users (username, role, password_hash, created_at) "
                "VALUES (?, 'leadership', 'x', ?)",
                (name, NOW.isoformat()),
            )
            con.execute(
                "INSERT INTO patrol_sessions (sid, username, issued_at, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (f"s-{name}", name, NOW.isoformat(), (NOW + timedelta(hours=1)).isoformat()),
            )
            con.execute(
                "INSERT INTO patrol_login_failures (username, failed_at, client) "
                "VALUES (?, ?, 'c1')",
                (name, NOW.isoformat()),
            )
    before = {t: _rows(con.cursor(), t) for t in TABLES}
    con.close()
    assert all("subdistrict" not in cols for cols, _ in before.values())
    GeoPackageStore(path, refs=refs).close()  # upgrades to 9
    con = sqlite3.connect(path)
    try:
        for table, (cols, rows) in before.items():
            cur = con.cursor()
            names, got = _rows(cur, table)
            assert names == [*cols, "subdistrict"], table
            assert sorted(r.rsplit(",", 1)[0] + ")" for r in got) == rows, table
            assert all(r.endswith("'shichahai')") for r in got), table
        # a user of another subdistrict: their new sessions and failures carry its key
        con.execute("UPDATE patrol_users SET subdistrict = 'xinjiekou' WHERE username = 'desk'")
        con.commit()
    finally:
        con.close()
    access = SqliteAccessDB(path)
    SessionTokens(access).start("desk", issued_at=NOW, expires_at=NOW + timedelta(hours=2))
    StoreUserRepository(access).record_failure("desk", NOW, client="c2")
    StoreUserRepository(access).record_failure("nobody", NOW, client="c3")
    con = sqlite3.connect(path)
    try:
        keys = con.execute(
            "SELECT username, subdistrict FROM patrol_sessions ORDER BY expires_at, username"
        ).fetchall()
        assert keys == [("desk", A), ("leader", A), ("desk", "xinjiekou")]
        assert dict(
            con.execute(
                "SELECT client, subdistrict FROM patrol_login_failures WHERE client <> 'c1'"
            ).fetchall()
        ) == {"c2": "xinjiekou", "c3": "shichahai"}
    finally:
        con.close()


@pytest.mark.postgis
def test_postgis_users_and_sessions_are_keyed(pg_url, refs, tmp_path):
    import psycopg2

    from gis.store.postgis import PostGISStore

    v8 = tmp_path / "sql"
    v8.mkdir()
    for version, path in migrate.migrations():
        if version <= 8:
            shutil.copy(path, v8 / path.name)
    PostGISStore(pg_url, refs=refs, sql_dir=v8).close()
    con = psycopg2.connect(pg_url)
    with con, con.cursor() as cur:  # users written as the code of version 7/8 does
        for name in ("leader", "desk"):
            cur.execute(
                "INSERT INTO patrol_users (username, role, password_hash) "
                "VALUES (%s, 'leadership', 'x')",
                (name,),
            )
            cur.execute(
                "INSERT INTO patrol_sessions (sid, username, issued_at, expires_at) "
                "VALUES (%s, %s, %s, %s)",
                (f"s-{name}", name, NOW, NOW + timedelta(hours=1)),
            )
            cur.execute(
                "INSERT INTO patrol_login_failures (username, failed_at) VALUES (%s, %s)",
                (name, NOW),
            )
        before = {t: _rows(cur, t) for t in TABLES}
    con.close()
    access = PostgresAccessDB(pg_url)  # brings the schema up to date: 009
    try:
        con = psycopg2.connect(pg_url)
        with con, con.cursor() as cur:
            for table, (cols, rows) in before.items():
                names, got = _rows(cur, table)
                assert names == [*cols, "subdistrict"], table
                assert sorted(r.rsplit(",", 1)[0] + ")" for r in got) == rows, table
                assert all(r.endswith("'shichahai')") for r in got), table
            cur.execute("UPDATE patrol_users SET subdistrict = 'xinjiekou' WHERE username = 'desk'")
            cur.execute("UPDATE patrol_users SET subdistrict = '*' WHERE username = 'leader'")
        con.close()
        SessionTokens(access).start("desk", issued_at=NOW, expires_at=NOW + timedelta(hours=2))
        StoreUserRepository(access).record_failure("leader", NOW, client="c2")
        con = psycopg2.connect(pg_url)
        with con, con.cursor() as cur:
            cur.execute(
                "SELECT subdistrict FROM patrol_sessions WHERE username = 'desk' "
                "ORDER BY expires_at DESC LIMIT 1"
            )
            assert cur.fetchone() == ("xinjiekou",)
            cur.execute("SELECT subdistrict FROM patrol_login_failures WHERE client = 'c2'")
            assert cur.fetchone() == ("*",)
            with pytest.raises(psycopg2.errors.CheckViolation):
                cur.execute("UPDATE patrol_users SET subdistrict = 'Bad Code'")
        con.close()
    finally:
        access.close()
