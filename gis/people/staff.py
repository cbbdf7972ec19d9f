"""Named staff kept in the store: who they are, their team, and from when to when they serve."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from gis.errors import ValidationError
from gis.localtime import parse_date
from gis.people.staff_table import ROLES, SHIFTS

#: How a person is present: stationed every day, called in, or auxiliary patrol staff.
PRESENCE: tuple[str, ...] = ("resident", "on_call", "auxiliary")
#: Columns of a staff table (CSV import/export and the store).
PERSON_COLUMNS: tuple[str, ...] = (
    "person_id",
    "name",
    "team",
    "role",
    "department",
    "presence",
    "phone",
    "active_from",
    "active_to",
    "fictitious",
    "shift",
)
_TRUE = {"true", "1", "yes", "是", "虚构"}


@dataclass(frozen=True)
class Person:
    """One member of staff.

    ``active_to`` is the last day of service (inclusive); ``None`` means still serving.
    """

    person_id: str
    name: str
    team: str
    role: str
    department: str
    presence: str
    phone: str = ""
    active_from: dt.date | None = None
    active_to: dt.date | None = None
    fictitious: bool = False
    #: The usual shift of the staff table file (:data:`gis.people.staff_table.SHIFTS`), or
    #: "" when unknown: who is on duty when the store has no roster for the day.
    shift: str = ""

    def active_on(self, day: dt.date) -> bool:
        """True when the person serves on ``day``."""
        if self.active_from is not None and day < self.active_from:
            return False
        return not (self.active_to is not None and day > self.active_to)

    def as_record(self) -> dict[str, Any]:
        """Column values (dates as ISO text) for tables and exports."""
        return {
            "person_id": self.person_id,
            "name": self.name,
            "team": self.team,
            "role": self.role,
            "department": self.department,
            "presence": self.presence,
            "phone": self.phone,
            "active_from": self.active_from.isoformat() if self.active_from else "",
            "active_to": self.active_to.isoformat() if self.active_to else "",
            "fictitious": self.fictitious,
            "shift": self.shift,
        }


def _text(rec: Mapping[str, Any], key: str) -> str:
    v = rec.get(key)
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    return str(v).strip()


def person_from_record(
    rec: Mapping[str, Any], *, source: str = "<staff>", row: object = None
) -> Person:
    """Validate one staff record and build the :class:`Person`.

    Raises
    ------
    ValidationError
        Naming the row and field: empty id/name/role/presence, an unknown role or
        presence, a bad date, or a service that ends before it starts.
    """
    for key in ("person_id", "name", "role", "presence"):
        if not _text(rec, key):
            raise ValidationError(
                f"person {_text(rec, 'person_id') or '?'} has no {key}",
                source=source,
                row=row,
                field=key,
                fix=f"fill in the {key}",
            )
    role, presence = _text(rec, "role"), _text(rec, "presence")
    if role not in ROLES:
        raise ValidationError(
            f"unknown role {role!r}",
            source=source,
            row=row,
            field="role",
            fix=f"use one of {', '.join(ROLES)}",
        )
    if presence not in PRESENCE:
        raise ValidationError(
            f"unknown presence {presence!r}",
            source=source,
            row=row,
            field="presence",
            fix=f"use one of {', '.join(PRESENCE)}",
        )
    start = parse_date(rec.get("active_from"), source=source, row=row, field="active_from")
    end = parse_date(rec.get("active_to"), source=source, row=row, field="active_to")
    if start and end and end < start:
        raise ValidationError(
            f"service ends {end} before it starts {start}",
            source=source,
            row=row,
            field="active_to",
            fix="put the last day of service on or after the first",
        )
    fict = rec.get("fictitious")
    shift = _text(rec, "shift")
    if shift and shift not in SHIFTS:
        raise ValidationError(
            f"unknown shift {shift!r}",
            source=source,
            row=row,
            field="shift",
            fix=f"use one of {', '.join(SHIFTS)}, or leave it empty",
        )
    return Person(
        person_id=_text(rec, "person_id"),
        name=_text(rec, "name"),
        team=_text(rec, "team"),
        role=role,
        department=_text(rec, "department"),
        presence=presence,
        phone=_text(rec, "phone"),
        active_from=start,
        active_to=end,
        fictitious=fict if isinstance(fict, bool) else _text(rec, "fictitious").lower() in _TRUE,
        shift=shift,
    )


def people_from_table(df: pd.DataFrame, *, source: str = "<staff>") -> list[Person]:
    """Validate a staff table (CSV/DataFrame); rows are numbered as a spreadsheet shows them.

    A duplicate ``person_id`` is refused naming both rows.
    """
    out: list[Person] = []
    seen: dict[str, int] = {}
    for i, rec in enumerate(df.to_dict("records"), start=1):
        p = person_from_record(rec, source=source, row=i)
        if p.person_id in seen:
            raise ValidationError(
                f"person_id {p.person_id!r} repeats row {seen[p.person_id]}",
                source=source,
                row=i,
                field="person_id",
                fix="give every person a unique id",
            )
        seen[p.person_id] = i
        out.append(p)
    return out


def read_people_csv(path: str | Path) -> list[Person]:
    """Read a staff CSV (UTF-8; phone numbers stay text)."""
    p = Path(path)
    if not p.is_file():
        raise ValidationError("staff file does not exist", source=p.name, fix="check the path")
    df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return people_from_table(df, source=p.name)


def people_frame(people: Iterable[Person]) -> pd.DataFrame:
    """The staff as a table in :data:`PERSON_COLUMNS` order."""
    return pd.DataFrame([p.as_record() for p in people], columns=list(PERSON_COLUMNS))


def active_people(people: Sequence[Person], day: dt.date) -> list[Person]:
    """Who serves on ``day``, in id order."""
    return sorted((p for p in people if p.active_on(day)), key=lambda p: p.person_id)


def rostered_people(people: Sequence[Person], day: dt.date) -> list[Person]:
    """People the duty roster covers on ``day``: active resident and auxiliary staff."""
    return [p for p in active_people(people, day) if p.presence in ("resident", "auxiliary")]


def retire(person: Person, last_day: dt.date) -> Person:
    """The same person with service ending on ``last_day``."""
    return replace(person, active_to=last_day)


def stored_people(store: Any) -> list[Person]:
    """The staff kept in ``store`` (empty when the store keeps no people tables)."""
    try:
        return list(store.people.list_people())
    except NotImplementedError:
        return []


def with_people(staff: pd.DataFrame, people: Sequence[Person]) -> pd.DataFrame:
    """``staff`` with name, phone and department taken from the stored ``people`` where the
    store knows the person (non-empty values only); other rows are left as they are."""
    if not people or staff.empty or "person_id" not in staff:
        return staff
    by_id = {p.person_id: p for p in people}
    out = staff.copy()
    ids = out["person_id"].astype(str)
    for col in ("name", "phone", "department"):
        values = ids.map(lambda pid, col=col: getattr(by_id[pid], col) if pid in by_id else "")
        keep = values.fillna("").astype(str) != ""
        if col not in out:
            out[col] = ""
        out[col] = out[col].astype(object)
        out.loc[keep, col] = values[keep]
    return out


def person_label(person_id: str, people: Sequence[Person]) -> str:
    """``姓名（P01）`` when ``people`` names the person, the bare id otherwise."""
    for p in people:
        if p.person_id == person_id and p.name:
            return f"{p.name}（{person_id}）"
    return person_id
