"""Geography subcommands: ``patrol map`` and ``patrol import-osm``."""

from __future__ import annotations

import argparse
from pathlib import Path

from gis.geography import load_bundled_geography, load_geography
from gis.network import check_network
from gis.settings import Settings


def _cmd_map(args: argparse.Namespace, settings: Settings) -> int:
    from layers.standalone import write_geography_map  # the CLI is an application layer

    geo = load_geography(args.data) if args.data else load_bundled_geography(settings)
    out = write_geography_map(
        geo,
        Path(args.out),
        lang=args.lang or settings.language,
        basemap=args.basemap or settings.basemap,
        tianditu_key=settings.tianditu_key,
    )
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB)")
    return 0


def _cmd_info(args: argparse.Namespace, settings: Settings) -> int:
    geo = load_geography(args.data) if args.data else load_bundled_geography(settings)
    for name in ("boundary", "lakes", "fronts", "zones", "streets", "segments", "pois"):
        print(f"{name:9s} {len(getattr(geo, name)):5d}")
    for key, value in check_network(geo.graph()).items():
        print(f"graph {key}: {value:.3f}" if isinstance(value, float) else f"graph {key}: {value}")
    return 0


def _register_map(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("map", help="write a standalone offline HTML map of every layer")
    p.add_argument("--out", default="map.html", help="output HTML file (default map.html)")
    p.add_argument("--data", help="geography folder (default: the bundled Shichahai data)")
    p.add_argument("--lang", choices=("zh", "en"), help="label language (default PATROL_LANG)")
    p.add_argument(
        "--basemap", choices=("none", "osm", "tianditu"), help="tile layer (default none)"
    )
    p.set_defaults(func=_cmd_map)
    q = sub.add_parser("info", help="layer counts and street-graph figures")
    q.add_argument("--data", help="geography folder (default: the bundled Shichahai data)")
    q.set_defaults(func=_cmd_info)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the geography subcommands."""
    _register_map(sub)
