"""The cases page through AppTest: reporting, bad places and datums, workflow, scope, import."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point

from gis.auth import DEMO_PASSWORDS
from gis.crs import METRIC, WGS84, wgs84_to_gcj02
from gis.i18n import t
from gis.settings import Settings
from tests.app.apptest_helpers import click_button, goto, log_in, new_app
from tests.foundation.conftest import STEP, X0, Y0

pytest.importorskip("gis.violations", reason="the case intake is not part of this build")
pytest.importorskip("layers.violations", reason="the case map layer is not part of this build")
from gis.store import open_store  # noqa: E402  (after the skip: the store comes with cases)


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


def chief_on_cases():
    at = log_in(new_app(), "chief", DEMO_PASSWORDS["chief"])
    return goto(at, "cases")


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
    at.selectbox(key="cases_action").set_value("register")
    click_button(at, t("cases.apply"))
    (case,) = stored(app_env)
    assert case.state == "registered"
    assert at.success[0].value == t(
        "cases.advanced", case_id=case.case_id, state=t("cases.state.registered")
    )
    trail = at.dataframe[-1].value
    assert list(trail[t("cases.state")]) == [t("cases.state.reported"), t("cases.state.registered")]
    assert list(trail[t("cases.who")]) == ["chief", "chief"]


def test_patrol_member_reports_but_has_no_workflow_actions(app_env) -> None:
    at = log_in(new_app(), "patrol1", DEMO_PASSWORDS["patrol1"])
    goto(at, "cases")
    report(at, *WEST)
    assert at.success[0].value.startswith("已上报案件 ")
    assert not [s for s in at.selectbox if s.key == "cases_action"]


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
    assert other.selectbox(key="cases_action").options  # liaisons move their cases on


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
