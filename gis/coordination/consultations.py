"""Consultations (会商): level, attendees, decisions, linked cases and contingency plans.

Levels: the center's own, the subdistrict's, the district's special consultation (专项,
chaired by the deputy district head) and the holiday joint consultation (统一会商). The
monthly target is :data:`CONSULTATIONS_PER_MONTH`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import pandas as pd

from gis.access.users import User
from gis.coordination.joint import _ids, _text
from gis.errors import NotFoundError, ValidationError
from gis.localtime import LOCAL_TZ as TZ

TABLE = "coord_consultations"
CONSULTATIONS_PER_MONTH = 4
LEVELS: tuple[str, ...] = ("center", "subdistrict", "district_special", "holiday")
LEVEL_NAMES = {"center": "中心会商", "subdistrict": "街道会商", "district_special": "区级专项会商",
               "holiday": "节假日统一会商"}  # fmt: skip


def log_consultation(
    store: Any,
    user: User,
    *,
    held_at: dt.datetime,
    level: str,
    topic: str,
    attendees: Sequence[str] | str,
    decisions: str,
    cases: Sequence[str] | str = (),
    contingency: str = "",
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Record a consultation; linked cases must exist. Nothing is stored on a bad input."""
    if level not in LEVELS:
        raise ValidationError(f"unknown level {level!r}", field="level", fix=f"use {LEVELS}")
    if held_at.tzinfo is None:
        raise ValidationError("held_at has no time zone", field="held_at")
    now = at or dt.datetime.now(TZ)
    if held_at > now + dt.timedelta(minutes=10):
        raise ValidationError("a consultation is logged after it was held", field="held_at")
    topic = _text(topic, "topic", 200)
    if not topic:
        raise ValidationError("a consultation needs a topic", field="topic")
    people = _ids(attendees)
    if not people:
        raise ValidationError("a consultation needs attendees", field="attendees")
    linked = _ids(cases)
    for cid in linked:
        try:
            store.get_case(cid)
        except NotFoundError:
            raise ValidationError(
                f"linked case {cid!r} does not exist", field="cases", fix="nothing stored"
            ) from None
    row = {
        "consult_id": "K" + uuid.uuid4().hex[:10],
        "held_at": held_at,
        "level": level,
        "topic": topic,
        "attendees": ";".join(people),
        "decisions": _text(decisions, "decisions"),
        "cases": ";".join(linked),
        "contingency": _text(contingency, "contingency"),
        "created_by": user.username,
        "created_at": now,
    }
    store.coord_insert(TABLE, [row])
    return row


def consultations(
    store: Any, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> pd.DataFrame:
    """Consultations held in ``[since, until)``, oldest first."""
    cols = ["consult_id", "held_at", "level", "topic", "attendees", "decisions", "cases",
            "contingency", "created_by"]  # fmt: skip
    rows = store.coord_rows(
        TABLE,
        since=("held_at", since) if since else None,
        until=("held_at", until) if until else None,
        order="held_at",
        columns=cols,
    )
    return pd.DataFrame(rows, columns=cols)
