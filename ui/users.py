"""用户 Users (admin): list, add, reset passwords, enable/disable."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gis.auth import ROLES, User, department_code, hash_password, with_scope
from gis.errors import PatrolError
from gis.i18n import format_number
from ui.common import guard, user_repository

PAGE = "users"


def _split(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.replace("，", ",").split(",") if v.strip())


def users_page() -> None:
    """The user table and forms to add users and reset passwords."""
    c = guard(PAGE)
    repo = user_repository(c.settings)
    st.subheader(c.t("users.title"))
    users = repo.list_users()
    st.caption(c.t("users.count", count=format_number(len(users), c.lang)))
    st.dataframe(
        pd.DataFrame(
            [
                {
                    c.t("users.username"): u.username,
                    c.t("users.display_name"): u.display_name,
                    c.t("users.role"): c.t(f"role.{u.role}"),
                    c.t("users.zones"): ",".join(u.zones),
                    c.t("users.fronts"): ",".join(u.fronts),
                    c.t("users.person_id"): u.person_id or "",
                    c.t("users.department"): u.department or "",
                    c.t("users.active"): c.t("common.yes" if u.active else "common.no"),
                }
                for u in users
            ]
        ),
        hide_index=True,
        use_container_width=True,
    )
    left, right = st.columns(2)
    with left, st.form("add_user", clear_on_submit=True):
        st.markdown(f"**{c.t('users.add')}**")
        username = st.text_input(c.t("users.username"), key="new_username")
        name = st.text_input(c.t("users.display_name"), key="new_display_name")
        role = st.selectbox(
            c.t("users.role"), ROLES, format_func=lambda r: c.t(f"role.{r}"), key="new_role"
        )
        zones = st.text_input(c.t("users.zones"), key="new_zones")
        fronts = st.multiselect(
            c.t("users.fronts"), ["scenic", "main_streets", "gulou_west"], key="new_fronts"
        )
        person = st.text_input(c.t("users.person_id"), key="new_person")
        dept = st.text_input(c.t("users.department"), key="new_department")
        password = st.text_input(c.t("users.password"), type="password", key="new_password")
        if st.form_submit_button(c.t("users.add")):
            try:
                user = User(
                    username=username.strip(),
                    role=role,
                    display_name=name.strip(),
                    zones=_split(zones),
                    fronts=tuple(fronts),
                    person_id=person.strip() or None,
                    department=department_code(dept) if dept.strip() else None,
                )
                repo.add(with_scope(user), hash_password(password))
            except PatrolError as exc:
                st.error(c.t("app.error", message=exc))
            else:
                st.success(c.t("users.added", username=user.username))
    with right, st.form("reset_password", clear_on_submit=True):
        st.markdown(f"**{c.t('users.passwd')}**")
        who = st.selectbox(c.t("users.username"), [u.username for u in users], key="pw_user")
        password = st.text_input(c.t("users.password"), type="password", key="pw_new")
        if st.form_submit_button(c.t("users.passwd")) and who:
            try:
                repo.set_password(who, hash_password(password))
                repo.clear_failures(who)
            except PatrolError as exc:
                st.error(c.t("app.error", message=exc))
            else:
                st.success(c.t("users.passwd_done", username=who))
