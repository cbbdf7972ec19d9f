"""Patrol tracks: GPX in, cleaned or refused point by point, one day of one person.

A track comes from any phone GPX app (or the app's own recording). Every check names the
point (1-based, in file order) and what is wrong with it:

* no timestamps at all → refused; a few points without a time → dropped;
* a time in the future → refused (the phone's clock is wrong);
* times out of order → refused; repeated times → dropped;
* points on another day than the shift day → dropped, or refused when none is on the day;
* points far outside the area → dropped, or refused when all are;
* isolated jumps (2 km in a second and back) → dropped; a lasting jump → refused;
* more than half of the points dropped → refused.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Transformer

from gis.errors import ValidationError
from gis.geography.crs import METRIC, WGS84, to_wgs84
from gis.localtime import LOCAL_TZ as TZ

#: The largest GPX file taken in (a day's walk at 1 s is about 2 MB).
MAX_GPX_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Track:
    """A cleaned track (WGS 84 points with tz-aware times, in time order)."""

    track_id: str
    person_id: str
    day: dt.date
    times: tuple[dt.datetime, ...]
    lon: tuple[float, ...]
    lat: tuple[float, ...]
    source: str = "gpx"
    name: str = ""
    uploaded_by: str = ""
    notes: tuple[str, ...] = ()

    @property
    def started_at(self) -> dt.datetime:
        """Time of the first point."""
        return self.times[0]

    @property
    def ended_at(self) -> dt.datetime:
        """Time of the last point."""
        return self.times[-1]


@dataclass(frozen=True)
class Fix:
    """One raw point as read: its 1-based number in the file, time (or None), position."""

    number: int
    time: dt.datetime | None
    lon: float
    lat: float


@dataclass(frozen=True)
class TrackLimits:
    """What counts as a bad point."""

    max_speed_mps: float = 15.0
    max_outside_m: float = 300.0
    max_dropped_share: float = 0.5
    future_slack: dt.timedelta = dt.timedelta(minutes=5)


@functools.lru_cache(maxsize=1)
def _to_metric() -> Transformer:
    return Transformer.from_crs(WGS84, METRIC, always_xy=True)


def read_gpx(data: bytes, *, source: str = "track.gpx") -> tuple[list[Fix], str]:
    """The track points of a GPX file (every track and segment, in file order) and its name.

    Raises
    ------
    ValidationError
        The file is too large, not GPX, or has no track points.
    """
    import gpxpy
    import gpxpy.gpx

    if len(data) > MAX_GPX_BYTES:
        raise ValidationError(
            f"the file has {len(data) / 1e6:.1f} MB, more than {MAX_GPX_BYTES // 2**20} MB",
            source=source,
            fix="split the day's track into shifts",
        )
    try:
        gpx = gpxpy.parse(data.decode("utf-8-sig", errors="strict"))
    except (UnicodeDecodeError, gpxpy.gpx.GPXException, ValueError) as exc:
        raise ValidationError(
            f"not a readable GPX file ({type(exc).__name__}: {str(exc)[:120]})",
            source=source,
            fix="export the track as GPX from the phone app",
        ) from None
    fixes: list[Fix] = []
    name = ""
    for trk in gpx.tracks:
        name = name or (trk.name or "")
        for seg in trk.segments:
            for p in seg.points:
                t = p.time
                if t is not None and t.tzinfo is None:
                    t = t.replace(tzinfo=dt.UTC)  # GPX times are UTC
                fixes.append(Fix(len(fixes) + 1, t, float(p.longitude), float(p.latitude)))
    if not fixes:
        raise ValidationError(
            "the file has no track points (<trkpt>)",
            source=source,
            fix="export a recorded track, not waypoints or a planned route",
        )
    return fixes, name[:80]


def _where(f: Fix) -> str:
    when = f" at {f.time.astimezone(TZ):%Y-%m-%d %H:%M:%S}" if f.time else ""
    return f"point {f.number} ({f.lat:.5f}, {f.lon:.5f}{when})"


def _span(numbers: Sequence[int]) -> str:
    if len(numbers) == 1:
        return f"point {numbers[0]}"
    return f"points {numbers[0]}–{numbers[-1]} ({len(numbers)})"


def clean_track(
    fixes: Sequence[Fix],
    *,
    person_id: str,
    day: dt.date,
    area_metric: shapely.Geometry | None,
    now: dt.datetime,
    source: str = "track.gpx",
    datum: str = "wgs84",
    limits: TrackLimits | None = None,
    name: str = "",
    uploaded_by: str = "",
    kind: str = "gpx",
) -> Track:
    """Check and clean raw points into a :class:`Track` of ``person_id`` on ``day``.

    ``area_metric`` is the area's boundary in EPSG:32650 (points farther outside than
    ``limits.max_outside_m`` are dropped); ``datum`` converts phone-app coordinates
    (AMap/WeChat: gcj02) to WGS 84 first.

    Raises
    ------
    ValidationError
        Naming the first bad point and how to fix the file (see the module docstring).
    """
    limits = limits or TrackLimits()
    notes: list[str] = []

    def refuse(problem: str, fix: str) -> ValidationError:
        return ValidationError(problem, source=source, field="points", fix=fix)

    if not fixes:
        raise refuse("the track has no points", "record or export a track with points")
    timed = [f for f in fixes if f.time is not None]
    if not timed:
        raise refuse(
            f"{_where(fixes[0])} has no time: the track has no timestamps",
            "export the track with times (GPX <time> on every point)",
        )
    missing = [f.number for f in fixes if f.time is None]
    if missing:
        notes.append(f"{_span(missing)} dropped: no time")
    lon, lat = to_wgs84([f.lon for f in timed], [f.lat for f in timed], datum)
    timed = [
        Fix(f.number, f.time, float(x), float(y)) for f, x, y in zip(timed, lon, lat, strict=True)
    ]
    for f in timed:
        assert f.time is not None
        if f.time > now + limits.future_slack:
            raise refuse(
                f"{_where(f)} is in the future (now {now.astimezone(TZ):%Y-%m-%d %H:%M})",
                "check the phone's clock and time zone, then export again",
            )
    kept: list[Fix] = [timed[0]]
    dup: list[int] = []
    for f in timed[1:]:
        prev = kept[-1]
        assert f.time is not None and prev.time is not None
        if f.time < prev.time:
            raise refuse(
                f"{_where(f)} is earlier than point {prev.number} "
                f"({prev.time.astimezone(TZ):%H:%M:%S}): times out of order",
                "export the track again from the app; do not merge files by hand",
            )
        if f.time == prev.time:
            dup.append(f.number)
            continue
        kept.append(f)
    if dup:
        notes.append(f"{_span(dup)} dropped: same time as the point before")
    other_day = [f for f in kept if f.time and f.time.astimezone(TZ).date() != day]
    if len(other_day) == len(kept):
        f = other_day[0]
        assert f.time is not None
        raise refuse(
            f"{_where(f)} is on {f.time.astimezone(TZ).date()}, not {day}: another day's track",
            f"upload it for {f.time.astimezone(TZ).date()} or pick the right file",
        )
    if other_day:
        notes.append(f"{_span([f.number for f in other_day])} dropped: not on {day}")
        kept = [f for f in kept if f not in other_day]
    x, y = _to_metric().transform([f.lon for f in kept], [f.lat for f in kept])
    x, y = np.asarray(x), np.asarray(y)
    if area_metric is not None:
        d = shapely.distance(area_metric, shapely.points(x, y))
        outside = d > limits.max_outside_m
        if outside.all():
            raise refuse(
                f"{_where(kept[0])} is {d[0] / 1000:.1f} km outside the area, and so is every "
                "other point",
                "check the datum (AMap/WeChat tracks are gcj02) or pick the right file",
            )
        if outside.any():
            notes.append(
                f"{_span([f.number for f, o in zip(kept, outside, strict=True) if o])} dropped: "
                f"more than {limits.max_outside_m:g} m outside the area"
            )
            keep = ~outside
            kept = [f for f, k in zip(kept, keep, strict=True) if k]
            x, y = x[keep], y[keep]
    kept, x, y = _drop_spikes(kept, x, y, limits, notes, refuse)
    dropped = len(fixes) - len(kept)
    if len(kept) < 2:
        raise refuse(
            f"only {len(kept)} usable point(s) of {len(fixes)}: " + "; ".join(notes),
            "record a longer track",
        )
    if dropped > limits.max_dropped_share * len(fixes):
        raise refuse(
            f"{dropped} of {len(fixes)} points are unusable: " + "; ".join(notes),
            "check the phone's GPS and clock and record the track again",
        )
    times = tuple(f.time.astimezone(TZ) for f in kept if f.time is not None)
    lon_t = tuple(round(f.lon, 7) for f in kept)
    lat_t = tuple(round(f.lat, 7) for f in kept)
    digest = hashlib.sha256(person_id.encode())
    for t, a, b in zip(times, lon_t, lat_t, strict=True):
        digest.update(f"{t.timestamp():.0f},{a:.7f},{b:.7f};".encode())
    return Track(
        track_id=digest.hexdigest()[:24],
        person_id=person_id,
        day=day,
        times=times,
        lon=lon_t,
        lat=lat_t,
        source=kind,
        name=name,
        uploaded_by=uploaded_by,
        notes=tuple(notes),
    )


def _drop_spikes(kept, x, y, limits, notes, refuse):  # type: ignore[no-untyped-def]
    """Drop single points that jump away and back; refuse a jump that lasts."""
    n = len(kept)
    if n < 2:
        return kept, x, y
    t = np.array([f.time.timestamp() for f in kept])
    step = np.hypot(np.diff(x), np.diff(y))
    dt_s = np.maximum(np.diff(t), 1e-3)
    fast = step / dt_s > limits.max_speed_mps  # fast[i]: between point i and i+1
    spike = np.zeros(n, dtype=bool)
    if n >= 3:
        # jumps in and straight back: the two neighbours are close to each other
        back = np.hypot(x[2:] - x[:-2], y[2:] - y[:-2]) / np.maximum(t[2:] - t[:-2], 1e-3)
        spike[1:-1] = fast[:-1] & fast[1:] & (back <= limits.max_speed_mps)
    if fast[0] and (n == 2 or not fast[1]) and not spike[1]:
        spike[0] = True  # a bad first fix (cold start)
    if fast[-1] and (n == 2 or not fast[-2]) and not spike[-2]:
        spike[-1] = True
    if n == 2 and spike.all():
        spike[:] = False
    if spike.any():
        nums = [f.number for f, s in zip(kept, spike, strict=True) if s]
        i = int(np.argmax(spike))
        j = i - 1 if i > 0 else i + 1
        far = float(np.hypot(x[i] - x[j], y[i] - y[j]))
        secs = abs(t[i] - t[j])
        notes.append(
            f"{_span(nums)} dropped: jump of {far / 1000:.1f} km in {secs:.0f} s "
            f"(first at point {kept[i].number})"
        )
        keep = ~spike
        kept = [f for f, k in zip(kept, keep, strict=True) if k]
        x, y = x[keep], y[keep]
        t = t[keep]
    if len(kept) >= 2:
        step = np.hypot(np.diff(x), np.diff(y))
        speed = step / np.maximum(np.diff(t), 1e-3)
        bad = np.nonzero(speed > limits.max_speed_mps)[0]
        if len(bad):
            i = int(bad[0])
            raise refuse(
                f"{_where(kept[i + 1])} is {step[i] / 1000:.1f} km from point {kept[i].number} "
                f"in {t[i + 1] - t[i]:.0f} s ({speed[i] * 3.6:.0f} km/h): the track jumps",
                "split the file at that point or record the track again",
            )
    return kept, x, y


def track_metric_xy(track: Track) -> tuple[np.ndarray, np.ndarray]:
    """The track's points in metres (EPSG:32650)."""
    x, y = _to_metric().transform(list(track.lon), list(track.lat))
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def gpx_text(track: Track) -> str:
    """The track as GPX 1.1 text (times in UTC)."""
    import gpxpy.gpx

    gpx = gpxpy.gpx.GPX()
    trk = gpxpy.gpx.GPXTrack(name=track.name or f"{track.person_id} {track.day}")
    seg = gpxpy.gpx.GPXTrackSegment()
    for t, lo, la in zip(track.times, track.lon, track.lat, strict=True):
        seg.points.append(gpxpy.gpx.GPXTrackPoint(la, lo, time=t.astimezone(dt.UTC)))
    trk.segments.append(seg)
    gpx.tracks.append(trk)
    return gpx.to_xml(version="1.1")
