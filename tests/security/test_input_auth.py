"""Login throttling that cannot be used against a user, and hostile user administration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gis.access.login import (
    BASE_DELAY,
    LOCK_DURATION,
    MAX_CLIENT_FAILURES,
    MAX_FAILURES,
    NAME_MAX_DELAY,
    BadCredentialsError,
    LockedError,
    login,
)
from gis.access.users import SqliteUserRepository, User, seed_demo_users
from gis.errors import ValidationError
from gis.settings import Settings
from tests.security import input_payloads as P

T0 = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)
SETTINGS = Settings(session_minutes=30)
ZONES = ["110102012001001", "110102012001002"]


@pytest.fixture
def repo(tmp_path):
    r = SqliteUserRepository(tmp_path / "users.gpkg")
    seed_demo_users(r, ZONES, rounds=4)
    return r


def attack(repo, name: str, client: str, times: int, start: datetime) -> datetime:
    """Fail ``times`` logins as fast as the throttle allows; returns the last time used."""
    t = start
    for _ in range(times):
        try:
            login(repo, name, "wrong-password", SETTINGS, now=t, client=client)
        except BadCredentialsError:
            pass
        except LockedError as exc:
            t = max(t, exc.until)
            continue
        t += timedelta(seconds=1)
    return t


def test_an_attacker_cannot_lock_the_owner_out(repo) -> None:
    """Why 6: anyone could lock any account by failing its password 5 times."""
    # the owner has logged in from her own PC before
    login(repo, "chief", "chief-demo-1", SETTINGS, now=T0 - timedelta(days=1), client="ip:10.0.0.5")
    t = attack(repo, "chief", "ip:203.0.113.9", 30, T0)
    # from her own PC she gets in at once, while the attacker keeps failing
    session = login(repo, "chief", "chief-demo-1", SETTINGS, now=t, client="ip:10.0.0.5")
    assert session.user.username == "chief"
    # from a new device the wait is short and bounded, never a lock
    t = attack(repo, "chief", "ip:203.0.113.9", 3, t)
    try:
        login(repo, "chief", "chief-demo-1", SETTINGS, now=t, client="ip:198.51.100.7")
    except LockedError as exc:
        assert exc.until - t <= NAME_MAX_DELAY
        assert exc.reason == "name_all"
        got = login(
            repo, "chief", "chief-demo-1", SETTINGS, now=exc.until, client="ip:198.51.100.7"
        )
        assert got.user.username == "chief"


def test_the_attackers_own_client_backs_off_exponentially(repo) -> None:
    client = "ip:203.0.113.9"
    waits = []
    t = T0
    for _ in range(MAX_FAILURES + 6):
        try:
            login(repo, "leader", "bad-password", SETTINGS, now=t, client=client)
        except BadCredentialsError:
            t += timedelta(seconds=1)
        except LockedError as exc:
            waits.append(exc.until - t)
            t = exc.until
    # each failure after the free ones doubles the wait, up to LOCK_DURATION
    assert waits[0] == BASE_DELAY
    assert all(b >= a for a, b in zip(waits, waits[1:], strict=False))
    assert max(waits) <= LOCK_DURATION
    # a refused attempt is not even checked: the right password waits too
    with pytest.raises(LockedError):
        login(repo, "leader", "leader-demo-1", SETTINGS, now=t - timedelta(seconds=1),
              client=client)  # fmt: skip


@pytest.mark.slow  # one full-cost bcrypt check per sprayed name
def test_password_spraying_from_one_client_is_slowed(repo) -> None:
    client = "ip:203.0.113.9"
    names = [f"user{i}" for i in range(MAX_CLIENT_FAILURES)]
    for i, name in enumerate(names):
        with pytest.raises((BadCredentialsError, LockedError)):
            login(repo, name, "guess-1234", SETTINGS, now=T0 + timedelta(seconds=i), client=client)
    with pytest.raises(LockedError) as exc:
        login(repo, "leader", "guess-1234", SETTINGS, now=T0 + timedelta(seconds=20),
              client=client)  # fmt: skip
    assert exc.value.reason == "client"
    # the real leader elsewhere is not affected at all
    assert login(repo, "leader", "leader-demo-1", SETTINGS, now=T0, client="ip:10.0.0.5")


def test_passwords_stay_bcrypt(repo) -> None:
    _, hashed = repo.get("leader")
    assert hashed.startswith("$2b$")


@pytest.mark.parametrize(
    "field,value",
    [
        ("display_name", "a\x00b"),
        ("display_name", P.HUGE_TEXT),
        ("display_name", "line\nbreak"),
        ("zones", ("a\x00",)),
        ("person_id", "p\x00"),
    ],
)
def test_user_admin_refuses_control_bytes_and_huge_text(repo, field, value) -> None:
    from gis.access.users import hash_password

    base = {"username": "newbie", "role": "patrol", "person_id": "P09"}
    user = User(**{**base, field: value})
    before = [u.username for u in repo.list_users()]
    with pytest.raises(ValidationError):
        repo.add(user, hash_password("long-enough-1", rounds=4))
    assert [u.username for u in repo.list_users()] == before


@pytest.mark.parametrize("name", ["a\x00", "{{7*7}}", "../etc", "x" * 100, "<script>"])
def test_hostile_user_names_are_refused(repo, name) -> None:
    from gis.access.users import hash_password

    with pytest.raises(ValidationError, match="user name"):
        repo.add(User(name, "leadership"), hash_password("long-enough-1", rounds=4))


def test_template_display_name_is_kept_as_text(repo) -> None:
    from gis.access.users import hash_password

    repo.add(
        User("tpl", "leadership", display_name="{{7*7}}"), hash_password("long-enough-1", rounds=4)
    )
    assert repo.get("tpl")[0].display_name == "{{7*7}}"


def test_old_user_files_gain_the_client_column(tmp_path) -> None:
    import sqlite3

    path = tmp_path / "old.gpkg"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE patrol_login_failures (username TEXT NOT NULL, failed_at TEXT NOT NULL);"
        "INSERT INTO patrol_login_failures VALUES ('x', '2026-01-01T00:00:00+00:00');"
    )
    con.commit()
    con.close()
    repo = SqliteUserRepository(path)
    assert len(repo.failures_since("x", T0 - timedelta(days=3650))) == 1
    repo.record_failure("x", T0, client="ip:1")
    assert len(repo.client_failures_since("ip:1", T0)) == 1


@pytest.mark.parametrize("name", [P.HUGE_TEXT, "a\x00b", "{{7*7}}", "' OR 1=1 --"])
def test_hostile_login_names_are_just_wrong(repo, name) -> None:
    import sqlite3

    with pytest.raises(BadCredentialsError):
        login(repo, name, "whatever-1", SETTINGS, now=T0, client="ip:1")
    con = sqlite3.connect(repo.path)
    (longest,) = con.execute("SELECT max(length(username)) FROM patrol_login_failures").fetchone()
    assert longest <= 64
    assert login(repo, "leader", "leader-demo-1", SETTINGS, now=T0, client="ip:1")
