"""People use cases both front ends call: staff, districts, roster, day plan, tracks, coverage."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from gis.errors import AuthError, ValidationError
from gis.geography.layers import Geography
from gis.localtime import LOCAL_TZ as TZ
from gis.people.assignments import assignments_from_districts
from gis.people.calendar import month_days
from gis.people.coverage import ShiftCoverage, not_walked, shift_coverage, walked_segments
from gis.people.dayplan import DayInputs, DayPlanner, PersonPlan
from gis.people.mapmatch import MapMatcher
from gis.people.roster import SHIFTS, RosterEntry, RosterRules, ShiftHours, generate_roster
from gis.people.signin import (
    Recorder,
    SignIn,
    SigninRules,
    attendance,
    attendance_summary,
    check_signin,
)
from gis.people.staff import Person, read_people_csv
from gis.people.tracks import Track, clean_track, read_gpx
from gis.settings import Settings
from gis.store.base import Store

log = logging.getLogger(__name__)


def demo_people(settings: Settings) -> list[Person]:
    """The bundled fictitious staff (data/staff_demo.csv)."""
    return read_people_csv(Path(settings.data_dir) / "staff_demo.csv")


def import_staff(store: Store, people: Sequence[Person], *, by: str) -> tuple[int, int]:
    """Add or update people in the store; returns (added, updated)."""
    added, updated = store.people.save_people(people, by=by)
    log.info("%s saved staff: %d added, %d updated", by, added, updated)
    return added, updated


def record_districts(
    store: Store,
    assignment: Mapping[str, str],
    day: dt.date,
    *,
    by: str,
    segment_district: Mapping[str, str] | None = None,
) -> int:
    """Put a district plan (segment → person) in force from ``day`` as dated assignments.

    Segments whose person is not on the staff are left out (and logged): responsibility is
    recorded only for named people. Returns the number of assignments written.
    """
    known = {p.person_id for p in store.people.list_people()}
    named = {s: p for s, p in assignment.items() if p in known}
    if len(named) < len(assignment):
        log.warning(
            "%d segment(s) assigned to people not on the staff were not recorded",
            len(assignment) - len(named),
        )
    rows = assignments_from_districts(named, day, segment_district=segment_district, assigned_by=by)
    return store.people.assign(rows)


def make_month_roster(
    store: Store,
    year: int,
    month: int,
    *,
    by: str,
    rules: RosterRules | None = None,
) -> list[RosterEntry]:
    """Generate and save a month's roster for everyone on the staff.

    Leave already entered for the month is kept; the last duty of the previous month
    carries the rest rule across the month boundary.

    Raises
    ------
    ValidationError
        The staff table is empty.
    """
    days = month_days(year, month)
    people = store.people.list_people()
    if not people:
        raise ValidationError(
            "the staff table is empty", field="staff", fix="import staff first: patrol staff import"
        )
    existing = store.people.roster(days[0], days[-1])
    fixed = {(e.person_id, e.day): e.duty for e in existing if e.duty == "leave"}
    prev_day = days[0] - dt.timedelta(days=1)
    previous = {e.person_id: e.duty for e in store.people.roster(prev_day, prev_day)}
    entries = generate_roster(people, days, rules=rules, fixed=fixed, previous=previous)
    kept = {(e.person_id, e.day): e for e in existing if e.duty == "leave"}
    entries = [
        kept.get((e.person_id, e.day)) or RosterEntry(e.day, e.person_id, e.duty, edited_by=by)
        for e in entries
    ]
    store.people.save_roster(entries, start=days[0], end=days[-1])
    log.info("%s made the roster for %04d-%02d (%d cells)", by, year, month, len(entries))
    return entries


# -- the day plan ------------------------------------------------------------------------
def center_node(geo: Geography) -> int:
    """The junction nearest the enforcement center (where every shift starts and ends)."""
    from gis.planning.routing import node_for_point

    pois = geo.pois
    hits = pois.loc[pois["kind"] == "enforcement_center"] if "kind" in pois.columns else pois
    if hits.empty:
        raise ValidationError(
            "the geography has no enforcement-center POI",
            field="pois",
            fix="add a POI of kind enforcement_center",
        )
    return node_for_point(geo.G, hits.iloc[0].geometry)[0]


def center_point(geo: Geography) -> Point:
    """The enforcement center (EPSG:32650)."""
    pois = geo.pois
    hits = pois.loc[pois["kind"] == "enforcement_center"] if "kind" in pois.columns else pois
    if hits.empty:
        raise ValidationError("the geography has no enforcement-center POI", field="pois")
    return hits.iloc[0].geometry


def plan_day(
    store: Store,
    geo: Geography,
    day: dt.date,
    *,
    hours: ShiftHours | None = None,
    walk_speed_kmh: float = 4.5,
    cases: gpd.GeoDataFrame | None = None,
) -> list[PersonPlan]:
    """The day plan of everyone on a shift on ``day`` (from the stored roster).

    Raises
    ------
    ValidationError
        No roster for the day.
    """
    entries = store.people.roster(day, day)
    if not entries:
        raise ValidationError(
            f"no roster for {day}",
            field="date",
            fix=f"make it first: patrol roster make --month {day:%Y-%m}",
        )
    districts: dict[str, list[str]] = {}
    for a in store.people.assignments_on(day):
        districts.setdefault(a.person_id, []).append(a.segment_id)
    inputs = DayInputs(
        day=day,
        people=store.people.list_people(active_on=day),
        duties={e.person_id: e.duty for e in entries},
        districts=districts,
        cases=store.cases_frame() if cases is None else cases,
        hours=hours or ShiftHours(),
        walk_speed_kmh=walk_speed_kmh,
    )
    return DayPlanner(geo.G, center_node(geo)).plan_day(inputs)


def assign_demo_districts(
    store: Store, geo: Geography, day: dt.date, *, by: str, seed: int = 0
) -> int:
    """Draw one district per resident duty officer on the staff and record them from ``day``."""
    from gis.planning.partition import districts_for_people

    officers = [
        p.person_id
        for p in store.people.list_people(active_on=day)
        if p.presence == "resident" and p.role == "duty_officer"
    ]
    if not officers:
        raise ValidationError(
            "no resident duty officer on the staff", field="staff", fix="import staff first"
        )
    plan = districts_for_people(geo.segments, officers, seed=seed)
    return record_districts(store, plan.assignment, day, by=by)


# -- tracks and coverage -----------------------------------------------------------------
def import_track(
    store: Store,
    geo: Geography,
    data: bytes,
    *,
    person_id: str,
    day: dt.date,
    by: str,
    now: dt.datetime,
    source: str = "track.gpx",
    datum: str = "wgs84",
) -> tuple[Track, bool]:
    """Read, clean and store a GPX track; returns the track and whether it was new."""
    store.people.get_person(person_id)
    fixes, name = read_gpx(data, source=source)
    track = clean_track(
        fixes,
        person_id=person_id,
        day=day,
        area_metric=geo.boundary.union_all(),
        now=now,
        source=source,
        datum=datum,
        name=name,
        uploaded_by=by,
    )
    return track, store.people.add_track(track)


@dataclass(frozen=True)
class CoverageReport:
    """Per person and shift coverage of a day, and district streets not walked in a week."""

    day: dt.date
    rows: tuple[ShiftCoverage, ...]
    not_walked: Mapping[str, tuple[str, ...]]


def coverage_report(
    store: Store,
    geo: Geography,
    day: dt.date,
    *,
    plans: Sequence[PersonPlan] | None = None,
    hours: ShiftHours | None = None,
    matcher: MapMatcher | None = None,
) -> CoverageReport:
    """What was really patrolled on ``day`` against the day plan."""
    hours = hours or ShiftHours()
    matcher = matcher or MapMatcher(geo.segments)
    if plans is None:
        plans = plan_day(store, geo, day, hours=hours)
    tracks = store.people.tracks(start=day, end=day)
    week = store.people.tracks(start=day - dt.timedelta(days=6), end=day)
    districts: dict[str, list[str]] = {}
    for a in store.people.assignments_on(day):
        districts.setdefault(a.person_id, []).append(a.segment_id)
    lengths = dict(zip(geo.segments["segment_id"], geo.segments["length_m"], strict=True))
    rows = [
        shift_coverage(
            tracks,
            matcher,
            person_id=p.person_id,
            day=day,
            shift=p.shift,
            hours=hours,
            planned=p.segments,
            post=districts.get(p.person_id, ()),
            segment_length=lengths,
        )
        for p in plans
    ]
    walked_week = walked_segments(week, matcher)
    missing = {pid: tuple(not_walked(segs, walked_week)) for pid, segs in districts.items()}
    return CoverageReport(day, tuple(rows), missing)


# -- sign-in -----------------------------------------------------------------------------
def district_geometry(store: Store, geo: Geography, person_id: str, day: dt.date) -> Any:
    """The union of the person's district segments on ``day`` (EPSG:32650), or None."""
    segs = {a.segment_id for a in store.people.assignments_on(day, person_id=person_id)}
    if not segs:
        return None
    rows = geo.segments.loc[geo.segments["segment_id"].isin(segs)]
    return rows.geometry.union_all() if len(rows) else None


