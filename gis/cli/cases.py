"""Case subcommands: ``patrol cases new|list|show|advance``, import, export, demo-history."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from gis.cases.batch import import_batch
from gis.cases.categories import load_references
from gis.cases.intake import parse_time
from gis.cases.workflow import STATES, TRANSITIONS, arrivals_frame
from gis.cli.argtypes import float_range, int_range, positive_int, size_mb
from gis.errors import PatrolError, ValidationError
from gis.geography.crs import DATUMS, WGS84
from gis.io.csvsafe import safe_frame
from gis.io.intake_files import check_batch_file, read_photo
from gis.localtime import LOCAL_TZ as TZ
from gis.localtime import parse_instant
from gis.settings import Settings
from gis.store import CaseQuery, open_store

#: Report fields that ``--attr`` may not override (they have their own options).
_CORE_FIELDS = frozenset(
    {
        "report_id", "id", "category", "lon", "lat", "reported_at", "source", "reporter",
        "description", "photo", "tier", "datum", "footprint", "attributes",
    }
)  # fmt: skip


log = logging.getLogger(__name__)


def _geography(settings: Settings):
    """The configured geography for snapping, or None (reports are then stored unsnapped)."""
    try:
        from gis.services.subdistricts import settings_geography

        return settings_geography(settings)
    except PatrolError as exc:
        log.warning("no geography to snap reports to (%s); storing them unsnapped", exc)
        return None


def _time(value: str | None, name: str) -> dt.datetime | None:
    return parse_instant(value, source="command line", field=name) if value else None


def _query(args: argparse.Namespace) -> CaseQuery:
    return CaseQuery(
        zone_id=args.zone,
        state=args.state,
        category=args.category,
        dept=args.dept,
        since=_time(args.since, "--since"),
        until=_time(args.until, "--until"),
        open_only=args.open,
        limit=getattr(args, "limit", None),
    )


def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--zone", help="zone id")
    p.add_argument("--state", choices=STATES)
    p.add_argument("--category", help="category code, e.g. C07")
    p.add_argument("--dept", help="department code (lead, participating or called)")
    p.add_argument("--since", help="reported at or after (Beijing time), e.g. 2026-05-01")
    p.add_argument("--until", help="reported before (Beijing time)")
    p.add_argument("--open", action="store_true", help="only cases that are still open")


# -- cases new/list/show/advance ---------------------------------------------------


def _cmd_new(args: argparse.Namespace, settings: Settings) -> int:
    refs = load_references(settings.data_dir)
    now = dt.datetime.now(TZ)
    # parsed here so a bad value is reported as the option the user typed
    reported = parse_time(args.at, now=now, field="--at") if args.at else now
    raw: dict[str, Any] = {
        "report_id": args.id,
        "category": args.category,
        "lon": args.lon,
        "lat": args.lat,
        "reported_at": reported,
        "source": args.source,
        "reporter": args.reporter or args.by,
        "description": args.description,
        "photo": args.photo,
        "tier": args.tier,
    }
    if args.photo:
        # the operator's own file, named on the command line: read as an upload
        raw["photo"] = read_photo(Path(args.photo), max_bytes=_max_bytes(args, settings))
    for kv in args.attr or []:
        k, sep, v = kv.partition("=")
        if not sep or not k.strip() or k.strip().lower() in _CORE_FIELDS:
            raise ValidationError(
                f"--attr {kv[:60]!r} is not name=value for a category attribute",
                field="--attr",
                fix="give e.g. --attr db=82; the report's own fields have their own options",
            )
        raw[k.strip()] = v
    from gis.services import take_in_report

    geo = _geography(settings)  # the acceptance area is its boundary polygon
    with open_store(settings, refs=refs) as store:
        intake = take_in_report(
            geo,
            store,
            raw,
            refs=refs,
            now=now,
            received_by=args.by,
            datum=args.datum,
            source="command line",
            datum_check=not args.datum_checked,
        )
    report = intake.report
    if intake.added:
        print(f"case {report.report_id} reported ({report.category}, zone {report.zone_id})")
    else:
        print(f"case {intake.case_id} already stored; nothing added")
    return 0


def _cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        frame = store.cases_frame(_query(args))
    if frame.empty:
        print("no cases")
        return 0
    now = dt.datetime.now(TZ)
    from gis.cases.workflow import overdue_mask

    frame = frame.assign(overdue=overdue_mask(frame, now))
    cols = ["case_id", "category", "tier", "state", "reported_at", "deadline_at", "zone_id"]
    out = frame[cols + ["overdue"]].copy()
    out["reported_at"] = out["reported_at"].dt.strftime("%Y-%m-%d %H:%M")
    out["deadline_at"] = out["deadline_at"].dt.strftime("%Y-%m-%d %H:%M").fillna("")
    print(out.to_string(index=False))
    print(f"{len(out)} case(s), {int(out['overdue'].sum())} overdue")
    return 0


def _cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    refs = load_references(settings.data_dir)
    with open_store(settings, refs=refs) as store:
        case = store.get_case(args.case_id)
        trail = store.audit_trail(args.case_id)
    cat = refs.categories[case.category]
    print(f"case {case.case_id}  {cat.code} {cat.name_zh} / {cat.name_en}")
    print(f"  state {case.state}  tier {case.tier}  version {case.version}")
    print(f"  reported {case.reported_at:%Y-%m-%d %H:%M} via {case.source} by {case.reporter}")
    print(f"  owner (首问) {case.owner}  lead {case.lead_dept}  with {', '.join(case.depts)}")
    print(f"  at {case.lon:.6f}, {case.lat:.6f} (WGS 84; sent as {case.source_datum})")
    print(f"  zone {case.zone_id}  front {case.front_id}  segment {case.segment_id}")
    if case.deadline_at:
        overdue = " OVERDUE" if case.is_overdue(dt.datetime.now(TZ)) else ""
        print(f"  deadline {case.deadline_at:%Y-%m-%d %H:%M}{overdue}")
    if case.attributes:
        print(f"  attributes {json.dumps(dict(case.attributes), ensure_ascii=False)}")
    print(f"  description {case.description}")
    if case.joint:
        print(arrivals_frame(case).to_string(index=False))
    print("history:")
    for e in trail:
        extra = f" {json.dumps(dict(e.params), ensure_ascii=False)}" if e.params else ""
        print(
            f"  {e.seq:2d} {e.at:%Y-%m-%d %H:%M} {e.who:10s} {e.action:15s} "
            f"{e.from_state or '-'} -> {e.to_state}{(' ' + e.note) if e.note else ''}{extra}"
        )
    print(f"next: {', '.join(TRANSITIONS[case.state]) or '(finished)'}")
    return 0


def _cmd_advance(args: argparse.Namespace, settings: Settings) -> int:
    params: dict[str, Any] = {}
    if args.deadline:
        params["deadline"] = _time(args.deadline, "--deadline")
    if args.hours is not None:
        params["hours"] = args.hours
    if args.depts:
        params["depts"] = [d.strip() for d in args.depts.split(",") if d.strip()]
    if args.dept:
        params["dept"] = args.dept
    if args.tier:
        params["tier"] = args.tier
    if args.duplicate_of:
        params["duplicate_of"] = args.duplicate_of
    at = _time(args.at, "--at") or dt.datetime.now(TZ)
    if args.dept and args.action == "record_arrival":
        params["arrived_at"] = at
    with open_store(settings) as store:
        version = args.version if args.version is not None else store.get_case(args.case_id).version
        case = store.apply_transition(
            args.case_id,
            args.action,
            who=args.by,
            expected_version=version,
            at=at,
            note=args.note or "",
            params=params,
        )
    print(f"case {case.case_id}: {args.action} -> {case.state} (version {case.version})")
    return 0


# -- import / export / demo ----------------------------------------------------------


def _max_bytes(args: argparse.Namespace, settings: Settings) -> int:
    mb = getattr(args, "max_mb", None) or settings.max_upload_mb
    return int(mb * 1024 * 1024)


def _cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    # a file that cannot be imported is refused before anything is loaded or read
    check_batch_file(Path(args.file), max_bytes=_max_bytes(args, settings))
    refs = load_references(settings.data_dir)
    geo = _geography(settings)
    now = dt.datetime.now(TZ)
    with (
        open_store(settings, refs=refs) as store,
        tqdm(desc="rows", unit="row", leave=False, disable=None) as bar,
    ):
        done = import_batch(
            Path(args.file),
            store,
            refs=refs,
            now=now,
            received_by=args.by,
            datum=args.datum,
            encoding=args.encoding,
            max_bytes=_max_bytes(args, settings),
            gdf_segments=geo.segments if geo is not None else None,
            gdf_zones=geo.zones if geo is not None else None,
            keep_good=args.keep_good,
            rejects_path=Path(args.rejects) if args.rejects else None,
            progress=lambda n: bar.update(n - bar.n),
        )
    print(
        f"{done.added} report(s) stored, {done.skipped} already present, "
        f"{done.rejected} rejected"
        + (f" (see {args.rejects})" if done.rejected and args.rejects else "")
    )
    return 0


def export_frame(frame: pd.DataFrame, out: Path, fmt: str) -> Path:
    """Write a case frame as gpkg, geojson, csv (Excel: UTF-8 with BOM) or kml.

    In the CSV, text cells a spreadsheet would run as a formula are escaped.
    """
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(frame, geometry="geometry", crs=frame.crs).to_crs(WGS84)
    out.parent.mkdir(parents=True, exist_ok=True)
    for c in ("reported_at", "deadline_at", "closed_at"):
        gdf[c] = gdf[c].map(lambda t: "" if pd.isna(t) else t.isoformat())
    if fmt == "gpkg":
        gdf.to_file(out, layer="cases", driver="GPKG")
    elif fmt == "geojson":
        gdf.to_file(out, driver="GeoJSON")
    elif fmt == "csv":
        df = pd.DataFrame(gdf.drop(columns="geometry"))
        df.insert(1, "lon", gdf.geometry.x.round(7))
        df.insert(2, "lat", gdf.geometry.y.round(7))
        safe_frame(df).to_csv(out, index=False, encoding="utf-8-sig")
    elif fmt == "kml":
        out.write_text(_kml(gdf), encoding="utf-8")
    else:
        raise ValidationError(
            f"unknown format {fmt!r}", field="--format", fix="gpkg|geojson|csv|kml"
        )
    return out


def _kml(gdf: Any) -> str:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>cases</name>',
    ]
    for rec, geom in zip(
        gdf.drop(columns="geometry").to_dict("records"), gdf.geometry, strict=True
    ):
        data = "".join(
            f'<Data name="{escape(str(k))}"><value>{escape("" if v is None else str(v))}</value></Data>'
            for k, v in rec.items()
        )
        parts.append(
            f"<Placemark><name>{escape(str(rec['case_id']))} {escape(str(rec['category']))}</name>"
            f"<description>{escape(str(rec.get('description') or ''))}</description>"
            f"<ExtendedData>{data}</ExtendedData>"
            f"<Point><coordinates>{geom.x:.7f},{geom.y:.7f}</coordinates></Point></Placemark>"
        )
    parts.append("</Document></kml>")
    return "\n".join(parts)


def _cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        frame = store.cases_frame(_query(args))
    out = export_frame(frame, Path(args.out), args.format)
    print(f"wrote {len(frame)} case(s) to {out}")
    return 0


def _cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from gis.cases.demo_history import generate_demo_history, write_demo_history

    if args.synthetic_grid:
        from gis.geography.network import grid_segments

        segments = grid_segments(20, 20, 100.0, origin=(446000.0, 4419600.0))
        pois = None
    else:
        from gis.services.subdistricts import settings_geography

        geo = settings_geography(settings)
        segments, pois = geo.segments, geo.pois
    refs = load_references(settings.data_dir)
    if args.end:
        end = _time(args.end, "--end")
    else:
        end = dt.datetime.now(TZ).replace(minute=0, second=0, microsecond=0)
    from tqdm import tqdm

    with tqdm(desc="demo cases", unit="case", leave=False) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        history = generate_demo_history(
            segments,
            pois,
            seed=args.seed,
            days=args.days,
            scale=args.scale,
            refs=refs,
            end=end,
            progress=progress,
        )
    with open_store(settings, refs=refs) as store:
        n = write_demo_history(store, history)
    if args.intensity:
        Path(args.intensity).parent.mkdir(parents=True, exist_ok=True)
        history.spatial.to_csv(Path(args.intensity).with_suffix(".spatial.csv"), index=False)
        history.temporal.to_csv(Path(args.intensity).with_suffix(".temporal.csv"), index=False)
    print(
        f"synthetic demo history (seed {args.seed}): {len(history.cases)} case(s), {n} new; "
        "descriptions are labelled [演示数据 DEMO]"
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``cases``, ``import``, ``export`` and ``demo-history``."""
    cases = sub.add_parser("cases", help="violation cases: new, list, show, advance")
    csub = cases.add_subparsers(dest="cases_command", required=True)

    p = csub.add_parser("new", help="report one violation")
    p.add_argument("--category", required=True, help="C01..C29 or its Chinese name")
    p.add_argument("--lon", required=True, type=float)
    p.add_argument("--lat", required=True, type=float)
    p.add_argument("--datum", default="wgs84", help=f"{'|'.join(DATUMS)} (AMap/WeChat: gcj02)")
    p.add_argument("--at", help="when (Beijing time), default now")
    p.add_argument(
        "--source", default="patrol", help="patrol|video|complaint|hotline_12345|inspection"
    )
    p.add_argument("--by", required=True, help="who receives it (owns the case: 首问负责)")
    p.add_argument("--reporter", help="who reported it (default --by)")
    p.add_argument("--description", default="")
    p.add_argument("--photo", help="photo file (its SHA-256 is recorded)")
    p.add_argument(
        "--datum-checked",
        action="store_true",
        help="the point really is WGS 84 even though it lies away from the streets",
    )
    p.add_argument("--tier", choices=("general", "major", "emergency"))
    p.add_argument("--attr", action="append", help="category attribute, e.g. db=82 or floors=2")
    p.add_argument("--id", help="report id (default: derived from the content)")
    p.set_defaults(func=_cmd_new)

    p = csub.add_parser("list", help="list cases")
    _add_filters(p)
    p.add_argument("--limit", type=positive_int, help="at most this many cases (1 or more)")
    p.set_defaults(func=_cmd_list)

    p = csub.add_parser("show", help="one case with its history")
    p.add_argument("case_id")
    p.set_defaults(func=_cmd_show)

    actions = sorted({a for moves in TRANSITIONS.values() for a in moves})
    p = csub.add_parser("advance", help="move a case through the workflow")
    p.add_argument("case_id")
    p.add_argument("action", choices=actions)
    p.add_argument("--by", required=True, help="who does it")
    p.add_argument("--note")
    p.add_argument("--at", help="when (Beijing time), default now")
    p.add_argument(
        "--version", type=positive_int, help="the version you read (guards against lost updates)"
    )
    p.add_argument("--deadline", help="serve_notice: deadline (Beijing time)")
    p.add_argument("--hours", type=float, help="serve_notice: hours to rectify")
    p.add_argument("--depts", help="call_joint: department codes, comma separated")
    p.add_argument("--dept", help="record_arrival: the department that arrived")
    p.add_argument("--tier", choices=("general", "major", "emergency"), help="register: tier")
    p.add_argument("--duplicate-of", help="mark_duplicate: the original case id")
    p.set_defaults(func=_cmd_advance)

    p = sub.add_parser("import", help="import a batch of reports (CSV, GeoJSON, GeoPackage)")
    p.add_argument("file")
    p.add_argument("--datum", default="wgs84", help=f"{'|'.join(DATUMS)} of the coordinates")
    p.add_argument("--encoding", help="CSV encoding (default: UTF-8, else GBK)")
    p.add_argument("--keep-good", action="store_true", help="store good rows despite bad ones")
    p.add_argument("--rejects", help="write rejected rows with reasons to this CSV")
    p.add_argument("--by", default="import", help="who receives the reports")
    p.add_argument(
        "--max-mb",
        type=size_mb,
        help="largest file in MB, checked before reading (default PATROL_MAX_UPLOAD_MB or 20)",
    )
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("export", help="export cases (gpkg, geojson, csv for Excel, kml)")
    p.add_argument("out")
    p.add_argument("--format", choices=("gpkg", "geojson", "csv", "kml"), default="csv")
    _add_filters(p)
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("demo-history", help="store a synthetic, labelled year of demo cases")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--days", type=int_range(1, 3660), default=365, help="1 to 3660")
    p.add_argument(
        "--scale", type=float_range(0.0, 100.0, low_open=True), default=1.0, help="0 to 100"
    )
    p.add_argument(
        "--end", help="end time (Beijing; default this hour). Same seed + end, same history"
    )
    p.add_argument("--intensity", help="also write the true intensity (prefix of two CSVs)")
    p.add_argument(
        "--synthetic-grid",
        action="store_true",
        help="use a synthetic street grid, not the geography",
    )
    p.set_defaults(func=_cmd_demo)
