"""案件 Cases: report by clicking the map, move cases through the workflow, batch import."""

from __future__ import annotations

import logging
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from gis.access.authorization import ADVANCE_ROLES, IMPORT_ROLES, Resource, in_scope, scope_mask
from gis.errors import DatumError, PatrolError
from gis.geography.place import datum_suspect, place_at
from gis.i18n import format_datetime, format_number
from gis.localtime import parse_stored_instant
from layers.catalogue import add_layer_control
from ui import capabilities
from ui.case_flash import PICK_NEXT_KEY, flash, show_flash
from ui.case_flash import now as _now
from ui.case_photos import photo_panel
from ui.common import (
    Context,
    base_map,
    fit_map,
    geography,
    guard,
    plain,
    show_map,
    user_repository,
)
from ui.errors import located_message, user_message
from ui.names import category_names, department_names, zone_names
from ui.scope import draw_geography, scope_area

log = logging.getLogger(__name__)
PAGE = "cases"
CLICK_KEY = "cases_click"
CLICK_OUTSIDE_KEY = "cases_click_outside"
#: File types the batch upload reads (by the uploaded name's suffix).
UPLOAD_TYPES = (".csv", ".geojson", ".json")
DATUMS = ("wgs84", "gcj02", "bd09")
#: Cases listed at most (newest first); the map aggregates beyond this.
LIST_LIMIT = 500
#: Without "open only", the page shows the cases of this many recent days.
RECENT_DAYS = 30


def _case_resource(case: Any) -> Resource:
    return Resource(
        zone_id=case.zone_id,
        front_id=case.front_id,
        person_id=case.person_id,
        lead_dept=case.lead_dept,
        departments=tuple(case.depts),
        reported_by=case.reporter or None,
    )


def _report_form(c: Context, geo: Any, store: Any) -> None:
    """Report a problem at the clicked (or typed) point; refuse places outside the area."""
    from gis.services import take_in_report

    st.markdown(f"**{c.t('cases.report')}**")
    st.caption(c.t("cases.report_hint"))
    click = st.session_state.get(CLICK_KEY)
    lon: float | None
    lat: float | None
    if click:
        lon, lat = round(float(click["lng"]), 6), round(float(click["lat"]), 6)
        st.session_state[CLICK_KEY] = None
        if place_at(geo, lon, lat, "wgs84").inside:
            st.session_state["cases_lon"] = lon
            st.session_state["cases_lat"] = lat
            st.session_state["cases_datum"] = "wgs84"  # the map is WGS 84
            st.session_state.pop(CLICK_OUTSIDE_KEY, None)
        else:  # say so at once: the form keeps its previous point
            st.session_state[CLICK_OUTSIDE_KEY] = (lon, lat)
    outside = st.session_state.get(CLICK_OUTSIDE_KEY)
    if outside:
        st.warning(c.t("cases.click_outside", lon=f"{outside[0]:.6f}", lat=f"{outside[1]:.6f}"))
    refs = store.refs
    with st.form("report_case"):
        lon = st.number_input(c.t("cases.lon"), format="%.6f", value=None, key="cases_lon")
        lat = st.number_input(c.t("cases.lat"), format="%.6f", value=None, key="cases_lat")
        datum = st.selectbox(
            c.t("cases.datum"),
            DATUMS,
            format_func=lambda d: c.t(f"cases.datum.{d}"),
            key="cases_datum",
        )
        codes = sorted(refs.categories)
        cat_names = category_names(refs, c.lang)
        category = st.selectbox(
            c.t("cases.category"),
            codes,
            format_func=lambda k: cat_names.get(k, k),
            key="cases_category",
        )
        description = st.text_area(c.t("cases.description"), key="cases_description")
        submitted = st.form_submit_button(c.t("cases.submit"))
    if not submitted:
        return
    if lon is None or lat is None:
        st.error(c.t("cases.no_point"))
        return
    place = place_at(geo, lon, lat, datum)
    if not place.inside:
        other = datum_suspect(geo, lon, lat, datum)
        if other == "gcj02" and datum == "wgs84":
            st.error(c.t("cases.datum_suspect"))
        else:
            st.error(c.t("cases.outside", lat=f"{lat:.6f}", lon=f"{lon:.6f}"))
        return
    raw = {
        "category": category,
        "lon": lon,
        "lat": lat,
        "reported_at": _now().isoformat(),
        "source": "patrol",
        "reporter": c.user.username,
        "description": description,
    }
    try:
        intake = take_in_report(
            geo,
            store,
            raw,
            refs=refs,
            now=_now(),
            received_by=c.user.username,
            datum=datum,
            source=c.t("cases.report"),
        )
    except PatrolError as exc:
        st.error(user_message(c.lang, exc))
        return
    case_id = intake.case_id
    log.info("user %r reported case %s", c.user.username, case_id)
    key = "cases.reported" if intake.added else "cases.already_reported"
    flash(c.t(key, case_id=case_id), pick=case_id)


