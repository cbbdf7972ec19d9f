"""The cases page's confirmations: a message that survives the rerun showing its change."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

FLASH_KEY = "cases_flash"
#: The case to select after a rerun: set before the select box exists (a widget's own key
#: cannot change once the widget is drawn in a run).
PICK_NEXT_KEY = "cases_pick_next"


def now() -> datetime:
    """Now in local time (the one clock of the cases page; tests fix it)."""
    from gis.localtime import LOCAL_TZ as TZ

    return datetime.now(TZ)


def flash(message: str, *, pick: str) -> None:
    """Show ``message`` after a rerun that redraws the list and map with the change.

    It stays while its case is the one picked, through reruns the person did not ask for
    (a phone's map settling on its view reruns the page), until the next action replaces it
    or another case is picked.
    """
    st.session_state[FLASH_KEY] = (message, pick)
    st.session_state[PICK_NEXT_KEY] = pick
    st.rerun()


def show_flash() -> None:
    flash = st.session_state.get(FLASH_KEY)
    if not flash:
        return
    message, pick = flash
    picked = st.session_state.get(PICK_NEXT_KEY) or st.session_state.get("cases_pick")
    if picked != pick:
        st.session_state.pop(FLASH_KEY, None)
        return
    st.success(message)
