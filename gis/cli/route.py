"""Route subcommand: ``patrol route`` — postman tours, k-person routes, time-budgeted patrols."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gis.cli.argtypes import float_range
from gis.errors import ValidationError
from gis.settings import Settings

if TYPE_CHECKING:
    import geopandas as gpd


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``patrol route``."""
    p = sub.add_parser(
        "route",
        help="plan a patrol route (postman tour, k people, or a time budget)",
        description="巡查路线: the shortest walk covering the chosen streets, split among K "
        "people, or the best hotspot walk within a time budget.",
    )
    what = p.add_argument_group("streets to patrol (default: the whole network)")
    what.add_argument("--zone", help="zone id (15-digit grid code)")
    what.add_argument("--front", help="front id: scenic, main_streets or gulou_west")
    what.add_argument("--segments", help="comma-separated segment ids")
    p.add_argument("--data", help="geography folder (default: the bundled Shichahai data)")
    p.add_argument(
        "--from",
        dest="start",
        help="start: node id, POI name or 'lon,lat' (WGS 84); default the enforcement center",
    )
    p.add_argument("--to", dest="end", help="end (same forms as --from); default back at start")
    p.add_argument("--people", type=int, default=1, help="number of people K (min-max routes)")
    p.add_argument(
        "--budget-min",
        type=float_range(0.0, 24 * 60, low_open=True),
        help="time budget in minutes (hotspot patrol), at most a day",
    )
    p.add_argument(
        "--weights",
        help="CSV with segment_id,weight for --budget-min (default: the hotspot forecast)",
    )
    p.add_argument(
        "--dwell-min",
        type=float_range(0.0, 240.0),
        default=2.0,
        help="minutes spent at each hotspot (0–240)",
    )
    p.add_argument("--gpx", help="write the route as GPX (one file per person: -1, -2 …)")
    p.add_argument("--geojson", help="write the route as GeoJSON")
    p.add_argument("--sheet", help="write a printable HTML route sheet")
    p.add_argument("--pdf", help="also print the sheet to PDF (needs a local Chromium)")
    p.add_argument(
        "--person",
        help="who walks the route, named on the sheet (comma-separated ids, one per route)",
    )
    p.add_argument("--lang", choices=("zh", "en"), help="language of the steps")
    p.set_defaults(func=handle_route)


#: Largest --weights CSV accepted.
WEIGHTS_MAX_BYTES = 16 * 2**20


def _read_weights(path: str) -> dict[str, float]:
    """segment_id -> weight from a CSV (UTF-8 with or without Excel's BOM, or GBK)."""
    import io
    import math

    from gis.geography.osm_files import check_input_file
    from gis.io.intake_files import decode_text

    p = Path(path)
    # a regular file, not a link, of at most 16 MiB: checked before anything is read
    check_input_file(p, WEIGHTS_MAX_BYTES, "weights file")
    out: dict[str, float] = {}
    with p.open("rb") as fh:
        data = fh.read(WEIGHTS_MAX_BYTES + 1)
    reader = csv.DictReader(io.StringIO(decode_text(data, None, p.name), newline=""))
    if not reader.fieldnames or not {"segment_id", "weight"} <= set(reader.fieldnames):
        raise ValidationError(
            "needs columns segment_id and weight", source=p.name, fix="add a header row"
        )
    for n, row in enumerate(reader, start=2):
        raw = row["weight"]
        try:
            w = float(raw)
        except (TypeError, ValueError):
            raise ValidationError(
                f"{raw!r} is not a number", source=p.name, row=n, field="weight"
            ) from None
        if not math.isfinite(w) or w < 0:
            raise ValidationError(
                f"{raw!r} is not a finite weight >= 0",
                source=p.name,
                row=n,
                field="weight",
                fix="give 0 or a positive number (higher = more worth patrolling)",
            )
        out[row["segment_id"]] = w
    return out


def _person_labels(args: argparse.Namespace, settings: Settings) -> list[str]:
    """Who walks each route (``--person``, one id per route): ``姓名（P01）`` when the store's
    staff know the id, the id otherwise."""
    ids = [p.strip() for p in (args.person or "").split(",") if p.strip()]
    if not ids or not (args.sheet or args.pdf):
        return ids
    from gis.people.service import staff_of_store
    from gis.people.staff import person_label

    people = staff_of_store(settings)
    return [person_label(pid, people) for pid in ids]


