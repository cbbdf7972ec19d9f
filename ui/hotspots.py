"""热点 Hotspots: density, Gi* and forecast layers with time filters, KPIs and reports."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
import streamlit as st

from gis.access.authorization import scope_mask
from gis.analytics.periods import default_report_day
from gis.analytics.report_text import kpi_rows
from gis.errors import PatrolError
from gis.localtime import LOCAL_TZ_NAME
from layers.catalogue import add_layer_control
from layers.hotspots import density_layer, forecast_layer, gistar_layer
from ui import capabilities
from ui.common import (
    ERROR_CHARS,
    Context,
    base_map,
    geography,
    guard,
    plain,
    show_map,
)
from ui.errors import user_message
from ui.scope import draw_geography

log = logging.getLogger(__name__)
PAGE = "hotspots"
PERIOD_DAYS = (30, 90, 365)
LAYERS = ("density", "gistar", "forecast")
REPORT_KINDS = ("daily", "weekly", "monthly")


def _scope_key(c: Context) -> tuple[Any, ...]:
    """What a cached analysis of this user depends on besides the store: scope, districts."""
    saved = capabilities.saved_assignment(c)
    return (
        c.user.username,
        c.user.role,
        c.user.zones,
        c.user.fronts,
        c.user.department,
        hash(tuple(sorted(saved.items()))),
    )


@st.cache_data(show_spinner=False, max_entries=32, ttl=300)
def _layer_data(
    database_url: str,
    count: int,
    scope: tuple[Any, ...],
    kind: str,
    days: int,
    end: str,
    whole: bool,
    *,
    _frame: Any,
    _geo: Any,
    _store: Any,
) -> Any:
    """The analysis behind a hotspot layer (Gi* permutations, density, forecast), computed
    once per store size, scope and window instead of on every rerun. ``whole``: the frame is
    all of the store's cases, which a PostGIS store may then count in SQL."""
    from gis.services import HotspotRequest, hotspot_layer

    request = HotspotRequest(kind, days, pd.Timestamp(end))
    return hotspot_layer(_geo, _frame, request, store=_store if whole else None)


def _add_layer(
    c: Context,
    m: Any,
    geo: Any,
    frame: Any,
    kind: str,
    days: int,
    end: pd.Timestamp,
    count: int,
) -> None:
    data = _layer_data(
        c.settings.database_url,
        count,
        _scope_key(c),
        kind,
        days,
        end.isoformat(),
        bool(c.user.sees_everything),
        _frame=frame,
        _geo=geo,
        _store=capabilities.store(c),
    )
    if kind == "density":
        density_layer(m, data, lang=c.lang)
    elif kind == "gistar":
        gistar_layer(m, data, lang=c.lang)
    else:
        forecast_layer(m, data, lang=c.lang)  # each layer adds its own legend


def _report(c: Context, geo: Any, frame: Any, store: Any) -> None:
    kind = st.radio(
        c.t("hotspots.report"),
        REPORT_KINDS,
        format_func=lambda k: c.t(f"hotspots.report.{k}"),
        horizontal=True,
        key="hotspots_kind",
    )
    today = pd.Timestamp.now(tz=LOCAL_TZ_NAME).date()
    # one date widget per kind: each starts on its own last complete period
    day = st.date_input(
        c.t("hotspots.day"),
        value=default_report_day(kind, today),
        key=f"hotspots_day_{kind}",
    )
    from gis.services import ReportRequest, produce_report

    # the figures on every run; the printable HTML (with its map) once, cached below
    request = ReportRequest(kind, day, lang=c.lang, with_map=False, with_scorecard=False)
    try:
        produced = produce_report(geo, frame, request, store=store, html=False)
    except PatrolError as exc:
        st.error(user_message(c.lang, exc))
        return
    kpis, period = produced.kpis, produced.period
    st.markdown(f"**{c.t('hotspots.kpis')}** · {period.label(c.lang)}")
    rows = kpi_rows(kpis, lang=c.lang)
    # the headline figures as readable text, the same values as the table and the report
    for col, (label, value) in zip(st.columns(4), rows[:4], strict=True):
        col.metric(label, value)
    st.dataframe(
        pd.DataFrame(rows, columns=[c.t("hotspots.figure"), c.t("hotspots.value")]),
        hide_index=True,
        width="stretch",
    )
    names = report_names(c, geo, store)
    chart = category_chart_data(kpis.by_category, names.get("category", {}))
    if chart is not None:
        st.markdown(f"**{c.t('hotspots.by_category')}**")
        st.bar_chart(chart, horizontal=True, x_label=c.t("hotspots.reported"))
    elif kpis.reported == 0:
        st.info(c.t("hotspots.no_cases_period", period=period.label(c.lang)))
    html_text = _report_html(
        c.settings.database_url,
        int(store.count_cases()),
        _scope_key(c),
        kind,
        str(day),
        c.lang,
        bool(c.user.sees_everything),
        _frame=frame,
        _geo=geo,
        _store=store,
    )
    st.download_button(
        c.t("hotspots.download"),
        html_text.encode("utf-8"),
        file_name=f"report-{kind}-{period.start.date().isoformat()}.html",
        mime="text/html",
        key="hotspots_download",
    )


