"""What the people pages share: the store's people tables, today's date and small tables."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pandas as pd

from gis.errors import NotFoundError
from gis.localtime import LOCAL_TZ as TZ
from gis.localtime import parse_instant
from gis.people.dayplan import PersonPlan
from gis.people.signin import SignIn
from layers.catalogue import add_layer_control
from layers.people import day_plan_layer
from ui import capabilities
from ui.common import Context, base_map, draw_base_layers, show_map


def people_store(c: Context) -> Any | None:
    """The store when it keeps people tables, else None (the page then says so)."""
    s = capabilities.store(c)
    if s is None or not hasattr(s, "people"):
        return None
    return s


#: A fixed "now" (ISO time, Beijing) for training sessions and demos of the sign-in:
#: ``PATROL_CLOCK=2026-05-06T09:00`` makes the people pages live at that minute.
CLOCK_ENV = "PATROL_CLOCK"


def now() -> dt.datetime:
    """The current Beijing time (or the training clock of ``PATROL_CLOCK``)."""
    fixed = os.environ.get(CLOCK_ENV, "").strip()
    if fixed:
        return parse_instant(
            fixed, source="environment", field=CLOCK_ENV, fix="write YYYY-MM-DDTHH:MM or unset it"
        )
    return dt.datetime.now(TZ)


def person_or_none(s: Any, person_id: str) -> Any | None:
    """The staff record, or None when the id is not on the staff table."""
    try:
        return s.people.get_person(person_id)
    except NotFoundError:
        return None


def signin_text(c: Context, s: SignIn) -> str:
    """``已签到：早签到 09:00 09:03（迟到，范围外）``."""
    flags = [c.t("status.late")] if s.late else []
    if s.out_of_fence:
        flags.append(c.t("flag.out_of_fence"))
    tail = f"（{'，'.join(flags)}）" if flags and c.lang == "zh" else ""
    if flags and c.lang != "zh":
        tail = f" ({', '.join(flags)})"
    return c.t("myday.signed", slot=c.t(f"slot.{s.slot}"), time=f"{s.at:%H:%M}", flags=tail)


def plans_table(c: Context, plans: list[PersonPlan]) -> pd.DataFrame:
    """One row per person's plan, in the user's language (text shown as data, not HTML)."""
    return pd.DataFrame(
        [
            {
                c.t("col.person_id"): p.person_id,
                c.t("col.name"): p.name,
                c.t("col.team"): p.team,
                c.t("col.duty"): c.t(f"duty.{p.shift}"),
                c.t("col.kind"): p.kind,
                c.t("col.km"): round(p.route_m / 1000, 1),
                c.t("col.minutes"): round(p.minutes),
                c.t("col.sites"): len(p.stops),
            }
            for p in plans
        ]
    )


def plans_map(c: Context, plans: list[PersonPlan], key: str) -> None:
    """The geography with the planned walks on top."""
    m = base_map(c)
    draw_base_layers(c, m)
    day_plan_layer(plans, name=c.t("myday.plan")).add_to(m)
    add_layer_control(m)
    show_map(m, key=key, height=460)
