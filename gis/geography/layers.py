"""Shichahai's geography as validated layers: boundary, lakes, fronts, zones, streets, POIs.

The same folder format serves the bundled drawing (``data/shichahai/``) and OSM imports
(``patrol import-osm``): one WGS 84 GeoJSON (or GeoPackage) file per layer, plus
``geography.json`` naming the metric CRS the area is measured in (:data:`METADATA_FILE`).
Loading validates every file completely before anything is returned, so a bad file never
half-loads.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from gis.errors import CRSError, DatumError, GeographyError, NotFoundError, ValidationError
from gis.geography.crs import (
    MAX_SCALE_ERROR,
    WGS84,
    gcj02_to_wgs84,
    is_metric,
    metric_crs_for,
    scale_error,
)
from gis.geography.layer_files import LAYER_SPECS, layer_path, read_layer
from gis.geography.network import (
    SEGMENT_COLUMNS,
    SegmentIndex,
    graph_from_segments,
    segments_from_lines,
)
from gis.settings import Settings

log = logging.getLogger(__name__)

#: Front ids and their display names. The scenic area is everything not in a street front.
FRONTS: dict[str, tuple[str, str]] = {
    "scenic": ("什刹海景区", "Shichahai scenic area"),
    "main_streets": ("四条大街", "Four main streets"),
    "gulou_west": ("鼓楼西大街", "Gulou West Street"),
}
STREET_FRONTS = ("main_streets", "gulou_west")
#: Half-width of a street front's corridor (metres): the street plus its frontage.
FRONT_CORRIDOR_M = 25.0
#: Non-bridge streets may touch a lake this much (metres) before it counts as crossing.
LAKE_TOLERANCE_M = 5.0

KINDS = ("main_street", "street", "hutong", "lakeside", "bridge", "path")
#: The geography folder's metadata: ``{"crs": "EPSG:32650"}``, the CRS it is measured in.
METADATA_FILE = "geography.json"
#: Larger metadata files are refused unread.
METADATA_MAX_BYTES = 64 * 1024


def _check_zone_ids(zones: gpd.GeoDataFrame, source: str) -> None:
    for i, zid in enumerate(zones["zone_id"]):
        if not (len(zid) == 15 and zid.isdigit()):
            raise ValidationError(
                f"zone id {zid!r} is not a 15-digit grid code",
                source=source,
                row=i + 1,
                field="zone_id",
                fix="use 6-digit admin code + 3-digit street + 3-digit community + 3-digit serial",
            )


def _check_datum(layer: gpd.GeoDataFrame, boundary: gpd.GeoDataFrame, source: str) -> None:
    """Refuse a layer that sits off the boundary the way GCJ-02 data does (~500 m NE)."""
    if layer.empty:
        return
    area = boundary.union_all().buffer(50.0)
    pts = layer.geometry.representative_point()
    inside = float(pts.within(area).mean())
    if inside >= 0.8:
        return
    wgs = pts.to_crs(WGS84)
    x, y = gcj02_to_wgs84(wgs.x.to_numpy(), wgs.y.to_numpy())
    fixed = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=WGS84).to_crs(layer.crs)
    inside_fixed = float(fixed.within(area).mean())
    if inside_fixed >= 0.8:
        raise DatumError(
            f"only {inside:.0%} of features lie inside the boundary, but {inside_fixed:.0%} would "
            "if the coordinates were GCJ-02 (about 500 m east of the real places)",
            source=source,
            field="geometry",
            fix="convert from GCJ-02 to WGS 84 before loading (gis.geography.crs.gcj02_to_wgs84)",
        )
    raise GeographyError(
        f"{source}: only {inside:.0%} of features lie inside the boundary; "
        "is this layer from another place or CRS?"
    )


def derive_fronts(boundary: gpd.GeoDataFrame, streets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The three fronts as polygons: street corridors and the scenic area that remains."""
    area = boundary.union_all()
    polys = {}
    taken = shapely.Polygon()
    for fid in STREET_FRONTS:
        lines = streets.loc[streets["front"] == fid]
        if lines.empty:
            continue
        corridor = lines.buffer(FRONT_CORRIDOR_M, cap_style="flat").union_all().intersection(area)
        corridor = corridor.difference(taken)
        polys[fid] = corridor
        taken = taken.union(corridor)
    polys["scenic"] = area.difference(taken)
    rows = [
        {"front_id": fid, "name": FRONTS[fid][0], "name_en": FRONTS[fid][1], "geometry": geom}
        for fid, geom in polys.items()
        if not geom.is_empty
    ]
    order = {fid: i for i, fid in enumerate(FRONTS)}
    rows.sort(key=lambda r: order[r["front_id"]])
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=boundary.crs)


