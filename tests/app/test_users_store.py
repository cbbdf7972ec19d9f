"""Users and sessions in the store on both backends: versioned rows, and the upgrade of a
store (and a PostGIS deployment's user file) written before schema version 7."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gis.access.db import PostgresAccessDB, SqliteAccessDB
from gis.access.session_token import InvalidTokenError, SessionTokens
from gis.access.users import (
    StaleUserError,
    StoreUserRepository,
    User,
    check_password,
    hash_password,
)
from gis.cli import main
from gis.store import migrate
from gis.store.testing import pg_bin_dir

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "store_e434d85"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

#: The user tables exactly as releases before schema version 7 wrote them (in the GeoPackage
#: store file, and in var/patrol-users.sqlite beside a PostGIS deployment).
OLD_USER_SCHEMA = """
CREATE TABLE patrol_users (
    username TEXT PRIMARY KEY, role TEXT NOT NULL, display_name TEXT NOT NULL DEFAULT '',
    zones TEXT NOT NULL DEFAULT '', fronts TEXT NOT NULL DEFAULT '', person_id TEXT,
    department TEXT, active INTEGER NOT NULL DEFAULT 1, password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL);
CREATE TABLE patrol_login_failures (username TEXT NOT NULL, failed_at TEXT NOT NULL,
    client TEXT NOT NULL DEFAULT '');
CREATE INDEX patrol_login_failures_user ON patrol_login_failures (username);
CREATE TABLE patrol_login_clients (username TEXT NOT NULL, client TEXT NOT NULL,
    last_ok TEXT NOT NULL, PRIMARY KEY (username, client));
