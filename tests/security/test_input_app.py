"""Hostile input through the app's forms (Streamlit AppTest): report, batch upload, users.

A test fails if an exception reaches the page, if a server file is read, or if a refused
form leaves anything in the store.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from gis.access.users import DEMO_PASSWORDS
from gis.i18n import t
from gis.settings import Settings
from gis.store import open_store
from tests.app.apptest_helpers import click_button, goto, log_in, new_app
from tests.app.test_app_cases import WEST, report
from tests.security import input_payloads as P


def stored(env) -> list:
    with open_store(Settings(database_url=env["PATROL_DATABASE_URL"])) as s:
        return s.query_cases()


def chief_on_cases():
    return goto(log_in(new_app(), "chief", DEMO_PASSWORDS["chief"]), "cases")


def upload(at, name: str, content: bytes):
    at.file_uploader(key="cases_upload").upload(name, content)
    return at.run()


def _first_quick(values: list[str]) -> list:
    """Every payload for CI; the first of a family also in the quick loop (an app run each)."""
    return [v if i == 0 else pytest.param(v, marks=pytest.mark.slow) for i, v in enumerate(values)]


@pytest.mark.parametrize("text", [*_first_quick(list(P.TEMPLATE)), *_first_quick(list(P.SCRIPT))])
def test_report_form_keeps_payload_descriptions_as_text(app_env, text) -> None:
    at = chief_on_cases()
    at.text_area(key="cases_description").input(text)
    at = report(at, *WEST)
    assert not at.exception
    assert [c.description for c in stored(app_env)] == [text]


@pytest.mark.parametrize("text", ["a\x00b", P.HUGE_TEXT])
def test_report_form_refuses_nul_and_huge_text_with_a_message(app_env, text) -> None:
    at = chief_on_cases()
    at.text_area(key="cases_description").input(text)
    at = report(at, *WEST)
    assert not at.exception
    assert at.error and "描述" in at.error[0].value  # the field, in the user's language
    assert stored(app_env) == []


def _feature_collection(geometry, **props) -> bytes:
    lon, lat = WEST
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"category": "C01", "reported_at": "2026-05-01 10:00", **props},
                "geometry": geometry,
            }
        ],
    }
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    "name,content",
    [
        ("deep.geojson", P.deep_json().encode()),
        ("bare.geojson", b'{"type":"Point","coordinates":[]}'),
        ("empty_point.geojson", _feature_collection({"type": "Point", "coordinates": []})),
        ("bowtie.geojson", _feature_collection(P.bowtie(*WEST))),
        ("nan.geojson", _feature_collection({"type": "Point", "coordinates": ["nan", "nan"]})),
        ("junk.csv", b"\x00\x01\x02" * 100),
        ("formula.csv", b"=cmd|calc,category,lon,lat,reported_at\n=1+1,C04,1,2,x\n"),
    ],
)
def test_hostile_uploads_get_a_message_and_store_nothing(app_env, name, content) -> None:
    """Why 4: malformed GeoJSON and deep nesting raised tracebacks in the app."""
    at = upload(chief_on_cases(), name, content)
    assert not at.exception
    previews = [m.value for m in at.markdown]
    assert at.error or t("cases.preview", ok=0, bad=1) in previews, previews
    assert t("cases.import_do") not in [b.label for b in at.button]  # nothing to import
    assert stored(app_env) == []


@pytest.mark.parametrize("name", ["../../x.csv", "x" * 300 + ".csv", "p.GeoJSON"])
def test_upload_names_never_name_a_path(app_env, name) -> None:
    """A browser's file name too long for the disk got a traceback (Streamlit refuses NULs)."""
    at = upload(chief_on_cases(), name, b"report_id,category,lon,lat,reported_at\n")
    assert not at.exception, at.exception
    assert stored(app_env) == []


def test_uploaded_photo_paths_are_never_read(app_env, tmp_path) -> None:
    """Why 3: a batch uploaded in the app with photo=/etc/shadow read that server file."""
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$SECRET-HASH:19000:0:99999:7:::\n", encoding="utf-8")
    lon, lat = WEST
    rows = ["report_id,category,lon,lat,reported_at,photo"]
    for i, p in enumerate(P.PATHS):
        rows.append(f"U{i},C04,{lon},{lat},2026-05-01 10:{i:02d},{p.format(secret=secret)}")
    rows.append(f"U99,C04,{lon},{lat},2026-05-01 11:00,https://example.org/p.jpg")
    at = upload(chief_on_cases(), "photos.csv", ("\n".join(rows) + "\n").encode())
    assert not at.exception
    page = " ".join(str(e.value) for e in [*at.error, *at.markdown, *at.dataframe])
    assert "SECRET-HASH" not in page
    assert t("cases.preview", ok=1, bad=len(P.PATHS)) in [m.value for m in at.markdown]
    click_button(at, t("cases.import_do"))
    cases = stored(app_env)
    assert [c.case_id for c in cases] == ["U99"]
    assert cases[0].photo_sha256 != hashlib.sha256(secret.read_bytes()).hexdigest()


@pytest.mark.parametrize("display_name", ["a\x00b", P.HUGE_TEXT])
def test_users_form_refuses_control_bytes_and_huge_names(app_env, display_name) -> None:
    at = goto(log_in(new_app(), "admin", DEMO_PASSWORDS["admin"]), "users")
    at.text_input(key="new_username").input("newbie")
    at.text_input(key="new_display_name").input(display_name)
    at.selectbox(key="new_role").set_value("leadership")
    at.text_input(key="new_password").input("long-enough-1")
    at = click_button(at, t("users.add"))
    assert not at.exception
    assert at.error
    from gis.access.users import SqliteUserRepository

    names = [u.username for u in SqliteUserRepository(app_env["PATROL_DATABASE_URL"]).list_users()]
    assert "newbie" not in names


def test_case_query_parameter_with_nul_is_a_message(app_env) -> None:
    at = log_in(new_app(), "leader", DEMO_PASSWORDS["leader"])
    at.query_params["case"] = "a\x00b"
    at = goto(at, "cases")
    assert not at.exception
