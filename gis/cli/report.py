"""Report and hotspot subcommands: ``patrol report daily|weekly|monthly`` and ``patrol hotspots``."""

from __future__ import annotations

import argparse
import io
import logging
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd

from gis.analytics.selection import CaseFilter, as_local_timestamp
from gis.cli.argtypes import float_range, int_range
from gis.errors import ValidationError
from gis.geography.crs import to_display, to_metric
from gis.localtime import local_series, now_local, parse_date
from gis.settings import Settings

log = logging.getLogger(__name__)
TIME_COLUMNS = ("reported_at", "deadline_at", "closed_at")


def read_case_file(path: str | Path) -> gpd.GeoDataFrame:
    """A case frame from a GeoPackage/GeoJSON export, in EPSG:32650 with local times."""
    p = Path(path)
    if not p.exists():
        raise ValidationError(
            "file not found", source=str(p), fix="give the path of a GeoPackage or GeoJSON"
        )
    try:
        with warnings.catch_warnings():
            # GDAL notes GeoPackage datetimes written with a +08:00 offset instead of Z;
            # they are parsed correctly, and converted to local time below.
            warnings.filterwarnings("ignore", message="Non-conformant content")
            gdf = gpd.read_file(p)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise ValidationError(
            f"cannot read cases: {exc}", source=str(p), fix="export the cases as GeoPackage"
        ) from exc
    gdf = to_metric(gdf, source=str(p))
    if "reported_at" not in gdf.columns:
        raise ValidationError(
            "no reported_at column", source=str(p), field="reported_at", fix="export the case frame"
        )
    out = gdf.copy()
    for col in TIME_COLUMNS:
        if col not in out.columns:
            out[col] = pd.NaT
        out[col] = local_series(out[col], coerce=True)
    return out


def _open_store(settings: Settings):  # type: ignore[no-untyped-def]
    from gis.store import open_store

    return open_store(settings)


def read_assignment(path: str | Path) -> dict[str, str]:
    """``segment_id → person_id`` from a CSV with those two columns (UTF-8, BOM allowed)."""
    p = Path(path)
    if not p.exists():
        raise ValidationError("file not found", source=str(p), fix="give the assignment CSV")
    from gis.io.uploads import read_upload

    data = read_upload(p, 50 * 1024 * 1024)  # a regular file, not a link; size first
    try:
        df = pd.read_csv(io.StringIO(data.decode("utf-8-sig")), dtype=str)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValidationError(
            f"cannot be read as a UTF-8 CSV ({type(exc).__name__})",
            source=p.name,
            fix="write a header row segment_id,person_id and save as CSV UTF-8",
        ) from None
    missing = [c for c in ("segment_id", "person_id") if c not in df.columns]
    if missing:
        raise ValidationError(
            f"missing columns {missing}",
            source=str(p),
            fix="write a header row: segment_id,person_id",
        )
    bad = df[df["segment_id"].isna() | df["person_id"].isna()]
    if len(bad):
        raise ValidationError(
            "empty segment_id or person_id",
            source=str(p),
            row=int(bad.index[0]) + 2,
            fix="fill both columns on every row",
        )
    dup = df[df["segment_id"].duplicated()]
    if len(dup):
        raise ValidationError(
            f"segment {dup['segment_id'].iloc[0]!r} is assigned twice",
            source=str(p),
            row=int(dup.index[0]) + 2,
            field="segment_id",
            fix="give each segment one responsible person",
        )
    return dict(zip(df["segment_id"], df["person_id"], strict=True))


def load_cases(args: argparse.Namespace, settings: Settings) -> gpd.GeoDataFrame:
    """Cases from ``--cases`` or from the configured store (``PATROL_DATABASE_URL``)."""
    if getattr(args, "cases", None):
        return read_case_file(args.cases)
    store = _open_store(settings)
    try:
        return store.cases_frame()
    finally:
        store.close()


def _load_geography(args: argparse.Namespace, settings: Settings):  # type: ignore[no-untyped-def]
    """The configured geography, or None (with a log line) when absent."""
    from gis.geography.layers import load_geography
    from gis.services.subdistricts import settings_geography

    try:
        data = getattr(args, "data", None)
        return load_geography(data) if data else settings_geography(settings)
    except Exception as exc:  # no bundled data yet, or a broken folder: maps without streets
        log.warning("no street geography (%s): maps and segment tests are skipped", exc)
        return None


def _extent(geo, pad_m: float = 200.0) -> tuple[float, float, float, float] | None:  # type: ignore[no-untyped-def]
    """The subdistrict's bounding box padded by ``pad_m`` (None without a geography)."""
    if geo is None or geo.boundary.empty:
        return None
    minx, miny, maxx, maxy = geo.boundary.total_bounds
    return (minx - pad_m, miny - pad_m, maxx + pad_m, maxy + pad_m)


