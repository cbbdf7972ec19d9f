"""The cases page through AppTest: reporting, bad places and datums, workflow, scope, import."""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import Point

from gis.access.users import DEMO_PASSWORDS
from gis.geography.crs import METRIC, WGS84, wgs84_to_gcj02
from gis.i18n import t
from gis.settings import Settings
from gis.store import open_store
from tests.app.apptest_helpers import click_button, goto, log_in, new_app
from tests.tiny_geography import STEP, X0, Y0


def wgs(x: float, y: float) -> tuple[float, float]:
    """A point of the tiny geography (EPSG:32650 offsets) as WGS 84 lon/lat."""
    p = gpd.GeoSeries([Point(x, y)], crs=METRIC).to_crs(WGS84).iloc[0]
    return round(p.x, 6), round(p.y, 6)


WEST = wgs(X0 + 75, Y0 + 2 * STEP + 3)  # on 横2胡同 in the west zone (the demo chief's)
OUTSIDE = wgs(X0 - 400, Y0 + 100)


def stored(app_env) -> list:
    with open_store(Settings(database_url=app_env["PATROL_DATABASE_URL"])) as s:
        return s.query_cases()


def report(at, lon: float, lat: float, datum: str = "wgs84", category: str = "C04"):
    at.number_input(key="cases_lon").set_value(lon)
    at.number_input(key="cases_lat").set_value(lat)
    at.selectbox(key="cases_datum").set_value(datum)
    at.selectbox(key="cases_category").set_value(category)
    return click_button(at, t("cases.submit"))


def action_box(at):
    """The workflow select box (keyed by the case version it was drawn for)."""
    boxes = [b for b in at.selectbox if str(b.key).startswith("cases_action_")]
    return boxes[0] if boxes else None


def chief_on_cases():
    at = log_in(new_app(), "chief", DEMO_PASSWORDS["chief"])
    return goto(at, "cases")


def test_the_same_report_twice_is_stored_once_and_says_so(app_env, monkeypatch) -> None:
    """A second report with the same point, category, text and time is the same report: the
    store keeps one case and the page names it as already reported (not as a new case)."""
    import ui.cases

    fixed = ui.cases._now()
    monkeypatch.setattr(ui.cases, "_now", lambda: fixed)
    at = report(chief_on_cases(), *WEST)
    first = stored(app_env)[0].case_id
    assert at.success[0].value == t("cases.reported", case_id=first)
    at = report(at, *WEST)
    assert not at.exception
    assert [c.case_id for c in stored(app_env)] == [first]
    assert at.success[0].value == t("cases.already_reported", case_id=first)


def test_report_by_typed_coordinates_is_stored_with_its_zone_and_street(app_env) -> None:
    at = report(chief_on_cases(), *WEST)
    assert not at.exception
    assert at.success[0].value.startswith("已上报案件 ")
    cases = stored(app_env)
    assert len(cases) == 1
    assert cases[0].zone_id == "110102012001001"
    assert cases[0].reporter == "chief"
    assert cases[0].state == "reported"


def test_gcj02_declared_as_wgs84_is_refused_in_chinese_and_nothing_stored(app_env) -> None:
    glon, glat = wgs84_to_gcj02([WEST[0]], [WEST[1]])
    at = report(chief_on_cases(), float(glon[0]), float(glat[0]), "wgs84")
    assert at.error[0].value == t("cases.datum_suspect")
    assert stored(app_env) == []
    at = report(at, float(glon[0]), float(glat[0]), "gcj02")
    assert at.success[0].value.startswith("已上报案件 ")
    (case,) = stored(app_env)
    assert case.source_datum == "gcj02"
    assert abs(case.lon - WEST[0]) < 1e-5 and abs(case.lat - WEST[1]) < 1e-5


def test_a_place_outside_the_subdistrict_is_refused(app_env) -> None:
    at = report(chief_on_cases(), *OUTSIDE)
    assert at.error[0].value == t("cases.outside", lat=f"{OUTSIDE[1]:.6f}", lon=f"{OUTSIDE[0]:.6f}")
    assert stored(app_env) == []


