"""Patrol tracks: GPX in, cleaned or refused point by point, one day of one person."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


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
