"""Hotspot map layers: density, Gi* classes and forecast risk, each with its legend.

The surfaces are computed in metres by :mod:`gis.analytics.density`, :mod:`gis.analytics.gistar`
and :mod:`gis.analytics.forecast`; these functions only paint them, so they look the same at
every zoom. Empty inputs give an empty layer and a legend that says "no cases", never a
full-red map.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Figure
from numpy.typing import NDArray
from pyproj import Transformer

from gis.analytics.density import DensitySurface
from gis.analytics.forecast import select_top
from gis.analytics.gistar import GI_CLASSES, GI_COLORS, HotspotResult, gi_legend
from gis.analytics.legend import Legend
from gis.geography.crs import WGS84, to_display
from layers.assets import AssetMode
from layers.basemap import new_map
from layers.legend import add_legend
from layers.safe import (
    DataLayer,
    RawHtml,
    clean_text,
    collection,
    feature,
    feature_group,
    inert,
    safe_colour,
)

_NO_DATA = (0, 0, 0, 0)


def _rgba(colour: str, alpha: int) -> tuple[int, int, int, int]:
    c = colour.lstrip("#")
    return (int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16), alpha)


def legend_items(legend: Legend) -> list[tuple[str, str]]:
    """(colour, label) pairs for :func:`layers.legend.add_legend` (a grey swatch if empty)."""
    if legend.empty:
        return [("#ffffff", legend.labels[0])]
    return list(zip(legend.colors, legend.labels, strict=True))


def density_image(
    surface: DensitySurface, legend: Legend, *, pixels: int = 600, alpha: int = 170
) -> tuple[NDArray[np.uint8], list[list[float]]]:
    """An RGBA image of the classed surface on a lat/lon raster, and its Leaflet bounds.

    Each output pixel's centre is transformed back to the grid's metric CRS and looked up
    in the grid, so the picture is exact despite the slight rotation between the UTM grid
    and lat/lon.
    """
    minx, miny, maxx, maxy = surface.bounds
    to_ll = Transformer.from_crs(surface.grid.crs, WGS84, always_xy=True)
    to_m = Transformer.from_crs(WGS84, surface.grid.crs, always_xy=True)
    xs = np.array([minx, maxx, minx, maxx])
    ys = np.array([miny, miny, maxy, maxy])
    lon, lat = to_ll.transform(xs, ys)
    w, s, e, n = lon.min(), lat.min(), lon.max(), lat.max()
    aspect = (e - w) * np.cos(np.radians((s + n) / 2)) / max(n - s, 1e-12)
    nx_pix = max(1, int(pixels * min(1.0, aspect)))
    ny_pix = max(1, int(pixels * min(1.0, 1 / aspect)))
    plon = w + (np.arange(nx_pix) + 0.5) * (e - w) / nx_pix
    plat = n - (np.arange(ny_pix) + 0.5) * (n - s) / ny_pix  # row 0 is north
    glon, glat = np.meshgrid(plon, plat)
    gx, gy = to_m.transform(glon.ravel(), glat.ravel())
    idx = surface.grid.index_of(np.asarray(gx), np.asarray(gy))
    vals = np.where(idx >= 0, surface.values.ravel()[np.maximum(idx, 0)], 0.0)
    cls = legend.classify(vals)
    palette = np.array([_rgba(c, alpha) for c in legend.colors] + [_NO_DATA], dtype=np.uint8)
    img = palette[np.where(cls >= 0, cls, len(legend.colors))].reshape(ny_pix, nx_pix, 4)
    return img, [[float(s), float(w)], [float(n), float(e)]]


def density_layer(
    m: folium.Map,
    surface: DensitySurface,
    *,
    lang: str = "zh",
    k: int = 5,
    mode: str = "image",
    show: bool = True,
) -> Legend:
    """Add the density surface (image overlay or graded cells) and its legend to ``m``.

    ``mode="cells"`` draws each non-zero cell as a polygon with its value in the tooltip
    (heavier, but exact and inspectable); ``image`` is a light raster overlay.
    """
    legend = surface.legend(k=k, lang=lang)
    title = legend.title
    group = feature_group(title, show=show)
    if not legend.empty:
        if mode == "image":
            img, bounds = density_image(surface, legend)
            folium.raster_layers.ImageOverlay(
                img, bounds=bounds, origin="upper", pixelated=True, name=inert(title)
            ).add_to(group)
        elif mode == "cells":
            gdf = surface.to_gdf()
            gdf["cls"] = legend.classify(gdf["density"].to_numpy())
            gdf = gdf[gdf["cls"] >= 0]
            gdf["fill"] = [legend.colors[c] for c in gdf["cls"]]
            gdf["density"] = gdf["density"].round(1)
            disp = to_display(gdf[["cell_id", "density", "fill", "geometry"]])
            feats = [
                feature(
                    geom,
                    {
                        "v": f"{float(d):g}",
                        "id": clean_text(cid),
                        "_s": {"fillColor": safe_colour(fill), "fillOpacity": 0.65, "weight": 0},
                    },
                )
                for cid, d, fill, geom in zip(
                    disp["cell_id"], disp["density"], disp["fill"], disp.geometry, strict=True
                )
            ]
            DataLayer(
                collection(feats), tip={"rows": [[legend.unit, "v"]], "small": ["id"]}
            ).add_to(group)
        else:
            raise ValueError(f"unknown density mode {mode!r}: use image or cells")
    group.add_to(m)
    add_legend(m, f"{title} ({legend.unit})" if not legend.empty else title, legend_items(legend))
    return legend


def gistar_layer(
    m: folium.Map, result: HotspotResult, *, lang: str = "zh", show: bool = True
) -> Legend:
    """Add the significant Gi* units (cells or segments) coloured by class, with legend.

    Non-significant units are not drawn (the legend gives their number), so the map shows
    only what passed the FDR-corrected test.
    """
    legend = gi_legend(result, lang=lang)
    group = feature_group(legend.title, show=show)
    gdf = result.gdf
    if len(gdf) and result.tested:
        sig = gdf[gdf["gi_class"] != "ns"].copy()
        if len(sig):
            id_col = "cell_id" if "cell_id" in sig.columns else "segment_id"
            sig["gi_z"] = sig["gi_z"].round(2)
            sig["q_value"] = sig["q_value"].round(4)
            line = result.unit == "segment"
            present = [c for c in GI_CLASSES if result.counts.get(c, 0) > 0]
            names = {c: lab.split(" (")[0] for c, lab in zip(present, legend.labels, strict=False)}
            z = lang == "zh"
            disp = to_display(sig[[id_col, "count", "gi_z", "q_value", "gi_class", "geometry"]])
            feats = []
            for rec, geom in zip(
                disp.drop(columns="geometry").to_dict("records"), disp.geometry, strict=True
            ):
                colour = safe_colour(GI_COLORS.get(rec["gi_class"], "#000000"))
                style = (
                    {"color": colour, "weight": 6, "opacity": 0.9}
                    if line
                    else {
                        "fillColor": colour,
                        "fillOpacity": 0.6,
                        "color": "#555555",
                        "weight": 0.5,
                    }
                )
                feats.append(
                    feature(
                        geom,
                        {
                            "t": clean_text(names.get(rec["gi_class"], rec["gi_class"])),
                            "n": f"{int(rec['count'])}",
                            "gz": f"{float(rec['gi_z']):.2f}",
                            "q": f"{float(rec['q_value']):.4f}",
                            "id": clean_text(rec[id_col]),
                            "_s": style,
                        },
                    )
                )
            tip = {
                "title": "t",
                "rows": [
                    ["案件数" if z else "Cases", "n"],
                    ["Gi* z", "gz"],
                    ["q", "q"],
                ],
                "small": ["id"],
            }
            DataLayer(collection(feats), tip=tip, sticky=line).add_to(group)
    group.add_to(m)
    add_legend(m, legend.title, legend_items(legend))
    return legend


#: Colours of the forecast's top-coverage bands (top 1 %, 1–5 %, 5–10 %).
FORECAST_BANDS: tuple[tuple[float, str], ...] = (
    (0.01, "#bd0026"),
    (0.05, "#f03b20"),
    (0.10, "#feb24c"),
)


def forecast_bands(gdf_forecast: gpd.GeoDataFrame) -> NDArray[np.int64]:
    """Band per unit: 0 for the top 1 % of area (or street length), 1 for 1–5 %, 2 for
    5–10 %, -1 otherwise — the same selection the backtest scores, so the map shows exactly
    what the PAI figures are about. Units with zero risk are never banded."""
    seg = "risk_per_km" in gdf_forecast.columns
    measure = (
        gdf_forecast.geometry.length.to_numpy() if seg else gdf_forecast.geometry.area.to_numpy()
    )
    risk = gdf_forecast["risk"].to_numpy(float)
    band = np.full(len(risk), -1, dtype=np.int64)
    if not len(risk) or not (risk > 0).any():
        return band
    for b, (cov, _colour) in reversed(list(enumerate(FORECAST_BANDS))):
        band[select_top(risk, np.maximum(measure, 1.0), cov)] = b
    band[risk <= 0] = -1
    return band


def forecast_layer(
    m: folium.Map,
    gdf_forecast: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    score_note: str = "",
    show: bool = True,
) -> Legend:
    """Add next week's riskiest units (from :func:`gis.analytics.forecast.forecast`) in three bands.

    The bands are the top 1 %, 5 % and 10 % of the area (cells) or street length (segments)
    by forecast risk density — the coverages the backtest scores. ``score_note`` (e.g.
    from :func:`backtest_note`) is shown in the legend title so leadership knows how far to
    trust the map.
    """
    seg = "risk_per_km" in gdf_forecast.columns
    col = "risk_per_km" if seg else "risk_per_km2"
    if lang == "zh":
        share = "街巷长度" if seg else "面积"
        labels = [f"风险最高的 1% {share}", f"前 1–5% {share}", f"前 5–10% {share}"]
        title = "下周风险预测"
        empty = "无历史案件，无法预测"
        unit = "件/公里/周" if seg else "件/平方公里/周"
    else:
        share = "street length" if seg else "area"
        labels = [f"riskiest 1 % of {share}", f"next to 5 % of {share}", f"next to 10 % of {share}"]
        title = "Next week's risk forecast"
        empty = "no past cases: nothing to forecast"
        unit = "cases/km/week" if seg else "cases/km²/week"
    band = forecast_bands(gdf_forecast) if len(gdf_forecast) else np.zeros(0, dtype=np.int64)
    group = feature_group(title, show=show)
    if (band >= 0).any():
        gdf = gdf_forecast.assign(band=band)
        gdf = gdf[gdf["band"] >= 0].copy()
        lows = [float(gdf.loc[gdf["band"] == b, col].min()) for b in range(len(FORECAST_BANDS))]
        labels = [
            f"{lab} (≥ {lo:.2g} {unit})" if np.isfinite(lo) else lab
            for lab, lo in zip(labels, lows, strict=True)
        ]
        legend = Legend((), tuple(c for _, c in FORECAST_BANDS), tuple(labels), unit, title)
        disp = to_display(gdf[["unit_id", "risk", "band", col, "geometry"]])
        feats = []
        for uid, risk, b, dens, geom in zip(
            disp["unit_id"], disp["risk"], disp["band"], disp[col], disp.geometry, strict=True
        ):
            colour = FORECAST_BANDS[int(b)][1]
            style = (
                {"color": colour, "weight": 5, "opacity": 0.9}
                if seg
                else {"fillColor": colour, "fillOpacity": 0.6, "weight": 0}
            )
            feats.append(
                feature(
                    geom,
                    {
                        "t": labels[int(b)],
                        "r": f"{float(risk):.3f}",
                        "d": f"{float(dens):.2g} {unit}",
                        "id": clean_text(uid),
                        "_s": style,
                    },
                )
            )
        tip = {
            "title": "t",
            "rows": [
                ["预测案件数" if lang == "zh" else "Expected cases", "r"],
                ["密度" if lang == "zh" else "Density", "d"],
            ],
            "small": ["id"],
        }
        DataLayer(collection(feats), tip=tip, sticky=seg).add_to(group)
    else:
        legend = Legend((), (), (empty,), unit, title, empty=True)
    group.add_to(m)
    head = f"{title} — {score_note}" if score_note else title
    add_legend(m, head, legend_items(legend))
    return legend


def _leaflet_heat_js() -> str:
    """folium ships leaflet.heat inside its package: inline it instead of using the CDN."""
    path = Path(folium.__file__).resolve().parent / "templates" / "leaflet_heat.min.js"
    return path.read_text(encoding="utf-8")


def heat_layer(
    m: folium.Map, gdf_cases: gpd.GeoDataFrame, *, lang: str = "zh", show: bool = False
) -> folium.FeatureGroup:
    """A Leaflet heat layer (offered in addition to, never instead of, the density surface).

    Its colours depend on the zoom and carry no units, so it is hidden by default. The
    plugin's script is inlined from the installed folium package (no CDN).
    """
    from folium.plugins import HeatMap

    name = "热力图（随缩放变化，仅供参考）" if lang == "zh" else "Heat (zoom-dependent, indicative)"
    group = feature_group(name, show=show)
    if len(gdf_cases):
        pts = to_display(gdf_cases[["geometry"]])
        data = [[float(p.y), float(p.x)] for p in pts.geometry if p is not None and not p.is_empty]
        if data:
            hm = HeatMap(data, radius=18, blur=14)
            hm.default_js = []
            root = m.get_root()
            if isinstance(root, Figure) and "leaflet_heat_inline" not in root.header._children:
                root.header.add_child(
                    RawHtml(f"<script>{_leaflet_heat_js()}</script>"), name="leaflet_heat_inline"
                )
            hm.add_to(group)
    group.add_to(m)
    return group


def backtest_note(
    summary: pd.DataFrame,
    method: str,
    coverage: float = 0.05,
    lang: str = "zh",
    unit: str = "cell",
) -> str:
    """ "PAI at 5 % of area: 6.3 (best possible 15.0)" from a backtest summary, for legends."""

    def pai(mth: str) -> float:
        row = summary[(summary["method"] == mth) & np.isclose(summary["coverage"], coverage)]
        return float(row["pai"].iloc[0]) if len(row) else float("nan")

    a, b = pai(method), pai("hindsight")
    if np.isnan(a):
        return "未回测" if lang == "zh" else "not backtested"
    pct = f"{coverage:.0%}"
    if lang == "zh":
        share = "街巷长度" if unit == "segment" else "面积"
        return f"回测 PAI（{pct} {share}）{a:.1f}，事后最优 {b:.1f}"
    share = "street length" if unit == "segment" else "area"
    return f"backtest PAI at {pct} of {share}: {a:.1f} (best possible {b:.1f})"


def write_hotspot_map(
    path: Path,
    kind: str,
    result: Any,
    *,
    note: str = "",
    gdf_segments: gpd.GeoDataFrame | None = None,
    lang: str = "zh",
    basemap: str = "none",
    tianditu_key: str = "",
) -> Path:
    """Write a standalone offline HTML map: streets (when known) plus one hotspot result.

    Parameters
    ----------
    path
        Where to write the page (written to a temporary file first, then moved into place,
        so a failure never leaves a truncated map).
    kind
        ``"density"`` (a density surface), ``"gistar"`` (a Gi* result) or ``"forecast"``
        (a forecast GeoDataFrame).
    result
        The object :func:`density_layer`, :func:`gistar_layer` or :func:`forecast_layer`
        paints.
    note
        The backtest note shown in the forecast legend.
    gdf_segments
        Street segments (in the result's metric CRS) drawn grey underneath, or None.
    lang, basemap, tianditu_key
        Legend language and base map (from the settings).
    """
    if kind not in ("density", "gistar", "forecast"):
        raise ValueError(f"unknown hotspot map kind {kind!r}")
    m = new_map(basemap=basemap, tianditu_key=tianditu_key, assets=AssetMode(inline=True))
    if gdf_segments is not None and len(gdf_segments):
        streets = feature_group("街巷" if lang == "zh" else "Streets")
        disp = to_display(gdf_segments[["geometry"]])
        DataLayer(
            collection(
                [
                    feature(g, {"_s": {"color": "#888888", "weight": 1.5}})
                    for g in disp.geometry
                    if g is not None and not g.is_empty
                ]
            )
        ).add_to(streets)
        streets.add_to(m)
    bounds: tuple[float, ...] | None
    crs: object = None
    if kind == "density":
        density_layer(m, result, lang=lang)
        bounds = tuple(result.bounds)
        crs = result.grid.crs
    elif kind == "gistar":
        gistar_layer(m, result, lang=lang)
        gdf = result.gdf
        bounds = tuple(gdf.total_bounds) if len(gdf) else None
        crs = gdf.crs
    else:
        forecast_layer(m, result, lang=lang, score_note=note)
        bounds = tuple(result.total_bounds) if len(result) else None
        crs = result.crs
    if bounds is not None and crs is not None and all(np.isfinite(bounds)):
        import shapely

        box = gpd.GeoSeries([shapely.box(*bounds)], crs=crs).to_crs(WGS84)
        w, s, e, n = box.total_bounds
        m.fit_bounds([[s, w], [n, e]])
    folium.LayerControl(collapsed=False).add_to(m)
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(m.get_root().render(), encoding="utf-8")
    tmp.replace(path)
    return path
