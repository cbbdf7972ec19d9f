"""The violations layer: cases coloured by category, clustered offline, filtered, escaped.

Markers are drawn by the page script of :mod:`layers.safe` from GeoJSON (no case text
ever reaches a template or a script as code). Clustering uses Leaflet.markercluster from the installed ``xstatic-leaflet-markercluster``
package (inlined, or served from a local prefix), never a CDN. Above ``max_markers`` cases
the layer aggregates to graded square cells instead, which stays fast with a year of data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Figure
from folium.plugins import MarkerCluster

from gis.errors import PatrolError
from gis.geography.crs import require_metric, to_display
from gis.i18n import MESSAGES
from layers.assets import AssetMode
from layers.legend import Legend
from layers.safe import (
    DataLayer,
    RawHtml,
    clean_text,
    collection,
    feature,
    feature_group,
    image_src,
    inert,
)
from layers.styles import CATEGORY_GROUPS, PALETTE, STATE_CLASSES

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
                root.header.add_child(RawHtml(f"<style>{css}</style>"), name="markercluster_css")
                root.header.add_child(RawHtml(f"<script>{js}</script>"), name="markercluster_js")
        return super().render(**kwargs)  # type: ignore[func-returns-value]


#: Tier names (zh, en).
TIER_NAMES: dict[str, tuple[str, str]] = {
    "general": ("一般", "General"),
    "major": ("重大", "Major"),
    "emergency": ("突发", "Emergency"),
}
_GROUP_OF = {code: i for i, g in enumerate(CATEGORY_GROUPS) for code in g[3]}
_STATE_CLASS = {st: i for i, c in enumerate(STATE_CLASSES) for st in c[3]}
_FIELDS = {
    "state": ("状态", "State"),
    "tier": ("级别", "Tier"),
    "when": ("上报", "Reported"),
    "lead": ("主责", "Lead"),
    "zone": ("片区", "Zone"),
    "desc": ("描述", "Description"),
    "before": ("整改前", "Before"),
    "after": ("整改后", "After"),
}
#: Longest description shown in a tooltip (the rest becomes "…").
DESCRIPTION_CHARS = 80


def group_colour(code: str) -> str:
    """The marker colour of a category: the colour of its group (grey for unknown codes)."""
    i = _GROUP_OF.get(str(code))
    return CATEGORY_GROUPS[i][2] if i is not None else "#777777"


def state_name(state: str, lang: str = "zh") -> str:
    """A case state by its name in the user's language (the code when unknown)."""
    pair = MESSAGES.get(f"cases.state.{state}")
    return clean_text(pair[0] if lang == "zh" else pair[1]) if pair else clean_text(state)


def tier_name(tier: str, lang: str = "zh") -> str:
    """A tier by its name in the user's language (the code when unknown)."""
    pair = TIER_NAMES.get(str(tier))
    return (pair[0] if lang == "zh" else pair[1]) if pair else clean_text(tier)


def _reference_names(lang: str) -> tuple[dict[str, str], dict[str, str]]:
    """Category and department names from the bundled reference tables ({} if missing)."""
    from gis.cases.categories import load_references

    try:
        refs = load_references()
    except (OSError, PatrolError):  # names are a nicety: codes still show
        return {}, {}
    zh = lang == "zh"
    cats = {k: (v.name_zh if zh else v.name_en) for k, v in refs.categories.items()}
    depts = {k: (v.name_zh if zh else v.name_en) for k, v in refs.departments.items()}
    return cats, depts


def _marker_style(category: str, state: str, tier: str) -> dict[str, object]:
    colour = group_colour(category)
    klass = _STATE_CLASS.get(str(state), 0)
    style: dict[str, object] = {
        "radius": TIER_RADIUS.get(str(tier), 6),
        "color": "#111111",
        "weight": 2 if klass == 0 else 1.5,
        "fill": True,
        "fillColor": colour,
        "fillOpacity": 0.9,
    }
    if klass == 1:
        style["dashArray"] = "3 2"
    elif klass == 2:
        style.update(color=colour, fillColor="#ffffff", fillOpacity=0.85, weight=2.5)
    return style


def case_features(
    frame: gpd.GeoDataFrame,
    disp: gpd.GeoSeries,
    *,
    lang: str = "zh",
    category_names: dict[str, str] | None = None,
    dept_names: dict[str, str] | None = None,
    zone_names: dict[str, str] | None = None,
    thumbs: Mapping[str, Mapping[str, str]] | None = None,
) -> list[dict[str, object]]:
    """One GeoJSON feature per case: names for the tooltip, codes as small print.

    ``thumbs`` (``{case_id: {"before": uri, "after": uri}}``, from
    :func:`gis.coordination.evidence.case_thumbnails`) adds the photo thumbnails as
    properties ``pb``/``pa``; a value :func:`layers.safe.image_src` refuses is left out.
    """
    ref_cats, ref_depts = _reference_names(lang)
    cats = {**ref_cats, **(category_names or {})}
    depts = {**ref_depts, **(dept_names or {})}
    zones = zone_names or {}
    feats = []
    cols = [c for c in frame.columns if c != "geometry"]
    for rec, geom in zip(frame[cols].to_dict("records"), disp, strict=True):
        if geom is None or geom.is_empty:
            continue
        cat = str(rec.get("category") or "")
        when = rec.get("reported_at")
        when_s = when.strftime("%Y-%m-%d %H:%M") if when is not None and not pd.isna(when) else ""
        lead = str(rec.get("lead_dept") or "")
        zone = str(rec.get("zone_id") or "")
        props = {
            "t": clean_text(cats.get(cat, cat)),
            "s": state_name(str(rec.get("state", "")), lang),
            "r": tier_name(str(rec.get("tier", "")), lang),
            "w": when_s,
            "l": clean_text(depts.get(lead, lead)),
            "z": clean_text(zones.get(zone, "")),
            "d": clean_text(rec.get("description"), limit=DESCRIPTION_CHARS),
            "id": clean_text(rec.get("case_id")),
            "c": clean_text(cat),
            "_s": _marker_style(cat, str(rec.get("state", "")), str(rec.get("tier", ""))),
        }
        pics = (thumbs or {}).get(str(rec.get("case_id")), {})
        for kind, key in (("before", "pb"), ("after", "pa")):
            src = image_src(pics.get(kind))
            if src is not None:
                props[key] = src
        feats.append(feature(geom, props))
    return feats


