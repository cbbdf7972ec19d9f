"""The crowd-watch use cases both front ends call: check now, ingest, seed and replay the demo."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from gis.crowd.alerts import EPISODE, Alert, acknowledge, evaluate_alerts
from gis.crowd.calendar import last_holiday
from gis.crowd.counts import CountBatch, place_series
from gis.crowd.forecast import ProfileModel, floor_now, forecast_places, nowcast_table
from gis.crowd.places import Levels, bundled_places_path, load_places
from gis.crowd.response import (
    StaffPositions,
    nearest_staff,
    on_duty,
    raise_alert_to_case,
    rostered_on_duty,
    staff_positions,
)
from gis.crowd.synthetic import generate_counts
from gis.errors import ConflictError, NotFoundError, PatrolError
from gis.localtime import LOCAL_TZ as TZ
from gis.localtime import parse_date, parse_stored_instant
from gis.people.roster import ShiftHours

log = logging.getLogger(__name__)

#: Store meta key of saved districts (segment → person), shared with the districts page.
ASSIGNMENT_META = "districts.assignment"
#: Store meta keys of the demo replay (its day and the replay clock).
REPLAY_META = "crowd.replay"
#: Store meta key marking the stored counts as synthetic (JSON description).
SYNTHETIC_META = "crowd.synthetic"


@dataclass(frozen=True)
class WatchConfig:
    """Settings of a crowd check (all explicit)."""

    levels: Levels = field(default_factory=Levels)
    horizon_min: int = 120
    history_days: int = 60
    k_staff: int = 3
    walk_speed_kmh: float = 4.5


@dataclass(frozen=True)
class CheckResult:
    """One crowd check: series, forecasts, the per-place table and alerts raised now."""

    now: pd.Timestamp
    series: pd.DataFrame
    forecast: pd.DataFrame
    table: pd.DataFrame
    new_alerts: list[Alert]


def ensure_places(store: Any, data_dir: str | Path) -> gpd.GeoDataFrame:
    """The store's places; the data folder's places file is saved first when it has none."""
    gdf = store.load_places()
    if len(gdf):
        return gdf
    gdf = load_places(bundled_places_path(data_dir))
    store.save_places(gdf)
    return store.load_places()


def all_counters(gdf_places: gpd.GeoDataFrame) -> list[str]:
    """Every counter id of the places."""
    return [c for cs in gdf_places["counters"] for c in cs]


def load_series(
    store: Any, gdf_places: gpd.GeoDataFrame, now: dt.datetime, days: int
) -> pd.DataFrame:
    """5-minute occupancy per place from the store over the ``days`` before ``now``."""
    t = floor_now(now)
    counts = store.query_counts(
        since=(t - pd.Timedelta(days=days)).to_pydatetime(),
        until=(t + pd.Timedelta(minutes=5)).to_pydatetime(),
        counters=all_counters(gdf_places),
    )
    ids = list(gdf_places["place_id"])
    if counts.empty:
        return pd.DataFrame(columns=ids, dtype=float)
    return place_series(counts, ids, step="5min").loc[:t]


#: Where the on-duty people came from: today's duty roster, or the saved districts' staff.
STAFF_SOURCES: tuple[str, ...] = ("roster", "districts")


@dataclass(frozen=True)
class StaffContext:
    """What finding the nearest staff needs: street graph, staff table and positions.

    ``people`` is the store's people tables (:mod:`gis.store.people`); when it holds a duty
    roster for the alert's day, the on-duty people are the rostered ones, otherwise the staff
    table's shifts decide.
    """

    G: Any
    staff: pd.DataFrame
    positions: StaffPositions
    walk_speed_kmh: float = 4.5
    people: Any = None
    hours: ShiftHours = field(default_factory=ShiftHours)

    def with_people(self, store: Any) -> StaffContext:
        """The same context reading the roster and staff of ``store`` (when it keeps them)."""
        try:
            tables = store.people
        except NotImplementedError:
            return self
        return replace(self, people=tables)

    def on_duty_at(self, at: dt.datetime) -> tuple[pd.DataFrame, str]:
        """Who is on duty at ``at`` and where that came from (one of :data:`STAFF_SOURCES`)."""
        if self.people is not None:
            day = at.astimezone(TZ).date()
            entries = self.people.roster(day, day)
            if entries:
                people = self.people.list_people()
                return rostered_on_duty(entries, people, at, self.hours), "roster"
        return on_duty(self.staff, at), "districts"

    def nearest(
        self, gdf_places: gpd.GeoDataFrame, place_id: str, at: dt.datetime, k: int = 3
    ) -> list[dict[str, Any]]:
        """The ``k`` on-duty people nearest (walking) to a place; each row's ``source`` says
        whether the roster or the districts' staff table named them."""
        place = gdf_places[gdf_places["place_id"] == place_id].iloc[0]
        staff, source = self.on_duty_at(at)
        rows = nearest_staff(
            self.G,
            place.geometry.representative_point(),
            staff,
            self.positions,
            walk_speed_kmh=self.walk_speed_kmh,
            k=k,
        )
        return [{**r, "source": source} for r in rows]