def _land(geo):  # type: ignore[no-untyped-def]
    """The subdistrict without its lakes: where Gi* cells are tested (None without data)."""
    if geo is None or geo.boundary.empty:
        return None
    area = geo.boundary.union_all()
    if len(geo.lakes):
        area = area.difference(geo.lakes.union_all())
    return area


def _cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from gis.analytics.periods import default_report_day
    from gis.analytics.report_files import write_csv, write_html
    from gis.services.reports import ReportRequest, display_names, produce_report

    lang = args.lang or settings.language
    day = (
        parse_date(args.date, field="--date", required=True).isoformat()
        if args.date
        else default_report_day(args.kind, pd.Timestamp(now_local()).date()).isoformat()
    )
    request = ReportRequest(
        kind=args.kind,
        day=day,
        lang=lang,
        assignment=read_assignment(args.assignment) if args.assignment else None,
        synthetic=True if args.synthetic else None,
    )
    geo = _load_geography(args, settings)
    if getattr(args, "cases", None):
        produced = produce_report(geo, read_case_file(args.cases), request, html=bool(args.out))
    else:
        store = _open_store(settings)
        try:
            cases = store.cases_frame()
            produced = produce_report(
                geo, cases, request, store=store, html=bool(args.out), cases_are_the_store=True
            )
        finally:
            store.close()
    kpis = produced.kpis
    print(f"{produced.period.label(lang)}: ", end="")
    print(
        f"reported {kpis.reported}, open {kpis.open}, overdue {kpis.overdue}, closed {kpis.closed}"
    )
    for note in kpis.notes:
        print(f"note: {note}")
    if args.out and produced.html is not None:
        write_html(produced.html, args.out)
        print(f"wrote {args.out}")
    if args.csv:
        write_csv(kpis, args.csv, lang, display_names(geo, lang))
        print(f"wrote {args.csv} (UTF-8 with BOM for Excel)")
    return 0


def _filter(args: argparse.Namespace) -> CaseFilter:
    end = (
        as_local_timestamp(parse_date(args.date, field="--date", required=True).isoformat())
        if args.date
        else pd.Timestamp(now_local())
    )
    end = end.normalize() + pd.Timedelta(days=1)
    return CaseFilter(
        categories=tuple(args.category) if args.category else None,
        tiers=tuple(args.tier) if args.tier else None,
        start=end - pd.Timedelta(days=args.days),
        end=end,
        hours=tuple(args.hour) if args.hour else None,
        day_type=args.day_type,
        holidays=frozenset(
            parse_date(d, field="--holiday", required=True) for d in (args.holiday or ())
        ),
    )


