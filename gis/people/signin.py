"""Sign-in (签到) at 09:00 and 19:00: geofence, late/absent/out-of-fence flags, attendance.

A person signs in for themselves (with the browser's position when they allow it), or the
area chief records the sign-in for them. The fence is a distance from the enforcement
center or from the person's own district. Refused, with nothing stored: a sign-in for
someone else by a patrol member, a second one for the same slot, a position far outside,
a clock in the future. Stored with a flag: late (after the slot time plus grace), out of
the fence, or without a position.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import shapely
from pyproj import Transformer

from gis.errors import AuthError, ValidationError
from gis.geography.crs import METRIC, WGS84
from gis.localtime import LOCAL_TZ as TZ

#: Sign-in slots and their times at the centre.
SLOTS: dict[str, dt.time] = {"morning": dt.time(9, 0), "evening": dt.time(19, 0)}
#: Which slot each shift signs in at (早、午 at 09:00, 晚 at 19:00).
SLOT_OF_SHIFT: dict[str, str] = {"morning": "morning", "midday": "morning", "evening": "evening"}
#: Roles that may record a sign-in for someone else.
RECORDER_ROLES: frozenset[str] = frozenset({"area_chief", "leadership", "admin"})

_TO_METRIC = Transformer.from_crs(WGS84, METRIC, always_xy=True)


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


@dataclass(frozen=True)
class SigninRules:
    """Times and distances of the sign-in."""

    grace_minutes: float = 5.0
    open_minutes_before: float = 120.0
    absent_minutes_after: float = 120.0
    fence_m: float = 300.0
    far_m: float = 3000.0
    future_slack: dt.timedelta = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class Recorder:
    """Who enters the sign-in: their user name, role and (for patrol members) person id."""

    username: str
    role: str
    person_id: str | None = None


def slot_time(day: dt.date, slot: str) -> dt.datetime:
    """The sign-in time of ``slot`` on ``day`` (Beijing time)."""
    return dt.datetime.combine(day, SLOTS[slot], tzinfo=TZ)


def slot_for(at: dt.datetime) -> str:
    """The slot a sign-in at ``at`` belongs to (before 14:00 morning, else evening)."""
    return "morning" if at.astimezone(TZ).hour < 14 else "evening"


def check_signin(
    person_id: str,
    *,
    at: dt.datetime,
    now: dt.datetime,
    by: Recorder,
    lon: float | None = None,
    lat: float | None = None,
    center_metric: shapely.Geometry,
    district_metric: shapely.Geometry | None = None,
    slot: str | None = None,
    rules: SigninRules | None = None,
    note: str = "",
) -> SignIn:
    """Check a sign-in and return it with its flags (the store then refuses a second one).

    Raises
    ------
    AuthError
        A patrol member signing in for someone else.
    ValidationError
        A clock in the future, a time outside the slot's window, a position far outside
        the fence, or half a position.
    """
    rules = rules or SigninRules()
    if at.tzinfo is None:
        raise ValidationError(f"time {at} has no time zone", field="at", fix="use Beijing time")
    if by.person_id != person_id and by.role not in RECORDER_ROLES:
        raise AuthError(
            f"{by.username} cannot sign in for {person_id}: a patrol member signs in only for "
            f"themselves ({by.person_id or 'no person linked'}); the area chief records others"
        )
    local = at.astimezone(TZ)
    if at > now + rules.future_slack:
        raise ValidationError(
            f"the sign-in time {local:%Y-%m-%d %H:%M} is in the future "
            f"(now {now.astimezone(TZ):%H:%M})",
            field="at",
            fix="check the device's clock and time zone",
        )
    slot = slot or slot_for(local)
    if slot not in SLOTS:
        raise ValidationError(f"unknown slot {slot!r}", field="slot", fix=f"use {', '.join(SLOTS)}")
    day = local.date()
    due = slot_time(day, slot)
    opens = due - dt.timedelta(minutes=rules.open_minutes_before)
    closes = due + dt.timedelta(minutes=rules.absent_minutes_after)
    if not opens <= local <= closes:
        raise ValidationError(
            f"{local:%H:%M} is outside the {slot} sign-in window {opens:%H:%M}–{closes:%H:%M}",
            field="at",
            fix="sign in within the window; later counts as absent",
        )
    if (lon is None) != (lat is None):
        raise ValidationError(
            "only half a position was given",
            field="lon/lat",
            fix="give both longitude and latitude, or neither",
        )
    distance = None
    out = False
    flags: list[str] = [note] if note else []
    if lon is not None and lat is not None:
        x, y = _TO_METRIC.transform(float(lon), float(lat))
        pt = shapely.Point(x, y)
        distance = float(shapely.distance(center_metric, pt))
        if district_metric is not None and not district_metric.is_empty:
            distance = min(distance, float(shapely.distance(district_metric, pt)))
        if distance > rules.far_m:
            raise ValidationError(
                f"the position is {distance / 1000:.1f} km from the center and the district, "
                f"far outside the {rules.fence_m:g} m fence",
                field="position",
                fix="sign in at the center or in your district; check the phone's location",
            )
        out = distance > rules.fence_m
    elif by.person_id == person_id:
        out = True
        flags.append("no position (browser location not allowed)")
    else:
        flags.append(f"recorded by {by.username}")
    late = local > due + dt.timedelta(minutes=rules.grace_minutes)
    return SignIn(
        person_id=person_id,
        day=day,
        slot=slot,
        at=local,
        lon=None if lon is None else float(lon),
        lat=None if lat is None else float(lat),
        distance_m=None if distance is None else round(distance, 1),
        late=late,
        out_of_fence=out,
        recorded_by=by.username,
        note="; ".join(flags)[:200],
    )


def attendance(
    duties: Iterable[tuple[dt.date, str, str]],
    signins: Sequence[SignIn],
    *,
    now: dt.datetime,
    teams: Mapping[str, str] | None = None,
    rules: SigninRules | None = None,
) -> pd.DataFrame:
    """One row per expected sign-in: (day, person, slot) with status and flags.

    ``duties`` are (day, person_id, duty) roster cells; shifts expect a sign-in at their
    slot. ``status`` is ``signed``, ``late``, ``absent`` (the window closed without one)
    or ``pending`` (still open).
    """
    rules = rules or SigninRules()
    got = {(s.day, s.person_id, s.slot): s for s in signins}
    rows = []
    for day, pid, duty in duties:
        slot = SLOT_OF_SHIFT.get(duty)
        if slot is None:
            continue
        s = got.get((day, pid, slot))
        if s is not None:
            status = "late" if s.late else "signed"
        elif now > slot_time(day, slot) + dt.timedelta(minutes=rules.absent_minutes_after):
            status = "absent"
        else:
            status = "pending"
        rows.append(
            {
                "day": day,
                "person_id": pid,
                "team": (teams or {}).get(pid, ""),
                "slot": slot,
                "status": status,
                "at": s.at if s else None,
                "out_of_fence": bool(s.out_of_fence) if s else False,
                "recorded_by": s.recorded_by if s else "",
            }
        )
    cols = ["day", "person_id", "team", "slot", "status", "at", "out_of_fence", "recorded_by"]
    return pd.DataFrame(rows, columns=cols)


def attendance_summary(table: pd.DataFrame, by: str = "person_id") -> pd.DataFrame:
    """Expected, signed (on time), late, absent and out-of-fence counts per person or team."""
    cols = ["expected", "on_time", "late", "absent", "out_of_fence", "rate"]
    if table.empty:
        return pd.DataFrame(columns=[by, *cols])
    done = table[table["status"] != "pending"]
    g = done.groupby(by)
    out = pd.DataFrame(
        {
            "expected": g.size(),
            "on_time": g["status"].apply(lambda s: int((s == "signed").sum())),
            "late": g["status"].apply(lambda s: int((s == "late").sum())),
            "absent": g["status"].apply(lambda s: int((s == "absent").sum())),
            "out_of_fence": g["out_of_fence"].sum().astype(int),
        }
    )
    out["rate"] = (out["on_time"] + out["late"]) / out["expected"]
    return out.reset_index()
