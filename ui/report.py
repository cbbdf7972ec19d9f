"""上报 Report (reporters' phone page): photo, point, category, a sentence; own reports only."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from gis.errors import PatrolError
from gis.i18n import format_datetime
from ui import capabilities
from ui.common import ERROR_CHARS, Context, base_map, geography, guard, plain, show_map
from ui.names import category_names

log = logging.getLogger(__name__)
PAGE = "report"
#: Largest photo the form takes (MB); the library refuses larger ones anyway.
MAX_PHOTO_MB = 15
#: Height of the tap-to-place map on the phone form (pixels).
MAP_HEIGHT = 300
#: The map's last click already taken (st_folium repeats it on every rerun).
LAST_CLICK_KEY = "report_last_click"
#: A refused point (outside the subdistrict) to say so until another point is taken.
REFUSED_KEY = "report_refused"
#: How the form's point was set: "gps" or "map" (typed points need no note).
HOW_KEY = "report_point_how"
#: The phone-position request under way (its number keys a fresh component each time).
GPS_KEY = "report_gps_request"
#: Requests made so far in the session (never reused: a component keeps its answer).
GPS_COUNT_KEY = "report_gps_count"
#: W3C geolocation error codes and the catalogue key that explains each.
GPS_ERRORS = {1: "denied", 2: "unavailable", 3: "timeout"}


def _now() -> datetime:
    from gis.localtime import LOCAL_TZ as TZ

    return datetime.now(TZ)


def take_point(c: Context, geo: Any, lon: float, lat: float, how: str) -> bool:
    """Put a tapped or located point into the form, or refuse it when outside the area.

    Runs before the form is drawn (a widget's value can be set only before it exists).
    """
    from gis.geography.place import place_at

    lon, lat = round(float(lon), 6), round(float(lat), 6)
    if not place_at(geo, lon, lat, "wgs84").inside:
        st.session_state[REFUSED_KEY] = (lon, lat)
        return False
    st.session_state["report_lon"] = lon
    st.session_state["report_lat"] = lat
    st.session_state[HOW_KEY] = how
    st.session_state.pop(REFUSED_KEY, None)
    return True


def gps_answer(got: Any) -> tuple[float, float] | str | None:
    """The browser's geolocation answer: (lon, lat), an error name, or None while waiting."""
    if got is None:
        return None
    if not isinstance(got, dict):
        return "unavailable"
    coords = got.get("coords")
    if isinstance(coords, dict):
        try:
            lon, lat = float(coords["longitude"]), float(coords["latitude"])
        except (KeyError, TypeError, ValueError):
            return "unavailable"
        return (lon, lat) if -180 <= lon <= 180 and -90 <= lat <= 90 else "unavailable"
    err = got.get("error")
    code = err.get("code") if isinstance(err, dict) else None
    return GPS_ERRORS.get(code if isinstance(code, int) else -1, "unavailable")


def _gps(c: Context, geo: Any) -> None:
    """Ask the phone for its position (streamlit-js-eval); say why when it cannot give one."""
    if st.button(c.t("report.gps"), key="report_gps_button"):
        # a new number each time: a component keeps its last answer under its key
        count = int(st.session_state.get(GPS_COUNT_KEY) or 0) + 1
        st.session_state[GPS_COUNT_KEY] = st.session_state[GPS_KEY] = count
        st.session_state.pop("report_gps_error", None)
    request = st.session_state.get(GPS_KEY)
    if request:
        try:
            from streamlit_js_eval import streamlit_js_eval
        except ImportError:  # the component is optional: tap or type instead
            answer: tuple[float, float] | str | None = "unavailable"
        else:
            # get_geolocation's own expression: numbered, because Streamlit may reuse the
            # component's frame for the next request, which evaluates only a new expression
            got = streamlit_js_eval(js_expressions=f"getLocation() /* {int(request)} */",
                                    key=f"report_geolocation_{int(request)}")  # fmt: skip
            answer = gps_answer(got)
        if answer is None:
            st.caption(c.t("report.gps_waiting"))
        else:
            st.session_state[GPS_KEY] = None
            if isinstance(answer, str):
                st.session_state["report_gps_error"] = answer
            else:
                take_point(c, geo, answer[0], answer[1], "gps")
    error = st.session_state.get("report_gps_error")
    if error:
        st.warning(c.t("report.gps_failed", reason=c.t(f"report.gps.{error}")))


def _map_tap(c: Context, geo: Any) -> None:
    """A small map of the subdistrict: a tap puts its point into the form."""
    from ui.common import fit_map
    from ui.scope import draw_geography

    st.caption(c.t("report.tap"))
    m = base_map(c)
    draw_geography(c, m, geo)
    click = show_map(m, key="report_map", height=MAP_HEIGHT, fit=fit_map(m, geo.boundary))
    if click is not None and click != st.session_state.get(LAST_CLICK_KEY):
        st.session_state[LAST_CLICK_KEY] = click
        take_point(c, geo, float(click["lng"]), float(click["lat"]), "map")


def _point(c: Context, geo: Any) -> None:
    """Where: the phone's position, a tap on the map, or typed coordinates (in the form)."""
    _gps(c, geo)
    _map_tap(c, geo)
    refused = st.session_state.get(REFUSED_KEY)
    if refused:
        st.error(c.t("report.outside", lon=f"{refused[0]:.6f}", lat=f"{refused[1]:.6f}"))
    how = st.session_state.get(HOW_KEY)
    if how and st.session_state.get("report_lon") is not None:
        st.success(c.t(f"report.point_{how}", lon=f"{st.session_state['report_lon']:.6f}",
                       lat=f"{st.session_state['report_lat']:.6f}"))  # fmt: skip


def _form(c: Context, store: Any) -> None:
    from gis.coordination.reporters import REPORTER_SOURCES, submit_report
    from gis.geography.place import place_at

    refs = store.refs
    geo = geography(c)
    _point(c, geo)
    with st.form("reporter_form", clear_on_submit=False):
        source = st.selectbox(
            c.t("report.source"),
            list(REPORTER_SOURCES),
            format_func=lambda s: c.t(f"report.source.{s}"),
            key="report_source",
        )
        category = st.selectbox(
            c.t("cases.category"),
            list(refs.categories),
            format_func=lambda k: (
                refs.categories[k].name_zh if c.lang == "zh" else refs.categories[k].name_en
            ),
            key="report_category",
        )
        lon = st.number_input(c.t("report.lon"), value=None, format="%.6f", key="report_lon")
        lat = st.number_input(c.t("report.lat"), value=None, format="%.6f", key="report_lat")
        sentence = st.text_input(c.t("report.sentence"), max_chars=300, key="report_sentence")
        photo = st.file_uploader(c.t("report.photo"), type=["jpg", "jpeg", "png", "webp"],
                                 key="report_photo")  # fmt: skip
        if not st.form_submit_button(c.t("report.submit")):
            return
    if lon is None or lat is None:
        st.error(c.t("cases.no_point"))
        return
    if not place_at(geo, float(lon), float(lat), "wgs84").inside:
        st.error(c.t("report.outside", lon=f"{float(lon):.6f}", lat=f"{float(lat):.6f}"))
        return
    data = None
    if photo is not None:
        if photo.size > MAX_PHOTO_MB * 1_000_000:
            st.error(c.t("report.too_big", mb=MAX_PHOTO_MB))
            return
        data = photo.getvalue()
    try:
        case_id = submit_report(
            store, c.user, category=category, lon=float(lon), lat=float(lat), sentence=sentence,
            source=source, photo=data, geography=geo, now=_now(),
        )  # fmt: skip
    except PatrolError as exc:
        st.error(c.t("app.error", message=plain(exc, ERROR_CHARS)))
        return
    log.info("reporter %r sent case %s", c.user.username, case_id)

    st.success(c.t("report.sent", case_id=plain(case_id)))


def _mine(c: Context, store: Any) -> None:
    from gis.coordination.reporters import my_reports

    mine = my_reports(store, c.user)
    st.markdown("**" + c.t("report.mine", count=len(mine)) + "**")
    if mine.empty:
        return
    names = category_names(store.refs, c.lang)
    st.dataframe(
        pd.DataFrame(
            {
                c.t("cases.id"): mine["case_id"],
                c.t("cases.category"): [names.get(k, k) for k in mine["category"]],
                c.t("cases.state"): [c.t(f"cases.state.{s}") for s in mine["state"]],
                c.t("cases.reported_at"): [format_datetime(t, c.lang) for t in mine["reported_at"]],
            }
        ),
        hide_index=True,
    )


def report_page() -> None:
    """The reporter's form and the status of their own reports."""
    c = guard(PAGE)
    st.subheader(c.t("report.title"))
    store = capabilities.store(c)
    if store is None:
        st.info(c.t("common.none"))
        return
    _form(c, store)
    _mine(c, store)