def _rule_hours(store: Any, case: Any) -> int:
    """The notice deadline the category and tier give (12345: the hotline's limit)."""
    from gis.coordination.policy import deadline_hours

    return max(1, round(deadline_hours(case, store.refs)))


def _advance_form(c: Context, store: Any, case: Any) -> None:
    """The workflow form of one case *version*.

    The form and its widgets are keyed by the case's version: a press on a form drawn for an
    earlier state (a double press, or a second user) is dropped instead of applying an action
    the user never saw to the new state. After a transition the page reruns, so the header, the
    list and the next actions all show the new state.
    """
    from gis.cases.workflow import allowed_actions

    # a press on a form drawn for an older version (another user, or another app instance,
    # changed the case in between): say that it was refused rather than drop it silently
    for older in range(case.version - 1, max(case.version - 4, 0), -1):
        if st.session_state.get(f"cases_apply_{case.case_id}_{older}") is True:
            st.warning(
                c.t(
                    "cases.stale",
                    case_id=case.case_id,
                    state=c.t(f"cases.state.{case.state}"),
                )
            )
            break
    actions = allowed_actions(case.state)
    if not actions or c.user.role not in ADVANCE_ROLES:
        return
    token = f"{case.case_id}_{case.version}"
    tier = _tier_choice(c, store, case, token) if "register" in actions else case.tier
    with st.form(f"advance_case_{token}"):
        action = st.selectbox(
            c.t("cases.to_state"),
            actions,
            format_func=lambda a: c.t(f"cases.action.{a}"),
            key=f"cases_action_{token}",
        )
        note = st.text_input(c.t("cases.note"), key=f"cases_note_{token}")
        hours = st.number_input(
            c.t("cases.hours"), 1, 24 * 183, _rule_hours(store, case), key=f"cases_hours_{token}"
        )
        if not st.form_submit_button(
            c.t("cases.apply"), type="primary", key=f"cases_apply_{token}"
        ):
            return
    params: dict[str, Any] = {}
    if action == "record_arrival":
        params["dept"] = c.user.department or case.lead_dept
    message = ""
    try:
        if action == "register":  # with its tier: the tier's alerts, checklist and calls
            new, message = _register(c, store, case, tier, note)
        elif action == "serve_notice":  # the rule's deadline; another one needs a reason
            new = _serve_notice(c, store, case, float(hours), note)
            if new is None:
                return
        else:
            new = store.apply_transition(
                case.case_id,
                action,
                who=c.user.username,
                expected_version=case.version,
                at=_now(),
                note=note,
                params=params,
            )
    except PatrolError as exc:
        st.error(user_message(c.lang, exc))
        return
    log.info("user %r: case %s %s -> %s", c.user.username, new.case_id, action, new.state)
    flash(
        message
        or c.t("cases.advanced", case_id=new.case_id, state=c.t(f"cases.state.{new.state}")),
        pick=new.case_id,
    )


