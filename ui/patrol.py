"""巡查路线 Patrol: today's route, phone first.

The map fitted to the route, the current and next step in large type, the steps with a "done"
tick each, big buttons for GPX, the route sheet and reporting a problem where the walker stands.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

import streamlit as st

from gis.errors import PatrolError
from gis.i18n import format_number
from gis.localtime import LOCAL_TZ
from layers.catalogue import add_layer_control
from ui import capabilities
from ui.common import (
    Context,
    base_map,
    bounds_wgs84,
    geography,
    geography_key,
    guard,
    people,
    plain,
    show_map,
    switch_to,
)
from ui.errors import user_message
from ui.names import front_names, zone_names
from ui.scope import draw_geography, requested_person, requested_zone, zones_in_scope

log = logging.getLogger(__name__)
PAGE = "patrol"
ROUTE_KEY = "patrol_route"
MODES = ("postman", "k", "budget")
#: Store meta keys (+ user name): today's route request, and the steps ticked done.
TODAY_META = "patrol.today."
DONE_META = "patrol.done."
#: Larger touch targets and step text on this page (static CSS, no data in it).
PAGE_CSS = """<style>
div[data-testid="stDownloadButton"] button, div[data-testid="stButton"] button {
  min-height: 3rem; font-size: 1.05rem; }
[data-testid="stMain"] [data-testid="stHeaderActionElements"] { display: none; }
</style>"""


def _today() -> str:
    return datetime.now(LOCAL_TZ).date().isoformat()


@st.cache_resource(show_spinner=False, max_entries=64)
def _planned(
    geo_key: Any,
    mode: str,
    required: tuple[str, ...],
    k: int,
    minutes: int,
    cases_key: tuple[str, int, str] | None,
    speed: float,
) -> tuple[tuple[Any, tuple[Any, ...]], ...]:
    """Routes and their steps for one request, computed once per process (all inputs are in
    the key: the same request from any session reuses the answer). A budget route is weighted
    by the case history identified by ``cases_key`` (store, number of cases)."""
    from gis.planning import route_sheet as sheet
    from gis.services import PatrolRequest, plan_patrol
    from ui.common import _geography

    geo = _geography(geo_key)
    request = PatrolRequest(
        segment_ids=required,
        people=k if mode == "k" else 1,
        budget_min=float(minutes) if mode == "budget" else None,
    )
    cases = capabilities._analysis_frame(*cases_key) if cases_key else None
    plan = plan_patrol(geo, request, walk_speed_kmh=speed, cases=cases)
    G = geo.graph()
    return tuple((r, tuple(sheet.route_steps(G, r))) for r in plan.routes)


def _people_in_scope(c: Context, geo: Any) -> list[str]:
    """People with a saved district touching the user's zones (all for leadership)."""
    saved = capabilities.saved_assignment(c)
    if not saved:
        return []
    zones = set(zones_in_scope(c, geo))
    seg_zone = dict(zip(geo.segments["segment_id"], geo.segments["zone_id"], strict=True))
    return sorted({p for s, p in saved.items() if seg_zone.get(s) in zones})


