"""热点 Hotspots: density, Gi* and forecast layers with time filters, KPIs and reports."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from gis.auth import scope_mask
from gis.errors import PatrolError
from layers.catalogue import add_layer_control, render_geography
from ui import capabilities
from ui.common import Context, base_map, geography, guard, missing, optional_module, show_map

log = logging.getLogger(__name__)
PAGE = "hotspots"
PERIOD_DAYS = (30, 90, 365)
LAYERS = ("density", "gistar", "forecast")
REPORT_KINDS = ("daily", "weekly", "monthly")


def _modules() -> dict[str, Any] | None:
    names = {
        "hotspots": "gis.hotspots",
        "forecast": "gis.forecast",
        "reports": "gis.reports",
        "layer": "layers.hotspots",
    }
    mods = {k: optional_module(v) for k, v in names.items()}
    return None if any(v is None for v in mods.values()) else mods


def _add_layer(
    c: Context,
    m: Any,
    geo: Any,
    mods: dict[str, Any],
    frame: Any,
    kind: str,
    days: int,
    end: pd.Timestamp,
) -> None:
    hs, layer = mods["hotspots"], mods["layer"]
    start, stop = hs.time_window(end, days)
    flt = hs.CaseFilter(start=start, end=stop)
    if kind == "density":
        surface = hs.density_surface(frame, flt, bounds=tuple(geo.boundary.total_bounds))
        layer.density_layer(m, surface, lang=c.lang)
    elif kind == "gistar":
        result = hs.gistar_cells(
            frame, flt, bounds=tuple(geo.boundary.total_bounds), mask=geo.boundary.union_all()
        )
        layer.gistar_layer(m, result, lang=c.lang)
    else:
        fc = mods["forecast"]
        units = fc.segment_units(geo.segments)
        week = (end.normalize() - pd.Timedelta(days=end.day_of_week)) + pd.Timedelta(days=7)
        gdf = fc.forecast(hs.select_cases(frame, hs.CaseFilter(end=week)), units, at=week)
        layer.forecast_layer(m, gdf, lang=c.lang)  # each layer adds its own legend


def _report(c: Context, geo: Any, mods: dict[str, Any], frame: Any, store: Any) -> None:
    rp = mods["reports"]
    kind = st.radio(
        c.t("hotspots.report"),
        REPORT_KINDS,
        format_func=lambda k: c.t(f"hotspots.report.{k}"),
        horizontal=True,
        key="hotspots_kind",
    )
    day = st.date_input(c.t("hotspots.day"), value=date.today(), key="hotspots_day")
    from gis.services import ReportRequest, produce_report

    # the printable HTML leaves out the map and the forecast scorecard: it renders on every run
    request = ReportRequest(kind, day, lang=c.lang, with_map=False, with_scorecard=False)
    try:
        produced = produce_report(geo, frame, request, store=store)
    except PatrolError as exc:
        st.error(c.t("app.error", message=exc))
        return
    kpis = produced.kpis
    st.markdown(f"**{c.t('hotspots.kpis')}**")
    rows = rp.kpi_rows(kpis, lang=c.lang)
    st.dataframe(
        pd.DataFrame(rows, columns=[c.t("hotspots.figure"), c.t("hotspots.value")]),
        hide_index=True,
        width="stretch",
    )
    if len(kpis.by_category):
        st.markdown(f"**{c.t('hotspots.by_category')}**")
        by_cat = kpis.by_category.set_index(kpis.by_category.columns[0])
        numeric = by_cat.select_dtypes("number")
        if len(numeric.columns):
            st.bar_chart(numeric.iloc[:, :1])
    st.download_button(
        c.t("hotspots.download"),
        (produced.html or "").encode("utf-8"),
        file_name=f"report-{kind}-{day.isoformat()}.html",
        mime="text/html",
        key="hotspots_download",
    )


def hotspots_page() -> None:
    """Hotspot layers and the periodic reports."""
    c = guard(PAGE)
    geo = geography(c.settings)
    st.subheader(c.t("hotspots.title"))
    mods = _modules()
    store = capabilities.store(c)
    controls, view = st.columns([1, 2])
    frame = None
    with controls:
        if mods is None:
            missing(c, "page.hotspots", "gis.hotspots")
        elif store is None or not capabilities.cases_available():
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
            _report(c, geo, mods, frame, store)
    with view:
        m = base_map(c)
        render_geography(m, geo, lang=c.lang)
        if mods is not None and frame is not None:
            end = pd.Timestamp.now(tz="Asia/Shanghai")
            if len(frame):
                end = min(end, frame["reported_at"].max())
            try:
                with st.spinner(c.t("app.loading")):
                    _add_layer(c, m, geo, mods, frame, kind, int(days), end)
            except PatrolError as exc:
                st.error(c.t("app.error", message=exc))
        add_layer_control(m)
        show_map(m, key="hotspots_map", height=620)
