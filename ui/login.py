"""The login form: bcrypt-checked, rate-limited, and the first-run demo accounts."""

from __future__ import annotations

import logging
import uuid

import streamlit as st

from gis.access.login import LOCK_DURATION, BadCredentialsError, LockedError, login
from gis.access.users import seed_demo_users
from gis.i18n import format_datetime, t
from ui.common import (
    HANDOFF_KEY,
    SESSION_KEY,
    TOKEN_KEY,
    current_lang,
    geography,
    session_tokens,
    settings,
    user_repository,
)

log = logging.getLogger(__name__)
NOTICE_KEY = "patrol_login_notice"
CLIENT_KEY = "patrol_login_client"


def _client_id() -> str:
    """Where the attempt comes from: the IP address Streamlit saw, else this browser session.

    Failed logins are throttled per user name and per client (gis.access.login.throttled_until).
    """
    try:
        ip = st.context.ip_address
    except Exception:  # noqa: BLE001 - older Streamlit or no request context
        ip = None
    if isinstance(ip, str) and ip:
        return f"ip:{ip[:64]}"
    return "session:" + str(st.session_state.setdefault(CLIENT_KEY, uuid.uuid4().hex))


def login_page() -> None:
    """Ask for user name and password; on success store the session and rerun."""
    cfg = settings()
    lang = current_lang(cfg)
    repo = user_repository(cfg)
    st.title(t("app.title", lang))
    st.subheader(t("login.title", lang))
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.warning(t(notice, lang))
    if not repo.list_users():
        st.info(t("login.no_users", lang))
        if st.button(t("login.seed_demo", lang), key="seed_demo"):
            zones = list(geography(cfg).zones["zone_id"])
            added = seed_demo_users(repo, zones)
            st.success(t("login.seeded", lang, names=", ".join(added)))
    with st.form("login_form"):
        username = st.text_input(t("login.username", lang), key="login_username")
        password = st.text_input(t("login.password", lang), type="password", key="login_password")
        submitted = st.form_submit_button(t("login.submit", lang))
    if not submitted:
        return
    if not username.strip() or not password:
        st.error(t("login.empty", lang))
        return
    try:
        session = login(repo, username, password, cfg, client=_client_id())
    except LockedError as exc:
        st.error(t("login.locked", lang, time=format_datetime(exc.until, lang)))
        return
    except BadCredentialsError as exc:
        st.error(
            t(
                "login.bad_credentials",
                lang,
                remaining=exc.remaining,
                minutes=int(LOCK_DURATION.total_seconds() // 60),
            )
        )
        return
    st.session_state[SESSION_KEY] = session
    # the session in the store, and a one-time code the page trades for the HttpOnly cookie
    # that lets a reload (on any instance) pick the session up again (see docs/app.md)
    token, code = session_tokens(cfg).start(
        session.user.username, issued_at=session.started_at, expires_at=session.expires_at
    )
    st.session_state[TOKEN_KEY] = token
    st.session_state[HANDOFF_KEY] = code
    st.rerun()
