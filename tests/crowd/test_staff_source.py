"""Nearest on-duty staff of an alert: from today's duty roster when the store has one, from
the districts' staff table and its shifts otherwise; each row says which."""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from gis.cli.crowd import _alert_line
from gis.crowd.alerts import Alert
from gis.crowd.response import rostered_on_duty, staff_positions
from gis.crowd.watch import StaffContext
from gis.geography.network import graph_from_segments, grid_segments
from gis.localtime import LOCAL_TZ as TZ
from gis.people.roster import RosterEntry, ShiftHours
from gis.people.staff import Person
from gis.store.geopackage import GeoPackageStore

DAY = dt.date(2026, 10, 3)
AT = dt.datetime(2026, 10, 3, 14, 0, tzinfo=TZ)  # inside the default 午 shift 12:00–17:00
OX, OY = 448000.0, 4421000.0


@pytest.fixture
def grid():
    segs = grid_segments(4, 4, 100.0, origin=(OX, OY))
    return graph_from_segments(segs), segs


@pytest.fixture
def context(grid, tmp_path, refs):
    """Two people with districts in opposite corners; the place is in P01's corner."""
    G, segs = grid
    staff = pd.DataFrame(
        {
            "person_id": ["P01", "P02"],
            "name": ["表甲", "表乙"],
            "role": ["duty_officer"] * 2,
            "department": ["公安", "城管"],
            "shift": ["morning", "evening"],  # 09–19 and 19–03 in the staff table
        }
    )
    mid = segs.geometry.centroid
    sw = segs.loc[(mid.x < OX + 150) & (mid.y < OY + 150), "segment_id"]
    ne = segs.loc[(mid.x > OX + 250) & (mid.y > OY + 250), "segment_id"]
    assignment = {**dict.fromkeys(sw, "P01"), **dict.fromkeys(ne, "P02")}
    pos = staff_positions(G, segs, assignment, ["P01", "P02"], base=Point(OX + 400, OY + 400))
    store = GeoPackageStore(tmp_path / "patrol.gpkg", refs=refs)
    yield StaffContext(G, staff, pos).with_people(store), store
    store.close()


@pytest.fixture
def places():
    return gpd.GeoDataFrame(
        {"place_id": ["X1"], "name": ["银锭桥"]},
        geometry=[box(OX + 40, OY + 40, OX + 60, OY + 60)],
        crs=grid_segments(1, 1).crs,
    )


def _people() -> list[Person]:
    return [
        Person("P01", "赵示甲", "一组", "duty_officer", "公安", "resident", "010-1"),
        Person("P02", "钱示乙", "一组", "duty_officer", "城管", "resident", "010-2"),
        Person("P03", "孙示丙", "二组", "auxiliary", "街道", "auxiliary", "010-3"),
    ]


def test_without_a_roster_the_districts_staff_table_decides(context, places) -> None:
    ctx, _store = context
    rows = ctx.nearest(places, "X1", AT, k=3)
    assert [r["person_id"] for r in rows] == ["P01"]  # P02's evening shift has not begun
    assert rows[0]["name"] == "表甲" and rows[0]["source"] == "districts"
    assert rows[0]["from"] == "district"


def test_todays_roster_names_who_is_on_duty(context, places) -> None:
    ctx, store = context
    store.people.save_people(_people())
    store.people.save_roster(
        [
            RosterEntry(DAY, "P01", "rest"),
            RosterEntry(DAY, "P02", "midday"),
            RosterEntry(DAY, "P03", "midday"),
        ],
        start=DAY,
        end=DAY,
    )
    rows = ctx.nearest(places, "X1", AT, k=3)
    assert {r["person_id"] for r in rows} == {"P02", "P03"}  # P01 rests today
    assert {r["source"] for r in rows} == {"roster"}
    by_id = {r["person_id"]: r for r in rows}
    assert by_id["P02"]["name"] == "钱示乙" and by_id["P02"]["from"] == "district"
    assert by_id["P03"]["from"] == "center"  # no district: starts at the enforcement center
    # in the evening the roster's 午 shift is over and nobody rostered is on a shift
    assert ctx.nearest(places, "X1", AT.replace(hour=18), k=3) == []
    # another day without a roster falls back to the districts
    other = ctx.nearest(places, "X1", AT + dt.timedelta(days=1), k=3)
    assert [(r["person_id"], r["source"]) for r in other] == [("P01", "districts")]
    alert = Alert(
        alert_id="A1",
        place_id="X1",
        level="orange",
        raised_at=AT,
        expected_at=AT + dt.timedelta(minutes=30),
        lead_min=30.0,
        occupancy=900.0,
        forecast_peak=1100.0,
        capacity=1000,
        detail={"staff": rows},
    )
    line = _alert_line(alert, places)
    assert "最近: " in line and "钱示乙" in line and line.endswith("（按排班）")


def test_rostered_on_duty_uses_the_shift_hours() -> None:
    entries = [RosterEntry(DAY, "P01", "morning"), RosterEntry(DAY, "P09", "evening")]
    early = rostered_on_duty(entries, _people(), AT.replace(hour=7, minute=30))
    assert list(early["person_id"]) == ["P01"] and early["name"].iloc[0] == "赵示甲"
    late = rostered_on_duty(entries, _people(), AT.replace(hour=21, minute=59))
    assert list(late["name"]) == ["P09"]  # not in the staff: the id stands for the name
    hours = ShiftHours(morning=(8.0, 12.0))
    assert rostered_on_duty(entries, _people(), AT.replace(hour=7, minute=30), hours).empty
    on_call = [RosterEntry(DAY, "P01", "on_call")]
    assert rostered_on_duty(on_call, _people(), AT).empty


def test_configured_shift_hours_reach_the_staff_context(grid) -> None:
    """PATROL_SHIFT_HOURS is read once into Settings and decides who the crowd page and
    ``patrol crowd`` call on duty, as it does for the roster commands."""
    from gis.crowd.watch import staff_context_for
    from gis.errors import ValidationError
    from gis.settings import Settings

    G, segs = grid
    geo = type("Geo", (), {"G": G, "segments": segs, "pois": gpd.GeoDataFrame({"kind": []})})
    staff = pd.DataFrame({"person_id": ["P01"], "name": ["赵示甲"], "shift": ["morning"]})
    saved = json.dumps(dict.fromkeys(segs["segment_id"], "P01"))
    settings = Settings.from_env({"PATROL_SHIFT_HOURS": "morning=08:00-12:00"})
    ctx = staff_context_for(geo, staff, saved, 4.5, settings.shift_hours_parsed())
    assert ctx.hours.span("morning") == (8.0, 12.0)
    entries = [RosterEntry(DAY, "P01", "morning")]
    assert rostered_on_duty(entries, _people(), AT.replace(hour=7, minute=30), ctx.hours).empty
    assert staff_context_for(geo, staff, saved, 4.5).hours == ShiftHours()
    with pytest.raises(ValidationError, match="PATROL_SHIFT_HOURS"):
        Settings.from_env({"PATROL_SHIFT_HOURS": "lunch=12:00-13:00"})