def assign_segments(
    segments: gpd.GeoDataFrame, zones_drawn: gpd.GeoDataFrame, *, source: str = "streets"
) -> gpd.GeoDataFrame:
    """Give each segment exactly one owner: its street front, or the zone holding its midpoint."""
    out = segments.copy()
    mids = out.geometry.interpolate(0.5, normalized=True)
    zone_tree = shapely.STRtree(zones_drawn.geometry.values)
    zone_ids = zones_drawn["zone_id"].to_numpy()
    front = (
        out["front"].fillna("").astype(str)
        if "front" in out.columns
        else pd.Series("", index=out.index)
    )
    zone_col: list[str | None] = []
    front_col: list[str] = []
    for i, (mid, fr) in enumerate(zip(mids.values, front, strict=True)):
        if fr in STREET_FRONTS:
            zone_col.append(None)
            front_col.append(fr)
            continue
        hits = sorted(zone_tree.query(mid, predicate="intersects"))
        if not hits:
            j = zone_tree.nearest(mid)
            if zones_drawn.geometry.values[j].distance(mid) > 30.0:
                raise GeographyError(
                    f"{source}: segment {out['segment_id'].iloc[i]} ({out['name'].iloc[i] or 'unnamed'}) "
                    "lies outside every zone; extend the zones to cover it or remove the street"
                )
            hits = [int(j)]
        zone_col.append(str(zone_ids[hits[0]]))
        front_col.append("scenic")
    out["zone_id"] = zone_col
    out["front_id"] = front_col
    return out


def _check_lakes(segments: gpd.GeoDataFrame, lakes: gpd.GeoDataFrame, source: str) -> None:
    if lakes.empty:
        return
    water = lakes.union_all().buffer(-LAKE_TOLERANCE_M)
    if water.is_empty:
        return
    walk = segments.loc[segments["kind"] != "bridge"]
    crossing = walk.loc[walk.intersects(water)]
    if not crossing.empty:
        bad = crossing.iloc[0]
        raise GeographyError(
            f"{source}: segment {bad['segment_id']} ({bad['name'] or 'unnamed'}) crosses a lake; "
            "mark the crossing as kind=bridge or route the street around the water"
        )


@dataclass(frozen=True)
class Geography:
    """A validated, immutable set of layers, all in the geography's metric CRS :attr:`crs`."""

    boundary: gpd.GeoDataFrame
    lakes: gpd.GeoDataFrame
    fronts: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    segments: gpd.GeoDataFrame
    pois: gpd.GeoDataFrame
    source: str = ""
    #: The metric CRS every layer is in and every length, area and bearing is measured in.
    crs: str = ""

    @cached_property
    def G(self) -> nx.MultiGraph:
        """The walkable street graph (built once per Geography)."""
        return graph_from_segments(self.segments)

    def graph(self) -> nx.MultiGraph:
        """The walkable street graph; see :func:`gis.geography.network.graph_from_segments`."""
        return self.G

    @cached_property
    def segment_index(self) -> SegmentIndex:
        """Spatial index for snapping points to segments."""
        return SegmentIndex(self.segments)

    def zone_for_point(self, point: shapely.Point) -> str | None:
        """The zone id containing a point (in :attr:`crs`), or None outside every zone."""
        hits = self.zones.loc[self.zones.contains(point), "zone_id"]
        return str(hits.iloc[0]) if len(hits) else None

    def poi(self, name_or_id: str) -> gpd.GeoSeries:
        """A POI row by id or (Chinese or English) name."""
        p = self.pois
        m = (
            (p["poi_id"] == name_or_id)
            | (p["name"] == name_or_id)
            | (p.get("name_en", "") == name_or_id)
        )
        if not m.any():
            raise NotFoundError(
                f"no point of interest called {name_or_id!r}; known: {sorted(p['name'])}"
            )
        return p.loc[m].iloc[0]


