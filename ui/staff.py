"""人员管理 Staff (leadership, admin): the staff table, the demo import, add/edit, end service."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import streamlit as st

from gis.errors import PatrolError
from gis.i18n import MESSAGES, format_number
from gis.people.service import demo_people, import_staff
from gis.people.staff import PRESENCE, people_frame, person_from_record, retire
from gis.people.staff_table import ROLES, SHIFTS
from ui.common import ERROR_CHARS, Context, guard, plain
from ui.people import people_store

log = logging.getLogger(__name__)
PAGE = "staff"


def role_name(c: Context, role: object) -> str:
    """A staff role's name (``duty_officer`` → 执法队员); an unknown one as it is."""
    key = f"staff.role.{role}"
    return c.t(key) if key in MESSAGES else str(role or "")


def presence_name(c: Context, presence: object) -> str:
    """How a person is present, by name (``on_call`` → 随叫随到)."""
    key = f"staff.presence.{presence}"
    return c.t(key) if key in MESSAGES else str(presence or "")


def department_name(c: Context, store: Any, value: object) -> str:
    """A department (code, Chinese name or alias) by its name in the user's language."""
    text = str(value or "")
    refs = getattr(store, "refs", None)
    if not text or refs is None:
        return text
    try:
        dept = refs.department(text)
    except PatrolError:
        return text
    return dept.name_en if c.lang == "en" and dept.name_en else dept.name_zh


def staff_page() -> None:
    """The staff table and its forms."""
    c = guard(PAGE)
    st.subheader(c.t("staff.title"))
    s = people_store(c)
    if s is None:
        st.info(c.t("myday.not_on_staff", person="*"))
        return
    if st.button(c.t("staff.import_demo"), key="staff_import_demo"):
        try:
            added, updated = import_staff(s, demo_people(c.settings), by=c.user.username)
        except PatrolError as exc:
            st.error(plain(exc, ERROR_CHARS))
        else:
            st.success(c.t("staff.imported", added=added, updated=updated))
    people = s.people.list_people()
    st.caption(c.t("staff.count", count=format_number(len(people), c.lang)))
    frame = people_frame(people).drop(columns=["fictitious"])
    frame["role"] = [role_name(c, r) for r in frame["role"]]
    frame["presence"] = [presence_name(c, p) for p in frame["presence"]]
    frame["shift"] = [c.t(f"staff.shift.{v}") if v in SHIFTS else v for v in frame["shift"]]
    frame["department"] = [department_name(c, s, d) for d in frame["department"]]
    frame.columns = [c.t(f"col.{col}") for col in frame.columns]
    st.dataframe(frame, hide_index=True, use_container_width=True, key="staff_table")
    left, right = st.columns(2)
    with left, st.form("staff_add", clear_on_submit=True):
        st.markdown(f"**{c.t('staff.save')}**")
        rec = {
            "person_id": st.text_input(c.t("col.person_id"), key="staff_new_id"),
            "name": st.text_input(c.t("col.name"), key="staff_new_name"),
            "team": st.text_input(c.t("col.team"), key="staff_new_team"),
            "role": st.selectbox(
                c.t("col.role"),
                ROLES,
                format_func=lambda r: role_name(c, r),
                key="staff_new_role",
            ),
            "department": st.text_input(c.t("col.department"), key="staff_new_dept"),
            "presence": st.selectbox(
                c.t("col.presence"),
                PRESENCE,
                format_func=lambda p: presence_name(c, p),
                key="staff_new_presence",
            ),
            "phone": st.text_input(c.t("col.phone"), key="staff_new_phone"),
            "shift": st.selectbox(
                c.t("col.shift"),
                ("", *SHIFTS),
                format_func=lambda v: c.t(f"staff.shift.{v}"),
                key="staff_new_shift",
            ),
        }
        if st.form_submit_button(c.t("staff.save")):
            try:
                person = person_from_record(rec, source=c.t("staff.title"))
                import_staff(s, [person], by=c.user.username)
            except PatrolError as exc:
                st.error(plain(exc, ERROR_CHARS))
            else:
                st.success(c.t("staff.imported", added=1, updated=0))
                st.rerun()
    with right, st.form("staff_retire"):
        st.markdown(f"**{c.t('staff.retire')}**")
        ids = [p.person_id for p in people if p.active_to is None]
        names = {p.person_id: p.name or p.person_id for p in people}
        pid = st.selectbox(
            c.t("col.name"), ids, format_func=lambda i: names.get(i, i), key="staff_retire_id"
        )
        last = st.date_input(c.t("staff.last_day"), value=dt.date.today(), key="staff_last_day")
        if st.form_submit_button(c.t("staff.retire")) and pid:
            person = next(p for p in people if p.person_id == pid)
            try:
                import_staff(s, [retire(person, last)], by=c.user.username)
            except PatrolError as exc:
                st.error(plain(exc, ERROR_CHARS))
            else:
                st.success(
                    c.t("staff.retired", person=plain(names.get(pid, pid)), day=last.isoformat())
                )
