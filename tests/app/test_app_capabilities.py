"""Districts, patrol routes and hotspots pages through AppTest (each skips until its capability
is part of the build)."""

from __future__ import annotations

import datetime as dt
import importlib.util

import pytest

from gis.access.users import DEMO_PASSWORDS
from gis.i18n import t
from tests.app.apptest_helpers import click_button, goto, log_in, new_app, texts


def needs(*modules: str) -> None:
    """Skip unless every module is installed."""
    for name in modules:
        if importlib.util.find_spec(name) is None:
            pytest.skip(f"{name} is not part of this build")


def test_leader_partitions_moves_and_saves_districts(app_env) -> None:
    needs("gis.planning.partition", "gis.planning.district_outputs", "layers.districts")
    at = log_in(new_app(), "leader", DEMO_PASSWORDS["leader"])
    goto(at, "districts")
    at.number_input(key="districts_k").set_value(2)
    click_button(at, t("districts.compute"))
    assert not at.exception, at.exception
    assert any(m.value.startswith("工作量最多") for m in at.markdown)
    table = at.dataframe[0].value
    assert len(table) == 2
    assert int(table[t("districts.segments")].sum()) == 40  # every tiny-grid segment
    click_button(at, t("districts.apply_move"))
    assert not at.exception
    assert any(i.value.startswith("工作量不均衡度：") for i in at.info)
    if importlib.util.find_spec("gis.store.geopackage") is not None:
        click_button(at, t("districts.save"))
        assert at.success[0].value == t("districts.saved")


def test_area_chief_partitions_only_own_zones(app_env) -> None:
    needs("gis.planning.partition", "gis.planning.district_outputs", "layers.districts")
    at = log_in(new_app(), "chief", DEMO_PASSWORDS["chief"])
    goto(at, "districts")
    assert "西片" in texts(at)  # the zone by its name
    at.number_input(key="districts_k").set_value(2)
    click_button(at, t("districts.compute"))
    assert not at.exception
    table = at.dataframe[0].value
    assert int(table[t("districts.segments")].sum()) < 40  # the west zone only


def test_patrol_member_plans_todays_route(app_env) -> None:
    needs("gis.planning.routing", "gis.planning.route_sheet", "layers.route")
    at = log_in(new_app(), "patrol1", DEMO_PASSWORDS["patrol1"])
    goto(at, "patrol")
    click_button(at, t("patrol.plan"))
    assert not at.exception, at.exception
    summary = [m.value for m in at.markdown if "步行约" in m.value]
    assert summary and summary[0].startswith("全长 ")
    steps = [b for b in at.checkbox if str(b.key).startswith("patrol_done_")]
    assert len(steps) >= 4
    at.radio(key="patrol_mode").set_value("k").run()
    at.number_input(key="patrol_k").set_value(2)
    click_button(at, t("patrol.plan"))
    assert len(at.radio(key="patrol_which").options) == 2


@pytest.mark.slow  # a whole app session per case: CI runs it, the quick loop skips it
def test_hotspots_layers_and_kpis_with_some_cases(app_env) -> None:
    needs(
        "gis.analytics.density",
        "gis.analytics.forecast",
        "gis.analytics.report_html",
        "layers.hotspots",
        "gis.cases.intake",
    )
    from gis.cases.intake import validate_record
    from gis.settings import Settings
    from gis.store import open_store
    from tests.app.test_app_cases import WEST

    with open_store(Settings(database_url=app_env["PATROL_DATABASE_URL"])) as s:
        now = dt.datetime.now(dt.UTC)
        reports = [
            validate_record(
                {
                    "report_id": f"H{i}",
                    "category": "C04",
                    "lon": WEST[0] + 0.0002 * (i % 5),
                    "lat": WEST[1],
                    "reported_at": (now - dt.timedelta(days=i)).isoformat(),
                },
                refs=s.refs,
                now=now,
            )
            for i in range(30)
        ]
        s.add_reports(reports, received_by="test")
    at = log_in(new_app(), "leader", DEMO_PASSWORDS["leader"])
    goto(at, "hotspots")
    assert not at.exception, at.exception
    for layer in ("gistar", "forecast", "density"):
        at.radio(key="hotspots_layer").set_value(layer).run()
        assert not at.exception, (layer, at.exception)
        assert not at.error, (layer, [e.value for e in at.error])
    kpis = at.dataframe[0].value
    assert kpis.iloc[1, 0] == "在办案件"
    for kind in ("weekly", "monthly"):
        at.radio(key="hotspots_kind").set_value(kind).run()
        assert not at.exception