def _cmd_hotspots(args: argparse.Namespace, settings: Settings) -> int:
    from gis.analytics import density, gistar, selection
    from gis.analytics import forecast as fc

    lang = args.lang or settings.language
    flt = _filter(args)  # bad --date/--holiday fail before any loading
    cases = load_cases(args, settings)
    geo = _load_geography(args, settings)
    segments = None if geo is None else geo.segments
    if geo is not None:  # measure the cases in the geography's own metric CRS
        cases = to_metric(cases, crs=geo.crs, source="cases")
    paint: tuple[str, object, str]  # (layer kind, result, note) for --map
    if args.method == "kde":
        surface = density.density_surface(
            cases,
            flt,
            bandwidth_m=args.bandwidth,
            cell_m=args.cell,
            bounds=_extent(geo, pad_m=args.bandwidth),
        )
        legend = surface.legend(lang=lang)
        print(f"{surface.n_cases} cases over {surface.months:.2f} months ({surface.description})")
        if surface.note:
            print(f"note: {surface.note}")
        for lab in legend.labels:
            print(f"  {lab}")
        out = surface.to_gdf()
        paint = ("density", surface, "")
    elif args.method == "gistar":
        if args.on == "segments":
            if segments is None:
                raise ValidationError(
                    "Gi* on street segments needs the street geography",
                    fix="install the bundled data, pass --data, or use --on cells",
                )
            res = gistar.gistar_segments(
                cases, segments, flt, seed=args.seed, randomization=args.randomization
            )
        else:
            res = gistar.gistar_cells(
                cases,
                flt,
                cell_m=args.cell,
                seed=args.seed,
                randomization=args.randomization,
                mask=_land(geo),
            )
        print(" ".join(f"{k}={v}" for k, v in res.counts.items()))
        if res.note:
            print(f"note: {res.note}")
        out = res.gdf
        paint = ("gistar", res, "")
    else:
        at = flt.end
        past = selection.select_cases(
            cases, selection.CaseFilter(categories=flt.categories, tiers=flt.tiers, end=at)
        )
        if segments is not None and args.on == "segments":
            units = fc.segment_units(segments)
        else:
            if past.empty:
                raise ValidationError(
                    "no past cases to forecast from", fix="check --cases, --date and --category"
                )
            units = fc.cell_units(tuple(past.total_bounds), args.cell, crs=str(past.crs))
        out = fc.forecast(past, units, at=at)
        bt = fc.backtest(past, units)
        note = ""
        if bt.note:
            print(f"note: {bt.note}")
        else:
            for cov in fc.COVERAGES:
                cells = [f"{m} {bt.pai(m, cov):.2f}" for m in (*fc.METHODS, fc.HINDSIGHT)]
                print(f"PAI at {cov:.0%}: " + ", ".join(cells))
            log.info("backtest summary:\n%s", bt.summary.to_string())
            from layers.hotspots import backtest_note

            note = backtest_note(bt.summary, "near_repeat", lang=lang, unit=units.kind)
        paint = ("forecast", out, note)
    if args.out:
        if out.empty:
            print("nothing to write: empty result (an empty GeoJSON is written)")
        to_display(out).to_file(args.out, driver="GeoJSON")
        print(f"wrote {args.out} ({len(out)} features)")
    if args.map:
        from layers.hotspots import write_hotspot_map  # the CLI is an application layer

        kind, result, note = paint
        write_hotspot_map(
            Path(args.map),
            kind,
            result,
            note=note,
            gdf_segments=segments,
            lang=lang,
            basemap=settings.basemap,
            tianditu_key=settings.tianditu_key,
        )
        print(f"wrote {args.map}")
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cases", help="case frame file (GeoPackage/GeoJSON) instead of the store")
    p.add_argument("--data", help="geography folder (default: the bundled Shichahai data)")
    p.add_argument(
        "--date",
        help="a day in the period, YYYY-MM-DD (default: the last complete period: yesterday, "
        "last week, last month)",
    )
    p.add_argument("--lang", choices=("zh", "en"), help="language (default PATROL_LANG)")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``report`` and ``hotspots``."""
    p = sub.add_parser("report", help="daily, weekly or monthly report (HTML, CSV)")
    p.add_argument("kind", choices=("daily", "weekly", "monthly"))
    _common(p)
    p.add_argument("--out", help="write the printable HTML report here")
    p.add_argument("--csv", help="write the Excel-friendly CSV (UTF-8 with BOM) here")
    p.add_argument("--synthetic", action="store_true", help="label the report as demo data")
    p.add_argument(
        "--assignment",
        help="CSV with segment_id,person_id (the districts) for the workload table",
    )
    p.set_defaults(func=_cmd_report)
    q = sub.add_parser("hotspots", help="density, Gi* hot spots or next week's forecast")
    _common(q)
    q.add_argument("--method", choices=("kde", "gistar", "forecast"), default="kde")
    q.add_argument("--on", choices=("cells", "segments"), default="cells")
    q.add_argument(
        "--days", type=int_range(1, 36600), default=30, help="window length ending at --date"
    )
    q.add_argument("--category", action="append", help="category code (repeatable)")
    q.add_argument("--tier", action="append", choices=("general", "major", "emergency"))
    q.add_argument(
        "--hour", action="append", type=int_range(0, 23), help="local hour 0–23 (repeatable)"
    )
    q.add_argument("--day-type", default="all", choices=("all", "weekday", "weekend_holiday"))
    q.add_argument("--holiday", action="append", help="a public holiday YYYY-MM-DD (repeatable)")
    q.add_argument(
        "--cell", type=float_range(1.0, 5000.0), default=None, help="cell size in metres"
    )
    q.add_argument(
        "--bandwidth",
        type=float_range(1.0, 5000.0),
        default=100.0,
        help="KDE radius in metres (1–5000)",
    )
    q.add_argument("--seed", type=int, default=0, help="permutation seed for Gi*")
    q.add_argument(
        "--randomization",
        choices=("total", "conditional"),
        default="total",
        help="Gi* permutation null: whole neighbourhood (total) or neighbours only",
    )
    q.add_argument("--out", help="write the result as GeoJSON (WGS 84)")
    q.add_argument("--map", help="write a standalone offline HTML map of the result")
    q.set_defaults(func=_cmd_hotspots_defaults)


def _cmd_hotspots_defaults(args: argparse.Namespace, settings: Settings) -> int:
    if args.cell is None:
        args.cell = {"kde": 20.0, "gistar": 100.0, "forecast": 100.0}[args.method]
    return _cmd_hotspots(args, settings)
