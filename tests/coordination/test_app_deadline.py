"""The cases page serves a notice with the rule's deadline (C04: 2 h, not 72 h)."""

from __future__ import annotations

import datetime as dt

from gis.i18n import t
from tests.app.apptest_helpers import click_button
from tests.app.test_app_cases import WEST, chief_on_cases, report, stored

from .conftest import _app

app_env = _app.app_env
demo_repo = _app.demo_repo
repo = _app.repo


def _keyed(widgets, prefix: str):
    """The one widget of the workflow form (its keys carry the case id and version)."""
    (w,) = [w for w in widgets if str(w.key).startswith(prefix + "_")]
    return w


def _to_notice_form(app_env):
    at = report(chief_on_cases(), *WEST, category="C04")
    _keyed(at.selectbox, "cases_action").set_value("register")
    click_button(at, t("cases.apply"))
    at.run()  # the form redraws with the registered case's actions
    _keyed(at.selectbox, "cases_action").set_value("serve_notice")
    return at


def test_notice_defaults_to_the_category_deadline(app_env) -> None:
    at = _to_notice_form(app_env)
    (case,) = stored(app_env)
    assert _keyed(at.number_input, "cases_hours").value == 2
    click_button(at, t("cases.apply"))
    (case,) = stored(app_env)
    assert case.state == "notice_served"
    assert case.deadline_at - case.updated_at == dt.timedelta(hours=2)


def test_another_deadline_needs_a_reason(app_env) -> None:
    at = _to_notice_form(app_env)
    (case,) = stored(app_env)
    _keyed(at.number_input, "cases_hours").set_value(72)
    click_button(at, t("cases.apply"))
    assert at.error[0].value == t("errors.notice.transition")  # the reason, not the state
    assert stored(app_env)[0].state == "registered"
    _keyed(at.text_input, "cases_note").set_value("店主外地，延期")
    _keyed(at.number_input, "cases_hours").set_value(72)
    click_button(at, t("cases.apply"))
    (case,) = stored(app_env)
    assert case.deadline_at - case.updated_at == dt.timedelta(hours=72)
