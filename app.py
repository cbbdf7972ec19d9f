"""什刹海综合执法巡查系统: page config, login, language and role-based navigation."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from gis.auth import PAGES, SessionExpiredError, allowed_pages, check_session
from gis.errors import AuthError, PatrolError
from gis.i18n import LANGUAGES, format_datetime, t
from ui.common import BASEMAP_KEY, LANG_KEY, SESSION_KEY, current_lang, settings
from ui.coordination import alert_banner
from ui.login import login_page
from ui.pages import PAGE_FUNCTIONS, PAGE_ICONS
from ui.static import ensure_leaflet_static

log = logging.getLogger(__name__)

st.set_page_config(page_title="什刹海巡查 Shichahai patrol", page_icon="🗺️", layout="wide")
ensure_leaflet_static(Path(__file__).resolve().parent / "static")

try:
    cfg = settings()
except PatrolError as exc:  # a bad PATROL_* variable: say which and stop
    st.error(t("app.error", "zh", message=exc) + "\n\n" + t("app.error", "en", message=exc))
    st.stop()

lang = current_lang(cfg)
nav_box = st.sidebar.container()  # page links go first, filled once the user is known
with st.sidebar:
    st.selectbox(
        t("app.language", lang),
        LANGUAGES,
        index=LANGUAGES.index(lang),
        format_func=lambda code: {"zh": "中文", "en": "English"}[code],
        key=LANG_KEY,
    )
    lang = current_lang(cfg)

user = None
try:
    user = check_session(st.session_state.get(SESSION_KEY))
except SessionExpiredError:
    del st.session_state[SESSION_KEY]
    st.session_state["patrol_login_notice"] = "login.expired"
except AuthError:
    pass

if user is None:
    # every page's URL leads to the login form (a deep link is kept for after the login)
    login_pages = [
        st.Page(login_page, title=t("login.title", lang), url_path="login", default=True)
    ]
    login_pages += [
        st.Page(login_page, title=t("login.title", lang), url_path=name) for name in PAGES
    ]
    st.navigation(login_pages, position="hidden").run()
    st.stop()

with st.sidebar:
    st.caption(
        t(
            "app.signed_in_as",
            lang,
            name=user.display_name or user.username,
            role=t(f"role.{user.role}", lang),
        )
    )
    st.caption(
        t(
            "app.session_until",
            lang,
            time=format_datetime(st.session_state[SESSION_KEY].expires_at, lang),
        )
    )
    basemaps = ("none", "osm", "tianditu")
    st.selectbox(
        t("app.basemap", lang),
        basemaps,
        index=basemaps.index(cfg.basemap),
        format_func=lambda b: t(f"app.basemap.{b}", lang),
        key=BASEMAP_KEY,
    )
    if st.button(t("app.logout", lang)):
        del st.session_state[SESSION_KEY]
        st.rerun()

# Every page is registered, but the sidebar links only the allowed ones; a typed URL to any
# other page runs that page's own guard, which refuses in the user's language.
allowed = allowed_pages(user)
pages = {
    name: st.Page(
        PAGE_FUNCTIONS[name],
        title=t(f"page.{name}", lang),
        icon=PAGE_ICONS[name],
        url_path=name,
        default=(name == allowed[0]),
    )
    for name in PAGES
}
with nav_box:
    for name in allowed:
        st.page_link(pages[name])
    st.divider()
st.title(t("app.title", lang))
alert_banner()  # 重大/突发/escalation/whistle alerts stay visible on every page until acknowledged
st.navigation(list(pages.values()), position="hidden").run()