def _tier_choice(c: Context, store: Any, case: Any, token: str) -> str:
    """The tier to register the case with, and what that tier will change, said before."""
    import dataclasses

    from gis.cases.workflow import TIERS
    from gis.coordination.policy import EMERGENCY_WALK_M, deadline_hours

    tier = st.radio(
        c.t("tier.choose"),
        TIERS,
        index=TIERS.index(case.tier) if case.tier in TIERS else 0,
        format_func=lambda x: c.t(f"tier.{x}"),
        horizontal=True,
        key=f"cases_tier_{token}",
    )
    hours = deadline_hours(dataclasses.replace(case, tier=tier), store.refs)
    st.caption(c.t(f"tier.what.{tier}", hours=f"{hours:g}", walk=f"{EMERGENCY_WALK_M:.0f}"))
    return str(tier)


def _register(c: Context, store: Any, case: Any, tier: str, note: str) -> tuple[Any, str]:
    """Register with ``tier`` (the service raises its alerts); the message to show after."""
    from gis.coordination import alerts, handling
    from gis.coordination.policy import handling as tier_handling

    emergency = tier_handling(tier).emergency_checklist
    new = handling.register_case(
        store,
        case.case_id,
        c.user,
        tier=tier,
        at=_now(),
        responders=_responders(c, store) if emergency else None,
        note=note,
        expected_version=case.version,
    )
    if tier == "major":
        return new, c.t("tier.registered_major", case_id=new.case_id)
    if emergency:
        calls = [a for a in alerts.case_alerts(store, new.case_id) if a["kind"] == "emergency_call"]
        return new, c.t("tier.registered_emergency", case_id=new.case_id, count=len(calls))
    return new, ""


def _responders(c: Context, store: Any) -> Any:
    """Finds the on-duty people within walking distance of a case (none when it cannot)."""
    from gis.coordination.handling import assignment_responders

    find = assignment_responders(store, geography(c).segments)
    if find is None:
        return None

    def safe(case: Any) -> list[str]:
        try:
            return find(case)
        except PatrolError:  # e.g. no street within 500 m: register anyway, say 0 alerted
            log.warning("no responders found for case %s", case.case_id, exc_info=True)
            return []

    return safe


def _serve_notice(c: Context, store: Any, case: Any, hours: float, note: str) -> Any | None:
    """Serve the notice through the service (a 重大 case needs its chief's approval first)."""
    from gis.coordination import handling
    from gis.coordination.policy import deadline_hours
    from gis.coordination.policy import handling as tier_handling

    if (
        tier_handling(case.tier).chief_approval
        and handling.is_approved(store, case.case_id) is None
    ):
        st.error(c.t("tier.needs_approval"))
        return None
    rule = deadline_hours(case, store.refs)
    if abs(hours - rule) >= 1e-9 and not note.strip():
        st.error(c.t("cases.deadline_reason", rule=f"{rule:g}", hours=f"{hours:g}"))
        return None
    return handling.serve_notice(
        store,
        case.case_id,
        c.user,
        hours=hours,
        reason=note,
        note=note,
        at=_now(),
        expected_version=case.version,
    )


