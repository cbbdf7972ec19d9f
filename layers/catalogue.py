"""The catalogue of zoned layers: one LayerSpec per layer, rendered through layers.safe.

Every name (zones, streets, lakes, points of interest) travels as a GeoJSON property and is
shown by the page script as text; tooltips say what a field is in the user's language
(社区, 类型, 战线 …) and keep codes as small print. Labels for lakes, the street fronts, main
streets, zones and key points stay on the map, thinned where they would collide.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiLineString, Polygon
from shapely.ops import linemerge

from gis.geography.crs import to_display
from gis.geography.layers import Geography
from layers import styles
from layers.basemap import bounds_of, fit_to
from layers.legend import add_legend
from layers.safe import (
    DataLayer,
    PreparedData,
    clean_text,
    collection,
    feature,
    feature_group,
    prepare_data,
)

StyleFn = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class LayerSpec:
    """One map layer: where its features come from and how they look."""

    name: str
    title_zh: str
    title_en: str
    geometry: str  # polygon | line | point
    source: str  # attribute of Geography
    tooltip: tuple[str, ...]
    visible: bool = True

    def title(self, lang: str = "zh") -> str:
        """The layer's title in the user's language."""
        return self.title_zh if lang == "zh" else self.title_en


CATALOGUE: tuple[LayerSpec, ...] = (
    LayerSpec("boundary", "街道边界", "Subdistrict boundary", "polygon", "boundary", ("name",)),
    LayerSpec("fronts", "三条战线", "Three fronts", "polygon", "fronts", ("name", "name_en")),
    LayerSpec(
        "zones", "网格片区", "Zones (grids)", "polygon", "zones", ("zone_id", "name", "community")
    ),
    LayerSpec("lakes", "湖面", "Lakes", "polygon", "lakes", ("name", "name_en")),
    LayerSpec(
        "main_streets",
        "主要街道",
        "Main streets",
        "line",
        "segments",
        ("name", "highway", "front_id"),
    ),
    LayerSpec(
        "hutongs",
        "胡同街巷",
        "Hutongs and lanes",
        "line",
        "segments",
        ("name", "segment_id", "zone_id"),
    ),
    LayerSpec("pois", "重点点位", "Points of interest", "point", "pois", ("name", "kind")),
)

_MAIN_KINDS = {"main_street", "street", "bridge"}
_STREET_FRONTS = ("main_streets", "gulou_west")

#: Display names of street kinds and point kinds (zh, en).
STREET_KIND_NAMES: dict[str, tuple[str, str]] = {
    "main_street": ("主干道", "Main street"),
    "street": ("街道", "Street"),
    "hutong": ("胡同", "Hutong"),
    "lakeside": ("沿湖路", "Lakeside path"),
    "bridge": ("桥", "Bridge"),
    "path": ("步道", "Footpath"),
}
POI_KIND_NAMES: dict[str, tuple[str, str]] = {
    "enforcement_center": ("综合执法中心", "Enforcement center"),
    "police_post": ("警务站", "Police post"),
    "landmark": ("地标", "Landmark"),
    "bar_street": ("酒吧街", "Bar street"),
    "bridge": ("桥梁", "Bridge"),
}
#: Field labels of the tooltips (zh, en).
_FIELD = {
    "community": ("社区", "Community"),
    "kind": ("类型", "Type"),
    "front": ("战线", "Front"),
    "zone": ("片区", "Zone"),
}
_UNNAMED = ("无名街巷", "Unnamed lane")
#: Label classes: (css class suffix, priority, lowest zoom shown).
_LABEL_LAKE = ("lake", 100, 0)
_LABEL_FRONT_STREET = ("street", 90, 0)
_LABEL_ZONE_HL = ("zone-hl", 85, 0)
_LABEL_MAIN_STREET = ("street", 70, 14)
_LABEL_POI = ("poi", 60, 14)
_LABEL_ZONE = ("zone", 50, 14)
_LABEL_HUTONG = ("hutong", 10, 16)


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def _name(row: pd.Series | dict[str, Any], lang: str) -> str:
    """The feature's name in the user's language (the other one when that is missing)."""
    zh = clean_text(row.get("name"))
    en = clean_text(row.get("name_en"))
    return (zh or en) if lang == "zh" else (en or zh)


def _other_name(row: pd.Series | dict[str, Any], lang: str) -> str:
    zh = clean_text(row.get("name"))
    en = clean_text(row.get("name_en"))
    other = en if lang == "zh" else zh
    return other if other and other != _name(row, lang) else ""


def layer_frame(spec: LayerSpec, geo: Geography) -> gpd.GeoDataFrame:
    """The features of one layer, in WGS 84 for display."""
    gdf = getattr(geo, spec.source)
    if spec.name == "main_streets":
        gdf = gdf.loc[gdf["kind"].isin(_MAIN_KINDS) | gdf["front_id"].isin(_STREET_FRONTS)]
    elif spec.name == "hutongs":
        gdf = gdf.loc[~(gdf["kind"].isin(_MAIN_KINDS) | gdf["front_id"].isin(_STREET_FRONTS))]
    return to_display(gdf)


def _zone_ids(geo: Geography, wanted: Iterable[str] | None) -> set[str]:
    """Zone ids named by id or by name (Chinese or English)."""
    if not wanted:
        return set()
    keys = {str(w) for w in wanted}
    z = geo.zones
    hit = z["zone_id"].astype(str).isin(keys) | z["name"].astype(str).isin(keys)
    if "name_en" in z.columns:
        hit |= z["name_en"].astype(str).isin(keys)
    return set(z.loc[hit, "zone_id"].astype(str))


def _street_style(row: dict[str, Any]) -> dict[str, Any]:
    kind = str(row.get("kind", ""))
    front = str(row.get("front_id", ""))
    colour = (
        styles.FRONT_COLOURS[front]
        if front in _STREET_FRONTS
        else styles.STREET_COLOURS.get(kind, "#888888")
    )
    return {"color": colour, "weight": styles.STREET_WEIGHTS.get(kind, 2), "opacity": 0.9}


def _features(
    spec: LayerSpec,
    gdf: gpd.GeoDataFrame,
    geo: Geography,
    lang: str,
    highlight: set[str],
) -> list[dict[str, Any]]:
    fronts = {
        str(r["front_id"]): _name(r, lang) for r in geo.fronts.to_dict("records")
    }  # front id -> display name
    zone_names = {str(r["zone_id"]): _name(r, lang) for r in geo.zones.to_dict("records")}
    zone_colours = {str(z): styles.colour_for(i) for i, z in enumerate(geo.zones["zone_id"])}
    out = []
    for row, geom in zip(
        gdf.drop(columns="geometry").to_dict("records"), gdf.geometry, strict=True
    ):
        if geom is None or geom.is_empty:
            continue
        p: dict[str, Any] = {"t": _name(row, lang), "o": _other_name(row, lang)}
        if spec.name == "boundary":
            p["_s"] = {"color": styles.BOUNDARY, "weight": 3, "fill": False, "dashArray": "8 4"}
        elif spec.name == "fronts":
            fid = str(row.get("front_id", ""))
            colour = styles.FRONT_COLOURS.get(fid, "#999999")
            p["_s"] = {
                "color": colour,
                "weight": 1,
                "fillColor": colour,
                "fillOpacity": 0.35 if fid != "scenic" else 0.12,
            }
        elif spec.name == "zones":
            zid = str(row.get("zone_id", ""))
            p["c"] = clean_text(row.get("community"))
            p["id"] = zid
            lit = zid in highlight
            p["_s"] = {
                "color": "#d35400" if lit else "#444444",
                "weight": 3.5 if lit else 1,
                "fillColor": zone_colours.get(zid, "#cccccc"),
                "fillOpacity": 0.3 if lit else (0.06 if highlight else 0.18),
            }
        elif spec.name == "lakes":
            p["_s"] = {
                "color": "#4a90c2",
                "weight": 1,
                "fillColor": styles.WATER,
                "fillOpacity": 0.85,
            }
        elif spec.geometry == "line":
            kind = str(row.get("kind", ""))
            if not p["t"]:
                p["t"] = _pick(_UNNAMED, lang)
            p["k"] = _pick(STREET_KIND_NAMES[kind], lang) if kind in STREET_KIND_NAMES else ""
            fid = str(row.get("front_id", ""))
            p["f"] = fronts.get(fid, "")
            p["z"] = zone_names.get(str(row.get("zone_id", "")), "")
            p["id"] = clean_text(row.get("segment_id"))
            p["_s"] = _street_style(row)
        else:  # points of interest: diamonds, unlike the round case markers
            kind = str(row.get("kind", ""))
            p["k"] = _pick(POI_KIND_NAMES[kind], lang) if kind in POI_KIND_NAMES else ""
            p["id"] = clean_text(row.get("poi_id"))
            p["_s"] = {"shape": "poi", "colour": styles.POI_COLOURS.get(kind, "#333333")}
        out.append(feature(geom, p))
    return out


def _tip(spec: LayerSpec, lang: str) -> dict[str, Any]:
    rows: list[list[str]] = []
    small = ["o"]
    if spec.name == "zones":
        rows = [[_pick(_FIELD["community"], lang), "c"]]
        small = ["o", "id"]
    elif spec.geometry == "line":
        rows = [
            [_pick(_FIELD["kind"], lang), "k"],
            [_pick(_FIELD["front"], lang), "f"],
            [_pick(_FIELD["zone"], lang), "z"],
        ]
        small = ["o", "id"]
    elif spec.geometry == "point":
        rows = [[_pick(_FIELD["kind"], lang), "k"]]
        small = ["o"]
    return {"title": "t", "rows": rows, "small": small}


def prepare_layer(
    spec: LayerSpec,
    geo: Geography,
    lang: str = "zh",
    *,
    highlight_zones: Iterable[str] | None = None,
) -> PreparedData | None:
    """One catalogue layer's features, serialised once (None when it has none)."""
    gdf = layer_frame(spec, geo)
    if gdf.empty:
        return None
    feats = _features(spec, gdf, geo, lang, _zone_ids(geo, highlight_zones))
    return prepare_data(collection(feats), tip=_tip(spec, lang), sticky=spec.geometry != "point")


