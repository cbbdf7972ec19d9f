"""排班与签到 Roster and sign-in (area chief, leadership): today's duty, sign-ins, plans, roster."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pandas as pd
import streamlit as st

from gis.errors import PatrolError
from gis.people.calendar import month_days
from gis.people.daysheet import day_sheet_html
from gis.people.roster import SHIFTS, roster_csv, roster_problems, roster_table
from gis.people.service import (
    assign_demo_districts,
    attendance_between,
    make_month_roster,
    people_report,
    plan_day,
    sign_in,
)
from gis.people.signin import Recorder, attendance_summary
from ui.common import ERROR_CHARS, Context, geography, guard, plain
from ui.people import now, people_store, plans_map, plans_table
from ui.scope import zones_in_scope

log = logging.getLogger(__name__)
PAGE = "team"
PLANS_KEY = "team_plans"


def people_in_scope(c: Context, s: Any) -> set[str] | None:
    """Whom the user answers for today: everyone (None) for leadership and admin; for an
    area chief the people whose district (dated assignments in force) lies in their zones."""
    if c.user.sees_everything:
        return None
    geo = geography(c)
    zones = set(zones_in_scope(c, geo))
    segs = geo.segments
    mine = set(segs.loc[segs["zone_id"].isin(zones), "segment_id"])
    if c.user.fronts:
        mine |= set(segs.loc[segs["front_id"].isin(set(c.user.fronts)), "segment_id"])
    return {a.person_id for a in s.people.assignments_on(now().date()) if a.segment_id in mine}


def _today(c: Context, s: Any, scope: set[str] | None) -> None:
    today = now().date()
    people = {p.person_id: p for p in s.people.list_people()}
    table = attendance_between(s, today, today, now=now())
    cells = [e for e in s.people.roster(today, today) if scope is None or e.person_id in scope]
    st.markdown(f"**{c.t('team.today')}**")
    if not cells:
        st.info(c.t("myday.no_roster"))
        return
    status = {r.person_id: r for r in table.itertuples()}
    rows = []
    for e in cells:
        if e.duty not in SHIFTS:
            continue
        p = people.get(e.person_id)
        r = status.get(e.person_id)
        at = r.at if r is not None and pd.notna(r.at) else None
        rows.append(
            {
                c.t("col.person_id"): e.person_id,
                c.t("col.name"): p.name if p else "",
                c.t("col.team"): p.team if p else "",
                c.t("col.duty"): c.t(f"duty.{e.duty}"),
                c.t("col.status"): c.t(f"status.{r.status}") if r is not None else "",
                c.t("col.time"): at.strftime("%H:%M") if at is not None else "",
                c.t("col.flags"): c.t("flag.out_of_fence")
                if r is not None and r.out_of_fence
                else "",
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, use_container_width=True, key="team_today")
    on_duty = [e.person_id for e in cells if e.duty in SHIFTS]
    signed = {pid for pid, r in status.items() if r.status in ("signed", "late")}
    first_open = next((i for i, pid in enumerate(on_duty) if pid not in signed), 0)
    with st.form("team_record"):
        st.markdown(f"**{c.t('team.record')}**")
        who = st.selectbox(
            c.t("team.person"),
            on_duty,
            index=first_open,
            format_func=lambda pid: f"{pid} {people[pid].name}" if pid in people else pid,
            key="team_record_person",
        )
        if st.form_submit_button(c.t("myday.signin")):
            by = Recorder(c.user.username, c.user.role, c.user.person_id)
            try:
                sign_in(s, geography(c), who, by=by, now=now(), allowed=scope)
            except PatrolError as exc:
                st.error(plain(exc, ERROR_CHARS))
            else:
                log.info("%s recorded a sign-in for %s", c.user.username, who)
                st.success(c.t("team.recorded", person=who))


def _plans(c: Context, s: Any, scope: set[str] | None) -> None:
    today = now().date()
    st.markdown(f"**{c.t('team.plans')}**")
    if st.button(c.t("team.plans"), key="team_make_plans"):
        try:
            st.session_state[PLANS_KEY] = (
                today,
                plan_day(s, geography(c), today, walk_speed_kmh=c.settings.walk_speed_kmh),
            )
        except PatrolError as exc:
            st.error(plain(exc, ERROR_CHARS))
    got = st.session_state.get(PLANS_KEY)
    if not got or got[0] != today:
        return
    plans = [p for p in got[1] if scope is None or p.person_id in scope]
    st.dataframe(plans_table(c, plans), hide_index=True, use_container_width=True)
    plans_map(c, plans, key="team_map")
    st.download_button(
        c.t("myday.print"),
        day_sheet_html(today, plans).encode("utf-8"),
        file_name=f"day-{today.isoformat()}.html",
        mime="text/html",
        key="team_print",
    )


def _roster(c: Context, s: Any, scope: set[str] | None) -> None:
    today = now().date()
    days = month_days(today.year, today.month)
    st.markdown(f"**{c.t('team.roster')}**")
    left, right = st.columns(2)
    if left.button(c.t("team.make_roster"), key="team_make_roster"):
        try:
            made = make_month_roster(s, today.year, today.month, by=c.user.username)
        except PatrolError as exc:
            st.error(plain(exc, ERROR_CHARS))
        else:
            st.success(c.t("team.made", cells=len(made)))
    if right.button(c.t("team.draw_districts"), key="team_draw"):
        try:
            n = assign_demo_districts(s, geography(c), today, by=c.user.username)
        except PatrolError as exc:
            st.error(plain(exc, ERROR_CHARS))
        else:
            st.success(c.t("team.drawn", n=n))
    entries = s.people.roster(days[0], days[-1])
    if scope is not None:
        entries = [e for e in entries if e.person_id in scope]
    if not entries:
        return
    people = s.people.list_people()
    table = roster_table(entries, people, days)
    st.dataframe(
        pd.DataFrame(table[1:], columns=table[0]), hide_index=True, use_container_width=True
    )
    for problem in roster_problems(entries):
        st.warning(c.t("team.problems", text=plain(problem, ERROR_CHARS)))
    st.download_button(
        c.t("team.export"),
        roster_csv(entries, people, days),
        file_name=f"roster-{today:%Y-%m}.csv",
        mime="text/csv",
        key="team_export",
    )


def _week(c: Context, s: Any, scope: set[str] | None) -> None:
    """Attendance per team since Monday, and coverage per person and shift on request."""
    today = now().date()
    monday = today - dt.timedelta(days=today.weekday())
    st.markdown(f"**{c.t('team.week')}**")
    rows = attendance_between(s, monday, today, now=now())
    if scope is not None:
        rows = rows[rows["person_id"].isin(scope)]
    table = attendance_summary(rows, by="team")
    st.caption(c.t("team.week_attendance"))
    st.dataframe(table, hide_index=True, use_container_width=True, key="team_week_attendance")
    if st.button(c.t("team.week_coverage"), key="team_week_coverage"):
        try:
            report = people_report(s, geography(c), monday, today, now=now())
        except PatrolError as exc:
            st.error(plain(exc, ERROR_CHARS))
            return
        coverage = report["coverage"]
        if scope is not None and not coverage.empty:
            coverage = coverage[coverage["person_id"].isin(scope)]
        if coverage.empty:
            st.info(c.t("team.no_tracks"))
        else:
            st.dataframe(coverage, hide_index=True, use_container_width=True)


def team_page() -> None:
    """Today's roster with sign-ins, the day plans and the month's roster."""
    c = guard(PAGE)
    st.subheader(c.t("team.title"))
    s = people_store(c)
    from gis.services.subdistricts import subdistrict_people

    # the subdistrict's staff in the store (the bundled one's staff table stored at first use)
    if s is None or not subdistrict_people(s, c.settings):
        st.info(c.t("myday.not_on_staff", person="*"))
        return
    scope = people_in_scope(c, s)
    _today(c, s, scope)
    _plans(c, s, scope)
    _week(c, s, scope)
    _roster(c, s, scope)
