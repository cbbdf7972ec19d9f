"""Route subcommand: ``patrol route`` — postman tours, k-person routes, time-budgeted patrols."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
from shapely.geometry import Point

from gis.cli.argtypes import float_range
from gis.errors import NotFoundError, ValidationError
from gis.settings import Settings

#: POI kind used as the default start (the comprehensive enforcement center).
CENTER_KIND = "enforcement_center"


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
    p.add_argument("--lang", choices=("zh", "en"), help="language of the steps")
    p.set_defaults(func=handle_route)


def _resolve_place(text: str, geo, G) -> int:
    """A node id, a POI name/id, or 'lon,lat' → graph node."""
    from gis.crs import METRIC, WGS84
    from gis.routing import node_for_point

    t = text.strip()
    if t.lstrip("-").isdigit() and int(t) in G:
        return int(t)
    if "," in t:
        try:
            lon, lat = (float(x) for x in t.split(","))
        except ValueError:
            raise ValidationError(
                f"cannot read {text!r} as lon,lat",
                field="--from/--to",
                fix="write e.g. 116.38,39.94",
            ) from None
        if not (np.isfinite([lon, lat]).all() and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValidationError(
                f"{text!r} is not a longitude,latitude pair",
                field="--from/--to",
                fix="longitude within ±180, latitude within ±90, e.g. 116.38,39.94",
            )
        import geopandas as gpd

        pt = gpd.GeoSeries([Point(lon, lat)], crs=WGS84).to_crs(METRIC).iloc[0]
        return node_for_point(G, pt)[0]
    poi = geo.poi(t)
    return node_for_point(G, poi.geometry)[0]


def _default_start(geo, G) -> int:
    from gis.routing import node_for_point

    pois = geo.pois
    hits = pois.loc[pois["kind"] == CENTER_KIND] if "kind" in pois.columns else pois.iloc[0:0]
    if hits.empty:
        raise ValidationError(
            "no start given and the geography has no enforcement-center POI",
            field="--from",
            fix="pass --from with a node id, POI name or lon,lat",
        )
    return node_for_point(G, hits.iloc[0].geometry)[0]


def _read_weights(path: str) -> dict[str, float]:
    """segment_id -> weight from a CSV (UTF-8 with or without Excel's BOM, or GBK)."""
    import io
    import math

    from gis.violations import decode_text

    p = Path(path)
    if not p.is_file():
        raise ValidationError("does not exist", source=path, fix="check the --weights path")
    out: dict[str, float] = {}
    reader = csv.DictReader(io.StringIO(decode_text(p.read_bytes(), None, p.name), newline=""))
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


def _outputs(args, G, route, suffix: str, lang: str) -> None:
    from gis.route_sheet import (
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
        page = route_sheet_html(G, route, lang=lang, title=f"巡查路线单{suffix}")
        if args.sheet:
            name(args.sheet).write_text(page, encoding="utf-8")
            print(f"route sheet: {name(args.sheet)}")
        if args.pdf:
            write_route_sheet_pdf(page, name(args.pdf))
            print(f"PDF: {name(args.pdf)}")


def _print_route(G, route, lang: str, header: str, *, bound: bool = True) -> None:
    from gis.route_sheet import arrival_text, route_steps

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


def _forecast_weights(geo: object, settings: Settings) -> dict[str, float]:
    """Next week's near-repeat risk per segment from the cases in the store."""
    from gis.forecast import segment_risk_weights
    from gis.store import open_store

    store = open_store(settings)
    try:
        cases = store.cases_frame()
    finally:
        store.close()
    return segment_risk_weights(cases, geo.segments, keep_top=0.10)  # type: ignore[attr-defined]


def handle_route(args: argparse.Namespace, settings: Settings) -> int:
    """Plan and print a route; write GPX/GeoJSON/sheet files when asked."""
    from tqdm import tqdm

    from gis.geography import load_bundled_geography
    from gis.routing import (
        plan_budget_route,
        plan_k_routes,
        plan_postman_route,
        required_segments,
    )

    lang = args.lang or settings.language
    with tqdm(total=3, desc="route", disable=None) as bar:
        geo = load_bundled_geography(settings)
        G = geo.graph()
        bar.update()
        start = _resolve_place(args.start, geo, G) if args.start else _default_start(geo, G)
        end = _resolve_place(args.end, geo, G) if args.end else None
        segs = [s.strip() for s in args.segments.split(",")] if args.segments else None
        req = required_segments(G, zone_id=args.zone, front_id=args.front, segment_ids=segs)
        if segs is not None and not req:
            raise NotFoundError(f"none of the segments {args.segments!r} is in the zone/front")
        bar.update()
        if args.budget_min is not None:
            raw = _read_weights(args.weights) if args.weights else _forecast_weights(geo, settings)
            if not any(w > 0 for w in raw.values()):
                raise ValidationError(
                    "no hotspot weights: the store has no cases to forecast from",
                    field="--weights",
                    fix="record cases (or run patrol demo-history), or pass --weights CSV",
                )
            weights = {s: w for s, w in raw.items() if s in set(req)}
            plan = plan_budget_route(
                G, start, weights, args.budget_min, settings.walk_speed_kmh, args.dwell_min
            )
            bar.update()
            print(
                f"budget {plan.budget_minutes:g} min: weight {plan.weight:g} in "
                f"{plan.minutes:.0f} min ({len(plan.stops)} hotspots); greedy baseline "
                f"{plan.baseline_weight:g} in {plan.baseline_minutes:.0f} min"
            )
            _print_route(G, plan.route, lang, "route", bound=False)
            _outputs(args, G, plan.route, "", lang)
            return 0
        if args.people != 1:
            if end is not None:
                raise ValidationError("--to cannot be combined with --people", field="--to")
            kr = plan_k_routes(G, req, start, args.people, walk_speed_kmh=settings.walk_speed_kmh)
            bar.update()
            print(
                f"{args.people} people: longest {kr.max_m:.0f} m, lower bound "
                f"{kr.lower_bound_m:.0f} m, gap {kr.gap:.1%}"
            )
            for n, r in enumerate(kr.routes, start=1):
                _print_route(G, r, lang, f"person {n}", bound=False)
                _outputs(args, G, r, f"-{n}", lang)
            return 0
        route = plan_postman_route(G, req, start, end, walk_speed_kmh=settings.walk_speed_kmh)
        bar.update()
    _print_route(G, route, lang, "route")
    _outputs(args, G, route, "", lang)
    return 0
