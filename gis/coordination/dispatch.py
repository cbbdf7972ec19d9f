"""吹哨报到: call departments to a case, their liaisons' inboxes, arrivals and punctuality.

The subdistrict blows the whistle (``call_joint``); each called department gets an inbox
item due 30 minutes later; the liaison confirms the arrival with its time (and position
where allowed). Punctuality is measured against :data:`gis.cases.workflow.ARRIVAL_LIMIT`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd

from gis.access.users import User
from gis.cases.workflow import ARRIVAL_LIMIT, Case
from gis.coordination import alerts
from gis.errors import AuthError, NotFoundError, ValidationError
from gis.localtime import LOCAL_TZ as TZ
from gis.localtime import parse_stored_instant


def _alert_id(case_id: str, dept: str) -> str:
    return f"{case_id}:dispatch:{dept}"


def default_departments(case: Case) -> tuple[str, ...]:
    """The category's lead and participating departments (the form's editable default)."""
    return tuple(dict.fromkeys((case.lead_dept, *case.depts)))


def resolve_departments(store: Any, depts: Sequence[str]) -> tuple[str, ...]:
    """Department codes for codes, names or aliases; an unknown one is refused by name."""
    codes: list[str] = []
    for d in depts:
        text = str(d).strip()
        if not text:
            continue
        try:
            code = store.refs.department(text[:64]).code
        except NotFoundError:
            raise ValidationError(
                f"unknown department {text[:64]!r}",
                field="depts",
                fix="use a code or name from data/departments.csv (e.g. police, 公安, 城管); "
                "nobody was called",
            ) from None
        if code not in codes:
            codes.append(code)
    if not codes:
        raise ValidationError("no department to call", field="depts", fix="name at least one")
    return tuple(codes)


def whistle(
    store: Any,
    case_id: str,
    user: User,
    *,
    depts: Sequence[str] | None = None,
    at: dt.datetime | None = None,
    note: str = "",
) -> Case:
    """Blow the whistle: call departments to the case (all of them or none are called)."""
    case = store.get_case(case_id)
    codes = resolve_departments(store, depts) if depts else default_departments(case)
    when = at or dt.datetime.now(TZ)

    def after(ex: Any, new: Case, entry: Any) -> None:
        for d in codes:
            ex.insert(
                alerts.TABLE,
                alerts.new_alert(
                    "dispatch",
                    f"dept:{d}",
                    at=when,
                    case_id=case_id,
                    due_at=when + ARRIVAL_LIMIT,
                    alert_id=_alert_id(case_id, d),
                    params={"category": case.category, "tier": case.tier},
                ),
            )

    return store.apply_transition(
        case_id,
        "call_joint",
        who=user.username,
        expected_version=case.version,
        at=when,
        note=note,
        params={"depts": list(codes)},
        after=after,
    )


def inbox(store: Any, dept: str, *, open_only: bool = True) -> pd.DataFrame:
    """A department's calls: case, called_at, due_at, arrived_at, minutes, on_time."""
    code = resolve_departments(store, [dept])[0]
    rows = store.coord_rows(
        alerts.TABLE,
        {"audience": f"dept:{code}", "kind": "dispatch"},
        open_only="ack_at" if open_only else None,
        order="created_at",
    )
    out = pd.DataFrame(
        rows, columns=["alert_id", "case_id", "created_at", "due_at", "ack_at", "ack_by"]
    ).rename(columns={"created_at": "called_at", "ack_at": "arrived_at", "ack_by": "confirmed_by"})
    if out.empty:
        return out.assign(minutes=pd.Series(dtype=float), on_time=pd.Series(dtype=bool))
    called = pd.to_datetime(out["called_at"], utc=True)
    arrived = pd.to_datetime(out["arrived_at"], utc=True)
    out["minutes"] = (arrived - called).dt.total_seconds() / 60.0
    out["on_time"] = out["minutes"].le(ARRIVAL_LIMIT.total_seconds() / 60.0)
    return out


def confirm_arrival(
    store: Any,
    case_id: str,
    dept: str,
    user: User,
    *,
    arrived_at: dt.datetime | None = None,
    lon: float | None = None,
    lat: float | None = None,
    now: dt.datetime | None = None,
) -> Case:
    """A liaison confirms that the department arrived (time, and position where allowed).

    A liaison confirms only for their own department; an arrival before the call, in the
    future or for a department that was not called is refused and nothing is stored.
    """
    code = resolve_departments(store, [dept])[0]
    if user.role == "liaison" and user.department != code:
        raise AuthError(f"user {user.username!r} is the liaison of {user.department}, not {code}")
    if (lon is None) != (lat is None):
        raise ValidationError("give both lon and lat, or neither", field="lon/lat")
    if lon is not None and lat is not None:
        if not (-180 <= float(lon) <= 180 and -90 <= float(lat) <= 90):
            raise ValidationError(f"position {lon}, {lat} is not a WGS 84 point", field="lon/lat")
    clock = now or dt.datetime.now(TZ)
    when = arrived_at or clock
    case = store.get_case(case_id)

    def after(ex: Any, new: Case, entry: Any) -> None:
        rows = ex.select(alerts.TABLE, {"alert_id": _alert_id(case_id, code)}, lock=True)
        sets: dict[str, Any] = {"ack_by": user.username, "ack_at": when}
        if lon is not None:
            sets.update(ack_lon=float(lon), ack_lat=float(lat))  # type: ignore[arg-type]
        if rows:
            ex.update(alerts.TABLE, _alert_id(case_id, code), sets)
        else:  # called through the plain workflow: the inbox learns of it now
            row = alerts.new_alert("dispatch", f"dept:{code}", at=new.updated_at or when,
                                   case_id=case_id, alert_id=_alert_id(case_id, code))  # fmt: skip
            called = parse_stored_instant(new.joint[code]["called_at"], required=True)
            row.update(created_at=called, due_at=called + ARRIVAL_LIMIT, **sets)
            ex.insert(alerts.TABLE, row)

    return store.apply_transition(
        case_id,
        "record_arrival",
        who=user.username,
        expected_version=case.version,
        at=clock if when <= clock else when,
        params={"dept": code, "arrived_at": when},
        now=clock,
        after=after,
    )


def punctuality(
    store: Any, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> pd.DataFrame:
    """Per department: calls, arrivals, on-time arrivals, on-time rate and median minutes.

    Counted from the cases' joint-enforcement records (every call, whichever front end
    made it), by the time of the call.
    """
    from gis.cases.workflow import arrivals_frame

    frames = []
    lookback = since - dt.timedelta(days=90) if since is not None else None
    for case in store.query_cases(since=lookback, until=until):
        if case.joint:
            frames.append(arrivals_frame(case))
    cols = ["dept", "calls", "arrivals", "on_time", "on_time_rate", "median_minutes"]
    if not frames:
        return pd.DataFrame(columns=cols)
    df = pd.concat(frames, ignore_index=True)
    if since is not None:
        df = df[df["called_at"] >= since]
    if until is not None:
        df = df[df["called_at"] < until]
    if df.empty:
        return pd.DataFrame(columns=cols)
    g = df.groupby("dept")
    out = pd.DataFrame(
        {
            "calls": g.size(),
            "arrivals": g["arrived_at"].count(),
            "on_time": g["within_limit"].sum().astype(int),
            "median_minutes": g["minutes"].median().round(1),
        }
    ).reset_index()
    out["on_time_rate"] = (out["on_time"] / out["calls"]).round(3)
    return out[cols].sort_values(["calls", "dept"], ascending=[False, True]).reset_index(drop=True)