def staff_context(
    store: Any,
    geo: Any,
    staff: pd.DataFrame,
    walk_speed_kmh: float,
    hours: ShiftHours | None = None,
) -> StaffContext:
    """Positions from the saved districts; people without one wait at the enforcement center.
    The store's duty roster, where it has one for the day, says who is on duty (its shifts
    spanning ``hours``, the configured roster hours)."""
    ctx = staff_context_for(
        geo, staff, store.get_meta(ASSIGNMENT_META) or "", walk_speed_kmh, hours
    )
    return ctx.with_people(store)


def staff_context_for(
    geo: Any,
    staff: pd.DataFrame,
    assignment_json: str,
    walk_speed_kmh: float,
    hours: ShiftHours | None = None,
) -> StaffContext:
    """:func:`staff_context` from the saved districts' JSON (cacheable by its text)."""
    assignment: Mapping[str, str] = json.loads(assignment_json) if assignment_json else {}
    if not assignment:
        assignment = _default_districts(geo, staff)
    center = geo.pois[geo.pois["kind"] == "enforcement_center"]
    base = center.geometry.iloc[0] if len(center) else None
    pos = staff_positions(
        geo.G, geo.segments, assignment, list(staff["person_id"].astype(str)), base
    )
    return StaffContext(geo.G, staff, pos, walk_speed_kmh, hours=hours or ShiftHours())


def _default_districts(geo: Any, staff: pd.DataFrame) -> Mapping[str, str]:
    """Districts of the resident duty officers when none are saved (a quick plan)."""
    from gis.people.staff_table import resident_officers
    from gis.planning.partition import districts_for_people

    officers = resident_officers(staff)
    if officers.empty:
        return {}
    try:
        plan = districts_for_people(geo.segments, officers, restarts=1, lloyd_rounds=1)
    except PatrolError as exc:
        log.warning("no districts for the nearest-staff search (%s): staff wait at the center", exc)
        return {}
    return dict(plan.assignment)


def check(
    store: Any,
    gdf_places: gpd.GeoDataFrame,
    now: dt.datetime,
    *,
    config: WatchConfig | None = None,
    staff: StaffContext | None = None,
    store_alerts: bool = True,
    series: pd.DataFrame | None = None,
) -> CheckResult:
    """Forecast every place from the stored counts, raise the alerts due and store them.

    ``series`` (5-minute occupancy per place) saves re-reading the store when the caller
    keeps it up to date with what it stored (the replay does).
    """
    config = config or WatchConfig()
    t = floor_now(now)
    if series is None:
        series = load_series(store, gdf_places, t.to_pydatetime(), config.history_days)
    else:
        series = series.loc[:t]
    forecast = forecast_places(series, t, horizon_min=config.horizon_min, model=ProfileModel())
    caps = dict(zip(gdf_places["place_id"], gdf_places["capacity"], strict=True))
    table = nowcast_table(series, forecast, t, caps)
    recent = store.query_alerts(since=(t - pd.Timedelta(EPISODE)).to_pydatetime())

    def staff_for(pid: str) -> list[dict[str, Any]]:
        if staff is None:
            return []
        return staff.nearest(gdf_places, pid, t.to_pydatetime(), config.k_staff)

    new = evaluate_alerts(
        gdf_places,
        series,
        forecast,
        t.to_pydatetime(),
        recent=recent,
        levels=config.levels,
        staff_for=staff_for,
    )
    if new and store_alerts:
        store.add_alerts(new)
    return CheckResult(t, series, forecast, table, new)


def ingest_batch(store: Any, batch: CountBatch) -> int:
    """Store a validated batch (all or nothing); returns the rows new to the store."""
    n = int(store.add_counts(batch.frame))
    for note in batch.notes:
        log.info("%s", note)
    return n


def acknowledge_alert(store: Any, alert_id: str, *, who: str, version: int) -> Alert:
    """Acknowledge an alert if nobody changed it since it was read."""
    current = store.get_alert(alert_id)
    new = acknowledge(current, who=who)
    return store.update_alert(new, expected_version=version)


def escalate_alert(
    store: Any,
    gdf_places: gpd.GeoDataFrame,
    alert_id: str,
    *,
    who: str,
    tier: str,
    version: int,
    geo: Any = None,
    at: dt.datetime | None = None,
) -> tuple[Alert, Any]:
    """Raise an alert to a C29 case (tier major or emergency) through the case workflow."""
    current = store.get_alert(alert_id)
    if current.version != version:
        raise ConflictError(
            f"alert {alert_id} was changed by {current.acted_by or 'someone'} "
            f"({current.state}); reload it"
        )
    zone = None
    if geo is not None:
        place = gdf_places[gdf_places["place_id"] == current.place_id]
        if len(place):
            zone = geo.zone_for_point(place.geometry.iloc[0].representative_point())
    return raise_alert_to_case(store, current, gdf_places, tier=tier, who=who, at=at, zone_id=zone)