@st.cache_data(show_spinner=False, max_entries=32, ttl=300)
def _report_html(
    database_url: str,
    count: int,
    scope: tuple[Any, ...],
    kind: str,
    day: str,
    lang: str,
    whole: bool,
    *,
    _frame: Any,
    _geo: Any,
    _store: Any,
) -> str:
    """The printable report with its hot-spot map (matplotlib: the slow part), made once per
    store size, user scope, period and language instead of on every rerun of the page."""
    from gis.services import ReportRequest, produce_report

    request = ReportRequest(kind, day, lang=lang, with_map=True, with_scorecard=False)
    produced = produce_report(_geo, _frame, request, store=_store, cases_are_the_store=whole)
    return str(produced.html or "")


def report_names(c: Context, geo: Any, store: Any) -> dict[str, dict[str, str]]:
    """Display names for the report tables: categories, departments and zones."""
    names: dict[str, dict[str, str]] = {}
    if store is not None:
        refs = store.refs
        names["category"] = {
            code: (v.name_zh if c.lang == "zh" else v.name_en)
            for code, v in refs.categories.items()
        }
        names["lead_dept"] = {
            code: (v.name_zh if c.lang == "zh" else v.name_en)
            for code, v in refs.departments.items()
        }
    col = "name_en" if c.lang == "en" and "name_en" in geo.zones else "name"
    names["zone_id"] = {
        str(z): str(n) for z, n in zip(geo.zones["zone_id"], geo.zones[col], strict=True)
    }
    return names


def category_chart_data(by_category: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame | None:
    """Reported cases per category (by name) for a bar chart; None when there is nothing."""
    if by_category is None or by_category.empty or "reported" not in by_category.columns:
        return None
    key = "category" if "category" in by_category.columns else by_category.columns[0]
    data = by_category[[key, "reported"]].copy()
    data["reported"] = pd.to_numeric(data["reported"], errors="coerce").fillna(0)
    data = data.loc[data["reported"] > 0]
    if data.empty:
        return None
    data[key] = [names.get(str(v), str(v)) for v in data[key]]
    return data.sort_values("reported", ascending=False).head(15).set_index(key)[["reported"]]


def hotspots_page() -> None:
    """Hotspot layers and the periodic reports."""
    c = guard(PAGE)
    geo = geography(c)
    st.subheader(c.t("hotspots.title"))
    store = capabilities.store(c)
    controls, view = st.columns([1, 2])
    frame = None
    with controls:
        if store is None:
            st.warning(c.t("cases.store_missing"))
        else:
            frame = capabilities.analysis_frame(c)
            frame = frame.loc[scope_mask(c.user, frame)]
            days = st.selectbox(
                c.t("hotspots.period"),
                PERIOD_DAYS,
                index=1,
                format_func=lambda d: c.t("hotspots.last_days", days=d),
                key="hotspots_days",
            )
            kind = st.radio(
                c.t("hotspots.layer"),
                LAYERS,
                format_func=lambda k: c.t(f"hotspots.{k}"),
                key="hotspots_layer",
            )
            _report(c, geo, frame, store)
    with view:
        m = base_map(c)
        draw_geography(c, m, geo)
        if frame is not None:
            end = pd.Timestamp.now(tz=LOCAL_TZ_NAME)
            if len(frame):
                end = min(end, frame["reported_at"].max())
            end = end.ceil("h")  # a stable window (and cache key) within the hour
            try:
                with st.spinner(c.t("app.loading")):
                    count = int(store.count_cases()) if store is not None else 0
                    _add_layer(c, m, geo, frame, kind, int(days), end, count)
            except PatrolError as exc:
                st.error(c.t("app.error", message=plain(exc, ERROR_CHARS)))
        add_layer_control(m, collapsed=True)
        show_map(m, key="hotspots_map", height=620)
