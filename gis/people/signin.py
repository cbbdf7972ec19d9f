"""Sign-in (签到) at 09:00 and 19:00: geofence, late/absent/out-of-fence flags."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: Sign-in slots and their times at the centre.
SLOTS: dict[str, dt.time] = {"morning": dt.time(9, 0), "evening": dt.time(19, 0)}


@dataclass(frozen=True)
class SignIn:
    """One stored sign-in; ``recorded_by`` is the user who entered it (self or area chief)."""

    person_id: str
    day: dt.date
    slot: str
    at: dt.datetime
    lon: float | None = None
    lat: float | None = None
    distance_m: float | None = None
    late: bool = False
    out_of_fence: bool = False
    recorded_by: str = ""
    note: str = ""
