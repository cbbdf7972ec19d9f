"""Report and hotspot subcommands: ``patrol report daily|weekly|monthly`` and ``patrol hotspots``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd

from gis.crs import to_display, to_metric
from gis.errors import StoreError, ValidationError
from gis.hotspots import TIMEZONE, CaseFilter, as_local_timestamp
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
        s = pd.to_datetime(out[col], errors="coerce", utc=False, format="mixed")
        if s.dt.tz is None:
            s = s.dt.tz_localize(TIMEZONE)
        out[col] = s.dt.tz_convert(TIMEZONE)
    return out


def load_cases(args: argparse.Namespace, settings: Settings) -> gpd.GeoDataFrame:
    """Cases from ``--cases`` or, when it has landed, from the configured store."""
    if getattr(args, "cases", None):
        return read_case_file(args.cases)
    try:
        from gis.store import open_store  # type: ignore[attr-defined]
    except ImportError:
        raise StoreError(
            "no case store is available in this build: pass --cases FILE "
            "(a GeoPackage or GeoJSON of the case frame)"
        ) from None
    store = open_store(settings)
    for name in ("case_frame", "cases_frame", "cases"):
        fn = getattr(store, name, None)
        if callable(fn):
            return fn()
    raise StoreError("the store offers no case frame: pass --cases FILE")


def _load_segments(args: argparse.Namespace, settings: Settings) -> gpd.GeoDataFrame | None:
    """Street segments of the configured geography, or None (with a log line) when absent."""
    try:
        from gis.geography import load_bundled_geography, load_geography

        data = getattr(args, "data", None)
        geo = load_geography(data) if data else load_bundled_geography(settings)
        return geo.segments
    except Exception as exc:  # no bundled data yet, or a broken folder: maps without streets
        log.warning("no street geography (%s): maps and segment tests are skipped", exc)
        return None


def _cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from gis.reports import compute_kpis, period_for, period_surface, render_html, write_csv

    lang = args.lang or settings.language
    day = args.date or pd.Timestamp.now(tz=TIMEZONE).strftime("%Y-%m-%d")
    period = period_for(args.kind, day)
    cases = load_cases(args, settings)
    segments = _load_segments(args, settings)
    kpis = compute_kpis(cases, period, gdf_segments=segments)
    print(f"{period.label(lang)}: ", end="")
    print(
        f"reported {kpis.reported}, open {kpis.open}, overdue {kpis.overdue}, closed {kpis.closed}"
    )
    for note in kpis.notes:
        print(f"note: {note}")
    if args.out:
        surface = period_surface(cases, period)
        text = render_html(
            kpis, lang=lang, surface=surface, gdf_segments=segments, synthetic=args.synthetic
        )
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    if args.csv:
        write_csv(kpis, args.csv, lang)
        print(f"wrote {args.csv} (UTF-8 with BOM for Excel)")
    return 0


def _filter(args: argparse.Namespace) -> CaseFilter:
    end = as_local_timestamp(args.date) if args.date else pd.Timestamp.now(tz=TIMEZONE)
    end = end.normalize() + pd.Timedelta(days=1)
    return CaseFilter(
        categories=tuple(args.category) if args.category else None,
        tiers=tuple(args.tier) if args.tier else None,
        start=end - pd.Timedelta(days=args.days),
        end=end,
        hours=tuple(args.hour) if args.hour else None,
        day_type=args.day_type,
    )


def _cmd_hotspots(args: argparse.Namespace, settings: Settings) -> int:
    from gis import forecast as fc
    from gis import hotspots as hs

    cases = load_cases(args, settings)
    segments = _load_segments(args, settings)
    flt = _filter(args)
    if args.method == "kde":
        surface = hs.density_surface(cases, flt, bandwidth_m=args.bandwidth, cell_m=args.cell)
        legend = surface.legend(lang=args.lang or settings.language)
        print(f"{surface.n_cases} cases over {surface.months:.2f} months ({surface.description})")
        if surface.note:
            print(f"note: {surface.note}")
        for lab in legend.labels:
            print(f"  {lab}")
        out = surface.to_gdf()
    elif args.method == "gistar":
        if args.on == "segments":
            if segments is None:
                raise ValidationError(
                    "Gi* on street segments needs the street geography",
                    fix="install the bundled data, pass --data, or use --on cells",
                )
            res = hs.gistar_segments(cases, segments, flt, seed=args.seed)
        else:
            res = hs.gistar_cells(cases, flt, cell_m=args.cell, seed=args.seed)
        print(" ".join(f"{k}={v}" for k, v in res.counts.items()))
        if res.note:
            print(f"note: {res.note}")
        out = res.gdf
    else:
        at = flt.end
        if segments is not None and args.on == "segments":
            units = fc.segment_units(segments)
        else:
            if cases.empty:
                raise ValidationError("no cases to forecast from", fix="check --cases and --date")
            units = fc.cell_units(tuple(cases.total_bounds), args.cell)
        out = fc.forecast(cases[cases["reported_at"] < at], units, at=at)
        bt = fc.backtest(cases[cases["reported_at"] < at], units)
        if bt.note:
            print(f"note: {bt.note}")
        else:
            s = bt.summary
            for cov in fc.COVERAGES:
                cells = [f"{m} {bt.pai(m, cov):.2f}" for m in (*fc.METHODS, fc.HINDSIGHT)]
                print(f"PAI at {cov:.0%}: " + ", ".join(cells))
            log.info("backtest summary:\n%s", s.to_string())
    if args.out:
        if out.empty:
            print("nothing to write: empty result (an empty GeoJSON is written)")
        to_display(out).to_file(args.out, driver="GeoJSON")
        print(f"wrote {args.out} ({len(out)} features)")
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cases", help="case frame file (GeoPackage/GeoJSON) instead of the store")
    p.add_argument("--data", help="geography folder (default: the bundled Shichahai data)")
    p.add_argument("--date", help="a day in the period, YYYY-MM-DD (default: today)")
    p.add_argument("--lang", choices=("zh", "en"), help="language (default PATROL_LANG)")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``report`` and ``hotspots``."""
    p = sub.add_parser("report", help="daily, weekly or monthly report (HTML, CSV)")
    p.add_argument("kind", choices=("daily", "weekly", "monthly"))
    _common(p)
    p.add_argument("--out", help="write the printable HTML report here")
    p.add_argument("--csv", help="write the Excel-friendly CSV (UTF-8 with BOM) here")
    p.add_argument("--synthetic", action="store_true", help="label the report as demo data")
    p.set_defaults(func=_cmd_report)
    q = sub.add_parser("hotspots", help="density, Gi* hot spots or next week's forecast")
    _common(q)
    q.add_argument("--method", choices=("kde", "gistar", "forecast"), default="kde")
    q.add_argument("--on", choices=("cells", "segments"), default="cells")
    q.add_argument("--days", type=int, default=30, help="window length ending at --date")
    q.add_argument("--category", action="append", help="category code (repeatable)")
    q.add_argument("--tier", action="append", choices=("general", "major", "emergency"))
    q.add_argument("--hour", action="append", type=int, help="local hour 0–23 (repeatable)")
    q.add_argument("--day-type", default="all", choices=("all", "weekday", "weekend_holiday"))
    q.add_argument("--cell", type=float, default=None, help="cell size in metres")
    q.add_argument("--bandwidth", type=float, default=100.0, help="KDE radius in metres")
    q.add_argument("--seed", type=int, default=0, help="permutation seed for Gi*")
    q.add_argument("--out", help="write the result as GeoJSON (WGS 84)")
    q.set_defaults(func=_cmd_hotspots_defaults)


def _cmd_hotspots_defaults(args: argparse.Namespace, settings: Settings) -> int:
    if args.cell is None:
        args.cell = {"kde": 20.0, "gistar": 100.0, "forecast": 100.0}[args.method]
    return _cmd_hotspots(args, settings)