def _group(title: str, show: bool, prepared: PreparedData | None) -> folium.FeatureGroup:
    group = feature_group(title, show=show)
    if prepared is not None:
        DataLayer.from_prepared(prepared).add_to(group)
    return group


def render_layer(
    spec: LayerSpec,
    geo: Geography,
    lang: str = "zh",
    *,
    highlight_zones: Iterable[str] | None = None,
) -> folium.FeatureGroup:
    """One catalogue layer as a folium FeatureGroup (shown in the layer control)."""
    prepared = prepare_layer(spec, geo, lang, highlight_zones=highlight_zones)
    return _group(spec.title(lang), spec.visible, prepared)


# ----------------------------------------------------------------------------- labels
def _label(geom: Any, text: str, cls: tuple[str, int, int], rotate: float = 0.0) -> dict:
    css, prio, minzoom = cls
    style: dict[str, Any] = {"shape": "label", "cls": css, "prio": prio, "minzoom": minzoom}
    if rotate:
        style["rotate"] = round(rotate, 1)
    if css.startswith("lake"):
        style["colour"] = "#1d4f7a"
    elif css == "zone-hl":
        style["colour"] = "#a04000"
    elif css == "zone":
        style["colour"] = "#555555"
    return feature(geom, {"_label": text, "_s": style})


