"""客流预警 Crowd warning: places by level on the map, alerts that act, timelines, replay."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pandas as pd
import streamlit as st

from gis.errors import PatrolError
from gis.i18n import format_datetime
from gis.localtime import LOCAL_TZ as TZ
from layers.catalogue import add_layer_control
from ui import capabilities
from ui.common import (
    ERROR_CHARS,
    Context,
    base_map,
    draw_base_layers,
    geography,
    geography_key,
    guard,
    plain,
    show_map,
)

log = logging.getLogger(__name__)
PAGE = "crowd"
DEMO_WEEKS = 3
STEPS = (15, 60)


@st.cache_resource(show_spinner=False, max_entries=16)
def _staff_context(
    geo_key: Any,
    staff_rows: tuple[tuple[Any, ...], ...],
    assignment_json: str,
    walk_speed_kmh: float,
    hours: str,
) -> Any:
    """Cached per geography (store, subdistrict, layer version), stored staff, saved
    districts and settings, so edited staff or new shift hours take effect at once."""
    from gis.crowd.watch import staff_context_for
    from gis.people.staff_table import STAFF_COLUMNS
    from gis.settings import Settings
    from ui.common import _geography

    staff = pd.DataFrame(list(staff_rows), columns=list(STAFF_COLUMNS))
    return staff_context_for(
        _geography(geo_key),
        staff,
        assignment_json,
        walk_speed_kmh,
        Settings(shift_hours=hours).shift_hours_parsed(),
    )


def _staff(c: Context, store: Any) -> Any:
    """The nearest-staff search over the staff of the user's subdistrict in the store (the
    bundled subdistrict's staff table is stored on first use); None without staff."""
    from gis.crowd.watch import ASSIGNMENT_META
    from gis.services.subdistricts import subdistrict_staff

    try:
        staff = subdistrict_staff(store, c.settings)
        if staff.empty:
            log.info("no staff stored for the crowd page of %s", store.subdistrict)
            return None
        return _staff_context(
            geography_key(c),
            tuple(staff.itertuples(index=False, name=None)),
            store.get_meta(ASSIGNMENT_META) or "",
            c.settings.walk_speed_kmh,
            c.settings.shift_hours,
        ).with_people(store)
    except PatrolError as exc:
        log.warning("no staff for the crowd page: %s", exc)
        return None


def _places_in_scope(c: Context, geo: Any, places: Any) -> set[str]:
    """The places whose alerts this user handles: all for leadership, the ones in an area
    chief's zones or fronts for a chief."""
    from gis.access.authorization import scope_mask

    pts = places.geometry.representative_point()
    zone = [geo.zone_for_point(p) for p in pts]
    front = []
    for p in pts:
        hit = (
            geo.fronts.loc[geo.fronts.contains(p), "front_id"]
            if len(geo.fronts)
            else pd.Series(dtype=object)
        )
        front.append(str(hit.iloc[0]) if len(hit) else None)
    frame = pd.DataFrame({"zone_id": zone, "front_id": front}, index=places.index)
    mask = scope_mask(c.user, frame)
    return set(places.loc[mask.to_numpy(), "place_id"])


def _level(code: str, c: Context) -> str:
    from layers.crowd import level_label

    return level_label(code, c.lang).split("（")[0].split(" (")[0]


