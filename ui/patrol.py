"""巡查路线 Patrol: today's route for a person or team, with steps, GPX and route sheet."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
import streamlit as st

from gis.errors import PatrolError
from gis.i18n import format_number
from layers.catalogue import add_layer_control, render_geography
from ui import capabilities
from ui.common import Context, base_map, geography, guard, missing, optional_module, show_map
from ui.scope import requested_person, requested_zone, zones_in_scope

log = logging.getLogger(__name__)
PAGE = "patrol"
ROUTE_KEY = "patrol_route"
MODES = ("postman", "k", "budget")


def _required_segments(c: Context, geo: Any, person: str | None) -> tuple[list[str], str]:
    """The streets to patrol and a label: the person's saved district, else a zone/front."""
    saved = capabilities.saved_assignment(c)
    if person and saved:
        mine = sorted(s for s, p in saved.items() if p == person)
        if mine:
            return mine, c.t("auth.person", id=person)
    if c.user.role == "patrol" and not c.user.zones:
        return [], ""
    zone = requested_zone(c, PAGE, geo)
    zones = [zone] if zone else zones_in_scope(c, geo)
    if c.user.role == "area_chief" and c.user.fronts and not c.user.zones:
        front = st.selectbox(c.t("districts.area"), list(c.user.fronts), key="patrol_front")
        segs = geo.segments.loc[geo.segments["front_id"] == front, "segment_id"]
        return sorted(segs), front
    names = dict(zip(geo.zones["zone_id"], geo.zones["name"], strict=True))
    chosen = st.selectbox(
        c.t("districts.area"),
        zones,
        format_func=lambda z: f"{names.get(z, z)} ({z})",
        key="patrol_zone",
    )
    segs = geo.segments.loc[geo.segments["zone_id"] == chosen, "segment_id"]
    return sorted(segs), f"{names.get(chosen, chosen)}"


def _plan(c: Context, geo: Any, mode: str, required: list[str], **kw: Any) -> Any:
    from gis.services import PatrolRequest, plan_patrol

    request = PatrolRequest(
        segment_ids=tuple(required),
        people=int(kw["k"]) if mode == "k" else 1,
        budget_min=float(kw["minutes"]) if mode == "budget" else None,
    )
    cases = None
    if mode == "budget" and capabilities.store(c) is not None:
        cases = capabilities.analysis_frame(c)
    plan = plan_patrol(geo, request, walk_speed_kmh=c.settings.walk_speed_kmh, cases=cases)
    return list(plan.routes)


def _show_route(c: Context, geo: Any, sheet: Any, route: Any, index: int) -> None:
    steps = sheet.route_steps(geo.graph(), route)
    st.write(
        c.t(
            "patrol.summary",
            km=format_number(route.total_m / 1000.0, c.lang, digits=2),
            minutes=format_number(route.duration_min, c.lang),
            steps=len(steps),
        )
    )
    table = pd.DataFrame(
        {
            "#": range(1, len(steps) + 1),
            c.t("patrol.steps"): [s.text(c.lang) for s in steps],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch", height=240)
    left, right = st.columns(2)
    left.download_button(
        c.t("patrol.gpx"),
        sheet.route_to_gpx(route, name=c.t("patrol.title")).encode("utf-8"),
        file_name=f"patrol-route-{index + 1}.gpx",
        mime="application/gpx+xml",
        key=f"gpx_{index}",
    )
    right.download_button(
        c.t("patrol.sheet"),
        sheet.route_sheet_html(
            geo.graph(), route, title=c.t("patrol.title"), lang=c.lang, steps=steps
        ).encode("utf-8"),
        file_name=f"patrol-route-{index + 1}.html",
        mime="text/html",
        key=f"sheet_{index}",
    )


def patrol_page() -> None:
    """Plan and show a patrol route."""
    c = guard(PAGE)
    geo = geography(c.settings)
    st.subheader(c.t("patrol.title"))
    routing = optional_module("gis.routing")
    sheet = optional_module("gis.route_sheet")
    rlayer = optional_module("layers.route")
    person = requested_person(c, PAGE)
    controls, view = st.columns([1, 2])
    routes: list[Any] = []
    with controls:
        if person:
            st.caption(c.t("auth.person", id=person))
        if routing is None or sheet is None or rlayer is None:
            missing(c, "page.patrol", "gis.routing")
        else:
            required, label = _required_segments(c, geo, person)
            if not required:
                st.info(c.t("patrol.no_district"))
            else:
                mode = st.radio(
                    c.t("patrol.mode"),
                    MODES,
                    format_func=lambda m: c.t(f"patrol.mode.{m}"),
                    key="patrol_mode",
                    horizontal=True,
                )
                k, minutes = 1, 60
                if mode == "k":
                    k = st.number_input(c.t("districts.k"), 2, 12, 3, key="patrol_k")
                if mode == "budget":
                    minutes = st.number_input(c.t("patrol.minutes"), 10, 480, 60, key="patrol_min")
                if st.button(c.t("patrol.plan"), key="patrol_plan"):
                    try:
                        with st.spinner(c.t("app.loading")):
                            new = _plan(c, geo, mode, required, k=k, minutes=minutes)
                    except (PatrolError, capabilities.NoDataError) as exc:
                        st.error(c.t("app.error", message=exc))
                    else:
                        st.session_state[ROUTE_KEY] = (label, mode, new)
                stored = st.session_state.get(ROUTE_KEY)
                if stored and stored[0] == label:
                    routes = stored[2]
                for i, route in enumerate(routes):
                    if len(routes) > 1:
                        st.markdown(f"**{c.t('patrol.team_member', n=i + 1)}**")
                    _show_route(c, geo, sheet, route, i)
    with view:
        m = base_map(c)
        render_geography(m, geo, lang=c.lang)
        for i, route in enumerate(routes):
            rlayer.route_layer(
                route,
                name=c.t("patrol.team_member", n=i + 1) if len(routes) > 1 else c.t("patrol.title"),
                colour=capabilities.route_colour(i),
                lang=c.lang,
            ).add_to(m)
        add_layer_control(m)
        show_map(m, key="patrol_map", height=620)
