"""Joint enforcement actions (联合执法): plan, one-page briefing sheet, close with outcomes.

A joint action is planned for a date and time with departments and staff, on target cases
picked by id or on the open cases inside an area drawn on the map. Closing it records an
outcome per target and advances those cases in the same step. The monthly target is
:data:`JOINT_ACTIONS_PER_MONTH`.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon

from gis.access.users import User
from gis.cases.workflow import apply_action
from gis.coordination.dispatch import resolve_departments
from gis.errors import NotFoundError, TransitionError, ValidationError
from gis.localtime import LOCAL_TZ as TZ

TABLE = "coord_joint_actions"
#: The account's monthly average (10 joint enforcement actions a month).
JOINT_ACTIONS_PER_MONTH = 10
#: Outcome per target: a workflow action, or ``none`` (no change).
OUTCOMES: tuple[str, ...] = ("none", "handle", "verify_close", "close_rectified", "call_joint")
MAX_TEXT = 2000
MAX_TARGETS = 200


def _text(value: str, name: str, limit: int = MAX_TEXT) -> str:
    text = str(value or "").strip()
    if "\x00" in text or len(text) > limit:
        raise ValidationError(
            f"{name} has a NUL byte or more than {limit} characters", field=name,
            fix="type it again as plain, shorter text; nothing stored",
        )  # fmt: skip
    return text


def _ids(values: Sequence[str] | str | None) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = values.replace(",", ";").split(";")
    return [_text(v, "id", 128) for v in values if str(v).strip()]


def _area(area: Any) -> Polygon | MultiPolygon | None:
    if area is None:
        return None
    geom = shapely.from_wkb(area) if isinstance(area, bytes | bytearray) else area
    if not isinstance(geom, Polygon | MultiPolygon) or geom.is_empty or not geom.is_valid:
        raise ValidationError(
            "the target area is not a valid polygon", field="area",
            fix="draw a closed area that does not cross itself",
        )  # fmt: skip
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValidationError("the target area is not in WGS 84 degrees", field="area")
    return geom


def plan_joint_action(
    store: Any,
    user: User,
    *,
    title: str,
    planned_at: dt.datetime,
    depts: Sequence[str],
    staff: Sequence[str] | str = (),
    target_cases: Sequence[str] | str | None = None,
    area: Any = None,
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Plan a joint action; targets are the picked cases plus the open cases in ``area``.

    Raises
    ------
    ValidationError
        No title, unknown departments or cases, a bad area, or no target at all.
    """
    title = _text(title, "title", 200)
    if not title:
        raise ValidationError("a joint action needs a title", field="title")
    if planned_at.tzinfo is None:
        raise ValidationError("planned_at has no time zone", field="planned_at")
    codes = resolve_departments(store, depts)
    targets = _ids(target_cases)
    for cid in targets:
        try:
            store.get_case(cid)
        except NotFoundError:
            raise ValidationError(
                f"target case {cid!r} does not exist", field="target_cases",
                fix="pick stored case ids; nothing planned",
            ) from None  # fmt: skip
    geom = _area(area)
    if geom is not None:
        for case in store.query_cases(open_only=True):
            if case.case_id not in targets and geom.covers(Point(case.lon, case.lat)):
                targets.append(case.case_id)
    if not targets and geom is None:
        raise ValidationError(
            "a joint action needs target cases or a target area", field="target_cases"
        )
    if len(targets) > MAX_TARGETS:
        raise ValidationError(f"{len(targets)} targets; at most {MAX_TARGETS}", field="area")
    row = {
        "action_id": "J" + uuid.uuid4().hex[:10],
        "title": title,
        "planned_at": planned_at,
        "area_wkb": shapely.to_wkb(geom) if geom is not None else None,
        "target_cases": ";".join(targets),
        "depts": ";".join(codes),
        "staff": ";".join(_ids(staff)),
        "state": "planned",
        "outcomes": "{}",
        "created_by": user.username,
        "created_at": at or dt.datetime.now(TZ),
    }
    store.coord_insert(TABLE, [row])
    return row