def _controls(c: Context, store: Any, places: Any, staff: Any) -> Any:
    """The replay clock and its buttons; returns the current replay (or None)."""
    from gis.crowd import watch
    from ui.people import now

    replay = watch.current_replay(store)
    if replay is None:
        if st.button(c.t("crowd.seed"), key="crowd_seed", type="primary"):
            day = watch.demo_holiday(now().date())  # the last holiday before (PATROL_CLOCK) today
            with st.spinner(c.t("app.loading")):
                replay = watch.seed_demo(store, places, day=day, weeks=DEMO_WEEKS)
            st.session_state["crowd_flash"] = c.t(
                "crowd.seeded", time=format_datetime(replay.clock, c.lang)
            )
            st.rerun()
        return replay
    cols = st.columns(len(STEPS))
    for col, minutes in zip(cols, STEPS, strict=True):
        if col.button(c.t("crowd.advance", minutes=minutes), key=f"crowd_step_{minutes}"):
            with st.spinner(c.t("app.loading")):
                replay, raised = watch.advance_replay(store, places, minutes, staff=staff)
            st.info(
                c.t("crowd.advanced", time=format_datetime(replay.clock, c.lang), n=len(raised))
            )
    st.caption(
        c.t(
            "crowd.replay_clock",
            day=replay.day.isoformat(),
            time=format_datetime(replay.clock, c.lang),
        )
    )
    return replay


def _alert_card(c: Context, store: Any, places: Any, geo: Any, a: Any) -> None:
    from gis.crowd import watch

    names = dict(zip(places["place_id"], places["name"], strict=True))
    with st.container(border=True, key=f"alert_{a.alert_id}"):
        st.text(
            c.t(
                "crowd.alert_head",
                place=names.get(a.place_id, a.place_id),
                level=_level(a.level, c),
                expected=a.expected_at.astimezone(TZ).strftime("%H:%M"),
                lead=f"{a.lead_min:.0f}",
                now=f"{a.occupancy:.0f}",
                capacity=a.capacity,
                peak=f"{a.forecast_peak:.0f}",
            )
        )
        state = c.t(f"crowd.state.{a.state}")
        st.text(c.t("crowd.alert_state", state=state) + (f" · {a.acted_by}" if a.acted_by else ""))
        curve = a.detail.get("curve") or []
        if curve:  # the forecast the alert was raised on (data, drawn by the chart)
            frame = pd.DataFrame(
                [(pd.Timestamp(r[0]).tz_localize(None), r[1], r[2], r[3]) for r in curve],
                columns=["at", c.t("crowd.forecast"), "lo", "hi"],
            ).set_index("at")
            st.line_chart(frame, height=140)
        staff = a.detail.get("staff") or []
        if staff:
            st.caption(c.t("crowd.nearest"))
            source = str(staff[0].get("source", ""))
            if source in ("roster", "districts"):
                st.caption(c.t(f"crowd.source.{source}"))
            st.dataframe(
                pd.DataFrame(
                    {
                        "姓名" if c.lang == "zh" else "Name": [s["name"] for s in staff],
                        "单位" if c.lang == "zh" else "Dept": [s["department"] for s in staff],
                        c.t("crowd.minutes"): [s["minutes"] for s in staff],
                    }
                ),
                hide_index=True,
            )
        if a.state == "escalated":
            return
        b1, b2, b3 = st.columns(3)
        who = c.user.username
        try:
            if a.state == "open" and b1.button(c.t("crowd.ack"), key=f"ack_{a.alert_id}"):
                watch.acknowledge_alert(store, a.alert_id, who=who, version=a.version)
                st.success(c.t("crowd.acked", id=a.alert_id))
                st.rerun()
            for col, tier in ((b2, "major"), (b3, "emergency")):
                if col.button(c.t(f"crowd.raise_{tier}"), key=f"raise_{tier}_{a.alert_id}"):
                    _, case = watch.escalate_alert(
                        store, places, a.alert_id, who=who, tier=tier, version=a.version, geo=geo
                    )
                    st.session_state["crowd_flash"] = c.t(
                        "crowd.raised", case=case.case_id, tier=c.t(f"crowd.tier.{tier}")
                    )
                    st.rerun()
        except PatrolError as exc:
            st.error(c.t("app.error", message=plain(exc, ERROR_CHARS)))


