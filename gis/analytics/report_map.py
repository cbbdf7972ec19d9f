"""The report's static hotspot map (PNG) and the period's density surface behind it."""

from __future__ import annotations

import io
import logging
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.analytics.counts import CaseCounts
from gis.analytics.density import DensitySurface, density_surface
from gis.analytics.kpis import DISCARDED_STATES
from gis.analytics.periods import Period
from gis.analytics.selection import CaseFilter

log = logging.getLogger(__name__)


def hotspot_map_png(
    surface: DensitySurface,
    *,
    gdf_segments: gpd.GeoDataFrame | None = None,
    lang: str = "zh",
    size_in: float = 6.0,
) -> bytes | None:
    """A static PNG of the period's density (classed, with legend) over the streets.

    Returns None when matplotlib is not installed or the surface is empty: the report then
    says so instead of showing a misleading picture.
    """
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - matplotlib is optional
        log.info("matplotlib is not installed: no static map in the report")
        return None
    if surface.is_empty:
        return None
    buf = io.BytesIO()
    with (
        warnings.catch_warnings(),
        matplotlib.rc_context(
            {"font.family": ["Noto Sans CJK SC", "Noto Sans CJK JP", "DejaVu Sans"]}
        ),
    ):
        warnings.simplefilter("ignore")  # a missing CJK glyph must not break a report
        _draw_map(surface, gdf_segments, lang, size_in, buf)
    return buf.getvalue()


def _draw_map(
    surface: DensitySurface,
    gdf_segments: gpd.GeoDataFrame | None,
    lang: str,
    size_in: float,
    buf: io.BytesIO,
) -> None:
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    leg = surface.legend(lang=lang)
    cls = leg.classify(surface.values).astype(float)
    cls[cls < 0] = np.nan
    fig = Figure(figsize=(size_in, size_in))
    ax = fig.add_subplot(1, 1, 1)
    minx, miny, maxx, maxy = surface.bounds
    if gdf_segments is not None and len(gdf_segments):
        gdf_segments.plot(ax=ax, color="#9a9a9a", linewidth=0.6, zorder=1)
    ax.imshow(
        np.ma.masked_invalid(cls),
        origin="lower",
        extent=(minx, maxx, miny, maxy),
        cmap=ListedColormap(list(leg.colors)),
        vmin=-0.5,
        vmax=len(leg.colors) - 0.5,
        alpha=0.75,
        interpolation="nearest",
        zorder=2,
    )
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    handles = [Patch(color=c, label=lab) for c, lab in zip(leg.colors, leg.labels, strict=True)]
    ax.legend(handles=handles, loc="lower left", fontsize=7, title=leg.title, title_fontsize=8)
    # scale bar: the largest round length within 30 % of the width
    width = maxx - minx
    bar = max([b for b in (20, 50, 100, 200, 500, 1000, 2000) if b <= 0.3 * width] or [10])
    x0, y0 = minx + 0.04 * width, maxy - 0.05 * (maxy - miny)
    ax.plot([x0, x0 + bar], [y0, y0], color="black", linewidth=2, zorder=3)
    ax.text(x0 + bar / 2, y0 + 0.015 * (maxy - miny), f"{bar} m", ha="center", fontsize=7)
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=110)


def period_surface(
    gdf_cases: gpd.GeoDataFrame,
    period: Period,
    *,
    now: pd.Timestamp | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    counts: CaseCounts | None = None,
) -> DensitySurface:
    """The density surface of the cases reported in ``period`` (for the report's map).

    ``bounds`` (e.g. the subdistrict's, padded) fixes the map's extent so every report shows
    the same area. ``counts`` gives the period's live cases counted elsewhere (the database).
    """
    live = gdf_cases[~gdf_cases["state"].isin(DISCARDED_STATES)] if len(gdf_cases) else gdf_cases
    flt = CaseFilter(start=period.start, end=period.end)
    return density_surface(live, flt, now=now, bounds=bounds, counts=counts)
