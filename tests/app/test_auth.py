"""Users, passwords, rate limiting, sessions and the authorisation check."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from gis.access.authorization import ForbiddenError, Resource, allowed_pages, authorize, scope_zones
from gis.access.login import (
    BASE_DELAY,
    FAILURE_WINDOW,
    MAX_FAILURES,
    BadCredentialsError,
    LockedError,
    SessionExpiredError,
    check_session,
    login,
)
from gis.access.users import SqliteUserRepository, User, check_password, demo_users, hash_password
from gis.errors import AuthError, ConflictError, NotFoundError, ValidationError
from gis.settings import Settings
from tests.app.conftest import TEST_ROUNDS

T0 = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)
SETTINGS = Settings(session_minutes=30.0)

Z1, Z2 = "110102012001001", "110102012001002"


def test_password_hash_roundtrip_and_rules() -> None:
    h = hash_password("geheim-123", rounds=TEST_ROUNDS)
    assert h.startswith("$2b$04$")
    assert check_password("geheim-123", h)
    assert not check_password("geheim-124", h)
    assert not check_password("geheim-123", "not a hash")
    with pytest.raises(ValidationError, match="at least 8"):
        hash_password("short", rounds=TEST_ROUNDS)
    with pytest.raises(ValidationError, match="longer than 72 bytes"):
        hash_password("长" * 30, rounds=TEST_ROUNDS)  # 90 bytes in UTF-8


def test_repository_stores_users_in_a_valid_geopackage(repo: SqliteUserRepository) -> None:
    user = User("zhang", "area_chief", "张三", zones=(Z1, Z2), fronts=("scenic",))
    repo.add(user, hash_password("password-1", rounds=TEST_ROUNDS))
    got, hashed = repo.get("zhang")
    assert got == user
    assert check_password("password-1", hashed)
    with pytest.raises(ConflictError, match="already exists"):
        repo.add(user, hashed)
    with pytest.raises(NotFoundError, match="no user called 'li'"):
        repo.get("li")
    con = sqlite3.connect(repo.path)
    assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
    kinds = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
    assert kinds == {
        "patrol_users": "attributes",
        "patrol_login_failures": "attributes",
        "patrol_login_clients": "attributes",
        "patrol_sessions": "attributes",
        "patrol_session_secret": "attributes",
    }
    # the plain text password is nowhere in the file
    assert b"password-1" not in repo.path.read_bytes()


def test_geopackage_is_readable_by_gdal(repo: SqliteUserRepository) -> None:
    pyogrio = pytest.importorskip("pyogrio")
    repo.add(User("wang", "leadership"), hash_password("password-1", rounds=TEST_ROUNDS))
    layers = {name for name, _ in pyogrio.list_layers(repo.path)}
    assert "patrol_users" in layers


def test_update_and_scope_validation(repo: SqliteUserRepository) -> None:
    with pytest.raises(ValidationError, match="has no zones or fronts"):
        repo.add(User("chief", "area_chief"), "x")
    with pytest.raises(ValidationError, match="has no person id"):
        repo.add(User("p9", "patrol"), "x")
    with pytest.raises(ValidationError, match="has no department"):
        repo.add(User("l1", "liaison"), "x")
    with pytest.raises(ValidationError, match="unknown role 'boss'"):
        repo.add(User("b1", "boss"), "x")
    with pytest.raises(ValidationError, match="user name 'a b' is not allowed"):
        repo.add(User("a b", "admin"), "x")
    repo.add(User("p1", "patrol", person_id="P01"), hash_password("password-1", rounds=4))
    repo.update(User("p1", "patrol", person_id="P02", active=False))
    assert repo.get("p1")[0].person_id == "P02"
    assert repo.get("p1")[0].active is False
    with pytest.raises(NotFoundError):
        repo.update(User("ghost", "admin"))


def test_login_success_opens_a_session_of_the_configured_length(demo_repo) -> None:
    session = login(demo_repo, "leader", "leader-demo-1", SETTINGS, now=T0)
    assert session.user.role == "leadership"
    assert session.expires_at == T0 + timedelta(minutes=30)
    assert check_session(session, now=T0 + timedelta(minutes=29)).username == "leader"
    with pytest.raises(SessionExpiredError, match="expired"):
        check_session(session, now=T0 + timedelta(minutes=30))
    with pytest.raises(AuthError, match="not logged in"):
        check_session(None)


def test_wrong_password_counts_down_then_backs_off_even_the_right_password(demo_repo) -> None:
    for i in range(MAX_FAILURES - 1):
        with pytest.raises(BadCredentialsError) as info:
            login(demo_repo, "chief", "wrong-password", SETTINGS, now=T0 + timedelta(seconds=i))
        assert info.value.remaining == MAX_FAILURES - 1 - i
    with pytest.raises(LockedError) as locked:
        login(demo_repo, "chief", "wrong-password", SETTINGS, now=T0 + timedelta(seconds=10))
    assert locked.value.until == T0 + timedelta(seconds=10) + BASE_DELAY
    with pytest.raises(LockedError):
        login(demo_repo, "chief", "chief-demo-1", SETTINGS, now=T0 + timedelta(seconds=20))
    # other user names are not affected
    assert login(demo_repo, "leader", "leader-demo-1", SETTINGS, now=T0).user.username == "leader"
    after = T0 + timedelta(seconds=10) + BASE_DELAY
    assert login(demo_repo, "chief", "chief-demo-1", SETTINGS, now=after).user.role == "area_chief"
    # success clears the count
    with pytest.raises(BadCredentialsError) as again:
        login(demo_repo, "chief", "nope-nope", SETTINGS, now=after)
    assert again.value.remaining == MAX_FAILURES - 1


def test_failures_spread_beyond_the_window_do_not_lock(demo_repo) -> None:
    step = FAILURE_WINDOW / (MAX_FAILURES - 1) + timedelta(seconds=1)
    for i in range(MAX_FAILURES + 2):
        with pytest.raises(BadCredentialsError):
            login(demo_repo, "leader", "bad-password", SETTINGS, now=T0 + i * step)


@pytest.fixture
def test_cost_dummy_hash(monkeypatch):
    """An unknown name is checked against a dummy hash of the app's full bcrypt cost (as
    slow as a real check); at the tests' cost the checks below are about throttling only."""
    from gis.access import login as login_module

    monkeypatch.setattr("gis.access.users.BCRYPT_ROUNDS", TEST_ROUNDS)
    login_module._dummy_hash.cache_clear()
    yield
    login_module._dummy_hash.cache_clear()