def _case_detail(c: Context, store: Any, case_id: str, geo: Any) -> None:
    case = store.get_case(case_id)
    if not in_scope(c.user, _case_resource(case)):
        st.error(c.t("auth.forbidden_scope", what=c.t("cases.case", id=case_id)))
        return
    refs = store.refs
    cat = category_names(refs, c.lang).get(case.category, case.category)
    dept = department_names(refs, c.lang).get(case.lead_dept, case.lead_dept)
    zone = zone_names(geo, c.lang).get(case.zone_id or "", "") or c.t("common.none")
    st.markdown(f"**{plain(cat)} · {c.t(f'cases.state.{case.state}')}**")
    st.write(c.t("cases.where", zone=plain(zone), dept=plain(dept)))
    if case.deadline_at is not None:
        st.write(c.t("cases.deadline", time=format_datetime(case.deadline_at, c.lang)))
    from ui.tiers import case_tier_panel

    case_tier_panel(c, store, case)  # 重大: approval and leadership; 突发: checklist, responders
    if case.joint:  # 吹哨报到: who has arrived on site, who is still awaited
        dept_names = department_names(refs, c.lang)
        for code, times in case.joint.items():
            arrived = times.get("arrived_at")
            st.write(
                c.t(
                    "cases.arrived",
                    dept=dept_names.get(code, code),
                    time=format_datetime(parse_stored_instant(arrived, required=True), c.lang),
                )
                if arrived
                else c.t("cases.awaited", dept=dept_names.get(code, code))
            )
    st.caption(c.t("cases.codes", case_id=plain(case.case_id), code=plain(case.category)))
    photo_panel(c, store, case)
    _advance_form(c, store, case)
    trail = store.audit_trail(case_id)
    who = user_names(c)
    st.markdown(f"**{c.t('cases.audit')}**")
    st.table(  # a few rows: plain page content, readable on a phone
        pd.DataFrame(
            {
                c.t("cases.when"): [format_datetime(a.at, c.lang) for a in trail],
                c.t("cases.who"): [who.get(a.who, a.who) for a in trail],
                c.t("cases.state"): [c.t(f"cases.state.{a.to_state}") for a in trail],
                c.t("cases.note"): [a.note for a in trail],
            }
        ).set_index(c.t("cases.when"))
    )


def user_names(c: Context) -> dict[str, str]:
    """user name → display name (the audit trail names people, not logins)."""
    return {
        u.username: (u.display_name or u.username) for u in user_repository(c.settings).list_users()
    }


def _case_list(c: Context, store: Any, frame: Any, geo: Any) -> None:
    from gis.cases.workflow import overdue_mask

    st.markdown(f"**{c.t('cases.list')}**")
    overdue = overdue_mask(frame, _now()) if len(frame) else pd.Series(dtype=bool)
    st.caption(
        c.t("cases.count", count=format_number(len(frame), c.lang))
        + " · "
        + c.t("cases.overdue", count=format_number(int(overdue.sum()), c.lang))
    )
    pending = st.session_state.pop(PICK_NEXT_KEY, None)
    if pending:  # before the select box exists in this run
        st.session_state["cases_pick"] = pending
    wanted = st.query_params.get("case")
    if wanted and "cases_pick" not in st.session_state:
        st.session_state["cases_pick"] = wanted
    picked = st.session_state.get("cases_pick")
    if frame.empty:
        st.info(c.t("cases.none"))
        if not picked:
            return
    recent = frame.sort_values("reported_at", ascending=False).head(LIST_LIMIT)
    cats = category_names(store.refs, c.lang)
    labels: dict[str, str] = {}
    if len(recent):
        zones = zone_names(geo, c.lang)
        cat_col = [cats.get(k, k) for k in recent["category"]]
        table = pd.DataFrame(
            {
                c.t("cases.category"): cat_col,
                c.t("cases.state"): [c.t(f"cases.state.{s}") for s in recent["state"]],
                c.t("cases.zone"): [zones.get(str(z), "") for z in recent["zone_id"]],
                c.t("cases.reported_at"): [
                    format_datetime(t, c.lang) for t in recent["reported_at"]
                ],
                c.t("cases.overdue_flag"): [
                    c.t("common.yes") if o else "" for o in overdue.reindex(recent.index)
                ],
                c.t("cases.id"): recent["case_id"],
            }
        )
        st.dataframe(table, hide_index=True, width="stretch", height=260)
        # labels that do not change with the state: the choice survives a transition
        labels = {
            str(i): f"{cat} · {format_datetime(t, c.lang)} · {i}"
            for i, cat, t in zip(recent["case_id"], cat_col, recent["reported_at"], strict=True)
        }
    ids = list(recent["case_id"])
    if picked and picked not in ids:  # a case id from the URL or a new report: authorised below
        ids.insert(0, picked)
    chosen = st.selectbox(
        c.t("cases.case_select"), ids, format_func=lambda i: labels.get(i, i), key="cases_pick"
    )
    try:
        _case_detail(c, store, chosen, geo)
    except PatrolError as exc:
        st.error(user_message(c.lang, exc))


