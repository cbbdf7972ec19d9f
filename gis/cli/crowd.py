"""Crowd subcommands: ``patrol crowd places|ingest|follow|forecast|alerts|demo``."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
from pathlib import Path
from typing import Any

from gis.errors import PatrolError, ValidationError
from gis.localtime import LOCAL_TZ as TZ
from gis.localtime import now_local, parse_date, parse_instant
from gis.settings import Settings

log = logging.getLogger(__name__)

LEVEL_ZH = {"none": "正常", "blue": "蓝", "yellow": "黄", "orange": "橙", "red": "红"}


def _per_person(items: list[str] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items or []:
        pid, _, value = item.partition("=")
        try:
            out[pid.strip()] = float(value)
        except ValueError:
            raise ValidationError(
                f"{item!r} is not PLACE=M2", field="--per-person", fix="e.g. YDQ=0.8"
            ) from None
    return out


def _levels(text: str | None) -> Any:
    from gis.crowd.places import Levels

    if not text:
        return Levels()
    try:
        blue, yellow, orange, red = (float(v) for v in text.split(","))
    except ValueError:
        raise ValidationError(
            f"{text!r} is not four shares", field="--levels", fix="e.g. 0.6,0.8,1.0,1.2"
        ) from None
    return Levels.from_shares(blue, yellow, orange, red)


def _time(text: str | None) -> dt.datetime:
    return parse_instant(text, source="command line", field="--at") if text else now_local()


def _open(settings: Settings) -> tuple[Any, Any]:
    from gis.crowd.watch import ensure_places
    from gis.store import open_store

    store = open_store(settings)
    return store, ensure_places(store, settings.data_dir)


def _staff(settings: Settings, store: Any) -> Any:
    from gis.crowd.watch import staff_context
    from gis.services.subdistricts import settings_geography, subdistrict_staff

    try:
        geo = settings_geography(settings)
        staff = subdistrict_staff(store, settings)  # the subdistrict's staff in the store
    except PatrolError as exc:
        log.warning("no staff positions (%s): alerts carry no nearest staff", exc)
        return None
    if staff.empty:
        log.warning("no staff stored for %s: alerts carry no nearest staff", store.subdistrict)
        return None
    return staff_context(store, geo, staff, settings.walk_speed_kmh, settings.shift_hours_parsed())


# -- places ------------------------------------------------------------------------------------
def _cmd_places(args: argparse.Namespace, settings: Settings) -> int:
    from gis.crowd.places import bundled_places_path, load_places
    from gis.store import open_store

    levels = _levels(args.levels)
    path = Path(args.file) if args.file else bundled_places_path(settings.data_dir)
    gdf = load_places(path, per_person_override=_per_person(args.per_person))
    if args.save:
        with open_store(settings) as store:
            n = store.save_places(gdf)
        print(f"saved {n} places from {path.name}")
    print("place_id  名称  可用面积m²  人均m²  瞬时承载量  蓝/黄/橙/红 人数  counters")
    for _, p in gdf.iterrows():
        th = levels.thresholds(float(p["capacity"]))
        print(
            f"{p['place_id']}  {p['name']}  {p['usable_area_m2']:.0f}  {p['per_person_m2']:g}  "
            f"{p['capacity']}  "
            + "/".join(f"{th[c]:.0f}" for c in ("blue", "yellow", "orange", "red"))
            + f"  {','.join(p['counters'])}"
        )
    return 0


# -- ingest / follow ---------------------------------------------------------------------------
def _cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from gis.crowd.counts import read_counts_csv
    from gis.crowd.watch import ingest_batch

    store, places = _open(settings)
    with store:
        batch = read_counts_csv(args.file, places, encoding=args.encoding)
        n = ingest_batch(store, batch)
        for note in batch.notes:
            print(f"note: {note}")
        print(f"{Path(args.file).name}: {len(batch)} rows read, {n} new stored")
    return 0


def _cmd_follow(args: argparse.Namespace, settings: Settings) -> int:
    from gis.crowd.counts import state_from_counts
    from gis.crowd.follow import CountsFollower
    from gis.crowd.watch import all_counters, check, ingest_batch

    store, places = _open(settings)
    with store:
        recent = store.query_counts(
            since=dt.datetime.now(TZ) - dt.timedelta(days=2), counters=all_counters(places)
        )
        staff = _staff(settings, store) if args.check else None

        def sink(batch: Any) -> None:
            n = ingest_batch(store, batch)
            print(f"+{n} rows up to {batch.frame['at'].max():%Y-%m-%d %H:%M}", flush=True)
            if args.check:
                res = check(store, places, batch.frame["at"].max().to_pydatetime(), staff=staff)
                for a in res.new_alerts:
                    print(_alert_line(a, places), flush=True)

        follower = CountsFollower(
            args.file, places, sink, state=state_from_counts(recent), encoding=args.encoding
        )
        try:
            result = follower.run(
                poll_seconds=args.poll, max_seconds=args.max_seconds, idle_seconds=args.idle_seconds
            )
        except KeyboardInterrupt:  # pragma: no cover - interactive stop
            result = follower.result
        for err in result.errors:
            print(f"refused: {err}")
        print(f"followed {Path(args.file).name}: {result.batches} batches, {result.rows} rows")
    return 1 if result.errors and not result.rows else 0


# -- forecast ----------------------------------------------------------------------------------
def _cmd_forecast(args: argparse.Namespace, settings: Settings) -> int:
    from gis.crowd.forecast import holiday_profile
    from gis.crowd.watch import WatchConfig, check, load_series

    store, places = _open(settings)
    now = _time(args.at)
    levels = _levels(args.levels)
    with store:
        res = check(
            store,
            places,
            now,
            config=WatchConfig(levels=levels, horizon_min=args.horizon),
            store_alerts=False,
        )
        print(f"{res.now:%Y-%m-%d %H:%M} 客流 (人) / occupancy now and forecast")
        print("place  名称  承载量  现在  15分  60分  120分  等级(120分内最高)")
        names = dict(zip(places["place_id"], places["name"], strict=True))
        for _, r in res.table.iterrows():
            peak = res.forecast[res.forecast["place_id"] == r["place_id"]]["mean"].max()
            top = levels.level(max(float(peak), float(r["now"] or 0)), float(r["capacity"]))
            print(
                f"{r['place_id']}  {names[r['place_id']]}  {r['capacity']:.0f}  "
                f"{r['now']:.0f}  {r['f15']:.0f}  {r['f60']:.0f}  {r['f120']:.0f}  "
                f"{LEVEL_ZH[top]}"
            )
        if args.holiday:
            series = load_series(store, places, now, 400)
            for pid in series.columns:
                day, prof = holiday_profile(series[pid], after=now.date())
                if day is None:
                    print(f"{pid}: the holiday calendar knows no next holiday")
                    continue
                i = prof["mean"].idxmax()
                print(
                    f"{pid} 下一个节假日 {day}: 预计峰值 {prof['mean'][i]:.0f} 人 "
                    f"({prof['at'][i]:%H:%M})，区间 {prof['lo'][i]:.0f}–{prof['hi'][i]:.0f}"
                )
    return 0


# -- alerts ------------------------------------------------------------------------------------
def _alert_line(a: Any, places: Any) -> str:
    names = dict(zip(places["place_id"], places["name"], strict=True))
    rows = a.detail.get("staff", [])
    staff = ", ".join(f"{s['name']} {s['minutes']:.0f}分钟" for s in rows)
    source = {"roster": "按排班", "districts": "按责任片区"}.get(
        str(rows[0].get("source", "")) if rows else "", ""
    )
    return (
        f"{a.alert_id}  {names.get(a.place_id, a.place_id)}  {LEVEL_ZH[a.level]}色  "
        f"{a.raised_at:%m-%d %H:%M} 预计 {a.expected_at.astimezone(TZ):%H:%M} "
        f"(提前 {a.lead_min:.0f} 分钟)  现有 {a.occupancy:.0f}/{a.capacity}  {a.state}"
        + (f" by {a.acted_by}" if a.acted_by else "")
        + (f" → {a.case_id}" if a.case_id else "")
        + (f"  最近: {staff}" + (f"（{source}）" if source else "") if staff else "")
    )


def _cmd_alerts(args: argparse.Namespace, settings: Settings) -> int:
    from gis.crowd.watch import WatchConfig, acknowledge_alert, check, escalate_alert

    store, places = _open(settings)
    with store:
        if args.check:
            res = check(
                store,
                places,
                _time(args.at),
                config=WatchConfig(levels=_levels(args.levels)),
                staff=_staff(settings, store),
            )
            print(f"check at {res.now:%Y-%m-%d %H:%M}: {len(res.new_alerts)} new alerts")
        if args.ack or args.raise_id:
            if not args.who:
                raise ValidationError("who acts is not given", field="--who", fix="add --who NAME")
            alert_id = args.ack or args.raise_id
            version = args.version or store.get_alert(alert_id).version
            if args.ack:
                a = acknowledge_alert(store, alert_id, who=args.who, version=version)
                print(f"acknowledged {a.alert_id} by {a.acted_by}")
            else:
                geo = None
                try:
                    from gis.services.subdistricts import settings_geography

                    geo = settings_geography(settings)
                except PatrolError as exc:  # the case is still raised, without a zone
                    log.warning("the case gets no zone: %s", exc)
                a, case = escalate_alert(
                    store, places, alert_id, who=args.who, tier=args.tier, version=version, geo=geo
                )
                print(f"raised {a.alert_id} to case {case.case_id} ({case.category}, {case.tier})")
        since = _time(args.since) if args.since else None
        for a in store.query_alerts(since=since, place_id=args.place, state=args.state):
            print(_alert_line(a, places))
    return 0


# -- demo --------------------------------------------------------------------------------------
def _cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from gis.crowd.watch import advance_replay, current_replay, seed_demo

    store, places = _open(settings)
    with store:
        replay = current_replay(store)
        if replay is None or args.reset:
            day = parse_date(args.day, source="--day", field="day")
            replay = seed_demo(store, places, day=day, weeks=args.weeks)
            print(
                f"seeded synthetic counts up to {replay.clock:%Y-%m-%d %H:%M} "
                f"(holiday replay of {replay.day}); {store.count_counts()} rows stored"
            )
        if args.replay:
            replay, raised = advance_replay(
                store, places, args.replay, staff=_staff(settings, store)
            )
            print(f"replayed to {replay.clock:%Y-%m-%d %H:%M}: {len(raised)} alerts")
            for a in raised:
                print(_alert_line(a, places))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``patrol crowd …``."""
    crowd = sub.add_parser("crowd", help="crowd-flow early warning (客流预警)")
    csub = crowd.add_subparsers(dest="crowd_command", required=True)

    p = csub.add_parser("places", help="watched places, capacity and level thresholds")
    p.add_argument("--file", help="a places GeoJSON (default: the data folder's)")
    p.add_argument("--per-person", action="append", metavar="PLACE=M2", help="per-person space")
    p.add_argument("--levels", help="shares of capacity for 蓝,黄,橙,红 (default 0.6,0.8,1.0,1.2)")
    p.add_argument("--save", action="store_true", help="store them (replaces the stored places)")
    p.set_defaults(func=_cmd_places)

    p = csub.add_parser("ingest", help="take in a counts CSV (all or nothing)")
    p.add_argument("file")
    p.add_argument("--encoding", help="force an encoding (default: UTF-8, BOM or GBK)")
    p.set_defaults(func=_cmd_ingest)

    p = csub.add_parser("follow", help="follow a growing counts file (camera platform exports)")
    p.add_argument("file")
    p.add_argument("--encoding")
    p.add_argument("--poll", type=float, default=2.0, help="seconds between reads")
    p.add_argument("--max-seconds", type=float, help="stop after this long")
    p.add_argument("--idle-seconds", type=float, help="stop when the file is quiet this long")
    p.add_argument("--check", action="store_true", help="forecast and raise alerts per batch")
    p.set_defaults(func=_cmd_follow)

    p = csub.add_parser("forecast", help="occupancy now, in 15/60/120 minutes, next holiday")
    p.add_argument("--at", help="as of this time (Beijing; default now)")
    p.add_argument("--horizon", type=int, default=120)
    p.add_argument("--levels")
    p.add_argument("--holiday", action="store_true", help="the next holiday's day profile")
    p.set_defaults(func=_cmd_forecast)

    p = csub.add_parser("alerts", help="list, check, acknowledge or raise alerts to a case")
    p.add_argument("--check", action="store_true", help="forecast now and raise the alerts due")
    p.add_argument("--at", help="check as of this time (Beijing)")
    p.add_argument("--levels")
    p.add_argument("--since", help="alerts raised since")
    p.add_argument("--place")
    p.add_argument("--state", choices=("open", "acknowledged", "escalated"))
    p.add_argument("--ack", metavar="ALERT_ID", help="acknowledge an alert")
    p.add_argument("--raise", dest="raise_id", metavar="ALERT_ID", help="raise to a C29 case")
    p.add_argument("--tier", choices=("major", "emergency"), default="major")
    p.add_argument("--who", help="who acts")
    p.add_argument("--version", type=int, help="the alert version you saw (optimistic lock)")
    p.set_defaults(func=_cmd_alerts)

    p = csub.add_parser("demo", help="seed synthetic counts and replay the last holiday")
    p.add_argument("--replay", type=int, default=0, metavar="MINUTES", help="advance the replay")
    p.add_argument("--day", help="the holiday to replay (default: the last one)")
    p.add_argument("--reset", action="store_true", help="seed again")
    p.add_argument("--weeks", type=int, default=6, help="weeks of history before the holiday")
    p.set_defaults(func=_cmd_demo)