def test_unknown_user_is_rate_limited_too(demo_repo, test_cost_dummy_hash) -> None:
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(BadCredentialsError, match="wrong user name or password"):
            login(demo_repo, "nobody", "whatever-1", SETTINGS, now=T0)
    with pytest.raises(LockedError, match="too many failed logins"):
        login(demo_repo, "nobody", "whatever-1", SETTINGS, now=T0)


def test_inactive_user_cannot_log_in(demo_repo) -> None:
    demo_repo.update(User("leader", "leadership", active=False))
    with pytest.raises(BadCredentialsError):
        login(demo_repo, "leader", "leader-demo-1", SETTINGS, now=T0)


def test_pages_per_role() -> None:
    users = {u.role: u for u, _ in demo_users([Z1, Z2])}
    assert allowed_pages(users["leadership"]) == (
        "overview",
        "districts",
        "patrol",
        "cases",
        "hotspots",
        "crowd",
        "team",
        "staff",
        "coordination",
    )
    assert allowed_pages(users["area_chief"])[-1] == "coordination"
    assert allowed_pages(users["patrol"]) == (
        "overview",
        "patrol",
        "cases",
        "myday",
        "coordination",
    )
    assert allowed_pages(users["liaison"]) == ("overview", "cases", "coordination")
    assert allowed_pages(users["admin"]) == ("overview", "users", "staff")
    with pytest.raises(ForbiddenError, match=r"patrol2' \(patrol\) may not open page 'users'"):
        authorize(users["patrol"], "users")
    with pytest.raises(ForbiddenError):
        authorize(users["leadership"], "users")
    with pytest.raises(ForbiddenError):
        authorize(users["liaison"], "districts")


def test_scope_checks_for_each_role() -> None:
    chief = User("c", "area_chief", zones=(Z1,))
    streets = User("s", "area_chief", fronts=("main_streets",))
    patrol = User("p", "patrol", person_id="P01")
    liaison = User("l", "liaison", department="城管")
    leader = User("boss", "leadership")
    assert authorize(chief, "districts", Resource(zone_id=Z1)) is chief
    with pytest.raises(ForbiddenError, match=f"zone '{Z2}'"):
        authorize(chief, "districts", Resource(zone_id=Z2, front_id="scenic"))
    assert authorize(streets, "cases", Resource(front_id="main_streets"))
    with pytest.raises(ForbiddenError):
        authorize(streets, "cases", Resource(zone_id=Z1, front_id="scenic"))
    assert authorize(patrol, "patrol", Resource(person_id="P01"))
    with pytest.raises(ForbiddenError, match="person 'P02'"):
        authorize(patrol, "patrol", Resource(person_id="P02"))
    assert authorize(patrol, "cases", Resource(person_id="P09", reported_by="p"))
    assert authorize(liaison, "cases", Resource(lead_dept="城管"))
    assert authorize(liaison, "cases", Resource(lead_dept="公安", departments=("城管",)))
    with pytest.raises(ForbiddenError, match="department '公安'"):
        authorize(liaison, "cases", Resource(lead_dept="公安", departments=("工商",)))
    assert authorize(leader, "hotspots", Resource(zone_id=Z2, person_id="P02"))
    # an empty resource names nothing a scoped user owns
    with pytest.raises(ForbiddenError):
        authorize(chief, "cases", Resource())
    assert scope_zones(chief, {Z1: "scenic", Z2: "scenic"}) == [Z1]
    assert scope_zones(streets, {Z1: "scenic"}) == []
    assert scope_zones(leader, {Z1: "scenic", Z2: "scenic"}) == [Z1, Z2]


def test_disabled_user_is_refused_every_page() -> None:
    with pytest.raises(ForbiddenError, match="account disabled"):
        authorize(User("x", "leadership", active=False), "overview")