def _inside_point(poly: Any) -> Any:
    """A point well inside a polygon (pole of inaccessibility of its largest part)."""
    if poly.geom_type == "MultiPolygon":
        poly = max(poly.geoms, key=lambda g: g.area)
    if isinstance(poly, Polygon) and poly.is_valid:
        try:
            return shapely.polylabel(poly, tolerance=1.0)
        except Exception:  # noqa: BLE001 - a degenerate ring: fall back to a safe point
            return poly.representative_point()
    return poly.representative_point()


def _screen_angle(line: LineString, d: float) -> float:
    """The line's direction at ``d`` (metres) as a CSS rotation, kept upright."""
    a = line.interpolate(max(d - 25.0, 0.0))
    b = line.interpolate(min(d + 25.0, line.length))
    ang = -math.degrees(math.atan2(b.y - a.y, b.x - a.x))
    if ang > 90:
        ang -= 180
    elif ang <= -90:
        ang += 180
    return ang


def _street_labels(
    segments: gpd.GeoDataFrame, lang: str, cls: tuple[str, int, int], every_m: float
) -> list[tuple[Any, str, tuple[str, int, int], float]]:
    out = []
    col = "name_en" if lang != "zh" and "name_en" in segments.columns else "name"
    names = segments[col].fillna("").astype(str)
    if col != "name":
        names = names.where(names != "", segments["name"].fillna("").astype(str))
    for name, part in segments.groupby(names.to_numpy()):
        text = clean_text(name, limit=40)
        if not text:
            continue
        merged = linemerge(list(part.geometry))
        lines = list(merged.geoms) if isinstance(merged, MultiLineString) else [merged]
        line = max(lines, key=lambda g: g.length)
        if line.length < 60:
            continue
        n = max(1, int(line.length // every_m))
        for i in range(n):
            d = (i + 0.5) * line.length / n
            out.append((line.interpolate(d), text, cls, _screen_angle(line, d)))
    return out


def prepare_labels(
    geo: Geography,
    *,
    lang: str = "zh",
    highlight_zones: Iterable[str] | None = None,
    hutongs: bool = True,
) -> PreparedData | None:
    """The labels of :func:`labels_layer`, serialised once (None when there are none)."""
    crs = geo.segments.crs
    lit = _zone_ids(geo, highlight_zones)
    items: list[tuple[Any, str, tuple[str, int, int], float]] = []
    for row, geom in zip(geo.lakes.to_dict("records"), geo.lakes.geometry, strict=True):
        if geom is not None and not geom.is_empty and _name(row, lang):
            cls = _LABEL_LAKE if lang == "zh" else ("lake-en", *_LABEL_LAKE[1:])
            items.append((_inside_point(geom), _name(row, lang), cls, 0.0))
    seg = geo.segments
    front = seg[seg["front_id"].isin(_STREET_FRONTS)]
    main = seg[seg["kind"].isin(_MAIN_KINDS) & ~seg["front_id"].isin(_STREET_FRONTS)]
    items += _street_labels(front, lang, _LABEL_FRONT_STREET, 500.0)
    items += _street_labels(main, lang, _LABEL_MAIN_STREET, 600.0)
    if hutongs:
        rest = seg[~seg["kind"].isin(_MAIN_KINDS) & ~seg["front_id"].isin(_STREET_FRONTS)]
        items += _street_labels(rest, lang, _LABEL_HUTONG, 400.0)
    for row, geom in zip(geo.zones.to_dict("records"), geo.zones.geometry, strict=True):
        if geom is not None and not geom.is_empty and _name(row, lang):
            cls = _LABEL_ZONE_HL if str(row.get("zone_id")) in lit else _LABEL_ZONE
            items.append((_inside_point(geom), _name(row, lang), cls, 0.0))
    for row, geom in zip(geo.pois.to_dict("records"), geo.pois.geometry, strict=True):
        if geom is not None and not geom.is_empty and _name(row, lang):
            items.append((geom, _name(row, lang), _LABEL_POI, 0.0))
    if not items:
        return None
    pts = to_display(gpd.GeoDataFrame(geometry=[i[0] for i in items], crs=crs)).geometry
    feats = [
        _label(p, text, cls, rot)
        for p, (_g, text, cls, rot) in zip(pts, items, strict=True)
        if p is not None and not p.is_empty
    ]
    return prepare_data(collection(feats), labels=True)


def _labels_title(lang: str) -> str:
    return "地名标注" if lang == "zh" else "Place names"


def labels_layer(
    geo: Geography,
    *,
    lang: str = "zh",
    highlight_zones: Iterable[str] | None = None,
    hutongs: bool = True,
) -> folium.FeatureGroup:
    """Permanent labels: lakes, the street fronts, main streets, zones, key points, lanes.

    Labels carry a priority and a lowest zoom; the page script shows them best first and
    hides any that would overlap one already shown, after every zoom and pan, so they stay
    legible at every zoom in use.
    """
    prepared = prepare_labels(geo, lang=lang, highlight_zones=highlight_zones, hutongs=hutongs)
    return _group(_labels_title(lang), True, prepared)


@dataclass(frozen=True)
class PreparedGeography:
    """Everything :func:`render_geography` adds to a map, built and serialised once.

    Immutable (strings and tuples), so the app caches it per process for a geography,
    language and highlighted zones, and adds it to each new map in a few milliseconds.
    """

    layers: tuple[tuple[str, bool, PreparedData | None], ...]  # title, shown, data
    legend: tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, Any, str], ...], bool]
    fit: tuple[float, float, float, float] | None  # west, south, east, north (WGS 84)


