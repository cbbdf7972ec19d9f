"""Import OpenStreetMap data (online, ``.osm``, ``.osm.bz2``/``.osm.gz``, ``.osm.pbf``) as layers.

The output is the same folder of WGS 84 GeoJSON files as the bundled Shichahai geography
(``boundary``, ``lakes``, ``streets``, ``zones``, ``pois``) plus ``geography.json`` naming the
metric CRS chosen for the area (the UTM zone of its centre), so everything downstream
(``gis.geography.layers.load_geography``, the street graph, the map) works on an imported area
exactly as on the bundled one. All three sources are first normalised to one frame of raw
OSM features (``osm_id``, ``tags``, ``geometry``) and then classified by the same rules.

The parts live beside this entry point: :mod:`gis.geography.osm_files` (file readers),
:mod:`gis.geography.osm_online` (osmnx), :mod:`gis.geography.osm_classify` (tags to layers,
stray pieces), :mod:`gis.geography.osm_area` (boundary, extent, CRS, zone grid).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
from shapely.geometry import MultiPolygon, Polygon, box

from gis.errors import ValidationError
from gis.geography.crs import WGS84
from gis.geography.layers import write_metadata
from gis.geography.osm_area import (
    GridCodes,
    choose_work_crs,
    grid_zones,
    polygonal,
    read_boundary,
    require_in_china,
)
from gis.geography.osm_classify import (
    drop_stray_components,
    lake_layer,
    mark_lakeside,
    parse_classes,
    poi_layer,
    street_layer,
    walkable_lines,
)
from gis.geography.osm_files import (
    MAX_INPUT_MB,
    check_input_file,
    looks_like_path,
    read_osm_pbf,
    read_osm_xml,
    sniff,
)
from gis.geography.osm_online import OnlineOptions, read_online_place, read_online_polygon
from gis.settings import Settings

log = logging.getLogger(__name__)


#: The layer files written, in this order.
LAYER_NAMES: tuple[str, ...] = ("boundary", "lakes", "streets", "zones", "pois")
#: Steps reported to the ``progress`` callback, in order.
STEPS: tuple[str, ...] = ("read", "boundary", "streets", "lakes", "zones", "pois", "write")


#: Street pieces not connected to the rest and shorter than this (metres) are dropped.
MIN_COMPONENT_M = 500.0

_ZONE_COLUMNS = ["zone_id", "name", "name_en", "community"]
_BOUNDARY_COLUMNS = ["name", "name_en", "adcode"]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class OsmLayers:
    """The imported layer set, each a GeoDataFrame in WGS 84 (EPSG:4326)."""

    boundary: gpd.GeoDataFrame
    lakes: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    pois: gpd.GeoDataFrame
    out_dir: Path | None = None
    #: The metric CRS the area is measured in (written to ``geography.json``).
    crs: str = ""
    #: Street pieces dropped as stray components: (street ids, total metres) per piece.
    dropped: tuple[tuple[tuple[str, ...], float], ...] = ()
    #: The length below which pieces were dropped (metres).
    min_component_m: float = 0.0

    def counts(self) -> dict[str, int]:
        """Feature count per layer."""
        return {name: len(getattr(self, name)) for name in LAYER_NAMES}


# ---------------------------------------------------------------------------------------------
# Entry point


def import_osm(
    source: str | os.PathLike[str] | Polygon | MultiPolygon,
    *,
    out_dir: str | os.PathLike[str] | None,
    boundary: str | os.PathLike[str] | Polygon | MultiPolygon | None = None,
    grid_m: float = 500.0,
    main_street_classes: Iterable[str] = (),
    settings: Settings | None = None,
    boundary_from: str = "hull",
    codes: GridCodes | None = None,
    allow_outside_china: bool = False,
    online: OnlineOptions | None = None,
    progress: Progress | None = None,
    min_component_m: float = MIN_COMPONENT_M,
    max_mb: float = MAX_INPUT_MB,
) -> OsmLayers:
    """Build the geography layer set from OSM and write it to ``out_dir``.

    Parameters
    ----------
    source
        A place name (geocoded and downloaded with osmnx), a WGS 84 polygon (downloaded
        with osmnx), or the path of a local ``.osm`` XML file (plain, ``.osm.bz2`` or
        ``.osm.gz``) or ``.osm.pbf`` file. An existing path is never taken for a place name;
        symbolic links are refused.
    out_dir
        Folder for the five GeoJSON files; written atomically (a temporary sibling folder
        renamed into place), so a failed import leaves nothing half-written. ``None``
        only returns the layers.
    boundary
        The area to import: a polygon file (any CRS it declares) or a WGS 84 polygon.
        Defaults to the geocoded place, the given polygon, or for a local file the
        ``boundary_from`` shape of its walkable ways.
    grid_m
        Side of the square zone grid, metres.
    main_street_classes
        Highway classes (e.g. ``primary``, ``secondary``) whose ways form the
        main-streets front (``front="main_streets"``, ``kind="main_street"``).
    settings
        Library settings; ``settings.extra["osm_download_timeout_s"]`` overrides the
        Overpass download timeout of online imports.
    boundary_from
        ``hull`` (convex hull) or ``bbox`` of the walkable ways, for local files.
    codes
        Admin/street/community parts of the zone codes.
    allow_outside_china
        Accept an area outside China. Everywhere, the area is measured in the UTM zone of
        its centre (:func:`gis.geography.crs.metric_crs_for`), stored in ``geography.json``.
    online
        Service URLs and timeouts for online imports.
    progress
        Called with each step name of :data:`STEPS` as it starts.
    min_component_m
        Street pieces not connected to the largest one and shorter than this many metres
        are dropped (osmnx keeps only the largest component for the same reason); each
        dropped piece is listed in :attr:`OsmLayers.dropped`. 0 keeps everything.
    max_mb
        Largest local input accepted, in MiB, checked before reading (and, for compressed
        files, on the decompressed stream).
    """
    codes = (codes or GridCodes()).validate()
    online = online or OnlineOptions()
    if settings is not None and "osm_download_timeout_s" in settings.extra:
        timeout = float(settings.extra["osm_download_timeout_s"])
        online = dataclasses.replace(online, download_timeout_s=timeout)
    if not grid_m or grid_m <= 0 or not math.isfinite(grid_m):
        raise ValidationError(
            f"grid size {grid_m!r} must be a positive number of metres",
            source="import options",
            field="grid_m",
            fix="use e.g. 500",
        )
    if boundary_from not in {"hull", "bbox"}:
        raise ValidationError(
            f"unknown boundary shape {boundary_from!r}",
            source="import options",
            field="boundary_from",
            fix="use hull or bbox",
        )
    for name, value in (("min_component_m", min_component_m), ("max_mb", max_mb)):
        if not math.isfinite(value) or value < 0 or (name == "max_mb" and value == 0):
            raise ValidationError(
                f"{value!r} is not a usable {name}",
                source="import options",
                field=name,
                fix="give a positive number"
                + (" (or 0 to keep every piece)" if name == "min_component_m" else ""),
            )
    classes = parse_classes(main_street_classes)
    step = progress or (lambda _name: None)

    step("read")
    given_boundary, given_label = (None, "")
    if boundary is not None:
        given_boundary, given_label = read_boundary(boundary)
        require_in_china(given_boundary, given_label, allow_outside_china)
    raw, label, place_boundary, place_name = _read_source(
        source, given_boundary, allow_outside_china, online, int(max_mb * 1024 * 1024)
    )

    step("boundary")
    streets_raw = walkable_lines(raw)
    if streets_raw.empty:
        raise ValidationError(
            "contains no walkable ways (footway, path, residential, … highways)",
            source=label,
            fix="import an extract that covers streets, or check the file is the right one",
        )
    if given_boundary is not None:
        area, name = given_boundary, given_label
    elif place_boundary is not None:
        area, name = place_boundary, place_name
    else:
        lines = streets_raw.geometry.union_all()
        area = lines.convex_hull if boundary_from == "hull" else box(*lines.bounds)
        name = Path(label).name.split(".")[0]
    require_in_china(area, label, allow_outside_china)
    if area.is_empty or area.area == 0:
        raise ValidationError(
            "the walkable ways span no area to import",
            source=label,
            fix="give a boundary polygon with --boundary",
        )
    work_crs = choose_work_crs(area)
    gdf_boundary = gpd.GeoDataFrame(
        {
            "name": [name],
            "name_en": [name if name.isascii() else ""],
            "adcode": [codes.admin + codes.street],
        },
        geometry=[polygonal(area)],
        crs=WGS84,
    )

    step("streets")
    gdf_streets = street_layer(streets_raw, area, classes)
    if gdf_streets.empty:
        raise ValidationError(
            "has no walkable ways inside the import boundary",
            source=label,
            fix="check that the boundary and the file cover the same place",
        )

    gdf_streets, dropped = drop_stray_components(gdf_streets, work_crs, min_component_m)
    for ids, length in dropped:
        log.info("dropped a stray street piece of %.0f m (%s)", length, ", ".join(ids[:3]))

    step("lakes")
    gdf_lakes = lake_layer(raw, area)
    gdf_streets = mark_lakeside(gdf_streets, gdf_lakes, work_crs)

    step("zones")
    gdf_zones = grid_zones(gdf_boundary, grid_m=grid_m, codes=codes, crs=work_crs)

    step("pois")
    gdf_pois = poi_layer(raw, area)

    layers = OsmLayers(
        boundary=gdf_boundary,
        lakes=gdf_lakes,
        streets=gdf_streets,
        zones=gdf_zones,
        pois=gdf_pois,
        crs=work_crs,
        dropped=tuple(dropped),
        min_component_m=min_component_m,
    )
    step("write")
    if out_dir is not None:
        target = write_layers(layers, out_dir)
        layers = dataclasses.replace(layers, out_dir=target)
    log.info("imported %s: %s", label, layers.counts())
    return layers


# ---------------------------------------------------------------------------------------------
# Boundary and extent checks


# ---------------------------------------------------------------------------------------------
# Sources → one raw frame (osm_id, tags, geometry) in WGS 84


def _read_source(
    source: str | os.PathLike[str] | Polygon | MultiPolygon,
    given_boundary: Polygon | MultiPolygon | None,
    allow_outside_china: bool,
    online: OnlineOptions,
    max_bytes: int = int(MAX_INPUT_MB * 2**20),
) -> tuple[gpd.GeoDataFrame, str, Polygon | MultiPolygon | None, str]:
    """Return raw features, a label for messages, and the place boundary and name if any."""
    if isinstance(source, Polygon | MultiPolygon):
        require_in_china(source, "polygon", allow_outside_china)
        area = given_boundary if given_boundary is not None else source
        return read_online_polygon(area, online), "polygon", source, ""
    text = os.fspath(source)
    if isinstance(source, os.PathLike) or looks_like_path(text):
        path = Path(text)
        check_input_file(path, max_bytes)
        if sniff(path) == "pbf":
            return read_osm_pbf(path, max_bytes=max_bytes), str(path), None, ""
        return read_osm_xml(path, max_bytes=max_bytes), str(path), None, ""
    if not text.strip():
        raise ValidationError(
            "no place name or file given",
            source="import options",
            fix="give a place name, a .osm/.osm.pbf file or --boundary polygon",
        )
    raw, place_area, place_name = read_online_place(text, online, allow_outside_china)
    area = given_boundary if given_boundary is not None else place_area
    return raw, text, area, place_name


# ----- .osm XML -------------------------------------------------------------------------------


# ----- .osm.pbf -------------------------------------------------------------------------------


# ----- online (osmnx) -------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Classification


# ---------------------------------------------------------------------------------------------
# Zones: a square grid over the boundary


# ---------------------------------------------------------------------------------------------
# Writing


def _feature_collection(gdf: gpd.GeoDataFrame) -> str:
    if gdf.empty:
        return json.dumps({"type": "FeatureCollection", "features": []})
    return gdf.to_crs(WGS84).to_json(drop_id=True, ensure_ascii=False, to_wgs84=False)


def write_layers(layers: OsmLayers, out_dir: str | os.PathLike[str]) -> Path:
    """Write the five GeoJSON files to ``out_dir`` atomically and return its path.

    The files go to a temporary sibling folder first, which then replaces ``out_dir``;
    an existing folder is replaced only if it already holds an imported layer set.
    """
    target = Path(out_dir).resolve()
    if target.exists():
        if not target.is_dir():
            raise ValidationError(
                "exists and is not a folder", source=str(target), fix="choose a new output folder"
            )
        if any(target.iterdir()) and not (target / "boundary.geojson").exists():
            raise ValidationError(
                "is a non-empty folder that does not hold a geography layer set",
                source=str(target),
                fix="choose a new or empty output folder",
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex}"
    tmp.mkdir()  # mkdir (unlike mkdtemp) honours the umask, as the final folder should
    old: Path | None = None
    try:
        for name in LAYER_NAMES:
            text = _feature_collection(getattr(layers, name))
            (tmp / f"{name}.geojson").write_text(text, encoding="utf-8")
        if layers.crs:
            write_metadata(tmp, layers.crs)
        if target.exists():
            old = target.parent / f".{target.name}.old-{uuid.uuid4().hex}"
            target.rename(old)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not target.exists():
            old.rename(target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target


def summarize(layers: OsmLayers) -> dict[str, Any]:
    """Counts and street figures for reports and the CLI."""
    streets = layers.streets
    return {
        **layers.counts(),
        "named_streets": int((streets["name"] != "").sum()) if not streets.empty else 0,
        "highway": streets["highway"].value_counts().to_dict() if not streets.empty else {},
        "kind": streets["kind"].value_counts().to_dict() if not streets.empty else {},
        "crs": layers.crs,
        "dropped_pieces": len(layers.dropped),
        "dropped_m": float(sum(m for _ids, m in layers.dropped)),
        "min_component_m": layers.min_component_m,
    }


__all__ = [
    "LAYER_NAMES",
    "MIN_COMPONENT_M",
    "STEPS",
    "OsmLayers",
    "Progress",
    "import_osm",
    "summarize",
    "write_layers",
]