def test_no_point_is_refused(app_env) -> None:
    at = click_button(chief_on_cases(), t("cases.submit"))
    assert at.error[0].value == t("cases.no_point")


def test_advance_a_case_and_read_its_audit_trail(app_env) -> None:
    at = report(chief_on_cases(), *WEST)
    action_box(at).set_value("register")
    click_button(at, t("cases.apply"))
    (case,) = stored(app_env)
    assert case.state == "registered"
    assert at.success[0].value == t(
        "cases.advanced", case_id=case.case_id, state=t("cases.state.registered")
    )
    trail = at.table[-1].value
    assert list(trail[t("cases.state")]) == [t("cases.state.reported"), t("cases.state.registered")]
    assert list(trail[t("cases.who")]) == ["景区片区长", "景区片区长"]  # names, not logins


def test_a_second_report_with_cases_listed_raises_no_exception(app_env) -> None:
    """Regression: the success message set the list's widget key after the widget existed."""
    at = report(chief_on_cases(), *WEST)
    at = report(at, *WEST, category="C07")
    assert not at.exception, [e.value for e in at.exception]
    assert at.success[0].value.startswith("已上报案件 ")
    cases = stored(app_env)
    assert len(cases) == 2
    newest = max(cases, key=lambda k: k.reported_at)
    assert at.selectbox(key="cases_pick").value == newest.case_id


def test_after_a_transition_the_page_shows_the_new_state(app_env) -> None:
    """Regression: header and list lagged one step behind the store."""
    at = report(chief_on_cases(), *WEST)
    action_box(at).set_value("register")
    at = click_button(at, t("cases.apply"))
    assert not at.exception
    (case,) = stored(app_env)
    state = t("cases.state.registered")
    header = f"店外经营/外摆 · {state}"
    assert case.state == "registered"
    assert any(m.value == f"**{header}**" for m in at.markdown), [m.value for m in at.markdown]
    assert list(at.dataframe[0].value[t("cases.state")]) == [state]
    from gis.cases.workflow import allowed_actions

    assert action_box(at).options == [t(f"cases.action.{a}") for a in allowed_actions("registered")]


def test_a_stale_double_press_moves_the_case_one_step_only(app_env) -> None:
    """Regression: a second press on the form drawn for the old state moved the case again."""
    at = report(chief_on_cases(), *WEST)
    action_box(at).set_value("register")
    next(b for b in at.button if b.label == t("cases.apply")).click()
    pressed = at._tree.get_widget_states()  # what the browser sends for this form
    at._run(pressed)  # the first press
    (case,) = stored(app_env)
    assert case.state == "registered"
    version = case.version
    after = at._run(pressed)  # the same press again, from the form drawn for "reported"
    assert not after.exception
    (case,) = stored(app_env)
    assert case.state == "registered" and case.version == version
    assert len(at_store_trail(app_env, case.case_id)) == 2


def at_store_trail(app_env, case_id: str) -> list:
    with open_store(Settings(database_url=app_env["PATROL_DATABASE_URL"])) as s:
        return s.audit_trail(case_id)


def test_a_map_click_outside_the_subdistrict_is_answered(app_env) -> None:
    """Regression: a click outside the area did nothing, with no word."""
    at = chief_on_cases()
    at.session_state["cases_click"] = {"lng": OUTSIDE[0], "lat": OUTSIDE[1]}
    at.run()
    want = t("cases.click_outside", lat=f"{OUTSIDE[1]:.6f}", lon=f"{OUTSIDE[0]:.6f}")
    assert want in [w.value for w in at.warning]
    assert at.number_input(key="cases_lon").value is None  # the form keeps no outside point
    at.session_state["cases_click"] = {"lng": WEST[0], "lat": WEST[1]}
    at.run()
    assert not at.warning
    assert at.number_input(key="cases_lon").value == WEST[0]


def test_patrol_member_reports_but_has_no_workflow_actions(app_env) -> None:
    at = log_in(new_app(), "patrol1", DEMO_PASSWORDS["patrol1"])
    goto(at, "cases")
    report(at, *WEST)
    assert at.success[0].value.startswith("已上报案件 ")
    assert action_box(at) is None