def prepare_geography(
    geo: Geography,
    *,
    lang: str = "zh",
    names: tuple[str, ...] | None = None,
    highlight_zones: Iterable[str] | None = None,
    labels: bool = True,
    fit: bool = True,
    fold_legend: bool | None = None,
) -> PreparedGeography:
    """The layers, legend and view of :func:`render_geography`, ready to add to any map."""
    if fold_legend is None:
        fold_legend = labels
    highlight = list(highlight_zones or ())
    parts: list[tuple[str, bool, PreparedData | None]] = []
    for spec in CATALOGUE:
        if names is None or spec.name in names:
            prepared = prepare_layer(spec, geo, lang, highlight_zones=highlight)
            parts.append((spec.title(lang), spec.visible, prepared))
    if labels:
        parts.append(
            (_labels_title(lang), True, prepare_labels(geo, lang=lang, highlight_zones=highlight))
        )
    fronts = tuple(
        (styles.FRONT_COLOURS.get(str(r["front_id"]), "#999999"), _name(r, lang))
        for r in geo.fronts.to_dict("records")
    )
    kinds = sorted({str(k) for k in geo.pois.get("kind", pd.Series(dtype=str))})
    pois = tuple(
        (styles.POI_COLOURS.get(k, "#333333"), _pick(POI_KIND_NAMES.get(k, (k, k)), lang))
        for k in kinds
    )
    legend = (
        "图例" if lang == "zh" else "Legend",
        (*fronts, (styles.WATER, "湖面" if lang == "zh" else "Lakes")),
        (("重点点位" if lang == "zh" else "Points of interest", pois, "diamond"),) if pois else (),
        bool(fold_legend),
    )
    view = None
    if fit:
        lit = _zone_ids(geo, highlight)
        target = geo.zones[geo.zones["zone_id"].astype(str).isin(lit)] if lit else geo.boundary
        view = bounds_of(target)
    return PreparedGeography(layers=tuple(parts), legend=legend, fit=view)


