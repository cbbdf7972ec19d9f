"""GPX tracks: read, cleaned point by point, or refused with a message naming the point."""

from __future__ import annotations

import datetime as dt

import pytest
import shapely
from pyproj import Transformer

from gis.errors import ValidationError
from gis.geography.crs import from_wgs84
from gis.localtime import LOCAL_TZ as TZ
from gis.people.tracks import Fix, clean_track, gpx_text, read_gpx

ORIGIN = (446500.0, 4420300.0)
DAY = dt.date(2026, 5, 3)
NOW = dt.datetime(2026, 5, 3, 23, 0, tzinfo=TZ)
AREA = shapely.box(ORIGIN[0] - 50, ORIGIN[1] - 50, ORIGIN[0] + 550, ORIGIN[1] + 550)
_TO_WGS = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)


def fixes(n=10, *, start=dt.datetime(2026, 5, 3, 12, 0, tzinfo=TZ), step_s=5, dx=6.0):
    out = []
    for i in range(n):
        lon, lat = _TO_WGS.transform(ORIGIN[0] + i * dx, ORIGIN[1])
        out.append(Fix(i + 1, start + dt.timedelta(seconds=i * step_s), lon, lat))
    return out


def clean(fx, **kw):
    args = dict(person_id="P01", day=DAY, area_metric=AREA, now=NOW, source="walk.gpx")
    args.update(kw)
    return clean_track(fx, **args)


def test_gpx_round_trip_and_idempotent_id():
    track = clean(fixes())
    assert track.notes == () and len(track.times) == 10
    raw, name = read_gpx(gpx_text(track).encode())
    again = clean(raw, name=name)
    assert again.track_id == track.track_id and again.times == track.times
    assert name == "P01 2026-05-03"


def test_no_timestamps_is_refused_naming_the_first_point():
    fx = [Fix(f.number, None, f.lon, f.lat) for f in fixes()]
    with pytest.raises(
        ValidationError,
        match=r"point 1 \(39\.\d+, 116\.\d+\) has no time: "
        "the track has no timestamps",
    ):
        clean(fx)


def test_some_points_without_time_are_dropped():
    fx = fixes()
    fx[3] = Fix(4, None, fx[3].lon, fx[3].lat)
    assert clean(fx).notes == ("point 4 dropped: no time",)


def test_a_2_km_spike_in_one_second_is_dropped():
    fx = fixes()
    lon, lat = _TO_WGS.transform(ORIGIN[0] + 30, ORIGIN[1] + 2000)
    fx[4] = Fix(5, fx[4].time, lon, lat)
    track = clean(fx, area_metric=None)
    assert len(track.times) == 9
    assert track.notes[0].startswith("point 5 dropped: jump of 2.0 km in 5 s")


def _raise_outside(fx):
    big = shapely.box(ORIGIN[0] + 10000, ORIGIN[1], ORIGIN[0] + 10100, ORIGIN[1] + 100)
    clean(fx, area_metric=big)


def test_a_lasting_jump_is_refused():
    fx = fixes(10, step_s=1)
    moved = []
    for f in fx[5:]:
        x, y = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True).transform(
            f.lon, f.lat
        )
        lon, lat = _TO_WGS.transform(x, y + 2000)
        moved.append(Fix(f.number, f.time, lon, lat))
    with pytest.raises(
        ValidationError,
        match=r"point 6 \(.*\) is 2\.0 km from point 5 in 1 s "
        r"\(7200 km/h\): the track jumps",
    ):
        clean(fx[:5] + moved, area_metric=None)


def test_times_out_of_order_are_refused():
    fx = fixes()
    fx[3], fx[4] = (
        Fix(4, fx[4].time, fx[3].lon, fx[3].lat),
        Fix(5, fx[3].time, fx[4].lon, fx[4].lat),
    )
    with pytest.raises(
        ValidationError,
        match=r"point 5 \(.* 12:00:15\) is earlier than point 4 "
        r"\(12:00:20\): times out of order",
    ):
        clean(fx)


def test_another_days_track_is_refused_and_a_stray_point_dropped():
    yesterday = fixes(start=dt.datetime(2026, 5, 2, 12, 0, tzinfo=TZ))
    with pytest.raises(
        ValidationError, match="point 1 .* is on 2026-05-02, not 2026-05-03: another day's track"
    ):
        clean(yesterday)
    late = fixes(start=dt.datetime(2026, 5, 3, 23, 59, 30, tzinfo=TZ), step_s=5)
    track = clean(late, now=dt.datetime(2026, 5, 4, 9, 0, tzinfo=TZ))
    assert track.notes == ("points 7–10 (4) dropped: not on 2026-05-03",)


def test_future_clock_and_outside_area_are_refused():
    with pytest.raises(
        ValidationError,
        match=r"point 1 .* is in the future \(now 2026-05-03 "
        "11:00\\)",
    ):
        clean(fixes(), now=dt.datetime(2026, 5, 3, 11, 0, tzinfo=TZ))
    with pytest.raises(ValidationError, match=r"point 1 .* is 10\.0 km outside the area"):
        _raise_outside(fixes())


def test_amap_coordinates_are_converted():
    fx = fixes()
    lon, lat = from_wgs84([f.lon for f in fx], [f.lat for f in fx], "gcj02")
    shifted = [
        Fix(f.number, f.time, float(a), float(b)) for f, a, b in zip(fx, lon, lat, strict=True)
    ]
    as_if_gps = clean(shifted, area_metric=None)
    assert abs(as_if_gps.lon[0] - fx[0].lon) > 1e-3  # hundreds of metres off
    track = clean(shifted, datum="高德")
    assert track.lon[0] == pytest.approx(fx[0].lon, abs=1e-5)


def test_not_gpx_and_empty_gpx():
    with pytest.raises(ValidationError, match="file evil.gpx: not a readable GPX file"):
        read_gpx(b"<html><script>alert(1)</script>", source="evil.gpx")
    empty = (
        b'<?xml version="1.0"?><gpx version="1.1" creator="x"><wpt lat="39.9" lon="116.3"/></gpx>'
    )
    with pytest.raises(ValidationError, match=r"no track points \(<trkpt>\)"):
        read_gpx(empty)
