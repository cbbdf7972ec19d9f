"""Coordination subcommands: ``patrol dispatch|joint|consult|inspect|photo ...``."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from gis.access.users import ROLES, User
from gis.cases.workflow import TIERS
from gis.cli.argtypes import float_range
from gis.localtime import LOCAL_TZ as TZ
from gis.localtime import parse_instant
from gis.settings import Settings
from gis.store import open_store


def _time(value: str | None, name: str) -> dt.datetime | None:
    return parse_instant(value, source="command line", field=name) if value else None


def _user(args: argparse.Namespace) -> User:
    return User(
        username=args.by,
        role=args.role,
        department=getattr(args, "dept_of", None),
        person_id=getattr(args, "person", None),
        zones=_codes(getattr(args, "zones", None)),
        fronts=_codes(getattr(args, "fronts", None)),
    )


def _store_user(name: str, settings: Settings) -> User:
    """The user called ``name`` as the store holds them (role, zones, fronts, subdistrict),
    as the app knows them after login; refused when unknown, disabled or of another
    subdistrict."""
    from gis.access.users import open_user_repository
    from gis.errors import AuthError, NotFoundError

    repo = open_user_repository(settings)
    try:
        user, _ = repo.get(name)
    except NotFoundError:
        raise AuthError(
            f"--user {name!r} is not a user of {repo.db.where}; `patrol users list` names "
            "them, an admin adds one with `patrol users add`"
        ) from None
    if not user.active:
        raise AuthError(f"--user {name!r} is disabled; an admin enables the account first")
    if user.subdistrict not in ("*", settings.subdistrict):
        raise AuthError(
            f"--user {name!r} belongs to subdistrict {user.subdistrict!r}, not "
            f"{settings.subdistrict!r}; run `patrol --subdistrict {user.subdistrict} ...`"
        )
    return user


def _codes(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def _print_frame(df: pd.DataFrame) -> None:
    if df.empty:
        print("(none)")
        return
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.tz_convert(TZ).dt.strftime("%Y-%m-%d %H:%M").fillna("")
        elif out[c].dtype == object:
            out[c] = out[c].map(
                lambda v: (
                    v.astimezone(TZ).strftime("%Y-%m-%d %H:%M")
                    if isinstance(v, dt.datetime)
                    else ("" if v is None else v)
                )
            )
    print(out.to_string(index=False))


def _responders(settings: Settings, store: Any):
    """Emergency responders: on-duty people of the saved districts within walking distance."""
    from gis.coordination.handling import assignment_responders
    from gis.errors import PatrolError

    try:
        from gis.services.subdistricts import settings_geography

        geo = settings_geography(settings)
    except PatrolError:
        return None
    return assignment_responders(store, geo.segments)


# ------------------------------------------------------------------ dispatch
def _cmd_register(args: argparse.Namespace, settings: Settings) -> int:
    from gis.coordination import handling

    with open_store(settings) as store:
        case = handling.register_case(
            store, args.case_id, _user(args), tier=args.tier, at=_time(args.at, "--at"),
            responders=_responders(settings, store), note=args.note or "",
        )  # fmt: skip
    print(f"{case.case_id}: registered as {case.tier}")
    return 0


def _cmd_approve(args: argparse.Namespace, settings: Settings) -> int:
    from gis.coordination import handling

    user = _store_user(args.user, settings)  # role, zones and fronts as the store holds them
    with open_store(settings) as store:
        handling.approve(store, args.case_id, user, at=_time(args.at, "--at"))
    print(f"{args.case_id}: approved by {user.username}")
    return 0


def _cmd_notice(args: argparse.Namespace, settings: Settings) -> int:
    from gis.coordination import handling

    with open_store(settings) as store:
        case = handling.serve_notice(
            store, args.case_id, _user(args), hours=args.hours, reason=args.reason or "",
            at=_time(args.at, "--at"),
        )  # fmt: skip
    print(f"{case.case_id}: notice served, deadline {case.deadline_at:%Y-%m-%d %H:%M}")
    return 0


def _cmd_call(args: argparse.Namespace, settings: Settings) -> int:
    from gis.coordination import dispatch

    depts = [d for d in (args.depts or "").split(",") if d.strip()] or None
    with open_store(settings) as store:
        case = dispatch.whistle(
            store, args.case_id, _user(args), depts=depts, at=_time(args.at, "--at"),
            note=args.note or "",
        )  # fmt: skip
    print(f"{case.case_id}: called {', '.join(case.joint)} (on site within 30 minutes)")
    return 0


def _cmd_inbox(args: argparse.Namespace, settings: Settings) -> int:
    from gis.coordination import dispatch

    with open_store(settings) as store:
        box = dispatch.inbox(store, args.dept, open_only=not args.all)
    _print_frame(box.drop(columns=["alert_id"]))
    return 0


def _cmd_arrive(args: argparse.Namespace, settings: Settings) -> int:
    from gis.coordination import dispatch

    with open_store(settings) as store:
        case = dispatch.confirm_arrival(
            store, args.case_id, args.dept, _user(args), arrived_at=_time(args.at, "--at"),
            lon=args.lon, lat=args.lat,
        )  # fmt: skip
    v = case.joint
    print(f"{case.case_id}: arrivals {sum(1 for d in v.values() if d.get('arrived_at'))}/{len(v)}")
    return 0


def _cmd_step(args: argparse.Namespace, settings: Settings) -> int:
    from gis.coordination import handling

    with open_store(settings) as store:
        handling.complete_step(
            store, args.case_id, args.step, _user(args), at=_time(args.at, "--at")
        )
    print(f"{args.case_id}: step {args.step} done")
    return 0


def _cmd_escalate(args: argparse.Namespace, settings: Settings) -> int:
    from gis.coordination import handling

    with open_store(settings) as store:
        made = handling.escalate_overdue(store, now=_time(args.at, "--at"), who=args.by)
    _print_frame(made)
    return 0


def _cmd_alerts(args: argparse.Namespace, settings: Settings) -> int:
    from gis.coordination import alerts

    with open_store(settings) as store:
        if args.case:
            rows = alerts.case_alerts(store, args.case)
        else:
            rows = alerts.open_alerts(store, _user(args))
    cols = ["alert_id", "case_id", "kind", "audience", "created_at", "due_at", "ack_by", "ack_at"]
    _print_frame(pd.DataFrame(rows, columns=cols))
    return 0


def _cmd_ack(args: argparse.Namespace, settings: Settings) -> int:
    from gis.coordination import alerts

    with open_store(settings) as store:
        alerts.acknowledge(store, args.alert_id, _user(args), at=_time(args.at, "--at"))
    print(f"{args.alert_id}: acknowledged")
    return 0


def _cmd_punctuality(args: argparse.Namespace, settings: Settings) -> int:
    from gis.coordination import dispatch

    with open_store(settings) as store:
        table = dispatch.punctuality(
            store, since=_time(args.since, "--since"), until=_time(args.until, "--until")
        )
    _print_frame(table)
    return 0


def _add_who(p: argparse.ArgumentParser, role: str = "area_chief") -> None:
    p.add_argument("--by", required=True, help="who does it (user name)")
    p.add_argument("--role", choices=ROLES, default=role, help=f"their role (default {role})")
    p.add_argument("--at", help="when (Beijing time), default now")


def _register_dispatch(sub: Any) -> None:
    p = sub.add_parser("dispatch", help="tiers, 吹哨报到 calls, inboxes, arrivals, escalation")
    dsub = p.add_subparsers(dest="dispatch_command", required=True)

    q = dsub.add_parser("register", help="register a case with its tier (raises its alerts)")
    q.add_argument("case_id")
    q.add_argument("--tier", choices=TIERS, help="default: the case's tier")
    q.add_argument("--note")
    _add_who(q, "patrol")
    q.set_defaults(func=_cmd_register)

    q = dsub.add_parser(
        "approve", help="the case zone's area chief (or leadership) approves a 重大 case"
    )
    q.add_argument("case_id")
    q.add_argument("--user", required=True,
                   help="who approves: a user of the store (their role, zones and fronts apply)")  # fmt: skip
    q.add_argument("--at", help="when (Beijing time), default now")
    q.set_defaults(func=_cmd_approve)

    q = dsub.add_parser("notice", help="serve the notice with the rule's deadline")
    q.add_argument("case_id")
    q.add_argument("--hours", type=float_range(0, 24 * 183, low_open=True),
                   help="another deadline (needs --reason)")  # fmt: skip
    q.add_argument("--reason", help="why the deadline differs from the rule")
    _add_who(q, "patrol")
    q.set_defaults(func=_cmd_notice)

    q = dsub.add_parser("call", help="blow the whistle: call departments (default: category's)")
    q.add_argument("case_id")
    q.add_argument("--depts", help="codes or names, comma separated")
    q.add_argument("--note")
    _add_who(q)
    q.set_defaults(func=_cmd_call)

    q = dsub.add_parser("inbox", help="a department's calls (open ones unless --all)")
    q.add_argument("dept")
    q.add_argument("--all", action="store_true")
    q.set_defaults(func=_cmd_inbox)

    q = dsub.add_parser("arrive", help="confirm a department's arrival (time, position)")
    q.add_argument("case_id")
    q.add_argument("dept")
    q.add_argument("--lon", type=float_range(-180, 180))
    q.add_argument("--lat", type=float_range(-90, 90))
    q.add_argument("--dept-of", help="the liaison's own department (role liaison)")
    _add_who(q, "liaison")
    q.set_defaults(func=_cmd_arrive)

    q = dsub.add_parser("step", help="tick a step of a 突发 case's emergency checklist")
    q.add_argument("case_id")
    q.add_argument("step", help="step code (data/emergency_checklist.csv)")
    _add_who(q, "patrol")
    q.set_defaults(func=_cmd_step)

    q = dsub.add_parser("escalate", help="escalate every overdue case (chief, then leadership)")
    q.add_argument("--by", default="system")
    q.add_argument("--at", help="as of (Beijing time), default now")
    q.set_defaults(func=_cmd_escalate)

    q = dsub.add_parser("alerts", help="open alerts of a user, or every alert of a case")
    q.add_argument("--case", help="a case id: its alerts and checklist")
    q.add_argument("--by", default="", help="user name")
    q.add_argument("--role", choices=ROLES, default="leadership")
    q.add_argument("--dept-of", help="liaison's department")
    q.add_argument("--person", help="staff id (on-duty calls)")
    q.set_defaults(func=_cmd_alerts)

    q = dsub.add_parser("ack", help="acknowledge an alert")
    q.add_argument("alert_id")
    q.add_argument("--dept-of")
    q.add_argument("--person")
    _add_who(q, "leadership")
    q.set_defaults(func=_cmd_ack)

    q = dsub.add_parser("punctuality", help="calls, arrivals and on-time rate per department")
    q.add_argument("--since")
    q.add_argument("--until")
    q.set_defaults(func=_cmd_punctuality)


# ------------------------------------------------------------------ photos
def _cmd_photo_add(args: argparse.Namespace, settings: Settings) -> int:
    from gis.coordination import evidence
    from gis.io.intake_files import read_photo

    data = read_photo(Path(args.file), max_bytes=evidence.MAX_BYTES)
    with open_store(settings) as store:
        row = evidence.add_photo(
            store, args.case_id, data, _user(args), kind=args.kind, name=Path(args.file).name,
            confirm_far=args.confirm_far, at=_time(args.at, "--at"),
        )  # fmt: skip
    where = f", {row['distance_m']:.0f} m from the case" if row["distance_m"] is not None else ""
    flags = f" [flagged: {row['flags']}]" if row["flags"] else ""
    print(f"{row['photo_id']}: {args.kind} photo stored ({row['size_bytes']} bytes{where}){flags}")
    return 0


def _cmd_photo_list(args: argparse.Namespace, settings: Settings) -> int:
    from gis.coordination import evidence

    with open_store(settings) as store:
        table = evidence.photos(store, args.case_id)
    _print_frame(table.drop(columns=["sha256", "case_id"]))
    return 0


def _cmd_photo_close(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        case = store.get_case(args.case_id)
        case = store.apply_transition(
            args.case_id, "close_rectified", who=args.by, expected_version=case.version,
            at=_time(args.at, "--at"), note=args.reason or "",
        )  # fmt: skip
    print(f"{case.case_id}: closed as rectified (已整改)")
    return 0


def _register_photo(sub: Any) -> None:
    p = sub.add_parser("photo", help="before/after photos of a case (整改前后对比)")
    psub = p.add_subparsers(dest="photo_command", required=True)
    q = psub.add_parser("add", help="add a photo (JPEG, PNG or WebP; EXIF checked)")
    q.add_argument("case_id")
    q.add_argument("file")
    q.add_argument("--kind", choices=("before", "after"), default="before")
    q.add_argument("--confirm-far", action="store_true",
                   help="store it (flagged) although its EXIF position is far from the case")  # fmt: skip
    _add_who(q, "patrol")
    q.set_defaults(func=_cmd_photo_add)
    q = psub.add_parser("list", help="the photos of a case")
    q.add_argument("case_id")
    q.set_defaults(func=_cmd_photo_list)
    q = psub.add_parser("close", help="close as rectified: needs an after photo or --reason")
    q.add_argument("case_id")
    q.add_argument("--reason", help="why there is no after photo")
    _add_who(q, "patrol")
    q.set_defaults(func=_cmd_photo_close)


# ------------------------------------------------------------------ joint actions, consultations
def _cmd_joint_plan(args: argparse.Namespace, settings: Settings) -> int:
    from gis.coordination import joint
    from gis.errors import ValidationError

    area = None
    if args.area:
        import shapely

        try:
            area = shapely.from_wkt(args.area)
        except Exception:  # noqa: BLE001 - shapely raises its own GEOS errors
            raise ValidationError(
                "--area is not WKT", field="--area", fix="give POLYGON((lon lat, ...))"
            ) from None
    planned = _time(args.when, "--when")
    if planned is None:
        raise ValidationError("--when is required", field="--when")
    with open_store(settings) as store:
        row = joint.plan_joint_action(
            store, _user(args), title=args.title, planned_at=planned,
            depts=[d for d in args.depts.split(",") if d.strip()], staff=args.staff or "",
            target_cases=args.cases, area=area, at=_time(args.at, "--at"),
        )  # fmt: skip
    print(f"{row['action_id']}: planned, targets {row['target_cases'] or '(none)'}")
    return 0


def _cmd_joint_brief(args: argparse.Namespace, settings: Settings) -> int:
    from gis.analytics.report_files import write_html
    from gis.coordination import joint

    with open_store(settings) as store:
        html = joint.briefing_sheet(store, args.action_id, lang=args.lang)
    print(write_html(html, args.out))
    return 0


def _cmd_joint_close(args: argparse.Namespace, settings: Settings) -> int:
    from gis.coordination import joint
    from gis.errors import ValidationError

    outcomes: dict[str, str] = {}
    for item in args.outcome or []:
        case_id, sep, action = item.partition("=")
        if not sep:
            raise ValidationError(f"--outcome {item!r} is not CASE=ACTION", field="--outcome")
        outcomes[case_id.strip()] = action.strip()
    with open_store(settings) as store:
        row = joint.close_joint_action(
            store, args.action_id, _user(args), outcomes, note=args.note or "",
            at=_time(args.at, "--at"),
        )  # fmt: skip
    print(f"{row['action_id']}: closed {joint.outcomes_of(row)}")
    return 0


def _cmd_joint_list(args: argparse.Namespace, settings: Settings) -> int:
    from gis.coordination import joint

    with open_store(settings) as store:
        table = joint.joint_actions(
            store, since=_time(args.since, "--since"), until=_time(args.until, "--until")
        )
    _print_frame(table)
    return 0


def _cmd_consult_add(args: argparse.Namespace, settings: Settings) -> int:
    from gis.coordination import consultations
    from gis.errors import ValidationError

    held = _time(args.held, "--held")
    if held is None:
        raise ValidationError("--held is required", field="--held")
    with open_store(settings) as store:
        row = consultations.log_consultation(
            store, _user(args), held_at=held, level=args.level, topic=args.topic,
            attendees=args.attendees, decisions=args.decisions or "", cases=args.cases or "",
            contingency=args.contingency or "",
        )  # fmt: skip
    print(f"{row['consult_id']}: consultation logged")
    return 0


def _cmd_consult_list(args: argparse.Namespace, settings: Settings) -> int:
    from gis.coordination import consultations

    with open_store(settings) as store:
        table = consultations.consultations(
            store, since=_time(args.since, "--since"), until=_time(args.until, "--until")
        )
    _print_frame(table)
    return 0


def _register_joint(sub: Any) -> None:
    from gis.coordination.consultations import LEVELS
    from gis.coordination.joint import OUTCOMES

    p = sub.add_parser("joint", help="joint enforcement actions (联合执法)")
    jsub = p.add_subparsers(dest="joint_command", required=True)
    q = jsub.add_parser("plan", help="plan a joint action on cases or an area")
    q.add_argument("--title", required=True)
    q.add_argument("--when", required=True, help="date and time (Beijing)")
    q.add_argument("--depts", required=True, help="departments, comma separated")
    q.add_argument("--staff", help="staff ids, comma separated")
    q.add_argument("--cases", help="target case ids, comma separated")
    q.add_argument("--area", help="target area as WKT polygon in lon/lat")
    _add_who(q)
    q.set_defaults(func=_cmd_joint_plan)
    q = jsub.add_parser("brief", help="write the one-page briefing sheet (HTML)")
    q.add_argument("action_id")
    q.add_argument("out")
    q.add_argument("--lang", choices=("zh", "en"), default="zh")
    q.set_defaults(func=_cmd_joint_brief)
    q = jsub.add_parser("close", help=f"close with outcomes CASE=ACTION ({'|'.join(OUTCOMES)})")
    q.add_argument("action_id")
    q.add_argument("--outcome", action="append")
    q.add_argument("--note")
    _add_who(q)
    q.set_defaults(func=_cmd_joint_close)
    q = jsub.add_parser("list", help="joint actions")
    q.add_argument("--since")
    q.add_argument("--until")
    q.set_defaults(func=_cmd_joint_list)

    p = sub.add_parser("consult", help="consultations (会商)")
    ksub = p.add_subparsers(dest="consult_command", required=True)
    q = ksub.add_parser("add", help="log a consultation")
    q.add_argument("--held", required=True, help="when it was held (Beijing)")
    q.add_argument("--level", choices=LEVELS, required=True)
    q.add_argument("--topic", required=True)
    q.add_argument("--attendees", required=True, help="names or departments, comma separated")
    q.add_argument("--decisions")
    q.add_argument("--cases", help="linked case ids, comma separated")
    q.add_argument("--contingency", help="contingency plans")
    _add_who(q)
    q.set_defaults(func=_cmd_consult_add)
    q = ksub.add_parser("list", help="consultations")
    q.add_argument("--since")
    q.add_argument("--until")
    q.set_defaults(func=_cmd_consult_list)


# ------------------------------------------------------------------ inspections
def _cmd_inspect_add(args: argparse.Namespace, settings: Settings) -> int:
    from gis.coordination import inspections
    from gis.errors import ValidationError

    when = _time(args.when, "--when")
    if when is None:
        raise ValidationError("--when is required", field="--when")
    case = None
    if args.outcome == "case":
        case = {"category": args.category, "lon": args.lon, "lat": args.lat}
    with open_store(settings) as store:
        row = inspections.record_inspection(
            store, _user(args), inspected_at=when, mode=args.mode, target_kind=args.kind,
            target=args.target, result=args.result, finding=args.finding or "",
            outcome=args.outcome, case=case,
        )  # fmt: skip
    extra = f", case {row['case_id']} opened" if row["case_id"] else ""
    print(f"{row['inspection_id']}: inspection recorded{extra}")
    return 0


def _cmd_inspect_list(args: argparse.Namespace, settings: Settings) -> int:
    from gis.coordination import inspections

    with open_store(settings) as store:
        table = inspections.inspections(
            store, since=_time(args.since, "--since"), until=_time(args.until, "--until")
        )
    _print_frame(table)
    return 0


def _cmd_inspect_review(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from gis.coordination import inspections
    from gis.coordination.handling import ASSIGNMENT_META
    from gis.errors import ValidationError

    start = _time(args.week, "--week")
    if start is None:
        raise ValidationError("--week is required (the Monday)", field="--week")
    with open_store(settings) as store:
        raw = store.get_meta(ASSIGNMENT_META)
        review = inspections.weekly_review(
            store, start, assignment=dict(json.loads(raw)) if raw else None
        )
    for name in ("people", "departments", "comments"):
        print(f"== {name}")
        _print_frame(review[name])
    return 0


def _register_inspect(sub: Any) -> None:
    from gis.coordination import inspections as ins

    p = sub.add_parser("inspect", help="明察暗访 inspections and the weekly review (周点评)")
    isub = p.add_subparsers(dest="inspect_command", required=True)
    q = isub.add_parser("add", help="record an inspection")
    q.add_argument("--when", required=True, help="when it was done (Beijing)")
    q.add_argument("--mode", choices=ins.MODES, default="covert")
    q.add_argument("--kind", choices=ins.TARGET_KINDS, required=True, help="what was checked")
    q.add_argument("--target", required=True, help="segment id, staff id or department")
    q.add_argument("--result", choices=ins.RESULTS, required=True)
    q.add_argument("--finding")
    q.add_argument("--outcome", choices=ins.OUTCOMES, default="none")
    q.add_argument("--category", help="outcome case: category")
    q.add_argument("--lon", type=float_range(-180, 180), help="outcome case: longitude")
    q.add_argument("--lat", type=float_range(-90, 90), help="outcome case: latitude")
    _add_who(q, "area_chief")
    q.set_defaults(func=_cmd_inspect_add)
    q = isub.add_parser("list", help="inspections")
    q.add_argument("--since")
    q.add_argument("--until")
    q.set_defaults(func=_cmd_inspect_list)
    q = isub.add_parser("review", help="the weekly review: scores per person and department")
    q.add_argument("--week", required=True, help="the week's first day, e.g. 2026-05-04")
    q.set_defaults(func=_cmd_inspect_review)


def register(sub: Any) -> None:
    """Add the coordination subcommands."""
    _register_dispatch(sub)
    _register_photo(sub)
    _register_joint(sub)
    _register_inspect(sub)
