"""责任区 Districts: partition the streets among people, see the balance, adjust, save."""

from __future__ import annotations

import streamlit as st

from layers.catalogue import add_layer_control, render_geography
from ui.common import base_map, geography, guard, missing, optional_module, show_map
from ui.scope import requested_zone, zones_in_scope

PAGE = "districts"


def districts_page() -> None:
    """Districts per person for the zones in the user's scope."""
    c = guard(PAGE)
    geo = geography(c.settings)
    st.subheader(c.t("districts.title"))
    zone = requested_zone(c, PAGE, geo)
    zones = zones_in_scope(c, geo)
    st.caption(c.t("overview.scope", zones="、".join([zone] if zone else zones) or "—"))
    if optional_module("gis.districts") is None:
        missing(c, "page.districts", "gis.districts")
    m = base_map(c)
    render_geography(m, geo, lang=c.lang)
    add_layer_control(m)
    show_map(m, key="districts_map")
