"""The violations layer: cases coloured by category, clustered offline, filtered, escaped.

Clustering uses Leaflet.markercluster from the installed ``xstatic-leaflet-markercluster``
package (inlined, or served from a local prefix), never a CDN. Above ``max_markers`` cases
the layer aggregates to graded square cells instead, which stays fast with a year of data.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element, Figure
from folium.plugins import MarkerCluster

from gis.crs import require_metric, to_display
from layers.assets import AssetMode
from layers.styles import PALETTE

#: One colour per category (C01..C29); the palette extended with five more distinct hues.
CATEGORY_COLOURS: dict[str, str] = {
    f"C{i:02d}": c
    for i, c in enumerate(
        (*PALETTE, "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4"), start=1
    )
    if i <= 29
}
TIER_RADIUS = {"general": 6, "major": 8, "emergency": 10}
#: Graded-cell classes (counts per cell) and their colours, light to dark.
CELL_COLOURS = ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15")


def category_colour(code: str) -> str:
    """The map colour of a category (grey for unknown codes)."""
    return CATEGORY_COLOURS.get(code, "#777777")


def _as_set(v: str | Sequence[str] | None) -> set[str] | None:
    if v is None:
        return None
    return {v} if isinstance(v, str) else set(v)


def filter_cases(
    frame: gpd.GeoDataFrame,
    *,
    categories: str | Sequence[str] | None = None,
    tiers: str | Sequence[str] | None = None,
    states: str | Sequence[str] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    zones: str | Sequence[str] | None = None,
    depts: str | Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """The rows of a case frame that pass every given filter (``None`` = no filter).

    ``depts`` matches the lead department, and the ``depts`` column when the frame has one.
    """
    mask = pd.Series(True, index=frame.index)
    for col, values in (
        ("category", _as_set(categories)),
        ("tier", _as_set(tiers)),
        ("state", _as_set(states)),
        ("zone_id", _as_set(zones)),
    ):
        if values is not None:
            mask &= frame[col].isin(values)
    if since is not None:
        mask &= frame["reported_at"] >= pd.Timestamp(since)
    if until is not None:
        mask &= frame["reported_at"] < pd.Timestamp(until)
    wanted = _as_set(depts)
    if wanted is not None:
        dm = frame["lead_dept"].isin(wanted)
        if "depts" in frame.columns:
            dm |= frame["depts"].fillna("").map(lambda s: bool(wanted & set(str(s).split(";"))))
        mask &= dm
    return frame.loc[mask]


@lru_cache(maxsize=1)
def _cluster_assets() -> tuple[str, str]:
    import xstatic.pkg.leaflet_markercluster as xmc

    base = Path(xmc.BASE_DIR)
    js = (base / "leaflet.markercluster.js").read_text(encoding="utf-8")
    css = (base / "MarkerCluster.css").read_text(encoding="utf-8") + (
        base / "MarkerCluster.Default.css"
    ).read_text(encoding="utf-8")
    return js, css


def cluster_assets_dir() -> Path:
    """Folder of the markercluster JS/CSS (for apps that serve it as static files)."""
    import xstatic.pkg.leaflet_markercluster as xmc

    return Path(xmc.BASE_DIR)


class OfflineMarkerCluster(MarkerCluster):
    """folium's MarkerCluster with its JS/CSS inlined or from a local prefix, never a CDN."""

    def __init__(self, *args: object, assets: AssetMode | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._assets = assets or AssetMode()
        if self._assets.inline:
            self.default_js = []
            self.default_css = []
        else:
            p = self._assets.url_prefix
            self.default_js = [("markerclusterjs", f"{p}/leaflet.markercluster.js")]
            self.default_css = [
                ("markerclustercss", f"{p}/MarkerCluster.css"),
                ("markerclusterdefaultcss", f"{p}/MarkerCluster.Default.css"),
            ]

    def render(self, **kwargs: object) -> str:  # type: ignore[override]
        """Inline the assets into the page header (after Leaflet), then render."""
        if self._assets.inline:
            root = self.get_root()
            if isinstance(root, Figure):
                js, css = _cluster_assets()
                root.header.add_child(Element(f"<style>{css}</style>"), name="markercluster_css")
                root.header.add_child(Element(f"<script>{js}</script>"), name="markercluster_js")
        return super().render(**kwargs)  # type: ignore[func-returns-value]


def _tooltip(row: pd.Series, names: dict[str, str] | None) -> str:
    cat = str(row["category"])
    label = (names or {}).get(cat, cat)
    when = row["reported_at"]
    when_s = when.strftime("%Y-%m-%d %H:%M") if not pd.isna(when) else ""
    desc = str(row.get("description") or "")
    if len(desc) > 80:
        desc = desc[:79] + "…"
    parts = [
        f"<b>{html.escape(str(row['case_id']))}</b> {html.escape(cat)} {html.escape(label)}",
        f"{html.escape(str(row['state']))} · {html.escape(str(row['tier']))} · {html.escape(when_s)}",
        html.escape(desc),
    ]
    return "<br>".join(parts)


def graded_cells(frame: gpd.GeoDataFrame, cell_m: float = 100.0) -> gpd.GeoDataFrame:
    """Counts of cases per square cell (the frame's metric CRS) with a class 0–4 from quantile breaks."""
    crs = require_metric(frame, "cases")
    if frame.empty:
        return gpd.GeoDataFrame(
            {"count": [], "grade": []}, geometry=gpd.GeoSeries([], crs=crs), crs=crs
        )
    x = np.floor(frame.geometry.x.to_numpy() / cell_m).astype(np.int64)
    y = np.floor(frame.geometry.y.to_numpy() / cell_m).astype(np.int64)
    counts = pd.DataFrame({"x": x, "y": y}).value_counts().rename("count").reset_index()
    from shapely import box

    geoms = [
        box(i * cell_m, j * cell_m, (i + 1) * cell_m, (j + 1) * cell_m)
        for i, j in zip(counts["x"], counts["y"], strict=True)
    ]
    qs = np.unique(np.quantile(counts["count"], [0.2, 0.4, 0.6, 0.8]))
    grade = np.searchsorted(qs, counts["count"].to_numpy(), side="left")
    out = gpd.GeoDataFrame(
        {"count": counts["count"].astype(int), "grade": np.minimum(grade, 4)},
        geometry=geoms,
        crs=crs,
    )
    return out


def violations_layer(
    frame: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    cluster: bool = True,
    max_markers: int = 3000,
    cell_m: float = 100.0,
    assets: AssetMode | None = None,
    category_names: dict[str, str] | None = None,
    **filters: object,
) -> folium.FeatureGroup:
    """A FeatureGroup with the (filtered) cases: clustered markers or graded cells.

    ``filters`` are those of :func:`filter_cases` (categories, tiers, states, since, until,
    zones, depts). Every tooltip text is HTML-escaped.
    """
    title = "违法问题" if lang == "zh" else "Violations"
    group = folium.FeatureGroup(name=title, show=True)
    shown = filter_cases(frame, **filters)  # type: ignore[arg-type]
    if shown.empty:
        return group
    if len(shown) > max_markers:
        cells = to_display(graded_cells(shown, cell_m))
        unit = "起" if lang == "zh" else "cases"
        cells["label"] = cells["count"].map(lambda n: f"{int(n)} {unit}")
        folium.GeoJson(
            cells[["count", "grade", "label", "geometry"]].to_json(),
            name=title,
            style_function=lambda f: {
                "color": "#555",
                "weight": 0.5,
                "fillColor": CELL_COLOURS[int(f["properties"]["grade"])],
                "fillOpacity": 0.7,
            },
            tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
        ).add_to(group)
        return group
    disp = to_display(shown)
    target: folium.FeatureGroup | MarkerCluster = group
    if cluster:
        target = OfflineMarkerCluster(name=title, assets=assets)
        target.add_to(group)
    for (_, row), geom in zip(shown.iterrows(), disp.geometry, strict=True):
        colour = category_colour(str(row["category"]))
        folium.CircleMarker(
            location=[geom.y, geom.x],
            radius=TIER_RADIUS.get(str(row["tier"]), 6),
            color="#222" if row["state"] not in ("closed", "rejected", "duplicate") else "#bbb",
            weight=1,
            fill=True,
            fill_color=colour,
            fill_opacity=0.9,
            tooltip=folium.Tooltip(_tooltip(row, category_names)),
        ).add_to(target)
    return group


def legend_items(
    frame: gpd.GeoDataFrame, names: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    """(colour, label) for the categories present, for :func:`layers.legend.add_legend`."""
    present = sorted(set(frame["category"]))
    return [(category_colour(c), f"{c} {(names or {}).get(c, '')}".strip()) for c in present]
