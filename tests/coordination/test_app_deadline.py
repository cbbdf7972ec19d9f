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


def _to_notice_form(app_env):
    at = report(chief_on_cases(), *WEST, category="C04")
    at.selectbox(key="cases_action").set_value("register")
    click_button(at, t("cases.apply"))
    at.run()  # the form redraws with the registered case's actions
    at.selectbox(key="cases_action").set_value("serve_notice")
    return at


def test_notice_defaults_to_the_category_deadline(app_env) -> None:
    at = _to_notice_form(app_env)
    (case,) = stored(app_env)
    assert at.number_input(key=f"cases_hours_{case.case_id}").value == 2
    click_button(at, t("cases.apply"))
    (case,) = stored(app_env)
    assert case.state == "notice_served"
    assert case.deadline_at - case.updated_at == dt.timedelta(hours=2)


def test_another_deadline_needs_a_reason(app_env) -> None:
    at = _to_notice_form(app_env)
    (case,) = stored(app_env)
    at.number_input(key=f"cases_hours_{case.case_id}").set_value(72)
    click_button(at, t("cases.apply"))
    assert "say why" in at.error[0].value
    assert stored(app_env)[0].state == "registered"
    at.text_input(key="cases_note").set_value("店主外地，延期")
    at.number_input(key=f"cases_hours_{case.case_id}").set_value(72)
    click_button(at, t("cases.apply"))
    (case,) = stored(app_env)
    assert case.deadline_at - case.updated_at == dt.timedelta(hours=72)
