"""Produce a periodic report (日碰头/周点评/月通报): KPIs, and the printable HTML."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from gis.services.districts import saved_districts

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from gis.analytics.kpis import Kpis
    from gis.analytics.periods import Period
    from gis.geography.layers import Geography

log = logging.getLogger(__name__)

#: The store metadata key the demo history sets (its reports are marked synthetic).
DEMO_META = "demo_history"


@dataclass(frozen=True)
class ReportRequest:
    """Which report, and what the HTML holds; the same fields in the CLI and the app.

    ``assignment`` (segment → person) overrides the districts saved with the data for the
    per-person figures. ``with_map`` adds the period's density map, ``with_scorecard`` the
    forecast's backtested hit rate (weekly and monthly reports only). ``synthetic`` marks
    the report as made from demo data; None asks the store.
    """

    kind: str
    day: date | str
    lang: str = "zh"
    assignment: Mapping[str, str] | None = None
    with_map: bool = True
    with_scorecard: bool = True
    synthetic: bool | None = None


@dataclass(frozen=True)
class ProducedReport:
    """The period, its KPIs and (when asked for) the printable HTML."""

    period: Period
    kpis: Kpis
    html: str | None


def display_names(geo: Geography | None, lang: str) -> dict[str, dict[str, str]]:
    """Category, department and zone names for the report tables."""
    from gis.cases.categories import load_references

    names: dict[str, dict[str, str]] = {}
    refs = load_references()
    names["category"] = {
        code: f"{code} {c.name_zh if lang == 'zh' else c.name_en}"
        for code, c in refs.categories.items()
    }
    names["lead_dept"] = {
        code: (d.name_zh if lang == "zh" else d.name_en) for code, d in refs.departments.items()
    }
    if geo is not None and len(geo.zones):
        zones = geo.zones
        col = "name" if lang == "zh" or "name_en" not in zones else "name_en"
        names["zone_id"] = {
            str(z): str(n) for z, n in zip(zones["zone_id"], zones[col], strict=True)
        }
    return names


def _events(store: Any, cases: gpd.GeoDataFrame, period: Period) -> pd.DataFrame | None:
    """Joint actions and consultations from the audit trail of the cases alive in the period."""
    from gis.analytics.kpis import events_from_audit

    if store is None or cases.empty:
        return None
    alive = (cases["reported_at"] < period.end) & (
        cases["closed_at"].isna() | (cases["closed_at"] >= period.start)
    )
    entries = [e for cid in cases.loc[alive, "case_id"] for e in store.audit_trail(cid)]
    if not hasattr(store, "coord_rows"):
        return events_from_audit(entries)
    from gis.coordination.monthly import coordination_events, merge_events

    # whistles from the audit trail, joint actions and consultations from their records
    recorded = coordination_events(store, period.start.to_pydatetime(), period.end.to_pydatetime())
    return merge_events(events_from_audit(entries), recorded)


def produce_report(
    geo: Geography | None,
    cases: gpd.GeoDataFrame,
    request: ReportRequest,
    *,
    store: Any = None,
    html: bool = True,
    cases_are_the_store: bool = False,
) -> ProducedReport:
    """The report ``request`` asks for, from ``cases`` (the store's case frame, or a file's).

    With a ``store``, the joint actions come from its audit trail, the per-person figures
    from the districts saved with it (unless the request names an assignment), and the
    synthetic mark from its metadata. ``cases_are_the_store`` says that ``cases`` is all of
    the store's cases (not a file's, nor one user's part): a PostGIS store then counts the
    map's density grid in SQL.
    """
    from gis.analytics.kpis import compute_kpis
    from gis.analytics.periods import period_for
    from gis.analytics.report_html import render_html
    from gis.analytics.report_map import period_surface
    from gis.geography.crs import to_metric

    segments = None if geo is None else geo.segments
    if geo is not None:  # measure the cases in the geography's own metric CRS
        cases = to_metric(cases, crs=geo.crs, source="cases")
    period = period_for(request.kind, request.day)
    assignment = request.assignment
    if assignment is None and store is not None:
        assignment = saved_districts(store) or None
    kpis = compute_kpis(
        cases,
        period,
        gdf_segments=segments,
        events=_events(store, cases, period),
        assignment=assignment,
    )
    if not html:
        return ProducedReport(period, kpis, None)
    surface = None
    if request.with_map:
        bounds = None
        if geo is not None and not geo.boundary.empty:
            minx, miny, maxx, maxy = geo.boundary.total_bounds
            bounds = (minx - 200.0, miny - 200.0, maxx + 200.0, maxy + 200.0)
        counts = None
        if cases_are_the_store and geo is not None:
            from gis.analytics.kpis import DISCARDED_STATES
            from gis.analytics.selection import CaseFilter
            from gis.services.hotspots import database_counts

            flt = CaseFilter(start=period.start, end=period.end)
            counts = database_counts(store, geo, flt, exclude_states=DISCARDED_STATES)
        surface = period_surface(cases, period, bounds=bounds, counts=counts)
    scorecard = None
    if request.with_scorecard and request.kind != "daily":
        scorecard = _scorecard(cases, segments, period, request.lang)
    synthetic = request.synthetic
    if synthetic is None:
        synthetic = bool(store.get_meta(DEMO_META)) if store is not None else False
    text = render_html(
        kpis,
        lang=request.lang,
        surface=surface,
        gdf_segments=segments,
        synthetic=synthetic,
        scorecard=scorecard,
        names=display_names(geo, request.lang),
        coordination=_coordination_sections(store, period),
        **_people_sections(store, geo, period),
        **_crowd_sections(store, period, request.lang),
    )
    if request.kind == "monthly" and store is not None and hasattr(store, "coord_rows"):
        text = _with_rectified_photos(text, store, period, request.lang)
    return ProducedReport(period, kpis, text)


def _with_rectified_photos(text: str, store: Any, period: Period, lang: str) -> str:
    """The monthly report with its 整改前后对比 section (cases closed as 已整改, thumbnails)."""
    from gis.analytics import evidence_section as ev

    cases = ev.rectified_cases(store, period.start.to_pydatetime(), period.end.to_pydatetime())
    names = {
        k: (c.name_zh if lang == "zh" else c.name_en) for k, c in store.refs.categories.items()
    }
    return ev.insert_section(text, ev.section_html(cases, lang, names))


def _crowd_sections(store: Any, period: Period, lang: str) -> dict[str, Any]:
    """The period's crowd alert log when the store keeps crowd alerts."""
    if store is None or not hasattr(store, "query_alerts"):
        return {}
    from gis.analytics.report_html import crowd_alert_log

    alerts = store.query_alerts(
        since=period.start.to_pydatetime(), until=period.end.to_pydatetime()
    )
    places = store.load_places()
    col = "name" if lang == "zh" else "name_en"
    names = dict(zip(places["place_id"], places[col], strict=True)) if len(places) else {}
    return {"crowd_alerts": crowd_alert_log(alerts, period, names, lang)}


