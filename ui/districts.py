"""责任区 Districts: partition the streets among people, see the balance, adjust, save."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import streamlit as st

from gis.errors import PatrolError
from gis.i18n import format_number
from layers.catalogue import add_layer_control
from layers.safe import feature_group
from ui import capabilities
from ui.common import (
    Context,
    base_map,
    fit_map,
    geography,
    geography_key,
    guard,
    people,
    plain,
    show_map,
)
from ui.errors import user_message
from ui.names import front_names, zone_names
from ui.scope import draw_geography, requested_zone, zones_in_scope

if TYPE_CHECKING:
    from gis.planning.district_plan import DistrictPlan

log = logging.getLogger(__name__)
PAGE = "districts"
PLAN_KEY = "districts_plan"


def _area(c: Context, geo: Any) -> tuple[str | None, list[str] | None]:
    """The (front, zones) the user may partition, chosen in the sidebar of the page."""
    zone = requested_zone(c, PAGE, geo)
    if zone:
        return None, [zone]
    if c.user.sees_everything:
        fronts = ["", *geo.fronts["front_id"]]
        names = front_names(geo, c.lang)
        front = st.selectbox(
            c.t("districts.area"),
            fronts,
            format_func=lambda f: names.get(f, c.t("common.all")),
            key="districts_front",
        )
        return (front or None), None
    if c.user.fronts and not c.user.zones:
        names = front_names(geo, c.lang)
        front = st.selectbox(
            c.t("districts.area"),
            list(c.user.fronts),
            format_func=lambda f: names.get(f, f),
            key="districts_front",
        )
        return front, None
    return None, zones_in_scope(c, geo)


@st.cache_resource(show_spinner=False, max_entries=32)
def _districts(geo_key: Any, k: int, front: str | None, zones: tuple[str, ...]) -> Any:
    """Balanced districts for one request, computed once per process (the geography is
    immutable, so the inputs in the key decide the answer)."""
    from gis.planning.partition import districts_for_people
    from ui.common import _geography

    geo = _geography(geo_key)
    return districts_for_people(geo.segments, k, front=front, zones=list(zones) or None)


@st.cache_resource(show_spinner=False, max_entries=32)
def _polygons(
    geo_key: Any,
    assignment: tuple[tuple[str, str], ...],
    front: str | None,
    zones: tuple[str, ...],
) -> Any:
    """The district polygons of an assignment, clipped to the chosen area (once per process)."""
    from gis.planning.district_outputs import district_polygons
    from ui.common import _geography

    geo = _geography(geo_key)
    if zones:
        area = geo.zones.loc[geo.zones["zone_id"].isin(zones)]
    elif front:
        area = geo.fronts.loc[geo.fronts["front_id"] == front]
    else:
        area = geo.boundary
    return district_polygons(geo.segments, dict(assignment), boundary=area, lakes=geo.lakes)


def _plan_panel(c: Context, geo: Any, plan: DistrictPlan) -> None:
    from gis.planning.district_outputs import person_summary
    from gis.planning.district_plan import DistrictPlan
    from gis.planning.edits import move_segments

    d = plan.diagnostics
    loads = list(d.loads.values())
    st.write(
        c.t(
            "districts.balance",
            max=format_number(max(loads), c.lang),
            min=format_number(min(loads), c.lang),
            ratio=format_number(d.ratio, c.lang, digits=2),
        )
    )
    who = people(c)
    summary = person_summary(geo.segments, plan.assignment, plan.workload)
    summary = summary.assign(person_id=[who.get(p, p) for p in summary["person_id"]])
    table = summary[["person_id", "n_segments", "length_m", "workload"]].rename(
        columns={
            "person_id": c.t("districts.person"),
            "n_segments": c.t("districts.segments"),
            "length_m": c.t("districts.length"),
            "workload": c.t("districts.workload"),
        }
    )
    st.dataframe(table.round(0), hide_index=True, width="stretch")
    segs = geo.segments.set_index("segment_id")
    ids = sorted(plan.assignment)
    with st.form("move_segment"):
        seg = st.selectbox(
            c.t("districts.segment"),
            ids,
            format_func=lambda s: c.t(
                "districts.segment_option",
                street=segs.at[s, "name"] or c.t("overview.unnamed"),
                segment=s,
                person=who.get(plan.assignment[s], plan.assignment[s]),
            ),
            key="districts_move_segment",
        )
        to = st.selectbox(
            c.t("districts.move"),
            list(plan.people),
            format_func=lambda p: who.get(p, p),
            key="districts_move_to",
        )
        if st.form_submit_button(c.t("districts.apply_move")):
            try:
                check = move_segments(plan, [seg], to, geo.segments)
            except PatrolError as exc:
                st.error(user_message(c.lang, exc))
            else:
                for b in check.breaks:
                    st.warning(
                        c.t(
                            "districts.break",
                            person=plain(who.get(b.person_id, b.person_id)),
                            pieces=len(b.pieces),
                        )
                    )
                st.info(
                    c.t(
                        "districts.ratio_change",
                        before=format_number(check.ratio_before, c.lang, digits=2),
                        after=format_number(check.ratio_after, c.lang, digits=2),
                    )
                )
                st.session_state[PLAN_KEY] = (
                    st.session_state[PLAN_KEY][0],
                    DistrictPlan(
                        assignment=dict(check.assignment),
                        diagnostics=plan.diagnostics,
                        people=plan.people,
                        workload=plan.workload,
                    ),
                )
    csv = plan.table().to_csv(index=False).encode("utf-8-sig")
    left, right = st.columns(2)
    left.download_button(c.t("districts.download"), csv, file_name="districts.csv", mime="text/csv")
    if right.button(c.t("districts.save"), key="districts_save"):
        if capabilities.save_assignment(c, dict(plan.assignment)):
            st.success(c.t("districts.saved"))
        else:
            st.warning(c.t("cases.store_missing"))


def districts_page() -> None:
    """Districts per person for the zones in the user's scope."""
    c = guard(PAGE)
    geo = geography(c)
    st.subheader(c.t("districts.title"))
    controls, view = st.columns([1, 3])
    with controls:
        front, zones = _area(c, geo)
        zn = zone_names(geo, c.lang)
        fronts = front_names(geo, c.lang)
        area = (
            [zn.get(z, z) for z in zones] if zones else [fronts.get(front or "", c.t("common.all"))]
        )
        st.caption(c.t("overview.scope", zones="、".join(area)))
        k = st.number_input(c.t("districts.k"), 1, 60, 6, key="districts_k")
        if st.button(c.t("districts.compute"), key="districts_compute"):
            with st.spinner(c.t("app.loading")):
                try:
                    new = _districts(geography_key(c), int(k), front, tuple(zones or ()))
                except PatrolError as exc:
                    st.error(user_message(c.lang, exc))
                else:
                    st.session_state[PLAN_KEY] = ((front, tuple(zones or ())), new)
        stored = st.session_state.get(PLAN_KEY)
        plan = stored[1] if stored and stored[0] == (front, tuple(zones or ())) else None
        if plan is not None:
            _plan_panel(c, geo, plan)
    with view:
        # the map of the area stays the same; the districts (with their legend) are an
        # overlay the browser swaps into it without building the map again
        m = base_map(c)
        draw_geography(c, m, geo)
        overlays = []
        if plan is not None:
            # clipped to the chosen area, not the whole subdistrict
            polygons = _polygons(
                geography_key(c),
                tuple(sorted(plan.assignment.items())),
                front,
                tuple(zones or ()),
            )
            from gis.planning.district_outputs import person_summary
            from layers.districts import add_districts

            who = people(c)
            summary = person_summary(geo.segments, plan.assignment, plan.workload)
            summary = summary.assign(name=[who.get(p, "") for p in summary["person_id"]])
            group = feature_group(c.t("districts.title"))
            add_districts(
                group,
                polygons,
                segments=geo.segments,
                assignment=plan.assignment,
                summary=summary,  # the legend and labels name people
                lang=c.lang,
            )
            overlays.append(group)
        add_layer_control(m, collapsed=True)
        fit = None
        if zones:
            fit = fit_map(m, geo.zones.loc[geo.zones["zone_id"].isin(zones)])
        elif front:
            fit = fit_map(m, geo.fronts.loc[geo.fronts["front_id"] == front])
        show_map(m, key="districts_map", height=620, fit=fit, overlays=overlays)
