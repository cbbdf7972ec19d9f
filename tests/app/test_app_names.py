"""Every page in Chinese shows names, never identifiers from the code tables (codes may appear
only as small print: captions)."""

from __future__ import annotations

import importlib.util
import re

import pytest

from gis.access.auth import DEMO_PASSWORDS, ROLES
from gis.i18n import t
from tests.app.apptest_helpers import click_button, goto, log_in, new_app

for _name in (
    "gis.cases.intake",
    "gis.cases.workflow",
    "layers.violations",
    "gis.planning.partition",
    "gis.planning.routing",
):
    if importlib.util.find_spec(_name) is None:
        pytest.skip(f"{_name} is not part of this build", allow_module_level=True)

from gis.cases.intake import load_references  # noqa: E402
from gis.cases.workflow import STATES, TIERS  # noqa: E402


def code_words(tiny_geo) -> set[str]:
    """Identifiers that must never be the visible text of the Chinese interface."""
    refs = load_references()
    words = set(refs.categories) | set(refs.departments) | set(STATES) | set(TIERS) | set(ROLES)
    words |= set(tiny_geo.fronts["front_id"]) | set(tiny_geo.zones["zone_id"])
    words |= {f"P{i:02d}" for i in range(1, 31)}
    return {w for w in words if w}


def visible(at) -> list[str]:
    """Every text a user reads as primary text on the last run (captions are small print)."""
    out: list[str] = []
    for kind in ("title", "subheader", "header", "markdown", "error", "warning", "info", "success"):
        out += [str(e.value) for e in getattr(at, kind)]
    for kind in ("button", "toggle", "number_input", "text_input", "text_area", "date_input"):
        out += [str(e.label) for e in getattr(at, kind)]
    for kind in ("selectbox", "radio", "multiselect"):
        for e in getattr(at, kind):
            out.append(str(e.label))
            if e.key != "pw_user":  # login names are names of their own
                out += [str(o) for o in e.options]
    for df in at.dataframe:
        frame = df.value
        out += [str(c) for c in frame.columns]
        for col in frame.columns:
            if str(col) in (t("cases.id"), t("users.username")):  # names of their own
                continue
            out += [str(v) for v in frame[col].tolist()]
    for tab in at.table:
        frame = tab.value
        out += [str(c) for c in frame.columns] + [str(i) for i in frame.index]
        for col in frame.columns:
            out += [str(v) for v in frame[col].tolist()]
    for e in at.get("download_button"):
        out.append(str(e.proto.label))
    return out


def leaks(at, words: set[str]) -> list[tuple[str, str]]:
    found = []
    for text in visible(at):
        for w in words:
            if re.search(rf"(?<![A-Za-z0-9_]){re.escape(w)}(?![A-Za-z0-9_])", text):
                found.append((w, text[:120]))
    return found


def _check(at, words, where: str) -> None:
    assert not at.exception, (where, [e.value for e in at.exception])
    assert not leaks(at, words), (where, leaks(at, words))


@pytest.mark.slow  # a whole app session per case: CI runs it, the quick loop skips it
def test_every_page_in_chinese_names_things(app_env, tiny_geo) -> None:
    from tests.app.test_app_cases import WEST, action_box, report

    words = code_words(tiny_geo)
    # leadership: every page, with a district plan, a route and a case with its trail
    at = log_in(new_app(), "leader", DEMO_PASSWORDS["leader"])
    _check(at, words, "leader/start")
    goto(at, "cases")
    report(at, *WEST, category="C07")
    _check(at, words, "leader/cases")
    action_box(at).set_value("register")
    click_button(at, t("cases.apply"))
    _check(at, words, "leader/cases advanced")
    goto(at, "districts")
    at.number_input(key="districts_k").set_value(2)
    click_button(at, t("districts.compute"))
    _check(at, words, "leader/districts")
    click_button(at, t("districts.save"))
    _check(at, words, "leader/districts saved")
    goto(at, "overview")
    _check(at, words, "leader/overview")
    goto(at, "hotspots")
    _check(at, words, "leader/hotspots")
    # area chief: own zones, districts, a person's route
    at = log_in(new_app(), "chief", DEMO_PASSWORDS["chief"])
    for page in ("overview", "districts", "patrol", "cases", "hotspots"):
        goto(at, page)
        _check(at, words, f"chief/{page}")
    # patrol member: today's route
    at = log_in(new_app(), "patrol1", DEMO_PASSWORDS["patrol1"])
    goto(at, "patrol")
    click_button(at, t("patrol.plan"))
    _check(at, words, "patrol/route")
    # liaison: the department's cases
    at = log_in(new_app(), "liaison", DEMO_PASSWORDS["liaison"])
    goto(at, "cases")
    _check(at, words, "liaison/cases")
    goto(at, "overview")
    _check(at, words, "liaison/overview")
    # admin: users, and a refused form
    at = log_in(new_app(), "admin", DEMO_PASSWORDS["admin"])
    goto(at, "users")
    _check(at, words, "admin/users")
    at.text_input(key="new_username").input("x y")
    at.text_input(key="new_password").input("zhaoliu-pass-1")
    click_button(at, t("users.add"))
    _check(at, words, "admin/users refused")


def test_admin_form_error_is_chinese_with_the_fix(app_env) -> None:
    """Regression: ``field 'username' … Fix: …`` in English on the Chinese admin form."""
    at = log_in(new_app(), "admin", DEMO_PASSWORDS["admin"])
    goto(at, "users")
    at.text_input(key="new_username").input("x y")
    at.text_input(key="new_password").input("zhaoliu-pass-1")
    click_button(at, t("users.add"))
    (error,) = at.error
    assert error.value == t("errors.validation.username")
    assert not re.search(r"[A-Za-z]{4,}", error.value.replace("“_”", "")), error.value
    at.text_input(key="new_username").input("zhaoliu")
    at.text_input(key="new_password").input("short")
    click_button(at, t("users.add"))
    assert at.error[0].value == t("errors.validation.password")
