"""The day plan: due sites walked in order, district tours, evening hotspot routes; safe HTML."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from gis.cases.workflow import CASE_FRAME_COLUMNS
from gis.geography.crs import METRIC
from gis.geography.network import graph_from_segments, grid_segments
from gis.localtime import LOCAL_TZ as TZ
from gis.people.dayplan import DayInputs, DayPlanner, evening_weights, sites_due
from gis.people.daysheet import day_sheet_html
from gis.people.roster import parse_shift_hours
from gis.people.staff import Person

ORIGIN = (446500.0, 4420300.0)
DAY = dt.date(2026, 5, 6)


@pytest.fixture(scope="module")
def grid():
    return grid_segments(3, 3, 100.0, origin=ORIGIN)


def _t(day: dt.date, hh: int) -> pd.Timestamp:
    return pd.Timestamp(dt.datetime.combine(day, dt.time(hh), tzinfo=TZ))


def cases_frame(rows):
    recs = []
    for cid, cat, state, seg, dx, dy, reported, deadline in rows:
        rec = {c: None for c in CASE_FRAME_COLUMNS}
        rec.update(
            case_id=cid,
            category=cat,
            state=state,
            segment_id=seg,
            tier="general",
            source="patrol",
            reported_at=reported,
            deadline_at=deadline,
        )
        rec["geometry"] = Point(ORIGIN[0] + dx, ORIGIN[1] + dy)
        recs.append(rec)
    gdf = gpd.GeoDataFrame(recs, geometry="geometry", crs=METRIC)
    for c in ("reported_at", "deadline_at"):
        gdf[c] = pd.to_datetime(gdf[c], utc=True).dt.tz_convert(TZ)
    return gdf


@pytest.fixture
def cases():
    before = DAY - dt.timedelta(days=3)
    return cases_frame(
        [
            ("A", "C01", "notice_served", "H000-03", 250, 0, _t(before, 10), _t(DAY, 17)),
            (
                "B",
                "C02",
                "rechecking",
                "H000-02",
                150,
                0,
                _t(before, 10),
                _t(DAY - dt.timedelta(days=1), 9),
            ),
            (
                "C",
                "C01",
                "notice_served",
                "H001-03",
                250,
                100,
                _t(before, 10),
                _t(DAY + dt.timedelta(days=1), 9),
            ),
            ("D", "C01", "closed", "H001-02", 150, 100, _t(before, 10), _t(DAY, 9)),
            ("E", "C04", "notice_served", "H001-01", 50, 100, _t(before, 10), _t(DAY, 9)),
            ("F", "C07", "registered", "V002-02", 200, 150, _t(before, 20), None),
            ("G", "C03", "registered", "V001-01", 100, 50, _t(before, 10), None),
        ]
    )


def person(pid: str, name: str = "示员") -> Person:
    return Person(pid, name, "一组", "duty_officer", "城管", "resident", "010-0000-0001")


def test_sites_due_and_evening_weights(cases):
    assert list(sites_due(cases, DAY)["case_id"]) == ["B", "A"]
    assert evening_weights(cases, DAY) == {"V002-02": 1.0}


def test_morning_sites_are_walked_in_order_from_the_center(grid, cases):
    planner = DayPlanner(graph_from_segments(grid), depot=0)
    inputs = DayInputs(DAY, [person("P1")], {"P1": "morning"}, {}, cases)
    (plan,) = planner.plan_day(inputs)
    assert plan.kind == "sites" and plan.task == "拆违"
    assert [s.case_id for s in plan.stops] == ["B", "A"]
    assert plan.route_m == pytest.approx(400.0)  # 0 → (100,0) → (200,0) → back
    assert plan.start == dt.datetime(2026, 5, 6, 7, 0, tzinfo=TZ)
    assert "no district assigned: planned over the whole area" in plan.notes


def test_midday_tours_the_district_or_falls_back_to_hotspots(grid, cases):
    G = graph_from_segments(grid)
    district = ["V003-01", "V003-02", "H002-03"]
    inputs = DayInputs(DAY, [person("P2")], {"P2": "midday"}, {"P2": district}, cases)
    (plan,) = DayPlanner(G, depot=0).plan_day(inputs)
    assert plan.kind == "postman" and set(district) <= set(plan.segments)
    short = DayInputs(
        DAY,
        [person("P2")],
        {"P2": "midday"},
        {"P2": district},
        cases,
        hours=parse_shift_hours("midday=12:00-12:12"),
    )
    (plan,) = DayPlanner(G, depot=0).plan_day(short)
    assert plan.kind == "hotspots"
    assert plan.notes == ("the district tour is longer than the shift: hotspot route instead",)
    assert plan.minutes <= 12
    tiny = DayInputs(
        DAY,
        [person("P2")],
        {"P2": "midday"},
        {"P2": district},
        cases,
        hours=parse_shift_hours("midday=12:00-12:02"),
    )
    (plan,) = DayPlanner(G, depot=0).plan_day(tiny)
    assert plan.kind == "none" and plan.notes[-1].startswith("no hotspot route: a budget of 2 min")


def test_evening_route_goes_to_evening_hotspots_and_order_of_the_day(grid, cases):
    people = [person("P1"), person("P2"), person("P3"), person("P4")]
    duties = {"P3": "evening", "P1": "rest", "P2": "morning", "P4": "leave"}
    plans = DayPlanner(graph_from_segments(grid), depot=0).plan_day(
        DayInputs(DAY, people, duties, {}, cases)
    )
    assert [(p.person_id, p.shift) for p in plans] == [("P2", "morning"), ("P3", "evening")]
    evening = plans[1]
    assert evening.kind == "hotspots" and "V002-02" in evening.segments
    assert "V001-01" not in evening.segments  # a 10:00 case does not weight the evening


def test_day_sheet_escapes_names_and_has_a_page_per_person(grid, cases):
    planner = DayPlanner(graph_from_segments(grid), depot=0)
    evil = person("P1", name="<script>alert(1)</script>")
    plans = planner.plan_day(
        DayInputs(DAY, [evil, person("P2")], {"P1": "morning", "P2": "evening"}, {}, cases)
    )
    html = day_sheet_html(DAY, plans)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count('<section class="person">') == 2
    assert "page-break-after: always" in html