def _request(c: Context, geo: Any) -> dict[str, Any] | None:
    """The route request from the settings panel: whose streets, which mode."""
    saved = capabilities.saved_assignment(c)
    who = people(c)
    person = requested_person(c, PAGE)
    if c.user.role == "patrol" and person:
        st.caption(c.t("auth.person", id=who.get(person, person)))
    if c.user.role != "patrol":
        options = ["", *_people_in_scope(c, geo)]
        if person and person not in options:
            options.append(person)
        person = st.selectbox(
            c.t("patrol.person"),
            options,
            index=options.index(person) if person in options else 0,
            format_func=lambda p: who.get(p, p) if p else c.t("patrol.by_area"),
            key="patrol_person",
        )
    required: list[str] = []
    label = ""
    if person and saved:
        required = sorted(s for s, p in saved.items() if p == person)
        label = who.get(person, person)
    walker = person if required else ""  # the route is this person's district
    if not required:
        if c.user.role == "patrol" and not c.user.zones:
            return None
        zone = requested_zone(c, PAGE, geo)
        if c.user.role == "area_chief" and c.user.fronts and not c.user.zones:
            fronts = front_names(geo, c.lang)
            front = st.selectbox(
                c.t("districts.area"),
                list(c.user.fronts),
                format_func=lambda f: fronts.get(f, f),
                key="patrol_front",
            )
            segs = geo.segments.loc[geo.segments["front_id"] == front, "segment_id"]
            required, label = sorted(segs), fronts.get(front, front)
        else:
            zones = [zone] if zone else zones_in_scope(c, geo)
            names = zone_names(geo, c.lang)
            chosen = st.selectbox(
                c.t("districts.area"),
                zones,
                format_func=lambda z: names.get(z, z),
                key="patrol_zone",
            )
            segs = geo.segments.loc[geo.segments["zone_id"] == chosen, "segment_id"]
            required, label = sorted(segs), names.get(chosen, chosen)
    if not required:
        return None
    mode = st.radio(
        c.t("patrol.mode"),
        MODES,
        format_func=lambda m: c.t(f"patrol.mode.{m}"),
        key="patrol_mode",
        horizontal=True,
    )
    k, minutes = 1, 60
    if mode == "k":
        k = int(st.number_input(c.t("districts.k"), 2, 12, 3, key="patrol_k"))
    if mode == "budget":
        minutes = int(st.number_input(c.t("patrol.minutes"), 10, 480, 60, key="patrol_min"))
    return {
        "label": label,
        "mode": mode,
        "k": k,
        "minutes": minutes,
        "required": required,
        "person": walker if mode != "k" else "",
    }


def _plan_args(c: Context, spec: dict[str, Any]) -> tuple[Any, ...]:
    """The cache key of a route request: everything the answer depends on."""
    cases_key = None
    if spec["mode"] == "budget":
        store = capabilities.store(c)
        if store is None or not store.count_cases():
            raise capabilities.NoDataError(c.t("patrol.no_weights"))
        cases_key = (
            c.settings.database_url,
            int(store.count_cases()),
            capabilities.user_subdistrict(c),
        )
    return (
        geography_key(c),
        spec["mode"],
        tuple(spec["required"]),
        int(spec["k"]),
        int(spec["minutes"]),
        cases_key,
        float(c.settings.walk_speed_kmh),
    )


def _routes_for(c: Context, spec: dict[str, Any]) -> tuple[tuple[Any, tuple[Any, ...]], ...]:
    return _planned(*_plan_args(c, spec))


@st.cache_resource(show_spinner=False, max_entries=64)
def _documents(
    args: tuple[Any, ...], route_no: int, lang: str, title: str, person: str = ""
) -> tuple[bytes, bytes]:
    """GPX and route sheet of one planned route (made once, not on every rerun)."""
    from gis.planning import route_sheet as sheet
    from ui.common import _geography

    route, steps = _planned(*args)[route_no]
    G = _geography(args[0]).graph()
    gpx = sheet.route_to_gpx(route, name=title).encode("utf-8")
    html = sheet.route_sheet_html(
        G, route, title=title, lang=lang, steps=list(steps), person=person
    )
    return gpx, html.encode("utf-8")


def _sheet_person(c: Context, person_id: str) -> str:
    """Whose route the sheet is: ``姓名（P01）`` from the store's staff, else the staff table's
    name, else the id."""
    if not person_id:
        return ""
    from gis.people.staff import person_label, stored_people

    s = capabilities.store(c)
    label = person_label(person_id, stored_people(s)) if s is not None else person_id
    if label == person_id and people(c).get(person_id):
        label = f"{people(c)[person_id]}（{person_id}）"
    return label


def _meta(c: Context, prefix: str) -> dict[str, Any]:
    store = capabilities.store(c)
    raw = store.get_meta(prefix + c.user.username) if store is not None else None
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) and value.get("date") == _today() else {}


def _set_meta(c: Context, prefix: str, value: dict[str, Any]) -> None:
    store = capabilities.store(c)
    if store is not None:
        store.set_meta(prefix + c.user.username, json.dumps(value, ensure_ascii=False))


def _toggle_done(c: Context, route_no: int, step_no: int, key: str) -> None:
    """Record a tick (or its removal) in the store: it survives a reload and a new session."""
    done = _meta(c, DONE_META) or {"date": _today(), "done": {}}
    ticks = set(done["done"].get(str(route_no), []))
    if st.session_state.get(key):
        ticks.add(step_no)
    else:
        ticks.discard(step_no)
    done["done"][str(route_no)] = sorted(ticks)
    _set_meta(c, DONE_META, done)


