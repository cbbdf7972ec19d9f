"""我的一天 My day (patrol member): today's duty, sign-in, the day plan and a GPX upload."""

from __future__ import annotations

import logging
from typing import Any

import streamlit as st

from gis.errors import PatrolError
from gis.geography.crs import DATUMS
from gis.i18n import format_number
from gis.people.daysheet import day_sheet_html
from gis.people.roster import SHIFTS
from gis.people.service import import_track, plan_person_day, sign_in
from gis.people.signin import Recorder
from ui.common import ERROR_CHARS, Context, geography, guard, people, plain
from ui.names import category_names
from ui.people import now, people_store, person_or_none, plans_map, signin_text

log = logging.getLogger(__name__)
PAGE = "myday"


def _position(c: Context) -> tuple[float | None, float | None]:
    """The browser's position when the person allows it (a maintained component), else None."""
    if not st.checkbox(c.t("myday.signin_help"), key="myday_use_position"):
        return None, None
    try:
        from streamlit_js_eval import get_geolocation
    except ImportError:  # the component is optional: sign in without a position
        return None, None
    got = get_geolocation(component_key="myday_geolocation")
    coords = got.get("coords") if isinstance(got, dict) else None
    if not isinstance(coords, dict):
        st.caption(c.t("myday.no_position"))
        return None, None
    lat, lon = float(coords["latitude"]), float(coords["longitude"])
    st.caption(c.t("myday.position", lat=lat, lon=lon))
    return lon, lat


def _signin(c: Context, s: Any, pid: str) -> None:
    st.markdown(f"**{c.t('myday.signin')}**")
    today = now().date()
    for done in s.people.signins(today, today, person_id=pid):
        st.success(signin_text(c, done))
    lon, lat = _position(c)
    if st.button(c.t("myday.signin"), key="myday_signin_button"):
        by = Recorder(c.user.username, c.user.role, c.user.person_id)
        try:
            done = sign_in(s, geography(c), pid, by=by, now=now(), lon=lon, lat=lat)
        except PatrolError as exc:
            st.error(plain(exc, ERROR_CHARS))
            return
        log.info("%s signed in (%s)", pid, done.slot)
        st.success(signin_text(c, done))


def _upload(c: Context, s: Any, pid: str) -> None:
    st.markdown(f"**{c.t('myday.upload')}**")
    up = st.file_uploader(c.t("myday.upload"), type=["gpx"], key="myday_gpx")
    datum = st.selectbox(c.t("myday.datum"), DATUMS, key="myday_datum")
    if up is None or not st.button(c.t("myday.upload_button"), key="myday_upload_button"):
        return
    try:
        track, new = import_track(
            s,
            geography(c),
            up.getvalue(),
            person_id=pid,
            day=now().date(),
            by=c.user.username,
            now=now(),
            source="upload.gpx",
            datum=datum,
        )
    except PatrolError as exc:
        st.error(plain(exc, ERROR_CHARS))
        return
    if new:
        st.success(
            c.t(
                "myday.uploaded",
                points=format_number(len(track.times), c.lang),
                start=f"{track.started_at:%H:%M}",
                end=f"{track.ended_at:%H:%M}",
            )
        )
    else:
        st.info(c.t("myday.duplicate"))
    for note in track.notes:
        st.caption(c.t("myday.cleaned", note=plain(note, ERROR_CHARS)))


def stops_table(c: Context, stops: Any) -> list[dict[str, object]]:
    """The day's case stops with headers in the user's language and categories by name."""
    from gis.cases.categories import load_references

    try:
        cats = category_names(load_references(c.settings.data_dir), c.lang)
    except (OSError, PatrolError):  # no tables: the codes identify the category
        cats = {}
    return [
        {
            "#": i,
            c.t("cases.id"): stop.case_id,
            c.t("cases.category"): cats.get(stop.category, stop.category),
            c.t("col.street"): stop.street,
        }
        for i, stop in enumerate(stops, start=1)
    ]


def myday_page() -> None:
    """Today's duty, sign-in, plan and track upload of the logged-in patrol member."""
    c = guard(PAGE)
    st.subheader(c.t("myday.title"))
    s = people_store(c)
    pid = c.user.person_id
    if s is None or not pid:
        st.info(c.t("myday.no_person"))
        return
    person = person_or_none(s, pid)
    if person is None:
        st.info(c.t("myday.not_on_staff", person=plain(people(c).get(pid, pid))))
        st.caption(plain(pid))
        return
    today = now().date()
    cells = s.people.roster(today, today, person_id=pid)
    duty = cells[0].duty if cells else None
    if duty is None:
        st.info(c.t("myday.no_roster"))
    else:
        st.write(
            c.t(
                "myday.duty",
                day=today.isoformat(),
                name=plain(person.name),
                duty=c.t(f"duty.{duty}"),
            )
        )
    _signin(c, s, pid)
    if duty in SHIFTS:
        st.markdown(f"**{c.t('myday.plan')}**")
        try:
            plan = plan_person_day(
                s, geography(c), today, pid, walk_speed_kmh=c.settings.walk_speed_kmh
            )
        except PatrolError as exc:
            st.error(plain(exc, ERROR_CHARS))
            plan = None
        if plan is not None:
            st.write(
                c.t(
                    "myday.route",
                    task=c.t(f"duty.{plan.shift}"),
                    km=format_number(plan.route_m / 1000, c.lang, digits=1),
                    minutes=format_number(round(plan.minutes), c.lang),
                )
            )
            if plan.stops:
                st.dataframe(stops_table(c, plan.stops), hide_index=True)
            if plan.streets:
                st.caption(" → ".join(plain(s) for s in plan.streets[:40]))
            for note in plan.notes:
                st.caption(plain(note, ERROR_CHARS))
            plans_map(c, [plan], key="myday_map")
            st.download_button(
                c.t("myday.print"),
                day_sheet_html(today, [plan]).encode("utf-8"),
                file_name=f"day-{pid}-{today.isoformat()}.html",
                mime="text/html",
                key="myday_print",
            )
        elif duty in SHIFTS:
            st.info(c.t("myday.off", duty=c.t(f"duty.{duty}")))
    elif duty is not None:
        st.info(c.t("myday.off", duty=c.t(f"duty.{duty}")))
    _upload(c, s, pid)
