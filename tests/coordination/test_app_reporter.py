"""The reporter's page through AppTest: send a report, see only one's own, no other pages."""

from __future__ import annotations

from gis.access.users import User, hash_password
from gis.i18n import t
from gis.settings import Settings
from gis.store import open_store
from tests.app.apptest_helpers import click_button, goto, log_in, new_app, texts
from tests.app.test_app_cases import WEST
from ui.names import category_names

from .conftest import _app

app_env = _app.app_env
demo_repo = _app.demo_repo
repo = _app.repo
PW = "reporter-pw-1"


def _reporter(demo_repo, name: str) -> None:
    demo_repo.add(User(name, "reporter", "西城大妈"), hash_password(PW, rounds=4))


def _send(at, sentence: str):
    at.selectbox(key="report_source").set_value("xicheng_dama")
    at.selectbox(key="report_category").set_value("C04")
    at.number_input(key="report_lon").set_value(WEST[0])
    at.number_input(key="report_lat").set_value(WEST[1])
    at.text_input(key="report_sentence").input(sentence)
    return click_button(at, t("report.submit"))


def test_reporter_sends_and_sees_only_own_reports(app_env, demo_repo) -> None:
    _reporter(demo_repo, "dama1")
    _reporter(demo_repo, "dama2")
    at = log_in(new_app(), "dama1", PW)
    assert not at.exception, at.exception
    assert [h.value for h in at.subheader] == [t("report.title")]
    at = _send(at, "门口六张桌子")
    assert at.success[0].value.startswith("已上报，编号 ")
    with open_store(Settings(database_url=app_env["PATROL_DATABASE_URL"])) as s:
        (case,) = s.query_cases()
        assert case.source == "xicheng_dama" and case.reporter == "dama1"
    at.run()
    assert t("report.mine", count=1) in texts(at)
    (mine,) = [d.value for d in at.dataframe]
    names = category_names(s.refs, "zh")
    assert list(mine[t("cases.category")]) == [names["C04"]] != ["C04"]  # a name, not the code
    other = log_in(new_app(), "dama2", PW)
    assert t("report.mine", count=0) in texts(other)
    assert case.case_id not in texts(other)
    goto(other, "cases")
    assert other.error[0].value == t(
        "auth.forbidden_page", role=t("role.reporter"), page=t("page.cases")
    )


def test_data_in_messages_is_shown_literally() -> None:
    from ui.coordination import plain

    assert plain("[x](javascript:alert(1))") == r"\[x\]\(javascript\:alert\(1\)\)"
    assert plain("**bold** `code` <b>") == r"\*\*bold\*\* \`code\` \<b\>"
    assert plain("W1") == "W1"
