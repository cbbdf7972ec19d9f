"""Every page for every role through AppTest: login, navigation, forbidden pages, tampering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gis.access.authorization import allowed_pages
from gis.access.login import BASE_DELAY, MAX_FAILURES, Session
from gis.access.users import DEMO_PASSWORDS, User, utcnow
from gis.i18n import format_datetime, t
from tests.app.apptest_helpers import click_button, goto, log_in, new_app, texts

Z1, Z2 = "110102012001001", "110102012001002"
DEMO = {
    "admin": "admin",
    "leader": "leadership",
    "chief": "area_chief",
    "patrol1": "patrol",
    "liaison": "liaison",
}
PAGE_TITLES = {
    "overview": "overview.title",
    "districts": "districts.title",
    "patrol": "patrol.title",
    "cases": "cases.title",
    "hotspots": "hotspots.title",
    "crowd": "crowd.title",
    "users": "users.title",
    "myday": "myday.title",
    "team": "team.title",
    "staff": "staff.title",
    "coordination": "coordination.title",
}


def test_login_page_is_chinese_and_shows_no_data(app_env) -> None:
    at = new_app().run()
    assert not at.exception
    assert "什刹海综合执法巡查系统" in texts(at)
    assert t("login.title") in texts(at)
    assert at.text_input(key="login_username").label == "用户名"
    assert not [s for s in at.subheader if s.value == t("overview.title")]


@pytest.mark.parametrize("username", sorted(DEMO))
def test_each_role_sees_exactly_its_pages(app_env, username: str) -> None:
    at = log_in(new_app(), username, DEMO_PASSWORDS[username])
    assert not at.exception, at.exception
    assert f"（{t('role.' + DEMO[username])}）" in texts(at)
    user = at.session_state["patrol_session"].user
    for page in allowed_pages(user):
        goto(at, page)
        assert not at.exception, (page, at.exception)
        assert [h.value for h in at.subheader] == [t(PAGE_TITLES[page])], page
        assert not at.error, (page, [e.value for e in at.error])


@pytest.mark.parametrize(
    ("username", "page"),
    [
        ("patrol1", "users"),
        ("patrol1", "districts"),
        ("liaison", "hotspots"),
        ("admin", "cases"),
        ("leader", "users"),
    ],
)
def test_forbidden_page_by_url_is_refused_in_chinese(app_env, username, page) -> None:
    at = log_in(new_app(), username, DEMO_PASSWORDS[username])
    goto(at, page)
    assert not at.exception
    assert [h.value for h in at.subheader] == []
    role = t("role." + at.session_state["patrol_session"].user.role)
    assert at.error[0].value == t("auth.forbidden_page", role=role, page=t(f"page.{page}"))
    assert not at.get("iframe")


def test_wrong_password_counts_down_then_waits_doubling_in_chinese(app_env, monkeypatch) -> None:
    """docs/app.md "Login protection": 5 free failures, then 30 s doubling; never a lock."""
    clock = [datetime(2026, 11, 30, 1, 0, tzinfo=UTC)]
    monkeypatch.setattr("gis.access.users.utcnow", lambda: clock[0])
    monkeypatch.setattr("gis.access.login.utcnow", lambda: clock[0])
    at = new_app()
    for i in range(MAX_FAILURES - 1):
        log_in(at, "chief", "wrong-password")
        assert at.error[0].value == t(
            "login.bad_credentials", remaining=MAX_FAILURES - 1 - i, minutes=15
        )

    def must_wait_until(until: datetime) -> None:
        assert [e.value for e in at.error] == [t("login.locked", time=format_datetime(until))]
        assert "patrol_session" not in at.session_state

    start = clock[0]
    log_in(at, "chief", "wrong-password")  # the 5th failure: the next attempt waits 30 s
    must_wait_until(start + BASE_DELAY)
    clock[0] = start + BASE_DELAY - timedelta(seconds=1)
    log_in(at, "chief", DEMO_PASSWORDS["chief"])  # not checked, not counted
    must_wait_until(start + BASE_DELAY)
    clock[0] = second = start + BASE_DELAY + timedelta(seconds=1)
    log_in(at, "chief", "wrong-password")  # the 6th failure: the wait doubles
    must_wait_until(second + 2 * BASE_DELAY)
    clock[0] = second + 2 * BASE_DELAY - timedelta(seconds=1)
    log_in(at, "chief", DEMO_PASSWORDS["chief"])
    must_wait_until(second + 2 * BASE_DELAY)
    clock[0] = second + 2 * BASE_DELAY + timedelta(seconds=1)
    log_in(at, "chief", DEMO_PASSWORDS["chief"])  # a wait, not a lock: the owner gets in
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["patrol_session"].user.username == "chief"


def test_empty_login_says_what_is_missing(app_env) -> None:
    at = log_in(new_app(), "", "")
    assert at.error[0].value == t("login.empty")


def test_expired_session_returns_to_login_with_a_message(app_env) -> None:
    at = new_app()
    now = utcnow()
    at.session_state["patrol_session"] = Session(
        User("leader", "leadership"), now - timedelta(hours=9), now - timedelta(minutes=1)
    )
    at.run()
    assert not at.exception
    assert at.warning[0].value == t("login.expired")
    assert at.text_input(key="login_username")


def test_session_length_comes_from_settings(app_env, monkeypatch) -> None:
    monkeypatch.setenv("PATROL_SESSION_MINUTES", "5")
    at = log_in(new_app(), "leader", DEMO_PASSWORDS["leader"])
    s = at.session_state["patrol_session"]
    assert s.expires_at - s.started_at == timedelta(minutes=5)


def test_patrol_member_cannot_open_another_persons_route_by_query(app_env) -> None:
    at = log_in(new_app(), "patrol1", DEMO_PASSWORDS["patrol1"])
    at.query_params["person"] = "P02"
    goto(at, "patrol")
    assert not at.exception
    assert at.error[0].value == t("auth.forbidden_scope", what=t("auth.person", id="巡查队员二"))
    assert "person" not in at.query_params
    assert t("auth.person", id="巡查队员一") in texts(at)  # by name


def test_area_chief_cannot_open_another_zone_by_query(app_env) -> None:
    at = log_in(new_app(), "chief", DEMO_PASSWORDS["chief"])
    at.query_params["zone"] = Z2
    goto(at, "districts")
    assert at.error[0].value == t("auth.forbidden_scope", what=t("auth.zone", id="东片"))
    at.query_params["zone"] = Z1
    goto(at, "districts")
    assert not at.error


def test_english_switch(app_env) -> None:
    at = new_app()
    at.session_state["patrol_lang"] = "en"
    log_in(at, "leader", DEMO_PASSWORDS["leader"])
    assert "Shichahai patrol and enforcement" in texts(at)
    assert "Overview map" in texts(at)


def test_admin_adds_a_user_who_can_then_log_in(app_env) -> None:
    at = log_in(new_app(), "admin", DEMO_PASSWORDS["admin"])
    goto(at, "users")
    at.text_input(key="new_username").input("zhaoliu")
    at.text_input(key="new_display_name").input("赵六")
    at.selectbox(key="new_role").set_value("liaison")
    at.selectbox(key="new_department").set_value("police")  # shown as 公安
    at.text_input(key="new_password").input("zhaoliu-pass-1")
    click_button(at, t("users.add"))
    assert at.success[0].value == t("users.added", username="zhaoliu")
    other = log_in(new_app(), "zhaoliu", "zhaoliu-pass-1")
    assert other.session_state["patrol_session"].user.department == "police"


def test_admin_form_reports_bad_input_in_chinese(app_env) -> None:
    at = log_in(new_app(), "admin", DEMO_PASSWORDS["admin"])
    goto(at, "users")
    at.text_input(key="new_username").input("x y")
    at.text_input(key="new_password").input("zhaoliu-pass-1")
    click_button(at, t("users.add"))
    assert at.error[0].value == t("errors.validation.username")  # Chinese, with the fix


def test_first_run_offers_demo_accounts(monkeypatch, tiny_geo_dir, tmp_path) -> None:
    monkeypatch.setenv("PATROL_DATA_DIR", str(tiny_geo_dir))
    monkeypatch.setenv("PATROL_DATABASE_URL", str(tmp_path / "fresh.gpkg"))
    monkeypatch.setattr("gis.access.users.BCRYPT_ROUNDS", 4)
    at = new_app().run()
    assert at.info[0].value == t("login.no_users")
    click_button(at, t("login.seed_demo"))
    assert at.success[0].value.startswith("已创建演示账号：admin")
    log_in(at, "patrol1", DEMO_PASSWORDS["patrol1"])
    assert at.session_state["patrol_session"].user.person_id == "P01"
