"""Hotspot layers of a time window (density, Gi* cells, next week's forecast) for a geography."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    import geopandas as gpd
    import pandas as pd

    from gis.analytics.counts import CaseCounts
    from gis.analytics.selection import CaseFilter
    from gis.geography.layers import Geography

log = logging.getLogger(__name__)

#: The layers the app offers.
LAYERS: tuple[str, ...] = ("density", "gistar", "forecast")
#: The density layer's kernel radius and cell size (metres).
DENSITY_BANDWIDTH_M = 100.0
DENSITY_CELL_M = 20.0


@dataclass(frozen=True)
class HotspotRequest:
    """Which layer, over the ``days`` days ending (exclusively) after ``end``'s local date."""

    kind: str
    days: int
    end: pd.Timestamp


def measured_cases(geo: Geography, cases: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The case frame in the geography's own metric CRS (the store keeps its own)."""
    from gis.geography.crs import to_metric

    return to_metric(cases, crs=geo.crs, source="cases")


def database_counts(
    store: Any, geo: Geography, flt: CaseFilter, *, exclude_states: Iterable[str] = ()
) -> CaseCounts | None:
    """The store's own counts of the cases ``flt`` selects when it is PostGIS (grids and
    segments counted in SQL), else None: the caller counts its case frame in Python."""
    if store is None:
        return None
    from gis.store.postgis import PostGISStore

    if not isinstance(store, PostGISStore) or store.subdistrict == "*":
        return None  # the district level has no one geography to count on
    from gis.store.pg_counts import PostGISCaseCounts

    return PostGISCaseCounts(store, flt, crs=geo.crs, exclude_states=exclude_states)


def hotspot_layer(
    geo: Geography, cases: gpd.GeoDataFrame, request: HotspotRequest, *, store: Any = None
) -> Any:
    """The analysis behind one hotspot layer, measured in the geography's metric CRS.

    ``density`` gives a :class:`~gis.analytics.density.DensitySurface`, ``gistar`` a
    :class:`~gis.analytics.gistar.HotspotResult` on 100 m cells inside the boundary,
    ``forecast`` the street segments with next week's risk. ``cases`` is the store's frame
    (or the part of it the user may see). Give ``store`` only when ``cases`` is all of its
    cases: a PostGIS store then counts the density grid and the Gi* cells in SQL.
    """
    import pandas as pd

    from gis.analytics import forecast as fc
    from gis.analytics.density import density_surface
    from gis.analytics.gistar import gistar_cells
    from gis.analytics.selection import CaseFilter, select_cases, time_window
    from gis.errors import ValidationError

    if request.kind not in LAYERS:
        raise ValidationError(
            f"unknown hotspot layer {request.kind!r}", field="kind", fix=f"use one of {LAYERS}"
        )
    cases = measured_cases(geo, cases)
    start, stop = time_window(request.end, request.days)
    flt = CaseFilter(start=start, end=stop)
    bounds = tuple(geo.boundary.total_bounds)
    counts = database_counts(store, geo, flt) if request.kind != "forecast" else None
    if request.kind == "density":  # padded so that no case's kernel is cut off at the edge
        pad = DENSITY_BANDWIDTH_M + DENSITY_CELL_M
        minx, miny, maxx, maxy = bounds
        padded = (minx - pad, miny - pad, maxx + pad, maxy + pad)
        return density_surface(
            cases,
            flt,
            bounds=padded,
            bandwidth_m=DENSITY_BANDWIDTH_M,
            cell_m=DENSITY_CELL_M,
            counts=counts,
        )
    if request.kind == "gistar":
        return gistar_cells(cases, flt, bounds=bounds, mask=geo.boundary.union_all(), counts=counts)
    stop_at = pd.Timestamp(request.end)
    week = (stop_at.normalize() - pd.Timedelta(days=stop_at.day_of_week)) + pd.Timedelta(days=7)
    units = fc.segment_units(geo.segments)
    return fc.forecast(select_cases(cases, CaseFilter(end=week)), units, at=week)