def sign_in(
    store: Store,
    geo: Geography,
    person_id: str,
    *,
    by: Recorder,
    now: dt.datetime,
    at: dt.datetime | None = None,
    lon: float | None = None,
    lat: float | None = None,
    slot: str | None = None,
    rules: SigninRules | None = None,
    note: str = "",
    allowed: Collection[str] | None = None,
) -> SignIn:
    """Check and store one sign-in (refusals store nothing; a second one is a ConflictError).

    ``allowed`` limits whom the recorder may sign in (an area chief: their own people).
    """
    store.people.get_person(person_id)
    if allowed is not None and person_id not in allowed and by.person_id != person_id:
        raise AuthError(
            f"{by.username} cannot record a sign-in for {person_id}: not one of their people"
        )
    when = at or now
    s = check_signin(
        person_id,
        at=when,
        now=now,
        by=by,
        lon=lon,
        lat=lat,
        center_metric=center_point(geo),
        district_metric=district_geometry(store, geo, person_id, when.astimezone(TZ).date()),
        slot=slot,
        rules=rules,
        note=note,
    )
    return store.people.add_signin(s)


def attendance_between(
    store: Store, start: dt.date, end: dt.date, *, now: dt.datetime
) -> pd.DataFrame:
    """Expected sign-ins from the roster with their status, ``start``…``end`` inclusive."""
    roster = store.people.roster(start, end)
    teams = {p.person_id: p.team for p in store.people.list_people()}
    return attendance(
        [(e.day, e.person_id, e.duty) for e in roster],
        store.people.signins(start, end),
        now=now,
        teams=teams,
    )