def _check_allowed(
    streets: gpd.GeoDataFrame, column: str, allowed: tuple[str, ...], source: str, extra: str = ""
) -> None:
    """Refuse the first street whose ``column`` holds a value outside ``allowed``."""
    bad = ~streets[column].isin(allowed)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        choices = [a for a in allowed if a]
        raise ValidationError(
            f"unknown {column} {streets[column].iloc[i]!r}",
            source=source,
            row=f"{i + 1} (street_id={streets['street_id'].iloc[i]})",
            field=column,
            fix=f"use one of {choices}" + (f" {extra}" if extra else ""),
        )


def geography_from_layers(
    boundary: gpd.GeoDataFrame,
    lakes: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame,
    pois: gpd.GeoDataFrame | None = None,
    *,
    source: str = "<layers>",
) -> Geography:
    """Validate metric layers and derive fronts, clipped zones and segments.

    Every layer must be in one metric CRS (the boundary's); layers in different CRSs are
    refused rather than mixed.
    """
    if not is_metric(boundary.crs):
        raise CRSError(
            f"layer 'boundary' must be in a metric (projected, metres) CRS, got {boundary.crs}",
            source=source,
            fix="reproject with gis.geography.crs.to_metric(frame, crs=gis.geography.crs.metric_crs_for(lon, lat))",
        )
    crs = str(boundary.crs.to_string())
    for name, gdf in (
        ("lakes", lakes),
        ("zones", zones),
        ("streets", streets),
        ("pois", pois),
    ):
        if gdf is not None and gdf.crs != boundary.crs:
            raise CRSError(
                f"layer '{name}' is in {gdf.crs}, the boundary in {crs}",
                source=source,
                fix=f"reproject every layer to {crs}",
            )
    streets = streets.copy()
    if "front" not in streets.columns:
        streets["front"] = ""
    streets["front"] = streets["front"].fillna("").astype(str)
    _check_allowed(streets, "front", ("",) + STREET_FRONTS, f"{source}/streets", "or leave empty")
    _check_allowed(streets, "kind", KINDS, f"{source}/streets")
    if "name_en" not in streets.columns:
        streets["name_en"] = ""
    segments = segments_from_lines(streets)
    segments = assign_segments(segments, zones, source=f"{source}/streets")
    _check_lakes(segments, lakes, f"{source}/streets")
    fronts = derive_fronts(boundary, streets)
    area = boundary.union_all()
    zones_clipped = zones.copy()
    zones_clipped["geometry"] = zones.geometry.intersection(area)
    zones_clipped = zones_clipped.loc[~zones_clipped.geometry.is_empty].reset_index(drop=True)
    zones_clipped["front_id"] = "scenic"
    if "name_en" not in zones_clipped.columns:
        zones_clipped["name_en"] = ""
    if "community" not in zones_clipped.columns:
        zones_clipped["community"] = ""
    pois = (
        pois
        if pois is not None
        else gpd.GeoDataFrame(
            {"poi_id": [], "name": [], "name_en": [], "kind": []}, geometry=[], crs=crs
        )
    )
    segments = segments[SEGMENT_COLUMNS + ["geometry"]]
    return Geography(
        boundary=boundary.reset_index(drop=True),
        lakes=lakes.reset_index(drop=True),
        fronts=fronts,
        zones=zones_clipped,
        streets=streets.reset_index(drop=True),
        segments=segments.reset_index(drop=True),
        pois=pois.reset_index(drop=True),
        source=source,
        crs=crs,
    )