def case_tip(lang: str = "zh") -> dict[str, object]:
    """What a case tooltip shows: category name, then named fields, codes as small print."""
    z = lang == "zh"
    rows = [
        [_FIELDS[k][0 if z else 1], p]
        for k, p in (
            ("state", "s"),
            ("tier", "r"),
            ("when", "w"),
            ("lead", "l"),
            ("zone", "z"),
            ("desc", "d"),
        )
    ]
    return {"title": "t", "rows": rows, "small": ["id", "c"]}


def case_popup(lang: str = "zh") -> dict[str, object]:
    """What a case popup shows: the tooltip's fields and the before/after thumbnails."""
    z = lang == "zh"
    images = [[_FIELDS[k][0 if z else 1], p] for k, p in (("before", "pb"), ("after", "pa"))]
    return {**case_tip(lang), "images": images}


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
    dept_names: dict[str, str] | None = None,
    zone_names: dict[str, str] | None = None,
    legend: bool = True,
    thumbs: Mapping[str, Mapping[str, str]] | None = None,
    **filters: object,
) -> folium.FeatureGroup:
    """A FeatureGroup with the (filtered) cases: clustered markers or graded cells.

    ``filters`` are those of :func:`filter_cases` (categories, tiers, states, since, until,
    zones, depts). Markers are circles coloured by category group, outlined by state
    (:func:`case_legend`, shown with the layer when ``legend``); tooltips and popups name
    the category, state, tier, lead department and zone, with the case id and category
    code as small print. ``thumbs`` adds before/after photo thumbnails to the popups
    (see :func:`case_features`). Every text and image travels as data (:mod:`layers.safe`).
    """
    title = "违法问题" if lang == "zh" else "Violations"
    group = feature_group(title)
    shown = filter_cases(frame, **filters)  # type: ignore[arg-type]
    if shown.empty:
        return group
    if len(shown) > max_markers:
        cells = to_display(graded_cells(shown, cell_m))
        unit = "起" if lang == "zh" else "cases"
        cells["label"] = cells["count"].map(lambda n: f"{int(n)} {unit}")
        feats = [
            feature(
                geom,
                {
                    "t": label,
                    "_s": {
                        "color": "#555555",
                        "weight": 0.5,
                        "fillColor": CELL_COLOURS[int(grade)],
                        "fillOpacity": 0.7,
                    },
                },
            )
            for geom, label, grade in zip(
                cells.geometry, cells["label"], cells["grade"], strict=True
            )
        ]
        DataLayer(collection(feats), tip={"title": "t"}).add_to(group)
        return group
    disp = to_display(shown)
    target: folium.FeatureGroup | MarkerCluster = group
    if cluster:
        target = OfflineMarkerCluster(name=inert(title), assets=assets)
        target.add_to(group)
    feats = case_features(
        shown,
        disp.geometry,
        lang=lang,
        category_names=category_names,
        dept_names=dept_names,
        zone_names=zone_names,
        thumbs=thumbs,
    )
    DataLayer(collection(feats), tip=case_tip(lang), popup=case_popup(lang)).add_to(target)
    if legend:
        case_legend(shown, lang=lang).add_to(group)
    return group


def case_legend(frame: gpd.GeoDataFrame | None = None, *, lang: str = "zh") -> Legend:
    """The case legend: marker colour by category group, outline by state class.

    With a frame, only the groups present are listed. Add it to the map, or to the cases'
    FeatureGroup so it shows and hides with the layer (:func:`violations_layer` does).
    """
    z = lang == "zh"
    present = set(frame["category"].astype(str)) if frame is not None else None
    groups = [
        (colour, zh if z else en, "circle", "")
        for zh, en, colour, codes in CATEGORY_GROUPS
        if present is None or present & set(codes)
    ]
    states = [("#9e9e9e", zh if z else en, shape, "") for zh, en, shape, _ in STATE_CLASSES]
    return Legend(
        "案件" if z else "Cases",
        [],
        "bottomright",
        sections=[
            ("按类别" if z else "By category group", groups, "circle"),
            ("按状态" if z else "By state", states, "circle"),
        ],
    )


def legend_items(
    frame: gpd.GeoDataFrame, names: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    """(colour, label) for the categories present, for :func:`layers.legend.add_legend`.

    The colour is the category's group colour (the marker's colour on the map).
    """
    present = sorted(set(frame["category"]))
    return [(group_colour(c), f"{c} {(names or {}).get(c, '')}".strip()) for c in present]
