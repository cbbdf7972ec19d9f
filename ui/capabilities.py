"""The bridge to capabilities that arrive separately (districts, cases store, hotspots).

Each function returns None (or does nothing) when its capability is not installed, and the
page then says so plainly instead of pretending.
"""

from __future__ import annotations

import logging

from gis.place import Place
from layers.basemap import OfflineMap
from ui.common import Context, optional_module

log = logging.getLogger(__name__)


def store_module():  # noqa: ANN201 - module or None
    """gis.store when it offers open_store(settings), else None."""
    mod = optional_module("gis.store")
    return mod if mod is not None and hasattr(mod, "open_store") else None


def responsible_person(c: Context, place: Place) -> str | None:
    """The person answering for the place's street, when districts are saved."""
    return None


def open_case_count(c: Context, place: Place) -> int | None:
    """Open cases in the clicked zone (or street front), None without a case store."""
    return None


def add_case_layer(c: Context, m: OfflineMap) -> None:
    """Add the open cases the user may see (aggregated when many) to a map."""
    return None