def _coordination_sections(store: Any, period: Period) -> dict[str, Any] | None:
    """Punctuality, targets, inspection findings and sources of the period (with a store)."""
    if store is None or not hasattr(store, "coord_rows"):
        return None
    from gis.coordination.monthly import coordination_tables

    return coordination_tables(
        store, period.start.to_pydatetime(), period.end.to_pydatetime(), months=period.months
    )


def _people_sections(store: Any, geo: Geography | None, period: Period) -> dict[str, Any]:
    """Attendance and patrol coverage of the period when the store keeps staff."""
    if store is None or geo is None or not hasattr(store, "people"):
        return {}
    if not store.people.list_people():
        return {}
    import pandas as pd

    from gis.people.service import people_report

    start = period.start.date()
    end = (period.end - pd.Timedelta(seconds=1)).date()
    return people_report(store, geo, start, end, now=pd.Timestamp.now(tz=period.start.tz))


def _scorecard(
    cases: gpd.GeoDataFrame, segments: gpd.GeoDataFrame | None, period: Period, lang: str
) -> pd.DataFrame | None:
    from gis.analytics import forecast as fc
    from gis.analytics.report_html import forecast_scorecard

    past = cases[cases["reported_at"] < period.end]
    if not len(past):
        return None
    units = (
        fc.segment_units(segments)
        if segments is not None and len(segments)
        else fc.cell_units(tuple(past.total_bounds), 100.0, crs=str(past.crs))
    )
    bt = fc.backtest(past, units, methods=("last4", "near_repeat"), coverages=(0.05,))
    return forecast_scorecard(bt.summary, lang)
