"""What a case's tier changes, on the case page: approval, leadership, checklist, responders."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from gis.errors import PatrolError
from gis.i18n import format_datetime
from ui.common import Context, people, plain
from ui.errors import user_message

log = logging.getLogger(__name__)


def _now() -> datetime:
    from gis.localtime import LOCAL_TZ as TZ

    return datetime.now(TZ)


def _when(value: Any, lang: str) -> str:
    return format_datetime(value, lang) if value is not None else "—"


def case_tier_panel(c: Context, store: Any, case: Any) -> None:
    """The tier's handling of one case, as the store holds it.

    重大: who approved (an 批准 button for the zone's area chief or leadership), whether
    leadership acknowledged, whether the joint-enforcement plan is missing. 突发: the
    emergency checklist with the time of each step (a form ticks the next one) and the
    on-duty people called with their response times. Any tier: its escalations.
    """
    from gis.coordination import alerts, handling
    from gis.coordination.policy import handling as tier_handling

    rule = tier_handling(case.tier)
    rows = store.coord_rows(alerts.TABLE, {"case_id": case.case_id}, order="created_at")
    escalations = [r for r in rows if r["kind"] == "escalation"]
    if case.tier == "general" and not escalations:
        return
    by_id = {r["alert_id"]: r for r in rows}
    from ui.cases import user_names

    who = user_names(c)
    st.markdown("**" + c.t("tier.case", tier=c.t(f"tier.{case.tier}")) + "**")
    for r in escalations:  # not an error of the page: a state of the case
        level = _level(r["params"] or "{}")
        st.warning(c.t("tier.escalated", level=level, to=c.t(f"tier.to.{min(level, 2)}")))
    if rule.chief_approval and f"{case.case_id}:approval" in by_id:
        _approval(c, store, case, by_id[f"{case.case_id}:approval"], who)
    lead = by_id.get(f"{case.case_id}:{case.tier}:leadership")
    if lead is not None:
        if lead["ack_at"] is None:
            st.caption(c.t("tier.leadership_open"))
        else:
            name = who.get(lead["ack_by"], lead["ack_by"])
            st.caption(
                c.t("tier.leadership_acked", who=plain(name), time=_when(lead["ack_at"], c.lang))
            )
    if case.is_open and handling.plan_missing(store, case):
        st.caption(c.t("tier.plan_missing"))
    if rule.emergency_checklist:
        _checklist(c, store, case, [r for r in rows if r["kind"] == "checklist"], who)
        _responders(c, [r for r in rows if r["kind"] == "emergency_call"])


def _level(params: Any) -> int:
    import json

    raw = json.loads(params) if isinstance(params, str) else dict(params)
    return int(raw.get("level", 1))


def _approval(c: Context, store: Any, case: Any, row: dict, who: dict[str, str]) -> None:
    from gis.coordination import handling

    if row["ack_at"] is not None:
        name = who.get(row["ack_by"], row["ack_by"])
        st.caption(c.t("tier.approved", who=plain(name), time=_when(row["ack_at"], c.lang)))
        return
    st.caption(c.t("tier.awaiting_approval"))
    if not handling.may_approve(c.user, case):
        if c.user.role == "area_chief":
            st.caption(c.t("tier.not_yours"))
        return
    if st.button(c.t("coordination.approve"), key=f"cases_approve_{case.case_id}"):
        try:
            handling.approve(store, case.case_id, c.user, at=_now())
        except PatrolError as exc:
            st.error(user_message(c.lang, exc))
            return
        log.info("user %r approved case %s", c.user.username, case.case_id)
        st.rerun()


def _checklist(c: Context, store: Any, case: Any, steps: list[dict], who: dict) -> None:
    from gis.coordination import handling
    from gis.coordination.policy import load_checklist

    names = {s.code: (s.name_zh if c.lang == "zh" else s.name_en) for s in load_checklist()}

    def code(r: dict) -> str:
        return str(r["alert_id"]).rsplit(":step:", 1)[-1]

    st.caption(c.t("tier.checklist"))
    st.table(
        pd.DataFrame(
            {
                c.t("tier.step"): [names.get(code(r), r["note"] or code(r)) for r in steps],
                c.t("tier.done_at"): [_when(r["ack_at"], c.lang) for r in steps],
                c.t("tier.by"): [who.get(r["ack_by"], r["ack_by"] or "") for r in steps],
            }
        )
    )
    todo = [code(r) for r in steps if r["ack_at"] is None]
    if not todo or not case.is_open:
        return
    with st.form(f"cases_steps_{case.case_id}"):
        step = st.selectbox(
            c.t("tier.step"),
            todo,
            format_func=lambda k: names.get(k, k),
            key=f"cases_step_{case.case_id}",
        )
        if not st.form_submit_button(c.t("tier.tick")):
            return
    try:
        handling.complete_step(store, case.case_id, step, c.user, at=_now())
    except PatrolError as exc:
        st.error(user_message(c.lang, exc))
        return
    st.rerun()


def _responders(c: Context, calls: list[dict]) -> None:
    st.caption(c.t("tier.responders"))
    if not calls:
        st.caption(c.t("tier.no_responders"))
        return
    names = people(c)
    ids = [str(r["audience"]).removeprefix("person:") for r in calls]
    st.table(
        pd.DataFrame(
            {
                c.t("tier.person"): [names.get(p, p) for p in ids],
                c.t("tier.alerted_at"): [_when(r["created_at"], c.lang) for r in calls],
                c.t("tier.responded_at"): [_when(r["ack_at"], c.lang) for r in calls],
            }
        )
    )