def _to_wgs84(geo: Any, xy: tuple[float, float]) -> tuple[float, float]:
    import geopandas as gpd
    from shapely.geometry import Point

    p = gpd.GeoSeries([Point(xy)], crs=geo.segments.crs).to_crs(4326).iloc[0]
    return float(p.x), float(p.y)


def _on_step(geo: Any, step: Any) -> tuple[float, float]:
    """A point on the step's first street (its middle): where the walker is during the step
    (the step's start may be a junction on the subdistrict's edge)."""
    segs = geo.segments.loc[geo.segments["segment_id"] == step.segment_ids[0]]
    if not len(segs):
        return step.start_xy
    p = segs.geometry.iloc[0].interpolate(0.5, normalized=True)
    return float(p.x), float(p.y)


def _route_panel(
    c: Context,
    geo: Any,
    docs: tuple[bytes, bytes],
    route: Any,
    steps: tuple[Any, ...],
    route_no: int,
) -> None:
    """Current and next step large, big buttons, then every step with its done tick."""
    ticks = set(_meta(c, DONE_META).get("done", {}).get(str(route_no), []))
    st.write(
        c.t(
            "patrol.summary",
            km=format_number(route.total_m / 1000.0, c.lang, digits=2),
            minutes=format_number(route.duration_min, c.lang),
            steps=len(steps),
        )
    )
    todo = [s for s in steps if s.number not in ticks]
    if todo:
        now = todo[0]
        nxt = todo[1] if len(todo) > 1 else None
        for text in step_lines(c, now, nxt):
            st.markdown(text)
    else:
        st.success(c.t("patrol.all_done"))
        now = steps[-1] if steps else None
    b1, b2, b3 = st.columns(3)
    b1.download_button(
        c.t("patrol.gpx"),
        docs[0],
        file_name=f"patrol-route-{route_no + 1}.gpx",
        mime="application/gpx+xml",
        key=f"gpx_{route_no}",
        use_container_width=True,
        type="primary",
    )
    b2.download_button(
        c.t("patrol.sheet"),
        docs[1],
        file_name=f"patrol-route-{route_no + 1}.html",
        mime="text/html",
        key=f"sheet_{route_no}",
        use_container_width=True,
    )
    if now is not None and b3.button(
        c.t("patrol.report_here"), key=f"report_here_{route_no}", use_container_width=True
    ):
        lon, lat = _to_wgs84(geo, _on_step(geo, now))
        st.session_state["cases_click"] = {"lng": lon, "lat": lat}
        switch_to("cases")
    st.markdown(f"**{c.t('patrol.steps')}**")
    for s in steps:
        key = f"patrol_done_{route_no}_{s.number}"
        if key not in st.session_state:
            st.session_state[key] = s.number in ticks
        st.checkbox(
            f"{s.number}. {plain(s.text(c.lang))}",
            key=key,
            on_change=_toggle_done,
            args=(c, route_no, s.number, key),
        )


def step_lines(c: Context, now: Any, nxt: Any | None) -> tuple[str, str]:
    """The current step (large) and the next one as Markdown; street names (from OSM or a
    file) are escaped so that no link, image or heading in a name takes effect."""
    current = f"{c.t('patrol.now', n=now.number)}\n\n### {plain(now.text(c.lang))}"
    if nxt is None:
        return current, c.t("patrol.next_last")
    return current, c.t("patrol.next", text=plain(nxt.text(c.lang)))


