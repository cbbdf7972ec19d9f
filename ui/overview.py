"""总览 Overview: every zoned layer, and who answers for the clicked place."""

from __future__ import annotations

import streamlit as st

from gis.auth import Resource, in_scope
from gis.i18n import format_number
from gis.place import Place, place_at
from layers.catalogue import add_layer_control, render_geography
from ui import capabilities
from ui.common import Context, base_map, geography, guard, resource_allowed, show_map

PAGE = "overview"


def _scope_line(c: Context) -> str:
    if c.user.sees_everything:
        return c.t("overview.scope_all")
    parts = list(c.user.zones) + [c.t("auth.front", id=f) for f in c.user.fronts]
    if c.user.person_id:
        parts.append(c.t("auth.person", id=c.user.person_id))
    if c.user.department:
        parts.append(c.user.department)
    return c.t("overview.scope", zones="、".join(parts))


def place_panel(c: Context, place: Place) -> None:
    """Describe a clicked place: zone, street, responsible person and open cases."""
    if not place.inside:
        st.warning(c.t("overview.clicked_outside", lat=f"{place.lat:.5f}", lon=f"{place.lon:.5f}"))
        return
    if place.front_name:
        st.write(c.t("overview.clicked_front", name=place.front_name))
    if place.zone_id:
        st.write(c.t("overview.clicked_zone", name=place.zone_name, zone_id=place.zone_id))
    if place.segment_id:
        st.write(
            c.t(
                "overview.clicked_street",
                name=place.segment_name or c.t("overview.unnamed"),
                segment_id=place.segment_id,
                distance=format_number(place.distance_m or 0.0, c.lang),
            )
        )
    resource = Resource(zone_id=place.zone_id, front_id=place.front_id)
    if not in_scope(c.user, resource) and c.user.role != "liaison":
        st.info(c.t("overview.out_of_scope"))
        return
    person = capabilities.responsible_person(c, place)
    st.write(
        c.t("overview.responsible", person=person) if person else c.t("overview.no_responsible")
    )
    count = capabilities.open_case_count(c, place)
    if count is not None:
        st.write(c.t("overview.open_cases", count=format_number(count, c.lang)))


def overview_page() -> None:
    """The overview map with a layer control; a click shows who answers for the place."""
    c = guard(PAGE)
    geo = geography(c.settings)
    st.subheader(c.t("overview.title"))
    st.caption(c.t("overview.caption") + " " + _scope_line(c))
    km = float(geo.segments["length_m"].sum()) / 1000.0
    st.caption(
        c.t(
            "overview.counts",
            zones=format_number(len(geo.zones), c.lang),
            segments=format_number(len(geo.segments), c.lang),
            km=format_number(km, c.lang, digits=1),
        )
    )
    zone_param = st.query_params.get("zone")
    if zone_param:
        fronts = dict(zip(geo.zones["zone_id"], geo.zones["front_id"], strict=True))
        resource = Resource(zone_id=zone_param, front_id=fronts.get(zone_param))
        if not resource_allowed(c, PAGE, resource, c.t("auth.zone", id=zone_param)):
            del st.query_params["zone"]
    col_map, col_info = st.columns([3, 1])
    with col_map:
        m = base_map(c)
        render_geography(m, geo, lang=c.lang)
        capabilities.add_case_layer(c, m)
        add_layer_control(m)
        click = show_map(m, key="overview_map")
    with col_info:
        if click is not None:
            place_panel(c, place_at(geo, float(click["lng"]), float(click["lat"])))
