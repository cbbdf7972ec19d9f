"""Every page, for every role, in Chinese and in English, shows names, never identifiers from
the code tables (codes may appear only as small print: captions); in English, no Chinese label
shows where an English name exists."""

from __future__ import annotations

import importlib.util
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from gis.access.authorization import allowed_pages
from gis.access.users import (
    DEMO_PASSWORDS,
    ROLES,
    SqliteUserRepository,
    User,
    hash_password,
    seed_demo_users,
)
from gis.i18n import MESSAGES, t
from gis.store.geopackage import GeoPackageStore
from tests.app.apptest_helpers import click_button, goto, log_in, new_app
from tests.app.conftest import TEST_ROUNDS

for _name in (
    "gis.cases.intake",
    "gis.cases.workflow",
    "layers.violations",
    "gis.planning.partition",
    "gis.planning.routing",
):
    if importlib.util.find_spec(_name) is None:
        pytest.skip(f"{_name} is not part of this build", allow_module_level=True)

from gis.cases.categories import load_references  # noqa: E402
from gis.cases.workflow import STATES, TIERS  # noqa: E402


def code_words(tiny_geo) -> set[str]:
    """Identifiers that must never be the visible text of the Chinese interface."""
    refs = load_references()
    from gis.people.staff import PRESENCE
    from gis.people.staff_table import ROLES as STAFF_ROLES

    words = set(refs.categories) | set(refs.departments) | set(STATES) | set(TIERS) | set(ROLES)
    words |= set(STAFF_ROLES) | set(PRESENCE)
    words |= set(tiny_geo.fronts["front_id"]) | set(tiny_geo.zones["zone_id"])
    words |= {f"P{i:02d}" for i in range(1, 31)}
    return {w for w in words if w}


def visible(at) -> list[str]:
    """Every text a user reads as primary text on the last run (captions are small print)."""
    out: list[str] = []
    for kind in ("title", "subheader", "header", "markdown", "error", "warning", "info", "success"):
        out += [str(e.value) for e in getattr(at, kind)]
    for kind in (
        "button",
        "toggle",
        "checkbox",
        "number_input",
        "text_input",
        "text_area",
        "date_input",
        "expander",
        "tabs",
    ):
        out += [str(e.label) for e in getattr(at, kind)]
    for e in at.metric:
        out += [str(e.label), str(e.value)]
    for kind in ("selectbox", "radio", "multiselect"):
        for e in getattr(at, kind):
            out.append(str(e.label))
            if e.key != "pw_user":  # login names are names of their own
                out += [str(o) for o in e.options]
    for df in at.dataframe:
        frame = df.value
        out += [str(c) for c in frame.columns]
        for col in frame.columns:
            if str(col) in OWN_NAMES:  # names of their own
                continue
            out += [str(v) for v in frame[col].tolist()]
    for tab in at.table:
        frame = tab.value
        out += [str(c) for c in frame.columns] + [str(i) for i in frame.index]
        for col in frame.columns:
            out += [str(v) for v in frame[col].tolist()]
    for kind in ("download_button", "file_uploader"):
        out += [str(e.proto.label) for e in at.get(kind)]
    return out


def uploader_style(at) -> str | None:
    """The style sheet of the run that covers Streamlit's own uploader words (``Upload``,
    ``20MB per file``, the drag hint: drawn by Streamlit's frontend, where AppTest cannot read
    them; tests/app/test_browser_uploads.py checks what Chromium shows)."""
    for e in at.get("html"):
        if "stFileUploaderDropzone" in e.proto.body:
            return str(e.proto.body)
    return None


def _check_uploaders(at, lang: str, where: str) -> int:
    """In Chinese a page with a file uploader carries the Chinese words for Streamlit's English
    ones; in English it keeps Streamlit's. Returns how many uploaders the page has."""
    uploaders = len(at.get("file_uploader"))
    if uploaders:
        style = uploader_style(at)
        if lang == "zh":
            assert style is not None, (where, "Streamlit's English uploader words show")
            for key in ("upload.button", "upload.limit", "upload.drop"):
                assert t(key, "zh", mb=20) in style, (where, key)
        else:
            assert style is None, (where, "the English UI must keep Streamlit's own words")
    return uploaders


#: Table columns whose values are names of their own (case ids, login and display names).
OWN_NAMES = {
    t(k, lang)
    for k in ("cases.id", "users.username", "users.display_name")
    if k in MESSAGES
    for lang in ("zh", "en")
}


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


REPORTER_PW = "reporter-pw-1"
#: Every role's demo account (plus a reporter made by the test) and its password.
ACCOUNTS = {
    **{u: DEMO_PASSWORDS[u] for u in ("leader", "chief", "streets", "patrol1", "liaison")},
    "admin": DEMO_PASSWORDS["admin"],
    "dama": REPORTER_PW,
}
_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[A-Za-z][A-Za-z ]+")


