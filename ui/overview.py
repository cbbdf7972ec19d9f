"""总览 Overview: every zoned layer, and who answers for the clicked place."""

from __future__ import annotations

from typing import Any

import streamlit as st

from gis.access.authorization import Resource, in_scope
from gis.geography.place import Place, place_at
from gis.i18n import format_number
from layers.catalogue import add_layer_control
from ui import capabilities
from ui.common import (
    Context,
    base_map,
    fit_map,
    geography,
    guard,
    people,
    plain,
    resource_allowed,
    show_map,
)
from ui.names import department_names, front_names, zone_names
from ui.scope import draw_geography, scope_area

PAGE = "overview"


def _scope_line(c: Context, geo: Any) -> str:
    if c.user.sees_everything:
        return c.t("overview.scope_all")
    zones = zone_names(geo, c.lang)
    fronts = front_names(geo, c.lang)
    parts = [zones.get(z, z) for z in c.user.zones]
    parts += [c.t("auth.front", id=fronts.get(f, f)) for f in c.user.fronts]
    if c.user.person_id:
        parts.append(c.t("auth.person", id=people(c).get(c.user.person_id, c.user.person_id)))
    if c.user.department:
        store = capabilities.store(c)
        depts = department_names(store.refs if store is not None else None, c.lang)
        parts.append(depts.get(c.user.department, c.user.department))
    return c.t("overview.scope", zones="、".join(parts))


def place_panel(c: Context, place: Place) -> None:
    """Describe a clicked place: zone, street, responsible person and open cases."""
    if not place.inside:
        st.warning(c.t("overview.clicked_outside", lat=f"{place.lat:.5f}", lon=f"{place.lon:.5f}"))
        return
    if place.front_name:
        st.write(c.t("overview.clicked_front", name=plain(place.front_name)))
    if place.zone_id:
        st.write(c.t("overview.clicked_zone_name", name=plain(place.zone_name)))
    if place.segment_id:
        st.write(
            c.t(
                "overview.clicked_street_name",
                name=plain(place.segment_name) if place.segment_name else c.t("overview.unnamed"),
                distance=format_number(place.distance_m or 0.0, c.lang),
            )
        )
        st.caption(c.t("overview.codes", zone_id=place.zone_id or "", segment_id=place.segment_id))
    resource = Resource(zone_id=place.zone_id, front_id=place.front_id)
    if not in_scope(c.user, resource) and c.user.role != "liaison":
        st.info(c.t("overview.out_of_scope"))
        return
    person = capabilities.responsible_person(c, place)
    if person:
        person = people(c).get(person, person)
    st.write(
        c.t("overview.responsible", person=plain(person))
        if person
        else c.t("overview.no_responsible")
    )
    count = capabilities.open_case_count(c, place)
    if count is not None:
        st.write(c.t("overview.open_cases", count=format_number(count, c.lang)))


def overview_page() -> None:
    """The overview map with a layer control; a click shows who answers for the place."""
    c = guard(PAGE)
    geo = geography(c)
    st.subheader(c.t("overview.title"))
    st.caption(c.t("overview.caption") + " " + _scope_line(c, geo))
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
        name = zone_names(geo, c.lang).get(zone_param, zone_param)
        if not resource_allowed(c, PAGE, resource, c.t("auth.zone", id=name)):
            del st.query_params["zone"]
    col_map, col_info = st.columns([3, 1])
    with col_map:
        m = base_map(c)
        draw_geography(c, m, geo)
        capabilities.add_case_layer(c, m)
        add_layer_control(m, collapsed=True)
        view = fit_map(m, scope_area(c, geo)) if not c.user.sees_everything else None
        click = show_map(m, key="overview_map", fit=view)
    with col_info:
        if click is not None:
            place_panel(c, place_at(geo, float(click["lng"]), float(click["lat"])))
