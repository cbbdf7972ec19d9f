"""Sign-in: flags, refusals that store nothing, attendance per person and team."""

from __future__ import annotations

import datetime as dt

import pytest
import shapely
from pyproj import Transformer

from gis.errors import AuthError, ConflictError, ValidationError
from gis.localtime import LOCAL_TZ as TZ
from gis.people.signin import (
    Recorder,
    SignIn,
    attendance,
    attendance_summary,
    check_signin,
)

CENTER = shapely.Point(446800.0, 4420600.0)
DISTRICT = shapely.LineString([(447500.0, 4420600.0), (447900.0, 4420600.0)])
DAY = dt.date(2026, 5, 6)
_TO_WGS = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)
ME = Recorder("p01", "patrol", "P01")
CHIEF = Recorder("chief", "area_chief")


def at(hh, mm=0, day=DAY):
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=TZ)


def lonlat(x, y):
    return _TO_WGS.transform(x, y)


def check(pid="P01", *, when=None, now=None, by=ME, pos=None, **kw):
    lon, lat = pos if pos else (None, None)
    when = when or at(8, 55)
    return check_signin(
        pid,
        at=when,
        now=now or when,
        by=by,
        lon=lon,
        lat=lat,
        center_metric=CENTER,
        district_metric=DISTRICT,
        **kw,
    )


def test_on_time_in_the_fence_and_late_outside_it():
    s = check(pos=lonlat(446850, 4420600))
    assert (s.slot, s.late, s.out_of_fence, s.distance_m) == ("morning", False, False, 50.0)
    # 900 m from the center but 100 m from the district: inside the fence
    s = check(when=at(19, 20), pos=lonlat(447700, 4420700))
    assert (s.slot, s.late, s.out_of_fence, s.distance_m) == ("evening", True, False, 100.0)
    s = check(when=at(9, 6), pos=lonlat(446800, 4421300))
    assert s.late and s.out_of_fence and s.distance_m == 700.0


def test_no_position_is_flagged_for_self_and_noted_for_the_chief():
    s = check()
    assert s.out_of_fence and s.note == "no position (browser location not allowed)"
    s = check(by=CHIEF)
    assert not s.out_of_fence and s.note == "recorded by chief" and s.recorded_by == "chief"


def test_bad_sign_ins_are_refused_with_clear_messages():
    with pytest.raises(
        AuthError, match="p01 cannot sign in for P02: a patrol member signs in only for themselves"
    ):
        check("P02")
    with pytest.raises(
        ValidationError,
        match=r"the sign-in time 2026-05-06 09:30 is in the "
        r"future \(now 08:55\)",
    ):
        check(when=at(9, 30), now=at(8, 55))
    with pytest.raises(
        ValidationError,
        match="the position is 11.2 km from the center and the "
        "district, far outside the 300 m fence",
    ):
        check(pos=lonlat(446800, 4431800))
    with pytest.raises(
        ValidationError, match="12:30 is outside the morning sign-in window 07:00–11:00"
    ):
        check(when=at(12, 30), slot="morning")
    with pytest.raises(ValidationError, match="only half a position"):
        check_signin("P01", at=at(9), now=at(9), by=ME, lon=116.3, lat=None, center_metric=CENTER)


def test_attendance_statuses_and_summary():
    duties = [
        (DAY, "P01", "morning"),
        (DAY, "P02", "midday"),
        (DAY, "P03", "evening"),
        (DAY, "P04", "rest"),
        (DAY, "P05", "evening"),
    ]
    signins = [
        SignIn("P01", DAY, "morning", at(8, 58)),
        SignIn("P02", DAY, "morning", at(9, 20), late=True, out_of_fence=True),
        SignIn("P05", DAY, "evening", at(18, 50)),
    ]
    teams = {"P01": "一组", "P02": "一组", "P03": "二组", "P05": "二组"}
    table = attendance(duties, signins, now=at(20, 0), teams=teams)
    assert list(zip(table["person_id"], table["slot"], table["status"], strict=True)) == [
        ("P01", "morning", "signed"),
        ("P02", "morning", "late"),
        ("P03", "evening", "pending"),
        ("P05", "evening", "signed"),
    ]
    late_night = attendance(duties, signins, now=at(23, 0), teams=teams)
    assert late_night.loc[late_night["person_id"] == "P03", "status"].item() == "absent"
    by_team = attendance_summary(late_night, by="team").set_index("team")
    assert by_team.loc["一组"].to_dict() == {
        "expected": 2,
        "on_time": 1,
        "late": 1,
        "absent": 0,
        "out_of_fence": 1,
        "rate": 1.0,
    }
    assert by_team.loc["二组", "absent"] == 1 and by_team.loc["二组", "rate"] == 0.5


def test_service_stores_once(tmp_path, refs, four_people):
    from gis.geography.layers import load_bundled_geography
    from gis.people.service import sign_in
    from gis.store.geopackage import GeoPackageStore

    geo = load_bundled_geography()
    center = geo.pois.loc[geo.pois["kind"] == "enforcement_center"].geometry.iloc[0]
    lon, lat = lonlat(center.x + 30, center.y)
    with GeoPackageStore(tmp_path / "s.gpkg", refs=refs) as store:
        store.people.save_people(four_people)
        s = sign_in(store, geo, "P01", by=ME, now=at(9, 1), lon=lon, lat=lat)
        assert s.distance_m == pytest.approx(30.0, abs=0.5) and not s.late
        with pytest.raises(ConflictError, match="already signed in"):
            sign_in(store, geo, "P01", by=CHIEF, now=at(9, 5))
        with pytest.raises(AuthError):
            sign_in(store, geo, "P02", by=ME, now=at(9, 5))
        with pytest.raises(AuthError, match="chief cannot record a sign-in for P03: not one of"):
            sign_in(store, geo, "P03", by=CHIEF, now=at(9, 5), allowed={"P02"})
        sign_in(store, geo, "P02", by=CHIEF, now=at(9, 5), allowed={"P02"})
        assert len(store.people.signins(DAY, DAY)) == 2
