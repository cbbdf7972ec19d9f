"""什刹海综合执法巡查系统: page config, login, language and role-based navigation."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from gis.access.authorization import PAGES, allowed_pages
from gis.access.login import Session, SessionExpiredError, check_session
from gis.access.session_token import InvalidTokenError
from gis.access.users import utcnow
from gis.errors import AuthError, PatrolError
from gis.i18n import LANGUAGES, format_datetime, t
from ui.common import (
    BASEMAP_KEY,
    ERROR_CHARS,
    HANDOFF_KEY,
    LANG_KEY,
    PAGES_KEY,
    SESSION_KEY,
    TOKEN_KEY,
    current_lang,
    plain,
    session_cookie,
    session_tokens,
    settings,
    user_repository,
)
from ui.coordination import alert_banner, alert_count, run_escalation_check
from ui.login import login_page
from ui.pages import PAGE_FUNCTIONS, PAGE_ICONS
from ui.server import handoff_script, logout_script
from ui.static import ensure_leaflet_static
from ui.uploads import localise_uploaders

log = logging.getLogger(__name__)
LAST_PAGE_KEY = "patrol_last_page"
#: Set when the browser's session cookie must be deleted (logout, or a refused cookie).
CLEAR_COOKIE_KEY = "patrol_clear_cookie"
#: The cookie this Streamlit session already refused or logged out. The browser's cookies are
#: those of the request that opened the session, so without this every rerun after a logout
#: would try (and refuse) the same cookie again and say that the session expired.
DEAD_COOKIE_KEY = "patrol_dead_cookie"
#: Releases before the HttpOnly cookie kept the token in this query parameter: drop it.
LEGACY_TOKEN_PARAM = "s"
#: Static script (no data in it): after navigation on a narrow screen, collapse the sidebar.
CLOSE_SIDEBAR_ON_PHONE = """<script>
(function () {
  if (window.innerWidth > 640) { return; }
  const bar = document.querySelector('[data-testid="stSidebar"]');
  const btn = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
  if (bar && btn && bar.getBoundingClientRect().right > 1) { btn.click(); }
})();
</script>"""

st.set_page_config(
    page_title="什刹海巡查 Shichahai patrol",
    page_icon="🗺️",
    layout="wide",
    initial_sidebar_state="auto",  # closed on narrow screens, open on a desk
)
ensure_leaflet_static(Path(__file__).resolve().parent / "static")
# less empty space above the page (the map comes first on a phone); static CSS, no data in it
st.markdown(
    """<style>
[data-testid="stMainBlockContainer"] { padding-top: 3rem; padding-bottom: 2rem; }
.st-key-coord_banner [data-testid="stAlertContainer"] { padding: .35rem .75rem; }
@media (max-width: 640px) {
  [data-testid="stMainBlockContainer"] { padding-left: .5rem; padding-right: .5rem; }
  .st-key-coord_banner p { font-size: .8rem; line-height: 1.3; }
}
</style>""",
    unsafe_allow_html=True,
)

try:
    cfg = settings()
except PatrolError as exc:  # a bad PATROL_* variable: say which and stop
    detail = plain(exc, ERROR_CHARS)
    st.error(t("app.error", "zh", message=detail) + "\n\n" + t("app.error", "en", message=detail))
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
localise_uploaders(lang)  # Streamlit writes its uploader in English; Chinese covers it


def restore_session() -> None:
    """A reload starts a new Streamlit session: take the login back from the HttpOnly cookie
    when its token is genuine, unexpired, its session in the store not logged out and its
    account still active (docs/app.md, "Sessions")."""
    if LEGACY_TOKEN_PARAM in st.query_params:  # never leave a token in the address bar
        del st.query_params[LEGACY_TOKEN_PARAM]
    token = session_cookie()
    if SESSION_KEY in st.session_state or not token:
        return
    if token == st.session_state.get(DEAD_COOKIE_KEY):
        return
    now = utcnow()
    try:
        claims = session_tokens(cfg).verify(token, now=now)
        account, _hash = user_repository(cfg).get(claims.username)
        if not account.active:
            raise InvalidTokenError(f"account {claims.username!r} is disabled")
    except PatrolError as exc:
        log.info("session cookie refused: %s", exc)
        st.session_state[DEAD_COOKIE_KEY] = token
        st.session_state[CLEAR_COOKIE_KEY] = True
        st.session_state["patrol_login_notice"] = "login.expired"
        return
    st.session_state[SESSION_KEY] = Session(
        user=account, started_at=claims.issued_at, expires_at=claims.expires_at
    )
    st.session_state[TOKEN_KEY] = token


restore_session()
user = None
try:
    user = check_session(st.session_state.get(SESSION_KEY))
except SessionExpiredError:
    del st.session_state[SESSION_KEY]
    st.session_state.pop(TOKEN_KEY, None)
    st.session_state[DEAD_COOKIE_KEY] = session_cookie()
    st.session_state[CLEAR_COOKIE_KEY] = True
    st.session_state["patrol_login_notice"] = "login.expired"
except AuthError:
    pass

if user is None:
    # a logged-out or refused cookie is deleted by the server (the script cannot read it)
    clear = st.session_state.pop(CLEAR_COOKIE_KEY, False)
    st.sidebar.html(logout_script() if clear else "<span></span>", unsafe_allow_javascript=True)
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
    st.markdown(f"**{t('app.title', lang)}**")
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
        token = st.session_state.pop(TOKEN_KEY, None)
        if token:  # revoked in the store: no instance accepts the cookie any more
            session_tokens(cfg).revoke(token, now=utcnow())
        st.session_state.pop(HANDOFF_KEY, None)
        st.session_state[DEAD_COOKIE_KEY] = session_cookie()
        st.session_state[CLEAR_COOKIE_KEY] = True
        del st.session_state[SESSION_KEY]
        st.rerun()

# Every page is registered, but the sidebar links only the allowed ones; a typed URL to any
# other page runs that page's own guard, which refuses in the user's language.
allowed = allowed_pages(user)
run_escalation_check()  # overdue cases escalate even when nobody runs the command (once a minute)
alerts_open = alert_count()  # the 协同 title carries the count of alerts to acknowledge


def page_title(name: str) -> str:
    """A page's navigation title; 协同 with the count of open alerts."""
    if name == "coordination" and alerts_open:
        return t("page.coordination_count", lang, count=alerts_open)
    return t(f"page.{name}", lang)


pages = {
    name: st.Page(
        PAGE_FUNCTIONS[name],
        title=page_title(name),
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
st.session_state[PAGES_KEY] = {name: pages[name] for name in allowed}
# 重大/突发/escalation/whistle alerts stay visible on every page until acknowledged
alert_banner(alerts_open)
current = st.navigation(list(pages.values()), position="hidden")
# a page link was followed: on a phone, close the sidebar that covers the new page. The
# element is always there (empty otherwise) so that the page's own elements keep their places.
followed = st.session_state.get(LAST_PAGE_KEY) not in (None, current.url_path)
# just logged in: trade the one-time code for the HttpOnly session cookie (ui/server.py)
handoff = st.session_state.pop(HANDOFF_KEY, None)
scripts = (CLOSE_SIDEBAR_ON_PHONE if followed else "") + (
    handoff_script(handoff) if handoff else ""
)
st.sidebar.html(scripts or "<span></span>", unsafe_allow_javascript=True)
st.session_state[LAST_PAGE_KEY] = current.url_path
current.run()
