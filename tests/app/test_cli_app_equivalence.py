"""The same requests through the ``patrol`` command and through the app give the same result.

Both front ends call gis.services; before, the CLI checked reports against a bounding box and
never gave them a responsible person while the app used the boundary polygon and the saved
districts, and time-budgeted routes used 90 days of case counts in the app but the forecast
in the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gis.access.users import DEMO_PASSWORDS
from gis.cli import main
from gis.settings import Settings
from gis.store import open_store
from tests.app.apptest_helpers import click_button, goto, log_in, new_app
from tests.app.test_app_cases import OUTSIDE, WEST, report


def _cases(env: dict[str, str]) -> dict[str, object]:
    with open_store(Settings(database_url=env["PATROL_DATABASE_URL"])) as s:
        return {c.case_id: c for c in s.query_cases()}


def _save_districts(capsys: pytest.CaptureFixture) -> None:
    assert main(["districts", "--people", "2", "--save", "-q"]) == 0
    assert "saved the districts" in capsys.readouterr().out


def test_a_report_gets_the_same_place_and_person_in_both(app_env, capsys) -> None:
    _save_districts(capsys)
    lon, lat = WEST
    at = log_in(new_app(), "chief", DEMO_PASSWORDS["chief"])
    at = report(goto(at, "cases"), lon, lat)
    assert not at.exception
    args = ["cases", "new", "--category", "C04", "--lon", str(lon), "--lat", str(lat)]
    assert main([*args, "--by", "chief", "--id", "CLI-1"]) == 0
    capsys.readouterr()
    cases = _cases(app_env)
    assert len(cases) == 2
    cli = cases["CLI-1"]
    app = next(c for k, c in cases.items() if k != "CLI-1")
    fields = ("segment_id", "zone_id", "front_id", "person_id", "category")
    assert [getattr(cli, f) for f in fields] == [getattr(app, f) for f in fields]
    assert cli.person_id is not None  # the responsible person of the saved districts


def test_a_place_outside_the_boundary_is_refused_by_both(app_env, capsys) -> None:
    lon, lat = OUTSIDE
    args = ["cases", "new", "--category", "C04", "--lon", str(lon), "--lat", str(lat)]
    assert main([*args, "--by", "chief", "--id", "OUT-1"]) == 2
    assert "error:" in capsys.readouterr().err
    at = log_in(new_app(), "chief", DEMO_PASSWORDS["chief"])
    at = report(goto(at, "cases"), lon, lat)
    assert at.error
    assert _cases(app_env) == {}


def _app_routes(mode: str, **inputs: int) -> tuple[str, list]:
    at = log_in(new_app(), "chief", DEMO_PASSWORDS["chief"])
    at = goto(at, "patrol")
    at.radio(key="patrol_mode").set_value(mode).run()
    for key, value in inputs.items():
        at.number_input(key=key).set_value(value).run()
    zone = at.selectbox(key="patrol_zone").value
    at = click_button(at, at.button(key="patrol_plan").label)
    assert not at.exception and not at.error, [e.value for e in at.error]
    spec, planned = at.session_state["patrol_route"]  # the request and (route, steps) pairs
    assert spec["mode"] == mode
    return zone, [route for route, _steps in planned]


def _cli_routes(tmp: Path, capsys: pytest.CaptureFixture, *args: str) -> list[list[str]]:
    out = tmp / "r.geojson"
    assert main(["route", *args, "--geojson", str(out)]) == 0, capsys.readouterr().err
    capsys.readouterr()
    files = sorted(tmp.glob("r*.geojson"))
    return [
        [f["properties"]["segment_id"] for f in json.loads(p.read_text())["features"]]
        for p in files
    ]


@pytest.mark.parametrize(
    ("mode", "inputs", "cli_args"),
    [
        ("postman", {}, []),
        ("k", {"patrol_k": 2}, ["--people", "2"]),
        pytest.param("budget", {"patrol_min": 30}, ["--budget-min", "30"], marks=pytest.mark.slow),
    ],
)
def test_the_same_patrol_is_planned_by_both(
    app_env, capsys, tmp_path: Path, mode: str, inputs: dict, cli_args: list[str]
) -> None:
    if mode == "budget":
        history = ["demo-history", "--seed", "3", "--days", "60", "--end", "2026-11-01T00:00"]
        assert main(history) == 0
        capsys.readouterr()
    zone, routes = _app_routes(mode, **inputs)
    cli = _cli_routes(tmp_path, capsys, "--zone", zone, *cli_args)
    assert [r.segment_ids for r in routes] == cli


@pytest.mark.parametrize(
    "kind",
    [
        "daily",
        pytest.param("weekly", marks=pytest.mark.slow),
        pytest.param("monthly", marks=pytest.mark.slow),
    ],
)
def test_the_same_report_figures_in_both(app_env, capsys, kind: str) -> None:
    """Headline KPIs of the leader's report page and of ``patrol report`` for the same day."""
    from datetime import date

    _save_districts(capsys)
    history = ["demo-history", "--seed", "5", "--days", "40", "--end", "2026-11-01T00:00"]
    assert main(history) == 0
    capsys.readouterr()
    day = date(2026, 10, 28)
    assert main(["report", kind, "--date", day.isoformat(), "--lang", "zh"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "reported " in x)
    cli = [int(part.split()[-1]) for part in line.split(": ", 1)[1].split(", ")]
    at = log_in(new_app(), "leader", DEMO_PASSWORDS["leader"])
    at = goto(at, "hotspots")
    at.radio(key="hotspots_kind").set_value(kind).run()
    at.date_input(key=f"hotspots_day_{kind}").set_value(day).run()  # one date per kind
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    app = [int(str(v).replace(",", "")) for v in table.iloc[:4, 1]]  # reported … closed
    assert app == cli
    assert sum(cli) > 0