def get_joint_action(store: Any, action_id: str) -> dict[str, Any]:
    """One joint action; raises NotFoundError."""
    return store.coord_get(TABLE, _text(action_id, "action id", 64))


def close_joint_action(
    store: Any,
    action_id: str,
    user: User,
    outcomes: Mapping[str, str],
    *,
    note: str = "",
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Close a joint action with an outcome per target, advancing the targets' cases.

    Every outcome is checked against its case's state first, so a bad outcome changes
    nothing; the case steps and the closing are one transaction, so a failure in any write
    (a case changed meanwhile, a store error) leaves every case and the action as they were.
    """
    row = get_joint_action(store, action_id)
    if row["state"] == "closed":
        raise ValidationError(f"joint action {action_id} is already closed", field="action")
    when = at or dt.datetime.now(TZ)
    note = _text(note, "note")
    targets = [t for t in (row["target_cases"] or "").split(";") if t]
    unknown = [c for c in outcomes if c not in targets]
    if unknown:
        raise ValidationError(
            f"{unknown[0]!r} is not a target of joint action {action_id}", field="outcomes"
        )
    plan: list[tuple[str, str, int]] = []
    for cid in targets:
        action = outcomes.get(cid, "none")
        if action not in OUTCOMES:
            raise ValidationError(f"unknown outcome {action!r} for {cid}", field="outcomes",
                                  fix=f"use one of {OUTCOMES}")  # fmt: skip
        if action == "none":
            continue
        case = store.get_case(cid)
        try:  # dry run: refuse the whole closing before any case moves
            apply_action(case, action, who=user.username, at=when, note=note or "joint action",
                         params={"depts": list(row["depts"].split(";"))})  # fmt: skip
        except TransitionError as exc:
            raise TransitionError(f"joint action {action_id}: {exc}; nothing changed") from None
        if action == "close_rectified" and not note:
            from gis.coordination.evidence import has_after_photo

            if not has_after_photo(store, cid):
                raise TransitionError(
                    f"joint action {action_id}: case {cid} has no after photo; add one or give "
                    "a note saying why; nothing changed"
                )
        plan.append((cid, action, case.version))
    result = {cid: outcomes.get(cid, "none") for cid in targets}
    sets = {"state": "closed", "outcomes": result, "closed_by": user.username, "closed_at": when}
    text = note or f"joint action {action_id}"
    with store.transaction():  # every case step and the closing: all or nothing
        for cid, action, version in plan:
            store.apply_transition(
                cid, action, who=user.username, expected_version=version, at=when, note=text,
                params={"depts": list(row["depts"].split(";"))} if action == "call_joint" else {},
            )  # fmt: skip
        store.coord_update(TABLE, action_id, sets)
    return get_joint_action(store, action_id)


def joint_actions(
    store: Any, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> pd.DataFrame:
    """Joint actions planned in ``[since, until)`` (by planned time), oldest first."""
    cols = ["action_id", "title", "planned_at", "target_cases", "depts", "staff", "state",
            "outcomes", "created_by", "closed_at"]  # fmt: skip
    rows = store.coord_rows(
        TABLE,
        since=("planned_at", since) if since else None,
        until=("planned_at", until) if until else None,
        order="planned_at",
        columns=cols,
    )
    return pd.DataFrame(rows, columns=cols)


def briefing_sheet(store: Any, action_id: str, lang: str = "zh") -> str:
    """A printable one-page HTML briefing: when, who, targets, and a map of area and targets.

    Every text is escaped; the map is inline SVG (no script, nothing fetched).
    """
    row = get_joint_action(store, action_id)
    targets = [store.get_case(c) for c in (row["target_cases"] or "").split(";") if c]
    area = shapely.from_wkb(row["area_wkb"]) if row["area_wkb"] else None
    zh = lang == "zh"
    title = escape(row["title"] or "")
    when = row["planned_at"].astimezone(TZ).strftime("%Y-%m-%d %H:%M")
    dept_names = [
        store.refs.departments[d].name_zh if zh and d in store.refs.departments else d
        for d in (row["depts"] or "").split(";")
        if d
    ]
    rows_html = "".join(
        f"<tr><td>{i}</td><td>{escape(c.case_id)}</td><td>{escape(c.category)}</td>"
        f"<td>{escape(c.state)}</td><td>{escape(c.description[:120])}</td>"
        f"<td>{_thumb(store, c.case_id)}</td></tr>"
        for i, c in enumerate(targets, start=1)
    )
    svg = _svg_map(area, [(c.lon, c.lat) for c in targets])
    heads = ("联合执法任务单", "时间", "部门", "人员", "目标") if zh else (
        "Joint action briefing", "When", "Departments", "Staff", "Targets")  # fmt: skip
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{escape(heads[0])} {escape(row['action_id'])}</title>"
        "<style>body{font-family:sans-serif;max-width:190mm;margin:auto}"
        "table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:2px 4px;"
        "font-size:11px}</style></head><body>"
        f"<h2>{escape(heads[0])}: {title}</h2>"
        f"<p><b>{heads[1]}</b> {escape(when)} · <b>{heads[2]}</b> "
        f"{escape('、'.join(dept_names))} · <b>{heads[3]}</b> "
        f"{escape((row['staff'] or '').replace(';', '、'))}</p>"
        f"{svg}<h3>{heads[4]} ({len(targets)})</h3><table><tr><th>#</th><th>id</th>"
        f"<th>cat</th><th>state</th><th></th><th></th></tr>{rows_html}</table></body></html>"
    )


def _thumb(store: Any, case_id: str) -> str:
    """The case's first photo as an inline JPEG thumbnail (our own re-encoded bytes)."""
    import base64

    rows = store.coord_rows("coord_photos", {"case_id": case_id}, columns=["thumb_data"],
                            order="uploaded_at")  # fmt: skip
    if not rows or not rows[0]["thumb_data"]:
        return ""
    b64 = base64.b64encode(bytes(rows[0]["thumb_data"])).decode("ascii")
    return f"<img alt='' width='96' src='data:image/jpeg;base64,{b64}'>"


def _svg_map(area: Any, points: Sequence[tuple[float, float]], px: int = 480) -> str:
    """An SVG of the area outline and numbered target points (lon/lat, equirectangular)."""
    geoms = [Point(p) for p in points] + ([area] if area is not None else [])
    if not geoms:
        return ""
    minx, miny, maxx, maxy = shapely.GeometryCollection(geoms).bounds
    span = max(maxx - minx, maxy - miny, 0.002) * 1.15
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return ((lon - cx) / span + 0.5) * px, (0.5 - (lat - cy) / span) * px

    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{px}' height='{px}' "
             "style='border:1px solid #ccc'>"]  # fmt: skip
    polys = [] if area is None else list(getattr(area, "geoms", [area]))
    for poly in polys:
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(*c) for c in poly.exterior.coords))
        parts.append(f"<polygon points='{pts}' fill='#f4a26133' stroke='#e76f51'/>")
    for i, (lon, lat) in enumerate(points, start=1):
        x, y = xy(lon, lat)
        parts.append(f"<circle cx='{x:.1f}' cy='{y:.1f}' r='6' fill='#d62828'/>"
                     f"<text x='{x + 8:.1f}' y='{y + 4:.1f}' font-size='11'>{i}</text>")  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def outcomes_of(row: Mapping[str, Any]) -> dict[str, str]:
    """The stored outcomes of a joint action as a mapping."""
    raw = row.get("outcomes") or "{}"
    return dict(json.loads(raw)) if isinstance(raw, str) else dict(raw)