def _timeline(c: Context, result: Any, places: Any) -> None:
    st.markdown(f"**{c.t('crowd.timeline')}**")
    ids = list(places["place_id"])
    names = dict(zip(places["place_id"], places["name"], strict=True))
    pid = st.selectbox(
        c.t("crowd.place"), ids, format_func=lambda p: names.get(p, p), key="crowd_place"
    )
    obs = result.series[pid].loc[result.now - pd.Timedelta(hours=6) :].dropna()
    fc = result.forecast[result.forecast["place_id"] == pid]
    rows = [
        {"at": t.tz_convert(TZ).tz_localize(None).isoformat(), "kind": c.t("crowd.observed"),
         "value": float(v), "lo": None, "hi": None}
        for t, v in obs.items()
    ] + [
        {"at": t.tz_convert(TZ).tz_localize(None).isoformat(), "kind": c.t("crowd.forecast"),
         "value": float(m), "lo": float(lo), "hi": float(hi)}
        for t, m, lo, hi in zip(fc["at"], fc["mean"], fc["lo"], fc["hi"], strict=True)
    ]  # fmt: skip
    cap = float(places.set_index("place_id").loc[pid, "capacity"])
    spec = {
        "layer": [
            {
                "mark": {"type": "area", "opacity": 0.25},
                "transform": [{"filter": "datum.lo != null"}],
                "encoding": {
                    "x": {"field": "at", "type": "temporal", "title": None},
                    "y": {"field": "lo", "type": "quantitative"},
                    "y2": {"field": "hi"},
                },
            },
            {
                "mark": "line",
                "encoding": {
                    "x": {"field": "at", "type": "temporal"},
                    "y": {"field": "value", "type": "quantitative", "title": None},
                    "color": {"field": "kind", "type": "nominal", "title": None},
                },
            },
            {
                "data": {"values": [{"y": cap * s, "lv": lv} for lv, s in _shares()]},
                "mark": {"type": "rule", "strokeDash": [4, 4]},
                "encoding": {
                    "y": {"field": "y", "type": "quantitative"},
                    "color": {
                        "field": "lv",
                        "type": "nominal",
                        "legend": None,
                        "scale": {
                            "domain": ["yellow", "orange", "red"],
                            "range": ["#f2c500", "#f07f09", "#d7191c"],
                        },
                    },
                },
            },  # fmt: skip
        ],
        "resolve": {"scale": {"color": "independent"}},
    }
    st.vega_lite_chart(pd.DataFrame(rows), spec, width="stretch")


def _shares() -> list[tuple[str, float]]:
    from gis.crowd.places import Levels

    return [(lv, s) for lv, s in Levels().shares if lv != "blue"]


def _report(c: Context, store: Any, places: Any, day: dt.date) -> None:
    from gis.analytics.kpis import compute_kpis
    from gis.analytics.periods import period_for
    from gis.analytics.report_html import crowd_alert_log, render_html
    from gis.analytics.report_text import TEXTS, t

    st.markdown(f"**{c.t('crowd.log', day=day.isoformat())}**")
    period = period_for("daily", day)
    alerts = store.query_alerts(
        since=period.start.to_pydatetime(), until=period.end.to_pydatetime()
    )
    col = "name" if c.lang == "zh" else "name_en"
    names = dict(zip(places["place_id"], places[col], strict=True))
    log_table = crowd_alert_log(alerts, period, names, c.lang)
    shown = log_table.rename(columns={k: t(k, c.lang) for k in log_table.columns if k in TEXTS})
    st.table(shown)
    try:
        kpis = compute_kpis(store.cases_frame(), period)
        html_text = render_html(
            kpis,
            lang=c.lang,
            synthetic=bool(store.get_meta("crowd.synthetic")),
            crowd_alerts=log_table,
        )
    except PatrolError as exc:
        st.error(c.t("app.error", message=plain(exc, ERROR_CHARS)))
        return
    st.download_button(
        c.t("crowd.download"),
        html_text.encode("utf-8"),
        file_name=f"report-daily-{day.isoformat()}.html",
        mime="text/html",
        key="crowd_download",
    )