"""
OLD_USERS = [
    ("chief", "area_chief", "景区片区长", "110102001001001,110102001001002", "", None, None, 1),
    ("patrol1", "patrol", "巡查队员一", "", "", "P01", None, 1),
    ("liaison", "liaison", "城管联络员 'q'", "", "", None, "chengguan", 1),
    ("gone", "leadership", "", "", "main_streets,gulou_west", None, None, 0),
]


def _write_old_users(path: Path, hashed: str) -> None:
    con = sqlite3.connect(path)
    with con:
        con.executescript(OLD_USER_SCHEMA)
        con.executemany(
            "INSERT INTO patrol_users VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*u, hashed, "2026-05-01T08:00:00+00:00") for u in OLD_USERS],
        )
        con.executemany(
            "INSERT INTO patrol_login_failures VALUES (?, ?, ?)",
            [
                ("chief", "2026-11-30T23:59:00+00:00", "ip:10.0.0.9"),
                ("nobody", "2026-11-30T23:59:30+00:00", "ip:10.0.0.9"),
            ],
        )
        con.execute(
            "INSERT INTO patrol_login_clients VALUES ('chief', 'ip:10.0.0.2', "
            "'2026-11-20T07:00:00+00:00')"
        )
    con.close()


def _check_users(repo: StoreUserRepository) -> None:
    users = {u.username: u for u in repo.list_users()}
    assert sorted(users) == sorted(u[0] for u in OLD_USERS)
    for name, role, display, zones, fronts, person, dept, active in OLD_USERS:
        u = users[name]
        assert (u.role, u.display_name, u.person_id, u.department) == (role, display, person, dept)
        assert u.zones == tuple(z for z in zones.split(",") if z)
        assert u.fronts == tuple(f for f in fronts.split(",") if f)
        assert u.active is bool(active) and u.version == 1
        assert check_password("old-password-1", repo.get(name)[1])
    since = datetime(2026, 11, 1, tzinfo=UTC)
    assert len(repo.failures_since("chief", since)) == 1
    assert len(repo.client_failures_since("ip:10.0.0.9", since)) == 2
    assert repo.is_trusted("chief", "ip:10.0.0.2", since)


def test_old_geopackage_users_are_kept_on_migrate(tmp_path, capsys) -> None:
    store = tmp_path / "old.gpkg"
    shutil.copy(FIXTURES / "cases.gpkg", store)
    _write_old_users(store, hash_password("old-password-1", rounds=4))
    assert main(["db", "migrate", "--url", str(store)]) == 0
    assert f"to {migrate.gpkg_code_version()}" in capsys.readouterr().out
    assert migrate.gpkg_code_version() >= 7
    con = sqlite3.connect(store)
    cols = {r[1] for r in con.execute("PRAGMA table_info(patrol_users)")}
    con.close()
    assert {"version", "updated_at"} <= cols
    repo = StoreUserRepository(SqliteAccessDB(store))
    _check_users(repo)
    assert main(["db", "status", "--url", str(store)]) == 0
    assert "patrol_users: 4 rows" in capsys.readouterr().out
    # sessions work in the upgraded file
    tokens = SessionTokens(SqliteAccessDB(store))
    token = tokens.issue("chief", issued_at=NOW, expires_at=NOW + timedelta(hours=1))
    assert tokens.verify(token, now=NOW).username == "chief"


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


@pytest.fixture
def pg_url(pg_cluster) -> str:
    return pg_cluster.create_database(f"u_{uuid.uuid4().hex[:12]}")


@pytest.mark.postgis
def test_postgis_deployment_user_file_is_brought_into_the_store(
    pg_url, tmp_path, monkeypatch, capsys
) -> None:
    _psql(pg_url, FIXTURES / "postgis.sql")
    monkeypatch.chdir(tmp_path)  # the old user file is var/patrol-users.sqlite beside the app
    (tmp_path / "var").mkdir()
    sidecar = tmp_path / "var" / "patrol-users.sqlite"
    _write_old_users(sidecar, hash_password("old-password-1", rounds=4))
    assert main(["db", "migrate", "--url", pg_url]) == 0
    out = capsys.readouterr().out
    assert "patrol_users 4" in out and "patrol_login_failures 2" in out
    db = PostgresAccessDB(pg_url)
    try:
        repo = StoreUserRepository(db)
        _check_users(repo)
        # running it again adds nothing (no duplicate failures, users unchanged)
        assert main(["db", "migrate", "--url", pg_url]) == 0
        _check_users(repo)
        assert migrate.postgis_status(pg_url).counts["patrol_users"] == 4
    finally:
        db.close()


@pytest.fixture(params=["geopackage", pytest.param("postgis", marks=pytest.mark.postgis)])
def access(request, tmp_path):
    if request.param == "geopackage":
        yield SqliteAccessDB(tmp_path / "store.gpkg")
        return
    cluster = request.getfixturevalue("pg_cluster")
    db = PostgresAccessDB(cluster.create_database(f"v_{uuid.uuid4().hex[:12]}"))
    yield db
    db.close()


def test_user_rows_are_versioned(access) -> None:
    repo = StoreUserRepository(access)
    repo.add(
        User("zhang", "area_chief", "张三", fronts=("scenic",)),
        hash_password("pw-123456", rounds=4),
    )
    first, _ = repo.get("zhang")
    assert first.version == 1
    # two administrators (or two app instances) read the same row
    a, b = repo.get("zhang")[0], repo.get("zhang")[0]
    repo.update(User("zhang", "area_chief", "张三", fronts=("main_streets",), version=a.version))
    with pytest.raises(StaleUserError, match="changed by someone else.*version 1, now 2"):
        repo.update(User("zhang", "area_chief", "张三", fronts=("gulou_west",), version=b.version))
    now, _ = repo.get("zhang")
    assert now.fronts == ("main_streets",) and now.version == 2
    repo.set_password("zhang", hash_password("pw-654321", rounds=4))
    assert repo.get("zhang")[0].version == 3


def test_sessions_are_shared_through_the_store(access) -> None:
    repo = StoreUserRepository(access)
    repo.add(User("leader", "leadership"), hash_password("pw-123456", rounds=4))
    one, two = SessionTokens(access), SessionTokens(access)
    token, code = one.start("leader", issued_at=NOW, expires_at=NOW + timedelta(hours=1))
    assert two.exchange(code, now=NOW)[0] == token
    assert two.verify(token, now=NOW).username == "leader"
    assert one.revoke_user("leader", now=NOW) == 1
    with pytest.raises(InvalidTokenError, match="logged out"):
        two.verify(token, now=NOW)