def test_liaison_cannot_open_another_departments_case_by_query(app_env) -> None:
    report(chief_on_cases(), *WEST, category="C16")  # food safety: led by 食药
    (case,) = stored(app_env)
    other = log_in(new_app(), "liaison", DEMO_PASSWORDS["liaison"])
    other.query_params["case"] = case.case_id
    goto(other, "cases")
    assert not other.exception
    assert other.error[0].value == t("auth.forbidden_scope", what=t("cases.case", id=case.case_id))
    assert case.description not in [m.value for m in other.markdown]


def test_liaison_sees_the_cases_their_department_leads(app_env) -> None:
    report(chief_on_cases(), *WEST, category="C01")  # illegal construction: led by 城管
    (case,) = stored(app_env)
    assert case.lead_dept == "chengguan"
    other = log_in(new_app(), "liaison", DEMO_PASSWORDS["liaison"])
    goto(other, "cases")
    assert not other.error
    assert list(other.dataframe[0].value[t("cases.id")]) == [case.case_id]
    assert action_box(other).options  # liaisons move their cases on


def _upload(at, name: str, content: bytes):
    at.file_uploader(key="cases_upload").upload(name, content)
    return at.run()


GOOD_CSV = (
    "report_id,category,lon,lat,reported_at,source,description\n"
    f"B1,C04,{WEST[0]},{WEST[1]},2026-05-01 17:20,patrol,外摆\n"
    f"B2,C04,{OUTSIDE[0]},{OUTSIDE[1]},2026-05-01 17:25,patrol,外摆\n"
)


def test_batch_import_previews_rejects_then_imports_the_good_rows(app_env) -> None:
    at = _upload(chief_on_cases(), "reports.csv", GOOD_CSV.encode("utf-8"))
    assert t("cases.preview", ok=1, bad=1) in [m.value for m in at.markdown]
    assert stored(app_env) == []
    click_button(at, t("cases.import_do"))
    assert at.success[0].value == t("cases.imported", count=1)
    assert [c.case_id for c in stored(app_env)] == ["B1"]


def test_upload_in_the_wrong_encoding_or_format_says_so_and_stores_nothing(app_env) -> None:
    at = _upload(chief_on_cases(), "reports.csv", GOOD_CSV.encode("utf-16"))
    assert at.error[0].value.startswith("文件无法读取：")
    assert "UTF-8" in at.error[0].value
    at = _upload(chief_on_cases(), "reports.geojson", b'{"not": "geojson"')
    assert at.error[0].value.startswith("文件无法读取：")
    assert stored(app_env) == []


def test_batch_in_gcj02_declared_as_wgs84_is_refused(app_env) -> None:
    rows = ["report_id,category,lon,lat,reported_at"]
    for i in range(8):
        lon, lat = wgs(X0 + 30 + 60 * i, Y0 + STEP * (i % 4) + 2)
        glon, glat = wgs84_to_gcj02([lon], [lat])
        rows.append(f"G{i},C04,{glon[0]:.6f},{glat[0]:.6f},2026-05-01 17:{10 + i}")
    at = _upload(chief_on_cases(), "gcj.csv", ("\n".join(rows) + "\n").encode("utf-8"))
    assert at.error, [m.value for m in at.markdown]
    assert at.error[0].value.startswith("坐标系不符："), at.error[0].value
    assert stored(app_env) == []


def test_online_basemap_without_network_says_so_and_draws_offline(app_env, monkeypatch) -> None:
    """Regression: choosing OSM with no network fired tile requests onto a grey map."""
    import ui.common

    monkeypatch.setattr(ui.common, "tiles_reachable", lambda host: False)
    at = chief_on_cases()
    at.selectbox(key="patrol_basemap").set_value("osm").run()
    assert not at.exception
    assert t("app.basemap.offline") in [w.value for w in at.warning]
    maps = at.get("component_instance")
    assert maps and all("tile.openstreetmap.org" not in str(m.proto) for m in maps)
