"""Dated responsibility: which person answered for which street segment, from when to when."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from gis.errors import ValidationError


@dataclass(frozen=True)
class Assignment:
    """Person ``person_id`` answers for ``segment_id`` from ``valid_from`` (inclusive) until
    ``valid_to`` (exclusive; ``None`` = still in force). ``district_id`` records which
    district the segment belonged to then."""

    segment_id: str
    person_id: str
    valid_from: dt.date
    valid_to: dt.date | None = None
    district_id: str = ""
    assigned_by: str = ""

    def valid_on(self, day: dt.date) -> bool:
        """True when the assignment is in force on ``day``."""
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


def assignments_from_districts(
    segment_person: Mapping[str, str],
    valid_from: dt.date,
    *,
    segment_district: Mapping[str, str] | None = None,
    assigned_by: str = "",
) -> list[Assignment]:
    """New open-ended assignments from a segment → person mapping (a saved district plan)."""
    out = []
    for seg, person in sorted(segment_person.items()):
        if not str(seg).strip() or not str(person).strip():
            raise ValidationError(
                f"segment {seg!r} → person {person!r} is incomplete",
                field="segment_id/person_id",
                fix="give every segment a person",
            )
        out.append(
            Assignment(
                segment_id=str(seg),
                person_id=str(person),
                valid_from=valid_from,
                district_id=(segment_district or {}).get(seg, ""),
                assigned_by=assigned_by,
            )
        )
    return out


def responsible_on(
    assignments: Iterable[Assignment], segment_id: str, day: dt.date
) -> Assignment | None:
    """The assignment in force for ``segment_id`` on ``day`` (None when nobody answered)."""
    for a in assignments:
        if a.segment_id == segment_id and a.valid_on(day):
            return a
    return None


def segments_of(assignments: Sequence[Assignment], person_id: str, day: dt.date) -> list[str]:
    """The segments ``person_id`` answers for on ``day``, sorted."""
    return sorted(a.segment_id for a in assignments if a.person_id == person_id and a.valid_on(day))
