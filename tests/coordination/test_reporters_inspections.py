"""Reporters (volunteers, residents) and 明察暗访 with the weekly review, on both stores."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from gis.access.users import User
from gis.coordination import alerts, dispatch, inspections, reporters
from gis.errors import AuthError, ValidationError

from .conftest import NOW, lonlat
from .photos import jpeg

DAMA = User(username="dama1", role="reporter")
OTHER = User(username="dama2", role="reporter")
CHIEF = User(username="chief1", role="area_chief", zones=("z",))


def _submit(store, user=DAMA, **kw):
    lon, lat = lonlat(60, 10)
    args = {"category": "C04", "lon": lon, "lat": lat, "sentence": "门口摆了六张桌子",
            "source": "xicheng_dama", "now": NOW}  # fmt: skip
    args.update(kw)
    return reporters.submit_report(store, user, **args)


def test_report_reaches_the_responsible_person_and_only_its_reporter(store):
    lon, lat = lonlat(60, 10)
    photo = jpeg(lon=lon, lat=lat)
    case_id = _submit(store, photo=photo)
    case = store.get_case(case_id)
    assert case.source == "xicheng_dama" and case.reporter == "dama1"
    assert [a["case_id"] for a in alerts.open_alerts(store, CHIEF)] == [case_id]
    assert list(reporters.my_reports(store, DAMA).case_id) == [case_id]
    assert reporters.my_reports(store, OTHER).empty
    assert reporters.report_status(store, DAMA, case_id)["state"] == "reported"
    with pytest.raises(AuthError, match="not one of dama2's reports"):
        reporters.report_status(store, OTHER, case_id)
    with pytest.raises(AuthError, match="not one of dama2's reports"):
        reporters.report_status(store, OTHER, "no-such-case")
    by_source = reporters.reports_by_source(store).set_index("source")
    assert by_source.loc["xicheng_dama", "reported"] == 1
    from gis.coordination import evidence

    assert len(evidence.photos(store, case_id)) == 1


@pytest.mark.parametrize("nudge", [0.0, 1e-8], ids=["same id", "same content under another id"])
def test_report_sent_twice_answers_with_the_stored_case(store, nudge):
    """A report sent twice stores one case, one link, one alert and one photo, and the second
    answer is the stored case's id (a point nudged below the 6th decimal gets another report
    id but the same content), as the case form and the report service answer."""
    lon, lat = lonlat(60, 10)
    photo = jpeg(lon=lon, lat=lat)
    first = _submit(store, photo=photo)
    again = _submit(store, lon=lon + nudge, photo=photo)
    assert again == first
    assert store.count_cases() == 1
    assert list(reporters.my_reports(store, DAMA).case_id) == [first]
    assert [a["case_id"] for a in alerts.open_alerts(store, CHIEF)] == [first]
    from gis.coordination import evidence

    assert len(evidence.photos(store, first)) == 1


def test_responsible_person_from_saved_districts(store, segments):
    import json

    from gis.geography.layers import Geography  # noqa: F401 - only the attributes are used

    seg = segments.copy()
    seg["length_m"] = seg.geometry.length
    seg["front_id"] = "scenic"
    from shapely.geometry import box

    geo = type("Geo", (), {})()
    geo.segments = seg
    geo.zones = None
    b = seg.total_bounds
    import geopandas as gpd

    geo.boundary = gpd.GeoDataFrame(geometry=[box(*b).buffer(50)], crs=seg.crs)
    store.set_meta("districts.assignment", json.dumps({s: "P07" for s in seg.segment_id}))
    case_id = _submit(store, geography=geo)
    assert store.get_case(case_id).person_id == "P07"
    p07 = User(username="p7", role="patrol", person_id="P07")
    assert [a["case_id"] for a in reporters.responsible_inbox(store, p07)] == [case_id]


def test_bad_reports_store_nothing(store):
    with pytest.raises(AuthError):
        _submit(store, user=CHIEF)
    with pytest.raises(ValidationError, match="unknown source"):
        _submit(store, source="aliens")
    with pytest.raises(ValidationError, match="not an image"):
        _submit(store, photo=b"GIF? no, text")
    with pytest.raises(ValidationError, match="category"):
        _submit(store, category="C99")
    assert store.count_cases() == 0 and store.coord_rows("coord_reports") == []


def test_rate_limit(store, monkeypatch):
    monkeypatch.setattr(reporters, "MAX_PER_HOUR", 2)
    _submit(store, now=NOW - dt.timedelta(minutes=20))
    _submit(store, now=NOW - dt.timedelta(minutes=10))
    with pytest.raises(ValidationError, match="2 reports in the last hour; the limit is 2"):
        _submit(store, now=NOW)
    assert store.count_cases() == 2
    _submit(store, user=OTHER, now=NOW)  # others are not slowed down
    _submit(store, now=NOW + dt.timedelta(minutes=61))


def test_inspection_opens_case_or_comments_and_review_score(loaded, refs):
    week = NOW - dt.timedelta(days=3)
    t = week + dt.timedelta(days=1)
    lon, lat = lonlat(30, 30)
    row = inspections.record_inspection(
        loaded, CHIEF, inspected_at=t, mode="covert", target_kind="street", target="S1",
        result="serious", finding="夜间外摆无人管", outcome="case",
        case={"category": "C04", "lon": lon, "lat": lat}, now=NOW,
    )  # fmt: skip
    assert loaded.get_case(row["case_id"]).source == "inspection"
    inspections.record_inspection(
        loaded, CHIEF, inspected_at=t, mode="open", target_kind="dept", target="公安",
        result="minor", finding="接警慢", outcome="comment", now=NOW,
    )  # fmt: skip
    inspections.record_inspection(
        loaded, CHIEF, inspected_at=t, mode="open", target_kind="person", target="P02",
        result="good", finding="", now=NOW,
    )  # fmt: skip
    # a department called this week that arrives 45 minutes later: late
    case = loaded.get_case("T09")
    for i, a in enumerate(("register", "serve_notice", "recheck")):
        case = loaded.apply_transition("T09", a, who="p", expected_version=case.version,
                                       at=t + dt.timedelta(minutes=i))  # fmt: skip
    officer = User(username="p1", role="patrol")
    dispatch.whistle(loaded, "T09", officer, depts=["police", "aic"], at=t + dt.timedelta(hours=1))
    boss = User(username="boss", role="leadership")
    dispatch.confirm_arrival(loaded, "T09", "police", boss,
                             arrived_at=t + dt.timedelta(hours=1, minutes=45), now=NOW)  # fmt: skip
    review = inspections.weekly_review(loaded, week, assignment={"S1": "P05"})
    people = review["people"].set_index("who")
    assert people.loc["P05", "serious"] == 1 and people.loc["P05", "score"] == 85.0
    assert people.loc["P02", "score"] == 100.0  # capped at 100
    depts = review["departments"].set_index("who")
    assert depts.loc["police", "minor"] == 1 and depts.loc["police", "late_arrival"] == 1
    assert depts.loc["police", "score"] == 100 - 5 - 3 - 2 * depts.loc["police", "overdue"]
    assert depts.loc["aic", "no_show"] == 1
    assert list(review["comments"].finding) == ["接警慢"]


def test_inspection_bad_inputs(loaded):
    officer = User(username="p1", role="patrol")
    args = dict(inspected_at=NOW, mode="covert", target_kind="dept", target="police",
                result="minor", finding="x", now=NOW)  # fmt: skip
    with pytest.raises(AuthError):
        inspections.record_inspection(loaded, officer, **args)
    with pytest.raises(ValidationError, match="unknown department"):
        inspections.record_inspection(loaded, CHIEF, **{**args, "target": "月球"})
    with pytest.raises(ValidationError, match="category"):
        inspections.record_inspection(loaded, CHIEF, **{**args, "outcome": "case",
                                      "case": {"category": "C99", "lon": 116.39, "lat": 39.94}})  # fmt: skip
    with pytest.raises(ValidationError, match="unknown mode"):
        inspections.record_inspection(loaded, CHIEF, **{**args, "mode": "loud"})
    assert inspections.inspections(loaded).empty
    assert loaded.count_cases() == 10
    _ = dataclasses  # keep the import for parity with the other files
