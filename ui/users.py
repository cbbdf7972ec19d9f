"""用户 Users (admin): list, add, reset passwords, enable/disable."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gis.access.users import ROLES, User, department_code, hash_password, utcnow, with_scope
from gis.errors import PatrolError
from gis.i18n import format_number
from ui import capabilities
from ui.common import geography, guard, people, session_tokens, user_repository
from ui.errors import user_message
from ui.names import department_names, front_names, zone_names

PAGE = "users"
FLASH_KEY = "users_flash"


def users_page() -> None:
    """The user table and forms to add users and reset passwords."""
    c = guard(PAGE)
    repo = user_repository(c.settings)
    geo = geography(c)
    store = capabilities.store(c)
    refs = store.refs if store is not None else None
    zones = zone_names(geo, c.lang)
    fronts = front_names(geo, c.lang)
    depts = department_names(refs, c.lang)
    who = people(c)
    st.subheader(c.t("users.title"))
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(flash)
    users = repo.list_users()
    st.caption(c.t("users.count", count=format_number(len(users), c.lang)))
    st.dataframe(
        pd.DataFrame(
            [
                {
                    c.t("users.username"): u.username,
                    c.t("users.display_name"): u.display_name,
                    c.t("users.role"): c.t(f"role.{u.role}"),
                    c.t("users.zones"): "、".join(zones.get(z, z) for z in u.zones),
                    c.t("users.fronts"): "、".join(fronts.get(f, f) for f in u.fronts),
                    c.t("users.person_id"): who.get(u.person_id, u.person_id)
                    if u.person_id
                    else "",
                    c.t("users.department"): depts.get(u.department, u.department)
                    if u.department
                    else "",
                    c.t("users.active"): c.t("common.yes" if u.active else "common.no"),
                }
                for u in users
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    left, right = st.columns(2)
    with left, st.form("add_user", clear_on_submit=True):
        st.markdown(f"**{c.t('users.add')}**")
        username = st.text_input(c.t("users.username"), key="new_username")
        name = st.text_input(c.t("users.display_name"), key="new_display_name")
        role = st.selectbox(
            c.t("users.role"), ROLES, format_func=lambda r: c.t(f"role.{r}"), key="new_role"
        )
        new_zones = st.multiselect(
            c.t("users.zones"),
            list(zones),
            format_func=lambda z: zones.get(z, z),
            placeholder=c.t("app.choose"),
            key="new_zones",
        )
        new_fronts = st.multiselect(
            c.t("users.fronts"),
            list(fronts),
            format_func=lambda f: fronts.get(f, f),
            placeholder=c.t("app.choose"),
            key="new_fronts",
        )
        person = st.selectbox(
            c.t("users.person_id"),
            ["", *sorted(who)],
            format_func=lambda p: who.get(p, p) if p else c.t("common.none"),
            key="new_person",
        )
        dept = st.selectbox(
            c.t("users.department"),
            ["", *depts],
            format_func=lambda d: depts.get(d, d) if d else c.t("common.none"),
            key="new_department",
        )
        password = st.text_input(c.t("users.password"), type="password", key="new_password")
        if st.form_submit_button(c.t("users.add")):
            try:
                user = User(
                    username=username.strip(),
                    role=role,
                    display_name=name.strip(),
                    zones=tuple(new_zones),
                    fronts=tuple(new_fronts),
                    person_id=person or None,
                    department=department_code(dept) if dept else None,
                )
                repo.add(with_scope(user), hash_password(password))
            except PatrolError as exc:
                st.error(user_message(c.lang, exc, where="users"))
            else:  # rerun: the table above shows the new user at once
                st.session_state[FLASH_KEY] = c.t("users.added", username=user.username)
                st.rerun()
    with right, st.form("reset_password", clear_on_submit=True):
        st.markdown(f"**{c.t('users.passwd')}**")
        pw_user = st.selectbox(c.t("users.username"), [u.username for u in users], key="pw_user")
        password = st.text_input(c.t("users.password"), type="password", key="pw_new")
        if st.form_submit_button(c.t("users.passwd")) and pw_user:
            try:
                repo.set_password(pw_user, hash_password(password))
                repo.clear_failures(pw_user)
                # a new password ends the sessions opened with the old one (on every instance)
                session_tokens(c.settings).revoke_user(pw_user, now=utcnow())
            except PatrolError as exc:
                st.error(user_message(c.lang, exc, where="users"))
            else:
                st.success(c.t("users.passwd_done", username=pw_user))
