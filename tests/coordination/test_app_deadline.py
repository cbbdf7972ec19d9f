"""The cases page serves a notice with the rule's deadline (C04: 2 h, not 72 h)."""

from __future__ import annotations

import datetime as dt

from gis.i18n import t
from tests.app.apptest_helpers import click_button
from tests.app.test_app_cases import WEST, action_box, chief_on_cases, report, stored

from .conftest import _app

app_env = _app.app_env
demo_repo = _app.demo_repo
repo = _app.repo


def _to_notice_form(app_env):
    at = report(chief_on_cases(), *WEST, category="C04")
    action_box(at).set_value("register")
    click_button(at, t("cases.apply"))
    at.run()  # the form redraws with the registered case's actions
    action_box(at).set_value("serve_notice")
    return at


def _token(case) -> str:
    """The workflow form's widgets are keyed by the case version they were drawn for."""
    return f"{case.case_id}_{case.version}"


def test_notice_defaults_to_the_category_deadline(app_env) -> None:
    at = _to_notice_form(app_env)
    (case,) = stored(app_env)
    assert at.number_input(key=f"cases_hours_{_token(case)}").value == 2
    click_button(at, t("cases.apply"))
    (case,) = stored(app_env)
    assert case.state == "notice_served"
    assert case.deadline_at - case.updated_at == dt.timedelta(hours=2)


def test_another_deadline_needs_a_reason(app_env) -> None:
    at = _to_notice_form(app_env)
    (case,) = stored(app_env)
    at.number_input(key=f"cases_hours_{_token(case)}").set_value(72)
    click_button(at, t("cases.apply"))
    # in the user's language, naming the rule's deadline and where the reason goes
    assert [e.value for e in at.error] == [t("cases.deadline_reason", rule="2", hours="72")]
    assert stored(app_env)[0].state == "registered"
    at.text_input(key=f"cases_note_{_token(case)}").set_value("店主外地，延期")
    at.number_input(key=f"cases_hours_{_token(case)}").set_value(72)
    click_button(at, t("cases.apply"))
    (case,) = stored(app_env)
    assert case.deadline_at - case.updated_at == dt.timedelta(hours=72)
