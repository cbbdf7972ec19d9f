"""What was really patrolled: planned route covered, time on post and gaps, per person and shift.

A shift's fixes are map-matched to the street segments; the segments on the matched path
count as walked. *Covered* is the length of the planned route's segments that were walked;
*on post* is the time between consecutive fixes (at most ``gap_minutes`` apart) that were
both matched to the person's post (their district and planned route); a *gap* is a stretch
of the shift longer than ``gap_minutes`` without any fix (also before the first and after
the last).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from gis.localtime import LOCAL_TZ as TZ
from gis.people.mapmatch import MapMatcher
from gis.people.roster import SHIFTS, ShiftHours
from gis.people.tracks import Track, track_metric_xy


@dataclass(frozen=True)
class ShiftCoverage:
    """Coverage of one person's shift."""

    person_id: str
    day: dt.date
    shift: str
    planned_m: float
    covered_m: float
    on_post_min: float
    shift_min: float
    gaps: tuple[tuple[dt.datetime, dt.datetime], ...]
    walked: tuple[str, ...]
    fixes: int

    @property
    def covered_share(self) -> float:
        """Share of the planned route walked (0 when nothing was planned)."""
        return self.covered_m / self.planned_m if self.planned_m > 0 else 0.0

    @property
    def on_post_share(self) -> float:
        """Share of the shift spent on post."""
        return self.on_post_min / self.shift_min if self.shift_min > 0 else 0.0


def shift_window(day: dt.date, shift: str, hours: ShiftHours) -> tuple[dt.datetime, dt.datetime]:
    """Start and end (Beijing time) of a shift on a day."""
    a, b = hours.span(shift)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=TZ) + dt.timedelta(hours=a)
    return start, start + dt.timedelta(hours=b - a)


def shift_coverage(
    tracks: Sequence[Track],
    matcher: MapMatcher,
    *,
    person_id: str,
    day: dt.date,
    shift: str,
    hours: ShiftHours,
    planned: Sequence[str],
    post: Iterable[str],
    segment_length: Mapping[str, float],
    gap_minutes: float = 15.0,
) -> ShiftCoverage:
    """Coverage of ``person_id``'s ``shift`` on ``day`` from their tracks."""
    start, end = shift_window(day, shift, hours)
    times: list[dt.datetime] = []
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    for tr in sorted(tracks, key=lambda t: t.started_at):
        if tr.person_id != person_id:
            continue
        x, y = track_metric_xy(tr)
        inside = np.array([start <= t <= end for t in tr.times], dtype=bool)
        times += [t for t, k in zip(tr.times, inside, strict=True) if k]
        xs.append(x[inside])
        ys.append(y[inside])
    x = np.concatenate(xs) if xs else np.zeros(0)
    y = np.concatenate(ys) if ys else np.zeros(0)
    post_set = set(post) | set(planned)
    walked: tuple[str, ...] = ()
    on_post = 0.0
    if len(times) >= 2:
        result = matcher.match(x, y)
        walked = result.path
        ok = [s is not None and s in post_set for s in result.segment]
        for i in range(1, len(times)):
            step = (times[i] - times[i - 1]).total_seconds() / 60.0
            if step <= gap_minutes and ok[i] and ok[i - 1]:
                on_post += step
    gaps: list[tuple[dt.datetime, dt.datetime]] = []
    marks = [start, *times, end]
    for a, b in zip(marks, marks[1:], strict=False):
        if (b - a).total_seconds() / 60.0 > gap_minutes:
            gaps.append((a, b))
    plan_set = set(planned)
    walked_set = set(walked)
    return ShiftCoverage(
        person_id=person_id,
        day=day,
        shift=shift,
        planned_m=float(sum(segment_length.get(s, 0.0) for s in plan_set)),
        covered_m=float(sum(segment_length.get(s, 0.0) for s in plan_set & walked_set)),
        on_post_min=on_post,
        shift_min=(end - start).total_seconds() / 60.0,
        gaps=tuple(gaps),
        walked=walked,
        fixes=len(times),
    )


def walked_segments(
    tracks: Sequence[Track], matcher: MapMatcher, *, person_id: str | None = None
) -> set[str]:
    """Every segment on the matched paths of the tracks (of one person, or everyone's)."""
    out: set[str] = set()
    for tr in tracks:
        if person_id is not None and tr.person_id != person_id:
            continue
        x, y = track_metric_xy(tr)
        out.update(matcher.match(x, y).path)
    return out


def not_walked(district: Iterable[str], walked: Iterable[str]) -> list[str]:
    """District segments nobody walked (e.g. in the last 7 days), sorted."""
    return sorted(set(district) - set(walked))


__all__ = [
    "SHIFTS",
    "ShiftCoverage",
    "not_walked",
    "shift_coverage",
    "shift_window",
    "walked_segments",
]
