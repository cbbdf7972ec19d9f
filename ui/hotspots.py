"""热点 Hotspots: density, Gi* and forecast layers, KPIs and reports."""

from __future__ import annotations

import streamlit as st

from layers.catalogue import add_layer_control, render_geography
from ui.common import base_map, geography, guard, missing, optional_module, show_map

PAGE = "hotspots"


def hotspots_page() -> None:
    """Hotspot layers and the periodic reports."""
    c = guard(PAGE)
    geo = geography(c.settings)
    st.subheader(c.t("hotspots.title"))
    if optional_module("gis.hotspots") is None:
        missing(c, "page.hotspots", "gis.hotspots")
    m = base_map(c)
    render_geography(m, geo, lang=c.lang)
    add_layer_control(m)
    show_map(m, key="hotspots_map")