def load_geography(data_dir: Path | str) -> Geography:
    """Load and validate a geography folder (bundled drawing or OSM import)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ValidationError(
            "geography folder not found",
            source=str(data_dir),
            fix="set PATROL_DATA_DIR or run patrol import-osm",
        )
    crs = geography_crs(data_dir)
    layers: dict[str, gpd.GeoDataFrame] = {}
    for name, spec in LAYER_SPECS.items():
        path = layer_path(data_dir, name)
        if path is None:
            if spec.required:
                raise ValidationError(
                    f"layer file '{name}.geojson' (or .gpkg) is missing",
                    source=str(data_dir),
                    fix="restore it or re-run patrol import-osm",
                )
            continue
        layers[name] = read_layer(path, spec, crs)
    boundary = layers["boundary"]
    for name in ("lakes", "zones", "streets", "pois"):
        if name in layers:
            path = layer_path(data_dir, name)
            _check_datum(layers[name], boundary, str(path))
    _check_zone_ids(layers["zones"], str(layer_path(data_dir, "zones")))
    return geography_from_layers(
        boundary,
        layers["lakes"],
        layers["zones"],
        layers["streets"],
        layers.get("pois"),
        source=str(data_dir),
    )


def read_metadata(data_dir: Path | str, *, crs_hint: str = "EPSG:32650") -> dict[str, object]:
    """The folder's ``geography.json`` as a dict (empty when the file is absent).

    The file is opened without following a symlink and refused unread above
    :data:`METADATA_MAX_BYTES`; errors never quote its content, and their advice names
    ``crs_hint`` (the CRS that fits the area).
    """
    path = Path(data_dir) / METADATA_FILE
    rewrite = f'write it as {{"crs": "{crs_hint}"}} (the metric CRS of the area) or delete it'
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ValidationError(
            f"cannot be opened ({exc.strerror}; links are not followed)",
            source=str(path),
            fix=rewrite,
        ) from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > METADATA_MAX_BYTES:
            raise ValidationError("is not a small regular file", source=str(path), fix=rewrite)
        raw = fh.read(METADATA_MAX_BYTES + 1)
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        meta = None
    if not isinstance(meta, dict):
        raise ValidationError("is not a JSON object", source=str(path), fix=rewrite)
    return meta


def write_metadata(data_dir: Path | str, crs: str) -> Path:
    """Write ``geography.json`` naming the folder's metric CRS."""
    path = Path(data_dir) / METADATA_FILE
    path.write_text(json.dumps({"crs": crs}, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _boundary_centre(data_dir: Path) -> tuple[float, float]:
    path = layer_path(data_dir, "boundary")
    if path is None:
        raise ValidationError(
            "layer file 'boundary.geojson' (or .gpkg) is missing",
            source=str(data_dir),
            fix="restore it or re-run patrol import-osm",
        )
    gdf = read_layer(path, LAYER_SPECS["boundary"], WGS84)
    centre = gdf.union_all().centroid
    return float(centre.x), float(centre.y)


def geography_crs(data_dir: Path | str) -> str:
    """The metric CRS of a geography folder: stored in ``geography.json``, else chosen.

    A folder without the file (drawn by hand) is measured in the UTM zone of its boundary's
    centre. A stored CRS is refused when it is not metric or when it distorts lengths at the
    boundary's centre by more than :data:`MAX_SCALE_ERROR` (a CRS copied from another place).
    """
    data_dir = Path(data_dir)
    lon, lat = _boundary_centre(data_dir)
    suggested = metric_crs_for(lon, lat)
    meta = read_metadata(data_dir, crs_hint=suggested)
    if "crs" not in meta:
        return suggested
    src = str(data_dir / METADATA_FILE)
    crs = meta["crs"]
    try:
        ok = isinstance(crs, str) and is_metric(crs)
    except Exception:  # pyproj raises CRSError subclasses and more for unknown strings
        ok = False
    if not ok:
        raise CRSError(
            "field 'crs' does not name a metric (projected, metres) CRS",
            source=src,
            fix=f'set "crs": "{suggested}" (the UTM zone of the area) or delete the file',
        )
    err = scale_error(crs, lon, lat)
    if err > MAX_SCALE_ERROR:
        raise CRSError(
            f"its CRS {crs} distorts lengths by {err:.1%} at the area's centre "
            f"({lon:.4f}, {lat:.4f}); it belongs to another place",
            source=src,
            fix=f'set "crs": "{suggested}" (the UTM zone of the area) or delete the file',
        )
    return str(crs)


def bundled_data_dir(settings: Settings) -> Path:
    """The geography folder: ``<data_dir>/shichahai`` when present, else ``data_dir`` itself."""
    sub = Path(settings.data_dir) / "shichahai"
    return sub if sub.is_dir() else Path(settings.data_dir)


def load_bundled_geography(settings: Settings | None = None) -> Geography:
    """Load the configured geography (the bundled Shichahai drawing by default)."""
    settings = settings or Settings.from_env({})
    return load_geography(bundled_data_dir(settings))
