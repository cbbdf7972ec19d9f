"""Volunteers and residents as reporters: a minimal report, routed to the street's person.

Reporters (西城大妈, 网格员, 文明劝导队, residents) send a photo, a point, a category and a
sentence. The report opens a case with the reporter's source, goes to the person
responsible for that street (or the area chiefs when no districts are saved), and the
reporter sees the status of their own reports only. Rate limits stop floods.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import pandas as pd

from gis.access.users import User
from gis.coordination import alerts, evidence
from gis.errors import AuthError, NotFoundError, ValidationError
from gis.geography.place import acceptance_area
from gis.localtime import LOCAL_TZ as TZ

TABLE = "coord_reports"
#: Reporter sources and their Chinese names (12345 cases come by the hotline import).
REPORTER_SOURCES: dict[str, str] = {
    "xicheng_dama": "西城大妈",
    "grid_worker": "网格员",
    "civility_team": "文明劝导队",
    "resident": "居民",
}
#: At most this many reports per reporter per hour, and per day.
MAX_PER_HOUR = 10
MAX_PER_DAY = 30
MAX_SENTENCE = 300
#: The store's named value holding the saved districts (segment → person).
ASSIGNMENT_META = "districts.assignment"


def _check_rate(store: Any, user: User, now: dt.datetime) -> None:
    for span, limit, what in (
        (dt.timedelta(hours=1), MAX_PER_HOUR, "hour"),
        (dt.timedelta(days=1), MAX_PER_DAY, "day"),
    ):
        rows = store.coord_rows(TABLE, {"reporter": user.username},
                                since=("created_at", now - span), columns=["case_id"])  # fmt: skip
        if len(rows) >= limit:
            raise ValidationError(
                f"{user.username} has sent {len(rows)} reports in the last {what}; the limit is "
                f"{limit}",
                field="report",
                fix="wait a while, or call the center for an urgent problem; nothing stored",
            )


def submit_report(
    store: Any,
    user: User,
    *,
    category: str,
    lon: float,
    lat: float,
    sentence: str,
    source: str = "resident",
    photo: bytes | None = None,
    datum: str = "wgs84",
    geography: Any = None,
    now: dt.datetime | None = None,
) -> str:
    """Open a case for a reporter's report; returns its case id.

    A report already stored (the same id, or the same content under another id, e.g. sent
    twice) stores nothing more and answers with the stored case's id, as the case form and
    :func:`gis.services.intake.take_in_report` do.

    Everything (rate limit, record, photo) is checked before anything is stored; then the
    case, the reporter link, the alert to the responsible person and the photo are stored
    in ONE transaction (:meth:`Store.transaction`): a failure in any of them stores none.
    """
    if user.role != "reporter":
        raise AuthError(f"user {user.username!r} ({user.role}) is not a reporter")
    if source not in REPORTER_SOURCES:
        raise ValidationError(f"unknown source {source!r}", field="source",
                              fix=f"use one of {list(REPORTER_SOURCES)}")  # fmt: skip
    sentence = str(sentence or "").strip()
    if len(sentence) > MAX_SENTENCE:
        raise ValidationError(f"the sentence has {len(sentence)} characters; at most "
                              f"{MAX_SENTENCE}", field="description")  # fmt: skip
    clock = now or dt.datetime.now(TZ)
    _check_rate(store, user, clock)
    if photo is not None:
        evidence.read_image(photo, name="photo")
    from gis.cases.intake import validate_record
    from gis.cases.snapping import locate_reports

    raw = {
        "report_id": "R" + hashlib.sha256(
            f"{user.username}|{clock.isoformat()}|{lon}|{lat}".encode()
        ).hexdigest()[:12],
        "category": category,
        "lon": lon,
        "lat": lat,
        "reported_at": clock,
        "source": source,
        "reporter": user.username,
        "description": sentence,
    }  # fmt: skip
    report = validate_record(
        raw,
        refs=store.refs,
        now=clock,
        datum=datum,
        area=acceptance_area(geography) if geography is not None else None,
        source="report",
        gdf_segments=geography.segments if geography is not None else None,
    )
    raw_assign = store.get_meta(ASSIGNMENT_META)
    assignment = dict(json.loads(raw_assign)) if raw_assign else {}
    if geography is not None:
        report = locate_reports(
            [report], geography.segments, gdf_zones=geography.zones, assignment=assignment or None
        )[0]
    responsible = report.person_id
    with store.transaction():  # the case, its link, its alert and its photo: all or nothing
        result = store.add_reports([report], received_by=user.username, at=clock)
        if not result.added:  # sent before (same id or same content): the stored case answers
            return str(result.stored_as.get(report.report_id, report.report_id))
        case_id = result.added[0]
        audience = f"person:{responsible}" if responsible else "role:area_chief"
        link = {"case_id": case_id, "reporter": user.username, "source": source,
                "responsible": responsible, "created_at": clock}  # fmt: skip
        alert = alerts.new_alert("report", audience, at=clock, case_id=case_id,
                                 alert_id=f"{case_id}:report",
                                 note=REPORTER_SOURCES[source])  # fmt: skip
        with store._coord_tx() as ex:
            ex.insert(TABLE, link)
            ex.insert(alerts.TABLE, alert)
        if photo is not None:
            evidence.add_photo(store, case_id, photo, user, kind="before", confirm_far=False,
                               at=clock)  # fmt: skip
    return case_id


def my_reports(store: Any, user: User) -> pd.DataFrame:
    """The reporter's own reports with their status (nobody else's)."""
    rows = store.coord_rows(TABLE, {"reporter": user.username}, order="created_at")
    out = []
    for r in rows:
        case = store.get_case(r["case_id"])
        out.append({"case_id": case.case_id, "category": case.category, "state": case.state,
                    "reported_at": case.reported_at, "closed_at": case.closed_at})  # fmt: skip
    return pd.DataFrame(out, columns=["case_id", "category", "state", "reported_at", "closed_at"])


def report_status(store: Any, user: User, case_id: str) -> dict[str, Any]:
    """The status of one of the reporter's reports; another's (or none) is refused alike."""
    rows = store.coord_rows(TABLE, {"case_id": str(case_id)[:128]})
    if not rows or (user.role == "reporter" and rows[0]["reporter"] != user.username):
        raise AuthError(f"report {str(case_id)[:64]!r} is not one of {user.username}'s reports")
    case = store.get_case(case_id)
    return {"case_id": case.case_id, "category": case.category, "state": case.state,
            "reported_at": case.reported_at, "closed_at": case.closed_at}  # fmt: skip


def reports_by_source(
    store: Any, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> pd.DataFrame:
    """Cases reported in the period per source (every source, community ones included)."""
    frame = store.cases_frame(since=since, until=until)
    counts = frame["source"].value_counts() if len(frame) else pd.Series(dtype=int)
    from gis.cases.workflow import SOURCES

    return pd.DataFrame(
        {"source": list(SOURCES), "reported": [int(counts.get(s, 0)) for s in SOURCES]}
    )


def responsible_inbox(store: Any, user: User) -> list[dict]:
    """Open reporter reports addressed to this person (or to area chiefs)."""
    try:
        return alerts.open_alerts(store, user, kinds=["report"])
    except NotFoundError:
        return []