def english_code_words(words: set[str]) -> set[str]:
    """The codes that cannot pass for English: an identifier that is also a word of the
    interface's own English (``patrol``, ``general``, ``reported``) is not checked in English."""
    english = " ".join(en for _zh, en in MESSAGES.values()).lower()
    refs = load_references()
    english += " " + " ".join(c.name_en for c in refs.categories.values()).lower()
    english += " " + " ".join(d.name_en for d in refs.departments.values()).lower()
    plain_words = set(re.findall(r"[a-z]+", english))
    return {w for w in words if w.lower() not in plain_words}


def chinese_only(tiny_geo) -> set[str]:
    """Chinese names and labels that have an English one: seen in English mode, they leak."""
    refs = load_references()
    out = {c.name_zh for c in refs.categories.values() if c.name_en}
    out |= {d.name_zh for d in refs.departments.values() if d.name_en}
    for frame in (tiny_geo.zones, tiny_geo.fronts):
        if "name_en" in frame.columns:
            out |= {str(n) for n, e in zip(frame["name"], frame["name_en"], strict=True) if e}
    for key, (zh, en) in MESSAGES.items():
        # the catalogue's labels and names (no placeholders, short): states, tiers, roles …
        if "{" not in zh and len(zh) <= 8 and _CJK.search(zh) and _WORD.search(en):
            if key not in ("app.language",):
                out.add(zh)
    return {w for w in out if w and _CJK.search(w)}


def zh_leaks(at, names: set[str], own: set[str]) -> list[tuple[str, str]]:
    """Chinese labels in the visible text, once the names of people and accounts (which have
    no English form) are taken out."""
    found = []
    for text in visible(at):
        for name in sorted(own, key=len, reverse=True):
            text = text.replace(name, "")
        found += [(n, text[:120]) for n in names if n in text]
    return found


def _seed_cases_and_districts() -> None:
    """A case with a trail, a saved district plan and a route: the pages then show data."""
    from tests.app.test_app_cases import WEST, action_box, report

    at = log_in(new_app(), "leader", DEMO_PASSWORDS["leader"])
    goto(at, "cases")
    report(at, *WEST, category="C07")
    action_box(at).set_value("register")
    click_button(at, t("cases.apply"))
    goto(at, "districts")
    at.number_input(key="districts_k").set_value(2)
    click_button(at, t("districts.compute"))
    click_button(at, t("districts.save"))
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture(scope="module")
def seeded_store(tmp_path_factory, tiny_geo_dir, tiny_geo) -> Path:
    """The demo store with a reporter account, after the leader's session that leaves a case
    with its trail and a saved district plan: made once, copied for each language."""
    path = tmp_path_factory.mktemp("names") / "store.gpkg"
    repo = SqliteUserRepository(path)
    seed_demo_users(repo, list(tiny_geo.zones["zone_id"]), rounds=TEST_ROUNDS)
    repo.add(User("dama", "reporter", "西城大妈"), hash_password(REPORTER_PW, rounds=4))
    env = {"PATROL_DATA_DIR": str(tiny_geo_dir), "PATROL_DATABASE_URL": str(path),
           "PATROL_LANG": "zh", "PATROL_BASEMAP": "none"}  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        _seed_cases_and_districts()
    return path


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_of_every_role_names_things(
    app_env, demo_repo, seeded_store, tiny_geo, monkeypatch, lang
):
    """Walk every page each role may open, in Chinese and in English: no identifier from the
    code tables as primary text, and in English no Chinese label where an English one exists."""
    from gis.access.authorization import ROLE_PAGES

    with (
        closing(sqlite3.connect(seeded_store)) as src,
        closing(sqlite3.connect(demo_repo.path)) as dst,
    ):
        src.backup(dst)  # a consistent copy, whatever the app's connections left in the WAL
    assert demo_repo.get("dama")[0].role == "reporter"
    with GeoPackageStore(demo_repo.path) as store:  # the pages have data to show
        assert store.count_cases() >= 1 and store.get_meta("districts.assignment")
    monkeypatch.setenv("PATROL_LANG", lang)
    words = code_words(tiny_geo)
    if lang == "en":
        words = english_code_words(words)
        names = chinese_only(tiny_geo)
        own = {u.display_name for u in demo_repo.list_users() if u.display_name}
    walked: set[str] = set()
    uploaders = 0
    for username, password in ACCOUNTS.items():
        at = log_in(new_app(), username, password)
        assert at.session_state["patrol_lang"] == lang
        user, _hash = demo_repo.get(username)
        for page in allowed_pages(user):
            goto(at, page)
            if page == "patrol" and any(b.key == "patrol_plan" for b in at.button):
                at.button(key="patrol_plan").click().run()
            where = f"{lang}/{username}/{page}"
            _check(at, words, where)
            uploaders += _check_uploaders(at, lang, where)
            if lang == "en":
                assert not zh_leaks(at, names, own), (where, zh_leaks(at, names, own))
            walked.add(page)
    # every page of the app was seen by some role
    assert walked == set().union(*ROLE_PAGES.values())
    assert uploaders > 0  # the walk met file uploaders (the cases page's batch import at least)
