"""巡查路线 Patrol: today's route for a person or team, with steps, GPX and route sheet."""

from __future__ import annotations

import streamlit as st

from layers.catalogue import add_layer_control, render_geography
from ui.common import base_map, geography, guard, missing, optional_module, show_map
from ui.scope import requested_person

PAGE = "patrol"


def patrol_page() -> None:
    """Plan and show a patrol route."""
    c = guard(PAGE)
    geo = geography(c.settings)
    st.subheader(c.t("patrol.title"))
    person = requested_person(c, PAGE)
    if person:
        st.caption(c.t("auth.person", id=person))
    if optional_module("gis.routing") is None:
        missing(c, "page.patrol", "gis.routing")
    m = base_map(c)
    render_geography(m, geo, lang=c.lang)
    add_layer_control(m)
    show_map(m, key="patrol_map")
