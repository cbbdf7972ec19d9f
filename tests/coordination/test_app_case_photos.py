"""The cases page: a case's before/after photos, and 已整改 needs an after photo or a reason."""

from __future__ import annotations

from gis.access.users import User
from gis.coordination import evidence
from gis.i18n import t
from gis.settings import Settings
from gis.store import open_store
from tests.app.apptest_helpers import click_button
from tests.app.test_app_cases import WEST, action_box, chief_on_cases, report, stored

from .conftest import _app
from .photos import jpeg

app_env = _app.app_env
demo_repo = _app.demo_repo
repo = _app.repo


def _captions(at) -> list[str]:
    return [e.proto.imgs[0].caption for e in at.get("image")]


def _forms(at) -> list[str]:
    return [e.proto.form.form_id for e in at.get("form")]


def _token(case) -> str:
    return f"{case.case_id}_{case.version}"


def _to_rechecking(app_env):
    at = report(chief_on_cases(), *WEST, category="C04")
    for action in ("register", "serve_notice", "recheck"):
        action_box(at).set_value(action)
        click_button(at, t("cases.apply"))
        at.run()
        assert not at.exception and not at.error, [e.value for e in at.error]
    (case,) = stored(app_env)
    assert case.state == "rechecking"
    return at, case


def _add_photo(app_env, case_id: str, kind: str, colour) -> None:
    with open_store(Settings(database_url=app_env["PATROL_DATABASE_URL"])) as s:
        evidence.add_photo(s, case_id, jpeg(color=colour), User("chief", "area_chief"), kind=kind)


def test_closing_as_rectified_without_after_photo_is_refused_then_a_reason_closes(app_env):
    at, case = _to_rechecking(app_env)
    _add_photo(app_env, case.case_id, "before", (200, 0, 0))
    at.run()
    assert _captions(at) == ["整改前（照片无位置信息）"]
    assert f"cases_photo_{case.case_id}" in _forms(at)
    action_box(at).set_value("close_rectified")
    click_button(at, t("cases.apply"))
    assert [e.value for e in at.error] == [t("errors.transition.after_photo")]
    assert stored(app_env)[0].state == "rechecking"
    assert not at.exception
    action_box(at).set_value("close_rectified")
    at.text_input(key=f"cases_note_{_token(case)}").set_value("摊位已撤，现场无可拍")
    click_button(at, t("cases.apply"))
    assert not at.exception and not at.error
    (closed,) = stored(app_env)
    assert closed.state == "closed"


def test_an_after_photo_lets_the_case_close_and_both_photos_show(app_env):
    at, case = _to_rechecking(app_env)
    _add_photo(app_env, case.case_id, "before", (200, 0, 0))
    _add_photo(app_env, case.case_id, "after", (0, 200, 0))
    at.run()
    assert _captions(at) == ["整改前（照片无位置信息）", "整改后（照片无位置信息）"]
    action_box(at).set_value("close_rectified")
    click_button(at, t("cases.apply"))
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert stored(app_env)[0].state == "closed"
    # a closed case shows its photos and no upload form
    assert _captions(at) == ["整改前（照片无位置信息）", "整改后（照片无位置信息）"]
    assert not [f for f in _forms(at) if f.startswith("cases_photo_")]
