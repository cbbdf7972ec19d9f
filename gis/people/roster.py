"""The duty roster (排班): one duty per person and day, generated fairly and editable."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: Shift duties in the order of the day: 早拆违、午巡查、晚整治.
SHIFTS: tuple[str, ...] = ("morning", "midday", "evening")
#: Every duty a roster cell can hold.
DUTIES: tuple[str, ...] = (*SHIFTS, "on_call", "rest", "leave")


@dataclass(frozen=True)
class RosterEntry:
    """Person ``person_id`` has ``duty`` on ``day``."""

    day: dt.date
    person_id: str
    duty: str
    note: str = ""
    edited_by: str = ""