def add_geography(m: folium.Map, prepared: PreparedGeography) -> folium.Map:
    """Add prepared layers, legend and view to a map (a new map each run; never cached)."""
    for title, shown, data in prepared.layers:
        _group(title, shown, data).add_to(m)
    title, items, sections, folded = prepared.legend
    add_legend(m, title, items, sections=sections, folded=folded)
    if prepared.fit is not None:
        fit_to(m, prepared.fit)
    return m


def render_geography(
    m: folium.Map,
    geo: Geography,
    *,
    lang: str = "zh",
    names: tuple[str, ...] | None = None,
    highlight_zones: Iterable[str] | None = None,
    labels: bool = True,
    fit: bool = True,
    fold_legend: bool | None = None,
) -> folium.Map:
    """Add every catalogue layer (or those named), labels, a legend and fit the view.

    Parameters
    ----------
    highlight_zones
        Zone ids or names to stand out (thick outline, stronger fill, bold label); the view
        is then fitted to them instead of the whole subdistrict.
    labels
        Add the permanent place-name labels (:func:`labels_layer`).
    fit
        Fit the view to the highlighted zones, else to the boundary.
    fold_legend
        Show only the legend's title until clicked; by default folded when the map has
        labels (the names are on the map, and the case legend needs the room).
    """
    prepared = prepare_geography(
        geo,
        lang=lang,
        names=names,
        highlight_zones=highlight_zones,
        labels=labels,
        fit=fit,
        fold_legend=fold_legend,
    )
    return add_geography(m, prepared)


def add_layer_control(m: folium.Map, *, collapsed: bool = False) -> folium.Map:
    """The layer switcher; add it last, after every layer."""
    folium.LayerControl(collapsed=collapsed).add_to(m)
    return m
