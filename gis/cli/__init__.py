"""The ``patrol`` command: one subcommand module per capability, imported only when used.

Adding a subcommand is one line in :data:`COMMANDS`: its name, the module under ``gis.cli``
that defines ``register(subparsers)`` (adding its parsers with
``set_defaults(func=handler)``, where ``handler(args, settings) -> int``), and the one-line
help shown by ``patrol --help``. Only the chosen subcommand's module is imported, so
``patrol --help`` and ``patrol route …`` never load the stacks other commands need
(geopandas, folium, streamlit …); keep module-level imports of a command module light
all the same, since ``patrol <command> --help`` imports it.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import NamedTuple

from gis.errors import PatrolError
from gis.settings import Settings


class Command(NamedTuple):
    """A subcommand: the ``gis.cli`` module that registers it and its one-line help."""

    module: str
    help: str


#: Every subcommand, in the order ``patrol --help`` lists them. The help text must be the
#: one the module's ``register`` gives (tests/foundation/test_cli_startup.py checks it).
COMMANDS: dict[str, Command] = {
    "map": Command("geo", "write a standalone offline HTML map of every layer"),
    "info": Command("geo", "layer counts and street-graph figures"),
    "import-osm": Command("geo", "build the geography layer set from OpenStreetMap"),
    "report": Command("report", "daily, weekly or monthly report (HTML, CSV)"),
    "hotspots": Command("report", "density, Gi* hot spots or next week's forecast"),
    "cases": Command("cases", "violation cases: new, list, show, advance"),
    "import": Command("cases", "import a batch of reports (CSV, GeoJSON, GeoPackage)"),
    "export": Command("cases", "export cases (gpkg, geojson, csv for Excel, kml)"),
    "demo-history": Command("cases", "store a synthetic, labelled year of demo cases"),
    "route": Command("route", "plan a patrol route (postman tour, k people, or a time budget)"),
    "districts": Command(
        "districts", "split the streets into one contiguous, balanced district per person"
    ),
    "users": Command("users", "manage the app's users (stored with the data)"),
    "staff": Command("staff", "named staff and their dated responsibility"),
    "roster": Command("staff", "the duty roster (排班)"),
    "signin": Command("signin", "sign-in at 09:00 and 19:00 (签到)"),
    "plan": Command("plan", "the morning day plan per person on duty"),
    "tracks": Command("tracks", "patrol tracks: import GPX, coverage report"),
    "dispatch": Command("coordination", "tiers, 吹哨报到 calls, inboxes, arrivals, escalation"),
    "joint": Command("coordination", "joint enforcement actions (联合执法)"),
    "consult": Command("coordination", "consultations (会商)"),
    "inspect": Command("coordination", "明察暗访 inspections and the weekly review (周点评)"),
    "photo": Command("coordination", "before/after photos of a case (整改前后对比)"),
    "db": Command("db", "store schema: init, migrate, status, backup, restore, load-geography"),
    "crowd": Command("crowd", "crowd-flow early warning (客流预警)"),
}

#: Modules whose commands are not (yet) listed in :data:`COMMANDS`: imported for every run.
COMMAND_MODULES: tuple[str, ...] = ()


def _base_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="patrol", description="什刹海巡查与责任区系统 Shichahai patrol and zoning system"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details")
    parser.add_argument(
        "--subdistrict",
        help="subdistrict code whose rows the store shows and writes, or * for the district "
        "level (default PATROL_SUBDISTRICT, else shichahai)",
    )
    return parser


def _modules(names: Sequence[str]) -> list[str]:
    out: list[str] = []
    for m in [*(COMMANDS[n].module for n in names), *COMMAND_MODULES]:
        if m not in out:
            out.append(m)
    return out


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: every subcommand, or only ``command``'s module's ones.

    The full parser imports every command module (for tests and documentation); ``main``
    asks only for the command being run.
    """
    parser = _base_parser()
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    names = [command] if command in COMMANDS else list(COMMANDS)
    for module in _modules(names):
        importlib.import_module(f"gis.cli.{module}").register(sub)
    return parser


def _index_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand listed from :data:`COMMANDS`, no imports."""
    parser = _base_parser()
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, cmd in COMMANDS.items():
        sub.add_parser(name, help=cmd.help, add_help=False)
    for module in COMMAND_MODULES:
        importlib.import_module(f"gis.cli.{module}").register(sub)
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    """The first argument that is not an option (the subcommand), if any."""
    skip = False
    for arg in argv:
        if skip:  # the value of an option of the top-level parser
            skip = False
            continue
        if arg == "--":
            return None
        if arg == "--subdistrict":
            skip = True
            continue
        if not arg.startswith("-"):
            return arg
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, run, and turn PatrolError into a one-line message and exit code 2."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    command = _command_in(args_list)
    parser = build_parser(command) if command in COMMANDS else _index_parser()
    args = parser.parse_args(args_list)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = Settings.from_env()
        if args.subdistrict:
            from gis.store.tenancy import check_subdistrict

            code = check_subdistrict(args.subdistrict, where="--subdistrict")
            settings = dataclasses.replace(settings, subdistrict=code)
        return int(args.func(args, settings) or 0)
    except PatrolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing half-stored (every write is one transaction)", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a message, no traceback
        if args.verbose:
            logging.getLogger("gis.cli").error("unexpected error", exc_info=True)
        print(
            f"error: unexpected {type(exc).__name__}: {str(exc)[:200]}. Nothing was changed by "
            "the failed step; run again with -v for details and report it",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
