"""案件 Cases: report by clicking the map, move cases through the workflow, batch import."""

from __future__ import annotations

import streamlit as st

from layers.catalogue import add_layer_control, render_geography
from ui import capabilities
from ui.common import base_map, geography, guard, show_map

PAGE = "cases"


def cases_page() -> None:
    """Report, list and advance cases in the user's scope."""
    c = guard(PAGE)
    geo = geography(c.settings)
    st.subheader(c.t("cases.title"))
    if capabilities.store_module() is None:
        st.warning(c.t("cases.store_missing"))
    m = base_map(c)
    render_geography(m, geo, lang=c.lang)
    add_layer_control(m)
    show_map(m, key="cases_map")
