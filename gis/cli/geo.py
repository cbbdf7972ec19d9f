"""Geography subcommands: ``patrol map`` and ``patrol import-osm``."""

from __future__ import annotations

import argparse
from pathlib import Path

from gis.settings import Settings

# Library modules are imported inside the handlers: `patrol <command> --help` stays fast.


def _cmd_map(args: argparse.Namespace, settings: Settings) -> int:
    from gis.geography.layers import load_geography
    from gis.services.subdistricts import settings_geography
    from layers.standalone import write_geography_map  # the CLI is an application layer

    geo = load_geography(args.data) if args.data else settings_geography(settings)
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
    from gis.geography.layers import load_geography
    from gis.geography.network import check_network
    from gis.services.subdistricts import settings_geography

    geo = load_geography(args.data) if args.data else settings_geography(settings)
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
    _register_import_osm(sub)


def _register_import_osm(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import-osm",
        help="build the geography layer set from OpenStreetMap",
        description=(
            "Build boundary, lakes, streets, zones and POIs (WGS 84 GeoJSON) from a local "
            ".osm/.osm.pbf file, or online from a place name or --boundary polygon."
        ),
    )
    p.add_argument(
        "source",
        nargs="?",
        default=None,
        help="place name (online, e.g. 什刹海街道), or a .osm / .osm.pbf file",
    )
    p.add_argument("--out", required=True, help="output folder for the GeoJSON layer files")
    p.add_argument(
        "--boundary",
        help="polygon file of the area to import (alone: download that polygon online)",
    )
    p.add_argument(
        "--boundary-from",
        choices=("hull", "bbox"),
        default="hull",
        help="for a local file without --boundary: convex hull or bounding box of the ways",
    )
    p.add_argument("--grid-m", type=float, default=500.0, help="zone grid size in metres")
    p.add_argument(
        "--main-street-classes",
        default="",
        help="highway classes forming the main-streets front, e.g. primary,secondary",
    )
    p.add_argument("--admin-code", default="110102", help="6-digit district code of zone ids")
    p.add_argument("--street-code", default="012", help="3-digit subdistrict code of zone ids")
    p.add_argument("--community-code", default="000", help="3-digit community code of zone ids")
    p.add_argument(
        "--allow-outside-china",
        action="store_true",
        help="accept an area outside China (sample extracts for testing)",
    )
    p.add_argument(
        "--min-component-m",
        type=float,
        default=None,
        help="drop street pieces cut off from the rest and shorter than this many metres "
        "(default 500; 0 keeps every piece)",
    )
    p.add_argument(
        "--max-mb",
        type=float,
        default=None,
        help="largest input file accepted, MiB (default 1024; checked before reading)",
    )
    p.add_argument(
        "--timeout-s",
        type=float,
        default=None,
        help="online: seconds the Overpass download may take (default 60)",
    )
    p.add_argument(
        "--store-as",
        metavar="SUBDISTRICT",
        help="also store the imported layers as this subdistrict's geography in the store "
        "(PATROL_DATABASE_URL), replacing its stored ones: its users then see this map",
    )
    p.set_defaults(func=_import_osm)


def _import_osm(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from gis.errors import ValidationError
    from gis.geography.osm_area import GridCodes, read_boundary
    from gis.geography.osm_files import MAX_INPUT_MB
    from gis.geography.osm_import import MIN_COMPONENT_M, STEPS, import_osm, summarize
    from gis.geography.osm_online import OnlineOptions

    source = args.source
    boundary = args.boundary
    if source is None:
        if boundary is None:
            raise ValidationError(
                "nothing to import",
                source="command line",
                fix="give a place name, a .osm/.osm.pbf file, or --boundary polygon.geojson",
            )
        source, _name = read_boundary(boundary)  # download that polygon; name from the file
    with tqdm(total=len(STEPS), desc="import-osm", unit="step") as bar:

        def progress(step: str) -> None:
            if step != STEPS[0]:
                bar.update(1)  # the previous step is done
            bar.set_postfix_str(step)

        layers = import_osm(
            source,
            out_dir=args.out,
            boundary=boundary,
            grid_m=args.grid_m,
            main_street_classes=[args.main_street_classes] if args.main_street_classes else [],
            settings=settings,
            boundary_from=args.boundary_from,
            codes=GridCodes(args.admin_code, args.street_code, args.community_code),
            allow_outside_china=args.allow_outside_china,
            online=OnlineOptions(download_timeout_s=args.timeout_s) if args.timeout_s else None,
            progress=progress,
            min_component_m=(
                MIN_COMPONENT_M if args.min_component_m is None else args.min_component_m
            ),
            max_mb=MAX_INPUT_MB if args.max_mb is None else args.max_mb,
        )
        bar.update(bar.total - bar.n)
    figures = summarize(layers)
    print(f"wrote {layers.out_dir}")
    for name in ("boundary", "lakes", "streets", "zones", "pois"):
        print(f"  {name + '.geojson':<17} {figures[name]:>6} features")
    print(f"  named streets     {figures['named_streets']:>6}")
    print("  kinds: " + ", ".join(f"{k} {n}" for k, n in figures["kind"].items()))
    print(f"  measured in {figures['crs']} (geography.json)")
    if figures["dropped_pieces"]:
        print(
            f"  dropped {figures['dropped_pieces']} stray street piece(s) of "
            f"{figures['dropped_m']:.0f} m in all (shorter than {figures['min_component_m']:g} m "
            "and cut off from the rest; --min-component-m 0 keeps them)"
        )
    if args.store_as:
        _store_import(Path(args.out), args.store_as, settings)
    return 0


def _store_import(folder: Path, code: str, settings: Settings) -> None:
    """Store an imported folder as the geography of subdistrict ``code``."""
    from gis.geography.layers import load_geography
    from gis.services.subdistricts import load_subdistrict_geography
    from gis.store import open_store
    from gis.store.tenancy import writable_subdistrict

    code = writable_subdistrict(code)
    geo = load_geography(folder)
    with open_store(settings, subdistrict=code) as store:
        counts = load_subdistrict_geography(store, geo, by="patrol import-osm")
    print(f"  stored as the geography of subdistrict {code}: {sum(counts.values())} features")