# -- the demo: history before the last holiday, then a replay of that holiday ---------------
@dataclass(frozen=True)
class Replay:
    """The replayed holiday: its day and the replay clock (how far its counts are in)."""

    day: dt.date
    clock: dt.datetime
    weeks: int = 6

    def to_json(self) -> str:
        """As stored in the store's meta."""
        return json.dumps(
            {"day": self.day.isoformat(), "clock": self.clock.isoformat(), "weeks": self.weeks}
        )

    @classmethod
    def from_json(cls, text: str) -> Replay:
        """Back from the store's meta."""
        d = json.loads(text)
        return cls(
            parse_date(d["day"], source="store", field="crowd replay day", required=True),
            parse_stored_instant(d["clock"], required=True),
            int(d.get("weeks", 6)),
        )


REPLAY_START_HOUR = 10
DEMO_SEED = 15


def demo_holiday(today: dt.date | None = None) -> dt.date:
    """The holiday the demo replays: the last one before today (the calendar's last known
    holiday when today's year is not covered)."""
    today = today or dt.datetime.now(TZ).date()
    day = last_holiday(today)
    if day is None:
        day = last_holiday(dt.date(today.year - 1, 12, 31)) or dt.date(2026, 10, 5)
    return day


def _replay_feed(gdf_places: gpd.GeoDataFrame, day: dt.date, weeks: int) -> pd.DataFrame:
    start = dt.datetime.combine(day, dt.time(0), TZ) - dt.timedelta(weeks=weeks)
    end = dt.datetime.combine(day, dt.time(0), TZ) + dt.timedelta(days=1)
    return generate_counts(gdf_places, start, end, seed=DEMO_SEED).counts


def seed_demo(
    store: Any, gdf_places: gpd.GeoDataFrame, *, day: dt.date | None = None, weeks: int = 6
) -> Replay:
    """Store ``weeks`` of labelled synthetic counts up to the replayed holiday's morning and set
    the replay clock there. Running it again continues where the stored counts end."""
    day = day or demo_holiday()
    feed = _replay_feed(gdf_places, day, weeks)
    clock = dt.datetime.combine(day, dt.time(REPLAY_START_HOUR), TZ)
    part = feed[feed["at"] <= pd.Timestamp(clock)]
    store.add_counts(part)
    store.set_meta(
        SYNTHETIC_META,
        json.dumps(
            {"generator": "gis.crowd.synthetic", "seed": DEMO_SEED, "weeks": weeks},
            sort_keys=True,
        ),
    )
    replay = Replay(day, clock, weeks)
    store.set_meta(REPLAY_META, replay.to_json())
    return replay


def current_replay(store: Any) -> Replay | None:
    """The demo replay's state, or None when no demo was seeded."""
    raw = store.get_meta(REPLAY_META)
    return Replay.from_json(raw) if raw else None


def advance_replay(
    store: Any,
    gdf_places: gpd.GeoDataFrame,
    minutes: int,
    *,
    config: WatchConfig | None = None,
    staff: StaffContext | None = None,
    step_minutes: int = 5,
) -> tuple[Replay, list[Alert]]:
    """Move the replay clock on by ``minutes``: the holiday's counts up to the new clock go
    into the store the way a feed brings them, and the crowd check runs every
    ``step_minutes``. Returns the new state and the alerts raised on the way."""
    replay = current_replay(store)
    if replay is None:
        raise NotFoundError("no crowd demo yet: run `patrol crowd demo` first")
    feed = _replay_feed(gdf_places, replay.day, replay.weeks)
    end_of_day = dt.datetime.combine(replay.day, dt.time(23, 55), TZ)
    target = min(replay.clock + dt.timedelta(minutes=minutes), end_of_day)
    raised: list[Alert] = []
    config = config or WatchConfig()
    ids = list(gdf_places["place_id"])
    series = load_series(store, gdf_places, replay.clock, config.history_days)
    t = replay.clock
    while t < target:
        nxt = min(t + dt.timedelta(minutes=step_minutes), target)
        part = feed[(feed["at"] > pd.Timestamp(t)) & (feed["at"] <= pd.Timestamp(nxt))]
        store.add_counts(part)
        # the series gains exactly what was stored (with the minutes before, to carry values)
        tail = feed[
            (feed["at"] > pd.Timestamp(t) - pd.Timedelta(minutes=20))
            & (feed["at"] <= pd.Timestamp(nxt))
        ]
        series = place_series(tail, ids, step="5min").combine_first(series)
        raised += check(
            store, gdf_places, nxt, config=config, staff=staff, series=series
        ).new_alerts
        t = nxt
        store.set_meta(REPLAY_META, Replay(replay.day, t, replay.weeks).to_json())
    return Replay(replay.day, t, replay.weeks), raised