def _outputs(args, G, route, suffix: str, lang: str, person: str = "") -> None:
    from gis.planning.route_sheet import (
        route_sheet_html,
        route_to_geojson,
        route_to_gpx,
        write_route_sheet_pdf,
    )

    def name(p: str) -> Path:
        path = Path(p)
        return path.with_name(f"{path.stem}{suffix}{path.suffix}") if suffix else path

    if args.gpx:
        name(args.gpx).write_text(route_to_gpx(route), encoding="utf-8")
        print(f"GPX: {name(args.gpx)}")
    if args.geojson:
        name(args.geojson).write_text(route_to_geojson(G, route), encoding="utf-8")
        print(f"GeoJSON: {name(args.geojson)}")
    if args.sheet or args.pdf:
        page = route_sheet_html(G, route, lang=lang, title=f"巡查路线单{suffix}", person=person)
        if args.sheet:
            name(args.sheet).write_text(page, encoding="utf-8")
            print(f"route sheet: {name(args.sheet)}")
        if args.pdf:
            write_route_sheet_pdf(page, name(args.pdf))
            print(f"PDF: {name(args.pdf)}")


def _print_route(G, route, lang: str, header: str, *, bound: bool = True) -> None:
    from gis.planning.route_sheet import arrival_text, route_steps

    quality = (
        f", lower bound {route.lower_bound_m:.0f} m, gap {route.gap:.1%} [{route.method}]"
        if bound
        else ""
    )
    print(
        f"{header}: {route.total_m:.0f} m (patrol {route.required_m:.0f} m, passing "
        f"{route.deadhead_m:.0f} m), {route.duration_min:.0f} min{quality}"
    )
    for s in route_steps(G, route):
        print(f"  {s.number:>3}. {s.text(lang)}")
    print(f"       {arrival_text(route, lang)}")


def handle_route(args: argparse.Namespace, settings: Settings) -> int:
    """Plan and print a route; write GPX/GeoJSON/sheet files when asked."""
    from tqdm import tqdm

    from gis.geography.layers import load_geography
    from gis.services import PatrolRequest, plan_patrol
    from gis.services.subdistricts import settings_geography

    lang = args.lang or settings.language
    who = _person_labels(args, settings)
    request = PatrolRequest(
        zone_id=args.zone,
        front_id=args.front,
        segment_ids=tuple(s.strip() for s in args.segments.split(",")) if args.segments else None,
        start=args.start,
        end=args.end,
        people=args.people,
        budget_min=args.budget_min,
        dwell_min=args.dwell_min,
        weights=_read_weights(args.weights) if args.weights else None,
    )
    with tqdm(total=2, desc="route", disable=None) as bar:
        geo = load_geography(args.data) if args.data else settings_geography(settings)
        G = geo.graph()
        bar.update()
        cases = _case_history(settings) if request.budget_min and not request.weights else None
        plan = plan_patrol(geo, request, walk_speed_kmh=settings.walk_speed_kmh, cases=cases)
        bar.update()
    if plan.start_note:
        print(f"note: {plan.start_note}", file=sys.stderr)
    if plan.budget is not None:
        b = plan.budget
        print(
            f"budget {b.budget_minutes:g} min: weight {b.weight:g} in "
            f"{b.minutes:.0f} min ({len(b.stops)} hotspots); greedy baseline "
            f"{b.baseline_weight:g} in {b.baseline_minutes:.0f} min"
        )
        _print_route(G, b.route, lang, "route", bound=False)
        _outputs(args, G, b.route, "", lang, who[0] if who else "")
        return 0
    if plan.team is not None:
        kr = plan.team
        print(
            f"{args.people} people: longest {kr.max_m:.0f} m, lower bound "
            f"{kr.lower_bound_m:.0f} m, gap {kr.gap:.1%}"
        )
        for n, r in enumerate(kr.routes, start=1):
            _print_route(G, r, lang, f"person {n}", bound=False)
            _outputs(args, G, r, f"-{n}", lang, who[n - 1] if len(who) >= n else "")
        return 0
    (route,) = plan.routes
    _print_route(G, route, lang, "route")
    _outputs(args, G, route, "", lang, who[0] if who else "")
    return 0


def _case_history(settings: Settings) -> gpd.GeoDataFrame:
    """Every case in the store (the forecast for time-budgeted routes reads it)."""
    from gis.store import open_store

    store = open_store(settings)
    try:
        return store.cases_frame()
    finally:
        store.close()