def _import_panel(c: Context, geo: Any, store: Any) -> None:
    from gis.cases.batch import read_batch
    from gis.cases.snapping import locate_reports

    if c.user.role not in IMPORT_ROLES:
        return
    with st.expander(c.t("cases.import")):
        upload = st.file_uploader(
            c.t("cases.upload"), type=["csv", "geojson", "json"], key="cases_upload"
        )
        datum = st.selectbox(
            c.t("cases.datum"),
            DATUMS,
            format_func=lambda d: c.t(f"cases.datum.{d}"),
            key="cases_import_datum",
        )
        if upload is None:
            return
        with tempfile.TemporaryDirectory() as tmp:
            # the browser's file name is data: only its type picks the reader ("..", "" or
            # "a/b" would otherwise name the folder itself or another place)
            suffix = Path(upload.name).suffix.lower()
            path = Path(tmp) / ("upload" + (suffix if suffix in UPLOAD_TYPES else ".csv"))
            path.write_bytes(upload.getvalue())
            try:
                result = read_batch(
                    path, refs=store.refs, now=_now(), datum=datum, gdf_segments=geo.segments
                )
            except DatumError as exc:
                st.error(c.t("cases.import_datum", message=located_message(c.lang, exc)))
                return
            except PatrolError as exc:
                st.error(c.t("cases.bad_file", message=located_message(c.lang, exc)))
                return
        st.write(c.t("cases.preview", ok=len(result.reports), bad=len(result.rejects)))
        if result.rejects:
            st.markdown(f"**{c.t('cases.rejects')}**")
            st.dataframe(
                pd.DataFrame(
                    {c.t("cases.reason"): [located_message(c.lang, e) for e, _ in result.rejects]}
                ),
                hide_index=True,
                width="stretch",
            )
        if result.reports and st.button(c.t("cases.import_do"), key="cases_import_go"):
            reports = locate_reports(
                result.reports,
                geo.segments,
                gdf_zones=geo.zones,
                assignment=capabilities.saved_assignment(c) or None,
            )
            try:
                added = store.add_reports(reports, received_by=c.user.username, at=_now())
            except PatrolError as exc:
                st.error(user_message(c.lang, exc))
                return
            st.success(c.t("cases.imported", count=len(added.added)))


def cases_page() -> None:
    """Report, list and advance cases in the user's scope."""
    c = guard(PAGE)
    geo = geography(c)
    st.subheader(c.t("cases.title"))
    store = capabilities.store(c)
    if store is None:
        st.warning(c.t("cases.store_missing"))
        m = base_map(c)
        draw_geography(c, m, geo)
        add_layer_control(m, collapsed=True)
        show_map(m, key="cases_map")
        return
    show_flash()
    view, side = st.columns([3, 2])
    with view:
        open_only = st.toggle(c.t("cases.open_only"), value=True, key="cases_open_only")
        # open cases, or everything of the last RECENT_DAYS days: never the whole history
        since = None if open_only else _now() - timedelta(days=RECENT_DAYS)
        if c.user.role == "liaison":  # lead, participating or called: the store knows all three
            frame = store.cases_frame(dept=c.user.department, open_only=open_only, since=since)
        else:
            frame = store.cases_frame(open_only=open_only, since=since)
            frame = frame.loc[scope_mask(c.user, frame)]
        m = base_map(c)
        draw_geography(c, m, geo)
        capabilities.add_cases_to_map(c, m, frame)
        add_layer_control(m, collapsed=True)
        fit = fit_map(m, scope_area(c, geo)) if not c.user.sees_everything else None
        click = show_map(m, key="cases_map", height=560, fit=fit)
        # the form (drawn after the map in this same run) takes the clicked point
        if click is not None and click != st.session_state.get("cases_last_click"):
            st.session_state["cases_last_click"] = click
            st.session_state[CLICK_KEY] = click
        _case_list(c, store, frame, geo)
    with side:
        _report_form(c, geo, store)
        _import_panel(c, geo, store)
