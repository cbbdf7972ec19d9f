"""The reporter's point through AppTest: the phone's position, a map tap, typed coordinates.

The two browser components (streamlit-js-eval's geolocation, st_folium's click) are
replaced by what they hand back to Python; the Chromium test drives the real ones.
"""

from __future__ import annotations

import pytest

from gis.i18n import t
from gis.settings import Settings
from gis.store import open_store
from tests.app.apptest_helpers import click_button, log_in, new_app
from tests.app.test_app_cases import WEST

from .conftest import _app
from .test_app_reporter import PW, _reporter

app_env = _app.app_env
demo_repo = _app.demo_repo
repo = _app.repo
FAR = (116.2000, 39.8000)  # Fengtai, far outside the subdistrict


@pytest.fixture
def browser(monkeypatch):
    """What the browser answers: ``answer["gps"]`` for the geolocation, ``answer["tap"]``."""
    import streamlit_js_eval

    import ui.report

    answer: dict = {"gps": None, "tap": None}
    kept: dict = {}  # like the component: once answered, a key keeps its answer

    def component(**kw):
        if kw["key"] not in kept and answer["gps"] is not None:
            kept[kw["key"]] = answer["gps"]
        return kept.get(kw["key"])

    monkeypatch.setattr(streamlit_js_eval, "streamlit_js_eval", component)
    monkeypatch.setattr(ui.report, "show_map", lambda *a, **kw: answer["tap"])
    return answer


def _cases(app_env):
    with open_store(Settings(database_url=app_env["PATROL_DATABASE_URL"])) as s:
        return s.query_cases()


def _point(at):
    return at.number_input(key="report_lon").value, at.number_input(key="report_lat").value


def _reporter_page(demo_repo):
    _reporter(demo_repo, "dama1")
    at = log_in(new_app(), "dama1", PW)
    assert not at.exception, at.exception
    return at


def test_phone_position_fills_the_point_and_the_report_is_stored_there(app_env, demo_repo, browser):
    at = _reporter_page(demo_repo)
    at = click_button(at, t("report.gps"))
    assert t("report.gps_waiting") in [c.value for c in at.caption]  # asking the phone
    browser["gps"] = {"coords": {"longitude": FAR[0], "latitude": FAR[1]}}
    at.run()
    assert _point(at) == (None, None) and len(at.error) == 1  # outside: refused
    browser["gps"] = {"coords": {"longitude": WEST[0], "latitude": WEST[1], "accuracy": 8}}
    at = click_button(at, t("report.gps"))  # a second request gets a fresh answer
    at.run()
    lon, lat = round(WEST[0], 6), round(WEST[1], 6)
    assert _point(at) == (lon, lat)
    assert [s.value for s in at.success] == [
        t("report.point_gps", lon=f"{lon:.6f}", lat=f"{lat:.6f}")
    ]
    at.text_input(key="report_sentence").input("门口六张桌子")
    at = click_button(at, t("report.submit"))
    assert not at.exception and not at.error, [e.value for e in at.error]
    (case,) = _cases(app_env)
    assert (round(case.lon, 6), round(case.lat, 6)) == (lon, lat)
    assert case.zone_id == "110102012001001"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"error": {"code": 1, "message": "User denied Geolocation"}}, "denied"),
        ({"error": {"code": 2, "message": "Position unavailable"}}, "unavailable"),
        ({"error": {"code": 3, "message": "Timeout expired"}}, "timeout"),
        ("garbage", "unavailable"),
    ],
)
def test_no_phone_position_says_why_and_what_to_do(app_env, demo_repo, browser, answer, reason):
    at = _reporter_page(demo_repo)
    browser["gps"] = answer
    at = click_button(at, t("report.gps"))
    assert [w.value for w in at.warning] == [
        t("report.gps_failed", reason=t(f"report.gps.{reason}"))
    ]
    assert _point(at) == (None, None)
    assert not at.exception


def test_a_tap_outside_is_refused_and_a_tap_inside_is_taken(app_env, demo_repo, browser):
    at = _reporter_page(demo_repo)
    browser["tap"] = {"lng": FAR[0], "lat": FAR[1]}
    at.run()
    assert [e.value for e in at.error] == [
        t("report.outside", lon=f"{FAR[0]:.6f}", lat=f"{FAR[1]:.6f}")
    ]
    assert _point(at) == (None, None)
    browser["tap"] = {"lng": WEST[0], "lat": WEST[1]}
    at.run()
    assert not at.error
    assert _point(at) == (round(WEST[0], 6), round(WEST[1], 6))
    # an outside phone position is refused the same way and the tapped point stays
    browser["gps"] = {"coords": {"longitude": FAR[0], "latitude": FAR[1]}}
    at = click_button(at, t("report.gps"))
    assert [e.value for e in at.error] == [
        t("report.outside", lon=f"{FAR[0]:.6f}", lat=f"{FAR[1]:.6f}")
    ]
    assert _point(at) == (round(WEST[0], 6), round(WEST[1], 6))


def test_typed_coordinates_outside_are_refused_and_nothing_is_stored(app_env, demo_repo, browser):
    at = _reporter_page(demo_repo)
    at.number_input(key="report_lon").set_value(FAR[0])
    at.number_input(key="report_lat").set_value(FAR[1])
    at.text_input(key="report_sentence").input("远处")
    at = click_button(at, t("report.submit"))
    assert [e.value for e in at.error] == [
        t("report.outside", lon=f"{FAR[0]:.6f}", lat=f"{FAR[1]:.6f}")
    ]
    assert _cases(app_env) == []
