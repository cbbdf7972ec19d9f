"""协同 Coordination: alerts until acknowledged, 街道吹哨, the liaison's inbox and arrivals."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from gis.errors import PatrolError
from gis.i18n import format_datetime
from ui import capabilities
from ui.common import ERROR_CHARS, Context, guard, people, plain
from ui.names import department_names

log = logging.getLogger(__name__)
PAGE = "coordination"
#: Roles that may blow the whistle.
WHISTLE_ROLES = frozenset({"leadership", "area_chief", "patrol"})


def photo_grid(c: Context, table: Any) -> bool:
    """A case's first eight photos as thumbnails, four to a row, captioned with their kind
    and checks; False when it has none."""
    if not len(table):
        return False
    cols = st.columns(min(len(table), 4))
    for i, row in enumerate(table.head(8).itertuples()):
        with cols[i % len(cols)]:
            caption = c.t(f"coordination.photo.{row.kind}")
            if row.flags:
                caption += f"（{flag_names(row.flags, c.lang)}）"
            st.image(bytes(row.thumb_data), caption=caption)
    return True


def flag_names(flags: str, lang: str) -> str:
    """The photo flags (``far;no_position``) as names in ``lang``; an unknown code stays literal."""
    from gis.i18n import MESSAGES, t

    names = []
    for code in filter(None, (f.strip() for f in flags.split(";"))):
        key = f"coordination.flag.{code}"
        names.append(t(key, lang) if key in MESSAGES else plain(code))
    return ("、" if lang == "zh" else ", ").join(names) or "—"


def review_frame(table: pd.DataFrame, lang: str, names: dict[str, str]) -> pd.DataFrame:
    """A 周点评 table for the page: people and departments by name, columns in ``lang``."""
    from gis.i18n import MESSAGES, t

    out = table.copy()
    out["who"] = [names.get(str(w), str(w)) for w in out["who"]]
    cols = {}
    for col in out.columns:
        key = f"coordination.review.col.{col}"
        cols[col] = t(key, lang) if key in MESSAGES else col
    return out.rename(columns=cols)


def _now() -> datetime:
    from gis.localtime import LOCAL_TZ as TZ

    return datetime.now(TZ)


FLASH_KEY = "coordination_flash"


def _flash(message: str) -> None:
    """Show ``message`` after a rerun that redraws alerts, inbox and figures with the change."""
    st.session_state[FLASH_KEY] = message
    st.rerun()


def _alerts(c: Context, store: Any) -> None:
    from gis.coordination import alerts

    rows = alerts.open_alerts(store, c.user)
    st.markdown("**" + c.t("coordination.alerts", count=len(rows)) + "**")
    if not rows:
        st.caption(c.t("coordination.no_alerts"))
    for r in rows[:20]:
        kind = c.t(f"coordination.kind.{r['kind']}")
        # case ids are data: shown as plain text, never as markdown
        cols = st.columns([5, 1])
        with cols[0]:
            # an alert is not an error of the page: error boxes mean only real errors
            urgent = r["kind"] in ("major", "emergency", "emergency_call")
            icon = ":material/warning:" if urgent else ":material/notifications:"
            st.warning(c.t("coordination.alert", kind=kind, case=plain(r["case_id"] or "")),
                       icon=icon)  # fmt: skip
        with cols[1]:
            approval = r["kind"] == "approval"
            label = c.t("coordination.approve" if approval else "coordination.ack")
            if r["kind"] != "dispatch" and st.button(label, key=f"ack_{r['alert_id']}"):
                from gis.coordination import handling

                try:
                    if approval:  # 重大: the chief approves the handling (recorded as approved)
                        handling.approve(store, r["case_id"], c.user, at=_now())
                    else:
                        alerts.acknowledge(store, r["alert_id"], c.user, at=_now())
                except PatrolError as exc:
                    st.error(c.t("app.error", message=plain(exc, ERROR_CHARS)))
                    return
                st.rerun()


def _case_resource(case: Any) -> Any:
    from gis.access.authorization import Resource

    return Resource(
        zone_id=case.zone_id,
        front_id=case.front_id,
        person_id=case.person_id,
        lead_dept=case.lead_dept,
        departments=tuple(case.depts),
        reported_by=case.reporter or None,
    )


def _whistle(c: Context, store: Any) -> None:
    from gis.coordination import dispatch

    st.markdown("**" + c.t("coordination.whistle") + "**")
    from gis.access.authorization import in_scope

    cases = [
        k
        for k in store.query_cases(state=["registered", "rechecking"], limit=500)
        if in_scope(c.user, _case_resource(k))
    ]
    if not cases:
        st.caption(c.t("coordination.no_cases"))
        return
    by_id = {k.case_id: k for k in cases}
    case_id = st.selectbox(c.t("coordination.case"), list(by_id), key="coord_case")
    case = by_id[case_id]
    names = {code: d.name_zh if c.lang == "zh" else d.name_en
             for code, d in store.refs.departments.items()}  # fmt: skip
    with st.form("coord_whistle"):
        depts = st.multiselect(
            c.t("coordination.depts"),
            list(names),
            default=list(dispatch.default_departments(case)),
            format_func=lambda code: names.get(code, code),
            key=f"coord_depts_{case_id}",
        )
        if not st.form_submit_button(c.t("coordination.call")):
            return
    try:
        new = dispatch.whistle(store, case_id, c.user, depts=depts, at=_now())
    except PatrolError as exc:
        st.error(c.t("app.error", message=plain(exc, ERROR_CHARS)))
        return
    log.info("user %r called %s to case %s", c.user.username, list(new.joint), case_id)
    _flash(c.t("coordination.called", count=len(new.joint), case=plain(case_id)))


def _inbox(c: Context, store: Any) -> None:
    from gis.coordination import dispatch

    if not c.user.department:
        return
    box = dispatch.inbox(store, c.user.department)
    st.markdown("**" + c.t("coordination.inbox", count=len(box)) + "**")
    if box.empty:
        st.caption(c.t("coordination.inbox_empty"))
        return
    st.dataframe(
        pd.DataFrame(
            {
                c.t("coordination.case"): box["case_id"],
                c.t("coordination.called_at"): [
                    format_datetime(t, c.lang) for t in box["called_at"]
                ],
                c.t("coordination.due_at"): [format_datetime(t, c.lang) for t in box["due_at"]],
            }
        ),
        hide_index=True,
    )
    with st.form("coord_arrive"):
        case_id = st.selectbox(c.t("coordination.case"), list(box["case_id"]), key="coord_arr")
        if not st.form_submit_button(c.t("coordination.arrive")):
            return
    try:
        dispatch.confirm_arrival(store, case_id, c.user.department, c.user, arrived_at=_now())
    except PatrolError as exc:
        st.error(c.t("app.error", message=plain(exc, ERROR_CHARS)))
        return
    done = dispatch.inbox(store, c.user.department, open_only=False)
    minutes = done.loc[done["case_id"] == case_id, "minutes"].iloc[-1]
    _flash(c.t("coordination.arrived", case=plain(case_id), minutes=f"{minutes:.0f}"))


def _photos(c: Context, store: Any) -> None:
    """Before/after photos of a case in the user's scope (整改前后对比)."""
    from gis.access.authorization import in_scope
    from gis.coordination import evidence

    st.markdown("**" + c.t("coordination.photos") + "**")
    cases = [k for k in store.query_cases(open_only=True, limit=500)
             if in_scope(c.user, _case_resource(k))]  # fmt: skip
    if not cases:
        st.caption(c.t("common.none"))
        return
    case_id = st.selectbox(c.t("coordination.case"), [k.case_id for k in cases], key="coord_pcase")
    table = evidence.photos(store, case_id, thumbs=True)
    photo_grid(c, table)
    with st.form("coord_photo"):
        kind = st.radio(c.t("coordination.photo_kind"), evidence.KINDS, horizontal=True,
                        format_func=lambda k: c.t(f"coordination.photo.{k}"), key="coord_pkind")  # fmt: skip
        upload = st.file_uploader(c.t("report.photo"), type=["jpg", "jpeg", "png", "webp"],
                                  key="coord_pfile")  # fmt: skip
        far = st.checkbox(c.t("coordination.confirm_far"), key="coord_pfar")
        if not st.form_submit_button(c.t("coordination.add_photo")) or upload is None:
            return
    if upload.size > evidence.MAX_BYTES:
        st.error(c.t("report.too_big", mb=evidence.MAX_BYTES // 1_000_000))
        return
    try:
        row = evidence.add_photo(store, case_id, upload.getvalue(), c.user, kind=kind,
                                 name="photo", confirm_far=far, at=_now())  # fmt: skip
    except PatrolError as exc:
        st.error(c.t("app.error", message=plain(exc, ERROR_CHARS)))
        return
    _flash(
        c.t(
            "coordination.photo_added",
            case=plain(case_id),
            flags=flag_names(row["flags"] or "", c.lang),
        )
    )


def _month_start() -> datetime:
    now = _now()
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _joint_and_consult(c: Context, store: Any) -> None:
    """This month's joint actions and consultations against their targets; plan, close, log."""
    from gis.coordination import consultations as cons
    from gis.coordination import joint

    start = _month_start()
    actions = joint.joint_actions(store, since=start)
    meetings = cons.consultations(store, since=start)
    st.markdown("**" + c.t("coordination.month", joint=len(actions),
                                 joint_target=joint.JOINT_ACTIONS_PER_MONTH,
                                 consult=len(meetings),
                                 consult_target=cons.CONSULTATIONS_PER_MONTH) + "**")  # fmt: skip
    names = {code: d.name_zh if c.lang == "zh" else d.name_en
             for code, d in store.refs.departments.items()}  # fmt: skip
    from gis.access.authorization import in_scope

    open_ids = [  # an area chief targets only the cases of their own zones
        k.case_id
        for k in store.query_cases(open_only=True, limit=500)
        if in_scope(c.user, _case_resource(k))
    ]
    with st.expander(c.t("coordination.plan_joint")), st.form("coord_joint"):
        title = st.text_input(c.t("coordination.joint_title"), max_chars=200, key="coord_jtitle")
        day = st.date_input(c.t("coordination.joint_day"), key="coord_jday")
        clock = st.time_input(c.t("coordination.joint_time"), key="coord_jtime")
        depts = st.multiselect(c.t("coordination.depts"), list(names),
                               format_func=lambda d: names.get(d, d), key="coord_jdepts")  # fmt: skip
        targets = st.multiselect(c.t("coordination.targets"), open_ids, key="coord_jcases")
        if st.form_submit_button(c.t("coordination.plan")):
            from gis.localtime import LOCAL_TZ as TZ

            try:
                row = joint.plan_joint_action(
                    store, c.user, title=title, planned_at=datetime.combine(day, clock, TZ),
                    depts=depts, target_cases=targets, at=_now(),
                )  # fmt: skip
            except PatrolError as exc:
                st.error(c.t("app.error", message=plain(exc, ERROR_CHARS)))
            else:
                _flash(c.t("coordination.planned", id=row["action_id"]))
    planned = actions[actions["state"] == "planned"]
    if len(planned):
        action_id = st.selectbox(c.t("coordination.joint_action"), list(planned["action_id"]),
                                 key="coord_jpick")  # fmt: skip
        st.download_button(
            c.t("coordination.briefing"),
            joint.briefing_sheet(store, action_id, c.lang).encode("utf-8"),
            file_name=f"briefing-{action_id}.html",
            mime="text/html",
            key="coord_jbrief",
        )
        row = joint.get_joint_action(store, action_id)
        with st.form("coord_jclose"):
            outcomes = {
                cid: st.selectbox(
                    cid,
                    joint.OUTCOMES,
                    key=f"coord_out_{action_id}_{cid}",
                    format_func=lambda o: c.t(f"coordination.outcome.{o}"),
                )  # fmt: skip
                for cid in (row["target_cases"] or "").split(";")
                if cid
            }
            note = st.text_input(c.t("cases.note"), key="coord_jnote")
            if st.form_submit_button(c.t("coordination.close_joint")):
                try:
                    joint.close_joint_action(store, action_id, c.user, outcomes, note=note,
                                             at=_now())  # fmt: skip
                except PatrolError as exc:
                    st.error(c.t("app.error", message=plain(exc, ERROR_CHARS)))
                else:
                    _flash(c.t("coordination.closed", id=action_id))
    with st.expander(c.t("coordination.log_consult")), st.form("coord_consult"):
        level = st.selectbox(c.t("coordination.level"), cons.LEVELS,
                             format_func=lambda v: c.t(f"coordination.level.{v}"),
                             key="coord_klevel")  # fmt: skip
        topic = st.text_input(c.t("coordination.topic"), max_chars=200, key="coord_ktopic")
        attendees = st.text_input(c.t("coordination.attendees"), key="coord_kpeople")
        decisions = st.text_area(c.t("coordination.decisions"), max_chars=2000, key="coord_kdec")
        linked = st.multiselect(c.t("coordination.targets"), open_ids, key="coord_kcases")
        plan = st.text_area(c.t("coordination.contingency"), max_chars=2000, key="coord_kplan")
        if st.form_submit_button(c.t("coordination.log")):
            try:
                row = cons.log_consultation(
                    store, c.user, held_at=_now(), level=level, topic=topic,
                    attendees=attendees, decisions=decisions, cases=linked, contingency=plan,
                    at=_now(),
                )  # fmt: skip
            except PatrolError as exc:
                st.error(c.t("app.error", message=plain(exc, ERROR_CHARS)))
            else:
                _flash(c.t("coordination.logged", id=row["consult_id"]))


def _inspections(c: Context, store: Any) -> None:
    """Record a 明察暗访 inspection; this week's review (周点评) scores."""
    import datetime as dt
    import json

    from gis.coordination import inspections as ins
    from gis.coordination.handling import ASSIGNMENT_META

    st.markdown("**" + c.t("coordination.inspections") + "**")
    with st.expander(c.t("coordination.record_inspection")), st.form("coord_insp"):
        mode = st.radio(c.t("coordination.mode"), ins.MODES, horizontal=True,
                        format_func=lambda m: c.t(f"coordination.mode.{m}"), key="coord_imode")  # fmt: skip
        kind = st.selectbox(c.t("coordination.target_kind"), ins.TARGET_KINDS,
                            format_func=lambda k: c.t(f"coordination.target_kind.{k}"),
                            key="coord_ikind")  # fmt: skip
        target = st.text_input(c.t("coordination.target"), max_chars=128, key="coord_itarget")
        result = st.radio(c.t("coordination.result"), ins.RESULTS, horizontal=True,
                          format_func=lambda r: c.t(f"coordination.result.{r}"),
                          key="coord_iresult")  # fmt: skip
        finding = st.text_area(c.t("coordination.finding"), max_chars=2000, key="coord_ifind")
        outcome = st.radio(c.t("coordination.insp_outcome"), ins.OUTCOMES, horizontal=True,
                           format_func=lambda o: c.t(f"coordination.insp_outcome.{o}"),
                           key="coord_ioutcome")  # fmt: skip
        st.caption(c.t("coordination.insp_case_hint"))
        refs = store.refs
        category = st.selectbox(
            c.t("cases.category"), list(refs.categories),
            format_func=lambda k: (refs.categories[k].name_zh if c.lang == "zh"
                                   else refs.categories[k].name_en),
            key="coord_icategory",
        )  # fmt: skip
        lon = st.number_input(c.t("report.lon"), value=None, format="%.6f", key="coord_ilon")
        lat = st.number_input(c.t("report.lat"), value=None, format="%.6f", key="coord_ilat")
        if st.form_submit_button(c.t("coordination.record")):
            from ui.common import geography

            case = None
            if outcome == "case":
                if lon is None or lat is None:
                    st.error(c.t("cases.no_point"))
                    return
                case = {"category": category, "lon": float(lon), "lat": float(lat)}
            try:
                row = ins.record_inspection(
                    store, c.user, inspected_at=_now(), mode=mode, target_kind=kind,
                    target=target, result=result, finding=finding, outcome=outcome, case=case,
                    geography=geography(c) if case else None, now=_now(),
                )  # fmt: skip
            except PatrolError as exc:
                st.error(c.t("app.error", message=plain(exc, ERROR_CHARS)))
            else:
                if row["case_id"]:
                    _flash(c.t("coordination.recorded_case", case=plain(row["case_id"])))
                _flash(c.t("coordination.recorded"))
    now = _now()
    monday = (now - dt.timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0,
                                                               microsecond=0)  # fmt: skip
    raw = store.get_meta(ASSIGNMENT_META)
    review = ins.weekly_review(store, monday, assignment=dict(json.loads(raw)) if raw else None)
    who = {"people": people(c), "departments": department_names(store.refs, c.lang)}
    for part in ("people", "departments"):
        table = review[part]
        if len(table):
            st.caption(c.t(f"coordination.review.{part}"))
            st.dataframe(review_frame(table, c.lang, who[part]), hide_index=True)


def _punctuality(c: Context, store: Any) -> None:
    from gis.coordination import dispatch

    st.markdown("**" + c.t("coordination.punctuality") + "**")
    table = dispatch.punctuality(store)
    if table.empty:
        st.caption(c.t("common.none"))
        return
    names = {c2: c.t(f"coordination.{c2}") for c2 in table.columns if c2 != "dept"}
    names["dept"] = c.t("users.department")
    depts = department_names(store.refs, c.lang)
    table = table.assign(dept=[depts.get(d, d) for d in table["dept"]])
    st.dataframe(table.rename(columns=names), hide_index=True)


#: Alert kinds that put a banner on every page until someone acknowledges them.
BANNER_KINDS = ("major", "emergency", "emergency_call", "approval", "escalation", "dispatch")


def alert_count() -> int | None:
    """Open 重大/突发/escalation/whistle alerts of the signed-in user (None: no 协同 page).

    The navigation shows it in the 协同 page's title and the banner repeats it; both are
    drawn before the page runs, and every acknowledge or arrival reruns the app, so the
    count follows at once.
    """
    from gis.access.authorization import allowed_pages
    from ui.common import context

    c = context()
    if PAGE not in allowed_pages(c.user):
        return None
    store = capabilities.store(c)
    if store is None:
        return None
    from gis.coordination import alerts

    try:
        return len(alerts.open_alerts(store, c.user, kinds=BANNER_KINDS))
    except PatrolError:
        log.exception("alerts of %r", c.user.username)
        return None


#: Widget key of the banner's container (``.st-key-coord_banner`` in the page's CSS).
BANNER_KEY = "coord_banner"


def alert_banner(count: int | None = None) -> None:
    """A banner on every page while the user has open 重大/突发/escalation/dispatch alerts."""
    from ui.common import context

    if count is None:
        count = alert_count()
    if count:  # a compact warning (app.py styles BANNER_KEY): the map stays on top on a phone
        with st.container(key=BANNER_KEY):
            st.warning(
                context().t("coordination.banner", count=count), icon=":material/notifications:"
            )


#: The app checks for overdue cases at most this often per process (seconds).
ESCALATION_EVERY_S = 60


@st.cache_resource(show_spinner=False, max_entries=32)
def _escalation_check(database_url: str, bucket: int, subdistrict: str = "shichahai") -> int:
    """Escalate overdue cases once per (database, subdistrict, time bucket): the cache is
    the timer. Each subdistrict's cases are escalated by its own users' page views."""
    from gis.coordination.handling import escalate_overdue

    try:
        made = escalate_overdue(
            capabilities._scoped_store(database_url, subdistrict), now=_now(), who="system"
        )
    except PatrolError:  # logged; the next bucket tries again
        log.exception("escalation check (bucket %s)", bucket)
        return -1
    if len(made):
        log.info("escalated %d overdue case level(s)", len(made))
    return len(made)


def run_escalation_check(now_s: float | None = None) -> int | None:
    """Run the idempotent escalation of overdue cases, at most once a minute per process.

    Every page render calls it; only the first call of each minute (per database) works.
    ``patrol dispatch escalate`` from a timer does the same when nobody has the app open.
    """
    import time

    from ui.common import context

    c = context()
    if capabilities.store(c) is None:
        return None
    bucket = int((time.time() if now_s is None else now_s) // ESCALATION_EVERY_S)
    subdistrict = capabilities.user_subdistrict(c)
    if subdistrict == "*":  # the district level writes nothing; subdistricts escalate their own
        return None
    return _escalation_check(c.settings.database_url, bucket, subdistrict)


def coordination_page() -> None:
    """Alerts, whistle, inbox and punctuality for the signed-in user."""
    c = guard(PAGE)
    st.subheader(c.t("coordination.title"))
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(flash)
    store = capabilities.store(c)
    if store is None:
        st.info(c.t("common.none"))
        return
    try:
        _alerts(c, store)
        if c.user.role == "liaison":
            _inbox(c, store)
        if c.user.role in WHISTLE_ROLES:
            _whistle(c, store)
        if c.user.role in WHISTLE_ROLES:
            _photos(c, store)
        if c.user.role in ("leadership", "area_chief"):
            _joint_and_consult(c, store)
            _inspections(c, store)
        _punctuality(c, store)
    except PatrolError as exc:
        st.error(c.t("app.error", message=plain(exc, ERROR_CHARS)))