def patrol_page() -> None:
    """Today's route: planned here, kept for the day, walked step by step."""
    c = guard(PAGE)
    geo = geography(c)
    st.markdown(PAGE_CSS, unsafe_allow_html=True)
    st.subheader(c.t("patrol.title"))
    from layers import route as rlayer

    stored = st.session_state.get(ROUTE_KEY)
    if stored is None:  # a reload or a new session: today's route from the store
        spec = _meta(c, TODAY_META).get("spec")
        if spec:
            try:
                stored = (spec, _routes_for(c, spec))
            except (PatrolError, capabilities.NoDataError) as exc:
                log.info("today's route of %r cannot be rebuilt: %s", c.user.username, exc)
            else:
                st.session_state[ROUTE_KEY] = stored
    # the map and the steps come first on the page but are drawn last, after the settings
    # below them: a newly planned route shows in this same run (no second run)
    top = st.container()
    # the settings stay plain page content under the steps (a fold would close on a rerun)
    with st.container(border=True):
        st.markdown(f"**{c.t('patrol.settings')}**")
        spec = _request(c, geo)
        if spec is None:
            st.info(c.t("patrol.no_district"))
        elif st.button(c.t("patrol.plan"), key="patrol_plan", type="primary"):
            try:
                with st.spinner(c.t("app.loading")):
                    new = _routes_for(c, spec)
            except (PatrolError, capabilities.NoDataError) as exc:
                msg = str(exc) if isinstance(exc, capabilities.NoDataError) else None
                st.error(msg or user_message(c.lang, exc))
            else:
                stored = (spec, new)
                st.session_state[ROUTE_KEY] = stored
                _set_meta(c, TODAY_META, {"date": _today(), "spec": spec})
                _set_meta(c, DONE_META, {"date": _today(), "done": {}})
                for key in [k for k in st.session_state if str(k).startswith("patrol_done_")]:
                    del st.session_state[key]
    with top:
        _route_view(c, geo, rlayer, stored)


def _route_digest(route: Any) -> str:
    """What identifies a planned route for the overlay cache: its geometry and length."""
    import hashlib

    return f"{hashlib.sha1(route.geometry.wkb).hexdigest()}:{route.total_m:.3f}"


@st.cache_resource(show_spinner=False, max_entries=128)
def _route_overlay(
    digest: str,
    geo_key: Any,
    route_no: int,
    with_steps: bool,
    lang: str,
    _route: Any,
    _steps: tuple[Any, ...],
) -> Any:
    """One route's map overlay, built and serialised once per process (the cache key is the
    route's :func:`_route_digest`, its number, whether its steps are marked, the language).

    Every rerun of the page (planning, choosing a route, ticking a step) used to rebuild and
    serialise each route's features again: about 15-30 ms a route on the bundled data."""
    from layers import route as rlayer

    return rlayer.prepare_route(
        _route,
        steps=list(_steps) if with_steps else None,
        colour=capabilities.route_colour(route_no),
        lang=lang,
    )


def _route_view(c: Context, geo: Any, rlayer: Any, stored: Any) -> None:
    """The map fitted to the route, then the current step, buttons and the step list."""
    routes = stored[1] if stored else ()
    chosen = 0
    if len(routes) > 1:
        chosen = st.radio(
            c.t("patrol.which"),
            list(range(len(routes))),
            format_func=lambda i: c.t("patrol.team_member", n=i + 1),
            horizontal=True,
            key="patrol_which",
        )
    # the map of the area stays the same from run to run; the routes are overlays the
    # browser swaps without building the map again
    m = base_map(c)
    draw_geography(c, m, geo)
    add_layer_control(m, collapsed=True)
    overlays = [
        rlayer.route_layer_from(
            _route_overlay(
                _route_digest(route), geography_key(c), i, i == chosen, c.lang, route, steps
            ),
            name=c.t("patrol.team_member", n=i + 1) if len(routes) > 1 else c.t("patrol.title"),
        )
        for i, (route, steps) in enumerate(routes)
    ]
    if routes:
        import geopandas as gpd

        view = bounds_wgs84(
            gpd.GeoDataFrame(geometry=[routes[chosen][0].geometry], crs=geo.segments.crs)
        )
    else:
        view = bounds_wgs84(geo.zones.loc[geo.zones["zone_id"].isin(zones_in_scope(c, geo))])
    show_map(m, key="patrol_map", height=480, fit=view, overlays=overlays)
    if routes:
        route, steps = routes[chosen]
        if stored[0].get("label"):
            st.caption(stored[0]["label"])
        docs = _documents(
            _plan_args(c, stored[0]),
            chosen,
            c.lang,
            c.t("patrol.title"),
            _sheet_person(c, str(stored[0].get("person") or "")),
        )
        _route_panel(c, geo, docs, route, steps, chosen)