def people_report(
    store: Store,
    geo: Geography,
    start: dt.date,
    end: dt.date,
    *,
    now: dt.datetime,
) -> dict[str, Any]:
    """The people sections of a report for ``start``…``end`` inclusive.

    Returns keyword arguments for :func:`gis.analytics.report_html.render_html`: ``attendance`` (per team
    and per person) and ``coverage`` (per person and shift, on the days with tracks).
    """
    table = attendance_between(store, start, end, now=now)
    names = {p.person_id: p.name for p in store.people.list_people()}
    person = attendance_summary(table, by="person_id")
    if not person.empty:
        person.insert(1, "name", person["person_id"].map(names).fillna(""))
    out: dict[str, Any] = {
        "attendance": {"team": attendance_summary(table, by="team"), "person": person}
    }
    track_days = sorted({t.day for t in store.people.tracks(start=start, end=end)})
    rows = []
    matcher = MapMatcher(geo.segments) if track_days else None
    for day in track_days:
        try:
            rep = coverage_report(store, geo, day, matcher=matcher)
        except ValidationError:  # no roster that day
            continue
        for r in rep.rows:
            rows.append(
                {
                    "day": day.isoformat(),
                    "person_id": r.person_id,
                    "shift": r.shift,
                    "planned_m": round(r.planned_m),
                    "covered_m": round(r.covered_m),
                    "covered_share": round(r.covered_share, 2),
                    "on_post_share": round(r.on_post_share, 2),
                    "gaps": len(r.gaps),
                }
            )
    out["coverage"] = pd.DataFrame(rows)
    return out


def plan_person_day(
    store: Store,
    geo: Geography,
    day: dt.date,
    person_id: str,
    *,
    hours: ShiftHours | None = None,
    walk_speed_kmh: float = 4.5,
    cases: gpd.GeoDataFrame | None = None,
) -> PersonPlan | None:
    """One person's plan of the day (None when they have no shift that day)."""
    entries = store.people.roster(day, day, person_id=person_id)
    if not entries or entries[0].duty not in SHIFTS:
        return None
    person = store.people.get_person(person_id)
    districts = {
        person_id: [a.segment_id for a in store.people.assignments_on(day, person_id=person_id)]
    }
    inputs = DayInputs(
        day=day,
        people=[person],
        duties={person_id: entries[0].duty},
        districts=districts,
        cases=store.cases_frame() if cases is None else cases,
        hours=hours or ShiftHours(),
        walk_speed_kmh=walk_speed_kmh,
    )
    return DayPlanner(geo.G, center_node(geo)).plan_person(person, entries[0].duty, inputs)


def staff_of_store(settings: Settings) -> list[Person]:
    """The named staff of the configured store, for documents that name people.

    Empty when there is no store yet (a GeoPackage is not created just to look) or it cannot
    be read (the documents then show ids); the reason is logged.
    """
    from gis.errors import PatrolError
    from gis.people.staff import stored_people
    from gis.store import open_store

    if not settings.uses_postgis and not Path(settings.database_url).exists():
        return []
    try:
        with open_store(settings) as store:
            return stored_people(store)
    except PatrolError as exc:
        log.warning("documents show ids, not names: the store's staff are unavailable (%s)", exc)
        return []