def _places(c: Context, store: Any) -> Any:
    """The store's places of the user's subdistrict; the bundled subdistrict's places file
    is stored first when it has none (another subdistrict's are its own, never these)."""
    from gis.crowd import watch
    from gis.errors import NotFoundError
    from gis.services.subdistricts import seeds_from_data_folder

    if seeds_from_data_folder(store.subdistrict):
        return watch.ensure_places(store, c.settings.data_dir)
    places = store.load_places()
    if not len(places):
        raise NotFoundError(
            f"no crowd places are stored for subdistrict {store.subdistrict}: "
            f"patrol --subdistrict {store.subdistrict} crowd places FILE"
        )
    return places


def crowd_page() -> None:
    """Crowd places coloured by level, alerts with nearest staff, timelines and the replay."""
    from gis.crowd import watch
    from gis.crowd.forecast import holiday_profile
    from gis.crowd.places import Levels
    from layers.crowd import crowd_layer

    c = guard(PAGE)
    geo = geography(c)
    st.subheader(c.t("crowd.title"))
    store = capabilities.store(c)
    if store is None:
        st.warning(c.t("cases.store_missing"))
        return
    try:
        places = _places(c, store)
    except PatrolError as exc:
        st.warning(c.t("crowd.no_places", message=plain(exc, ERROR_CHARS)))
        m = base_map(c)
        draw_base_layers(c, m)
        add_layer_control(m)
        show_map(m, key="crowd_map")
        return
    staff = _staff(c, store)
    flash = st.session_state.pop("crowd_flash", None)
    if flash:
        st.success(flash)
    left, right = st.columns([3, 2])
    with right:
        replay = _controls(c, store, places, staff)
    now = replay.clock if replay is not None else dt.datetime.now(TZ)
    if replay is None:
        st.caption(c.t("crowd.clock", time=format_datetime(now, c.lang)))
    try:
        result = watch.check(store, places, now, store_alerts=False)
    except PatrolError as exc:
        st.error(c.t("app.error", message=plain(exc, ERROR_CHARS)))
        return
    levels = Levels()
    status = {}
    for _, r in result.table.iterrows():
        occ = None if pd.isna(r["now"]) else float(r["now"])
        peak = result.forecast.loc[result.forecast["place_id"] == r["place_id"], "mean"].max()
        status[r["place_id"]] = {
            "level": levels.level(occ or 0.0, float(r["capacity"])),
            "occupancy": occ,
            "forecast_peak": None if pd.isna(peak) else float(peak),
        }
    with left:
        m = base_map(c)
        draw_base_layers(c, m)
        crowd_layer(m, places, status, lang=c.lang)
        add_layer_control(m)
        show_map(m, key="crowd_map", height=520)
        if len(result.series):
            _timeline(c, result, places)
    with right:
        st.markdown(f"**{c.t('crowd.alerts')}**")
        since = now - dt.timedelta(hours=12)
        mine = _places_in_scope(c, geo, places)
        alerts = [
            a for a in store.query_alerts(since=since) if a.raised_at <= now and a.place_id in mine
        ]
        if not alerts:
            st.info(c.t("crowd.no_alerts"))
        for a in alerts:
            _alert_card(c, store, places, geo, a)
    _report(c, store, places, now.astimezone(TZ).date())
    if st.toggle(c.t("crowd.holiday_show"), key="crowd_holiday"):
        pid = st.session_state.get("crowd_place", places["place_id"].iloc[0])
        series = watch.load_series(store, places, now, 400)
        if pid in series:
            day, prof = holiday_profile(series[pid], after=now.astimezone(TZ).date())
            if day is None:
                st.info(c.t("crowd.no_holiday"))
            else:
                st.caption(c.t("crowd.holiday", day=day.isoformat()))
                st.line_chart(prof.set_index("at")[["mean", "lo", "hi"]])
