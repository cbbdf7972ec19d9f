"""Geography subcommands: ``patrol map`` and ``patrol import-osm``."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the geography subcommands (filled in by the foundation work)."""
