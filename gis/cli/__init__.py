"""The ``patrol`` command: one subcommand module per capability."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from gis.errors import PatrolError
from gis.settings import Settings

#: Subcommand modules under gis.cli; each defines ``register(subparsers)`` that adds its
#: parsers with ``set_defaults(func=handler)``, where ``handler(args, settings) -> int``.
COMMAND_MODULES: tuple[str, ...] = (
    "geo",
    "report",
    "cases",
    "route",
    "districts",
    "users",
    "crowd",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (every registered subcommand)."""
    parser = argparse.ArgumentParser(
        prog="patrol", description="什刹海巡查与责任区系统 Shichahai patrol and zoning system"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"gis.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, run, and turn PatrolError into a one-line message and exit code 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = Settings.from_env()
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
