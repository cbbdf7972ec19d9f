"""Import OpenStreetMap data (online, ``.osm`` XML, ``.osm.bz2``/``.osm.gz`` or ``.osm.pbf``)
as the geography layer set.

The output is the same folder of WGS 84 GeoJSON files as the bundled Shichahai geography
(``boundary``, ``lakes``, ``streets``, ``zones``, ``pois``) plus ``geography.json`` naming the
metric CRS chosen for the area (the UTM zone of its centre), so everything downstream
(``gis.geography.layers.load_geography``, the street graph, the map) works on an imported area
exactly as on the bundled one. All three sources are first normalised to one frame of raw
OSM features (``osm_id``, ``tags``, ``geometry``) and then classified by the same rules.

Why one module of this size: the readers (XML plain or compressed, PBF, online), the input
checks, the classification, the stray-piece filter, the zone grid and the atomic writer all
work on that one raw frame and its rules; they move apart together with the planned split
of ``gis/`` into subpackages (a ``geography`` package with ``osm/`` readers).
"""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import io
import json
import logging
import math
import os
import shutil
import socket
import stat
import threading
import uuid
import warnings
import xml.parsers.expat
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlparse

import geopandas as gpd
import networkx as nx
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box
from shapely.ops import polygonize, unary_union

from gis.errors import OfflineError, ValidationError
from gis.geography.crs import WGS84, metric_crs_for
from gis.geography.layers import write_metadata
from gis.settings import Settings

log = logging.getLogger(__name__)

#: Serialises use of osmnx's process-wide settings (see _osmnx_configured).
_OSMNX_LOCK = threading.Lock()

#: The layer files written, in this order.
LAYER_NAMES: tuple[str, ...] = ("boundary", "lakes", "streets", "zones", "pois")
#: Steps reported to the ``progress`` callback, in order.
STEPS: tuple[str, ...] = ("read", "boundary", "streets", "lakes", "zones", "pois", "write")

#: A rough extent of China (WGS 84); imports elsewhere are refused unless asked for.
CHINA_LON = (73.0, 135.0)
CHINA_LAT = (18.0, 54.0)

#: Highway classes a patrol can walk along.
WALKABLE_HIGHWAYS = frozenset(
    {
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "road",
        "residential",
        "living_street",
        "service",
        "pedestrian",
        "footway",
        "path",
        "steps",
        "track",
        "cycleway",
    }
)
#: Motor roads: walkable only where they carry a sidewalk or allow foot traffic.
MOTOR_HIGHWAYS = frozenset({"motorway", "motorway_link", "trunk", "trunk_link"})
_STREET_CLASSES = frozenset(
    {"primary", "primary_link", "secondary", "secondary_link", "tertiary", "tertiary_link"}
    | MOTOR_HIGHWAYS
)
_HUTONG_CLASSES = frozenset({"residential", "living_street", "service", "unclassified", "road"})
_SIDEWALK_YES = frozenset({"both", "left", "right", "yes"})
_FOOT_YES = frozenset({"yes", "designated", "permissive"})
_WATER_LANDUSE = frozenset({"reservoir", "basin"})
_TOURISM_POIS = frozenset({"attraction", "museum", "viewpoint"})
#: Paths whose length lies at least this share within ``LAKESIDE_M`` of water are lakeside.
LAKESIDE_SHARE = 0.6
LAKESIDE_M = 25.0
#: Clipped grid cells smaller than this share of a full cell merge into a neighbour.
SLIVER_SHARE = 0.1
#: Street pieces not connected to the rest and shorter than this (metres) are dropped.
MIN_COMPONENT_M = 500.0
#: Local input files larger than this (MiB, on disk and decompressed) are refused unread.
MAX_INPUT_MB = 1024.0
#: Boundary polygon files larger than this are refused unread.
BOUNDARY_MAX_BYTES = 64 * 2**20
#: File name endings read as OSM XML (plain or compressed) and as OSM PBF.
XML_SUFFIXES = (".osm", ".xml", ".osm.bz2", ".osm.gz", ".xml.bz2", ".xml.gz")
PBF_SUFFIXES = (".pbf",)

_STREET_COLUMNS = ["street_id", "name", "name_en", "highway", "kind", "front"]
_LAKE_COLUMNS = ["lake_id", "name", "name_en"]
_ZONE_COLUMNS = ["zone_id", "name", "name_en", "community"]
_POI_COLUMNS = ["poi_id", "name", "name_en", "kind", "assumed"]
_BOUNDARY_COLUMNS = ["name", "name_en", "adcode"]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class OnlineOptions:
    """How to reach the OSM web services for an online import.

    Offline, the reachability probe (name lookup and TCP connect, ``probe_timeout_s`` in
    all) fails before osmnx is even imported, instead of osmnx's default 60 s wait and
    its call to a public DNS-over-HTTPS resolver. Geocoding is given up after
    ``geocode_timeout_s`` (osmnx also pauses 1 s before each Nominatim request), so a
    stuck Nominatim also fails within 5 s. The Overpass download, asked only once its
    server has accepted a connection, may take ``download_timeout_s``: real queries for
    a subdistrict need more than a few seconds on the server.
    """

    nominatim_url: str = "https://nominatim.openstreetmap.org/"
    overpass_url: str = "https://overpass-api.de/api"
    probe_timeout_s: float = 3.0
    geocode_timeout_s: float = 2.0
    download_timeout_s: float = 60.0


@dataclass(frozen=True)
class GridCodes:
    """The parts of the 15-digit Beijing grid code given to generated zones."""

    admin: str = "110102"
    street: str = "012"
    community: str = "000"

    def validate(self) -> GridCodes:
        """Return self, or raise when a part is not the right number of digits."""
        for field, value, n in (
            ("admin_code", self.admin, 6),
            ("street_code", self.street, 3),
            ("community_code", self.community, 3),
        ):
            if len(value) != n or not value.isdigit():
                raise ValidationError(
                    f"{value!r} is not a {n}-digit code",
                    source="import options",
                    field=field,
                    fix=f"give exactly {n} digits (e.g. 110102 for Xicheng, 012 for Shichahai)",
                )
        return self


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
    classes = _parse_classes(main_street_classes)
    step = progress or (lambda _name: None)

    step("read")
    given_boundary, given_label = (None, "")
    if boundary is not None:
        given_boundary, given_label = read_boundary(boundary)
        _require_in_china(given_boundary, given_label, allow_outside_china)
    raw, label, place_boundary, place_name = _read_source(
        source, given_boundary, allow_outside_china, online, int(max_mb * 1024 * 1024)
    )

    step("boundary")
    streets_raw = _walkable_lines(raw)
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
    _require_in_china(area, label, allow_outside_china)
    if area.is_empty or area.area == 0:
        raise ValidationError(
            "the walkable ways span no area to import",
            source=label,
            fix="give a boundary polygon with --boundary",
        )
    work_crs = _work_crs(area)
    gdf_boundary = gpd.GeoDataFrame(
        {
            "name": [name],
            "name_en": [name if name.isascii() else ""],
            "adcode": [codes.admin + codes.street],
        },
        geometry=[_polygonal(area)],
        crs=WGS84,
    )

    step("streets")
    gdf_streets = _streets(streets_raw, area, classes)
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
    gdf_lakes = _lakes(raw, area)
    gdf_streets = _mark_lakeside(gdf_streets, gdf_lakes, work_crs)

    step("zones")
    gdf_zones = grid_zones(gdf_boundary, grid_m=grid_m, codes=codes, crs=work_crs)

    step("pois")
    gdf_pois = _pois(raw, area)

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


def _parse_classes(classes: Iterable[str]) -> frozenset[str]:
    out = set()
    for raw in classes:
        for part in str(raw).split(","):
            c = part.strip()
            if not c:
                continue
            if c not in WALKABLE_HIGHWAYS | MOTOR_HIGHWAYS:
                raise ValidationError(
                    f"{c!r} is not a walkable highway class",
                    source="import options",
                    field="main_street_classes",
                    fix="use classes such as primary,secondary,tertiary",
                )
            out.add(c)
    return frozenset(out)


# ---------------------------------------------------------------------------------------------
# Boundary and extent checks


def _polygonal(geom: Any) -> Polygon | MultiPolygon:
    parts = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and not g.is_empty]
    if not parts:
        raise ValidationError("the boundary has no polygon", source="boundary")
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def read_boundary(
    boundary: str | os.PathLike[str] | Polygon | MultiPolygon,
) -> tuple[Polygon | MultiPolygon, str]:
    if isinstance(boundary, Polygon | MultiPolygon):
        return boundary, ""
    path = Path(boundary)
    check_input_file(path, BOUNDARY_MAX_BYTES, "boundary file")
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise ValidationError(
            f"cannot be read as a polygon layer ({type(exc).__name__})",
            source=str(path),
            fix="give a GeoJSON/GeoPackage/Shapefile with one polygon",
        ) from exc
    if gdf.crs is None:
        raise ValidationError(
            "has no coordinate reference system",
            source=str(path),
            fix="save the polygon with its CRS (WGS 84)",
        )
    gdf = gdf.to_crs(WGS84)
    polys = gdf[gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polys.empty:
        raise ValidationError(
            "contains no polygon",
            source=str(path),
            field="geometry",
            fix="give the area to import as a Polygon or MultiPolygon",
        )
    geom = shapely.make_valid(polys.geometry.union_all())
    name = ""
    if "name" in polys.columns and isinstance(polys["name"].iloc[0], str):
        name = polys["name"].iloc[0]
    return _polygonal(geom), name or path.stem


def _require_in_china(geom: Any, source: str, allow: bool) -> None:
    minx, miny, maxx, maxy = geom.bounds
    inside = (
        CHINA_LON[0] <= minx
        and maxx <= CHINA_LON[1]
        and CHINA_LAT[0] <= miny
        and maxy <= CHINA_LAT[1]
    )
    if inside or allow:
        return
    raise ValidationError(
        f"the area ({minx:.4f}, {miny:.4f}) – ({maxx:.4f}, {maxy:.4f}) lies outside China "
        f"(longitude {CHINA_LON[0]:g}–{CHINA_LON[1]:g}, latitude {CHINA_LAT[0]:g}–{CHINA_LAT[1]:g})",
        source=source or "boundary",
        fix="give WGS 84 longitude/latitude (x = longitude); if the area really lies "
        "outside China, pass --allow-outside-china (allow_outside_china=True)",
    )


def _work_crs(area: Any) -> str:
    """The metric CRS of the area: the UTM zone of its centre (see gis.geography.crs.metric_crs_for)."""
    centre = area.centroid
    crs = metric_crs_for(float(centre.x), float(centre.y))
    log.info("area measured in %s", crs)
    return crs


# ---------------------------------------------------------------------------------------------
# Sources → one raw frame (osm_id, tags, geometry) in WGS 84


def _raw_frame(records: list[tuple[str, dict[str, str], Any]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"osm_id": [r[0] for r in records], "tags": [r[1] for r in records]},
        geometry=[r[2] for r in records],
        crs=WGS84,
    )


def _looks_like_path(text: str) -> bool:
    """True for text that names a local file or folder rather than a place."""
    lower = text.lower()
    return (
        lower.endswith(XML_SUFFIXES + PBF_SUFFIXES + (".bz2", ".gz"))
        or os.sep in text
        or (os.altsep is not None and os.altsep in text)
        or text.startswith(".")
        or os.path.lexists(text)
    )


def check_input_file(path: Path, max_bytes: int, what: str = "OSM file") -> os.stat_result:
    """Refuse anything but an existing regular file (not a link) of at most ``max_bytes``.

    Nothing is read: the checks use ``lstat`` so a symbolic link is refused, not followed.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise ValidationError(
            f"{what} not found",
            source=str(path),
            fix=f"check the path of the {what}"
            + (" (.osm, .osm.bz2, .osm.gz or .osm.pbf)" if what == "OSM file" else ""),
        ) from None
    except OSError as exc:
        raise ValidationError(
            f"{what} cannot be opened ({exc.strerror})", source=str(path), fix="check the path"
        ) from None
    if stat.S_ISLNK(info.st_mode):
        raise ValidationError(
            f"{what} is a symbolic link; links are not followed",
            source=str(path),
            fix="give the path of the file itself",
        )
    if stat.S_ISDIR(info.st_mode):
        raise ValidationError(
            f"is a folder, not an {what}",
            source=str(path),
            fix=f"give the {what} inside it",
        )
    if not stat.S_ISREG(info.st_mode):
        raise ValidationError(
            f"{what} is not a regular file", source=str(path), fix="give a downloaded extract"
        )
    if info.st_size > max_bytes:
        raise ValidationError(
            f"{what} is {info.st_size / 2**20:.0f} MiB, more than the {max_bytes / 2**20:.0f} MiB allowed",
            source=str(path),
            fix="cut the extract to the area (osmium extract -p boundary.geojson) "
            "or raise the limit with --max-mb",
        )
    return info


def _read_source(
    source: str | os.PathLike[str] | Polygon | MultiPolygon,
    given_boundary: Polygon | MultiPolygon | None,
    allow_outside_china: bool,
    online: OnlineOptions,
    max_bytes: int = int(MAX_INPUT_MB * 2**20),
) -> tuple[gpd.GeoDataFrame, str, Polygon | MultiPolygon | None, str]:
    """Return raw features, a label for messages, and the place boundary and name if any."""
    if isinstance(source, Polygon | MultiPolygon):
        _require_in_china(source, "polygon", allow_outside_china)
        area = given_boundary if given_boundary is not None else source
        return _read_online_polygon(area, online), "polygon", source, ""
    text = os.fspath(source)
    if isinstance(source, os.PathLike) or _looks_like_path(text):
        path = Path(text)
        check_input_file(path, max_bytes)
        if _sniff(path) == "pbf":
            return read_osm_pbf(path, max_bytes=max_bytes), str(path), None, ""
        return read_osm_xml(path, max_bytes=max_bytes), str(path), None, ""
    if not text.strip():
        raise ValidationError(
            "no place name or file given",
            source="import options",
            fix="give a place name, a .osm/.osm.pbf file or --boundary polygon",
        )
    raw, place_area, place_name = _read_online_place(text, online, allow_outside_china)
    area = given_boundary if given_boundary is not None else place_area
    return raw, text, area, place_name


# ----- .osm XML -------------------------------------------------------------------------------


class _Refused(Exception):
    """Raised inside the expat callbacks to stop on DOCTYPE/entity declarations."""


class _BadCoordinate(Exception):
    """Raised inside the expat callbacks for a node whose lon/lat is not a usable number."""

    def __init__(self, node_id: int) -> None:
        super().__init__(node_id)
        self.node_id = node_id


_MAGIC = {b"BZh": "bz2", b"\x1f\x8b": "gz"}


def _sniff(path: Path) -> str:
    """The file's format from its first bytes: ``bz2``, ``gz``, ``pbf`` or ``xml``.

    Opened without following a symbolic link; only the first bytes are read, never echoed.
    """
    with _open_nofollow(path) as fh:
        head = fh.read(16)
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return "xml"
    # a PBF file starts with a 4-byte big-endian header length, then "OSMHeader"
    return "pbf" if path.name.lower().endswith(PBF_SUFFIXES) or b"OSMHeader" in head else "xml"


def _open_nofollow(path: Path) -> IO[bytes]:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise ValidationError(
            f"cannot be opened ({exc.strerror}; symbolic links are not followed)",
            source=str(path),
            fix="give the path of a regular file",
        ) from None
    fh = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
        fh.close()
        raise ValidationError(
            "is not a regular file", source=str(path), fix="give a downloaded extract"
        )
    return fh


class _TooLarge(Exception):
    """Raised when a (decompressed) input grows beyond its cap."""


def _capped_chunks(
    fh: io.BufferedIOBase | IO[bytes], max_bytes: int, chunk: int = 1 << 20
) -> Iterator[bytes]:
    total = 0
    while data := fh.read(chunk):
        total += len(data)
        if total > max_bytes:
            raise _TooLarge
        yield data


def read_osm_xml(
    path: str | os.PathLike[str], *, max_bytes: int = int(MAX_INPUT_MB * 2**20)
) -> gpd.GeoDataFrame:
    """Parse an OSM XML file (plain, bzip2 or gzip) into raw features, streaming.

    Documents with a DOCTYPE or entity declarations are refused outright (the
    "billion laughs" and external-entity attacks need them; OSM files never do). The file is
    opened without following a symbolic link, and reading stops as soon as the file, or its
    decompressed content, passes ``max_bytes``. Error messages name the file and the
    element, never its content.
    """
    path = Path(path)
    kind = _sniff(path)
    parser = xml.parsers.expat.ParserCreate()
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_args: object) -> None:
        raise _Refused("DOCTYPE or entity declaration")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse  # type: ignore[assignment]

    nodes: dict[int, tuple[float, float]] = {}
    tagged_nodes: list[tuple[int, dict[str, str]]] = []
    ways: dict[int, tuple[list[int], dict[str, str]]] = {}
    relations: list[tuple[int, list[tuple[str, int, str]], dict[str, str]]] = []
    stack: list[str] = []
    cur: dict[str, Any] = {}

    def start(name: str, attrs: dict[str, str]) -> None:
        if not stack and name != "osm":
            raise _Refused(f"root element <{name}> is not <osm>")
        stack.append(name)
        if name == "node":
            nid = int(attrs["id"])
            lon, lat = float(attrs["lon"]), float(attrs["lat"])
            if not (
                math.isfinite(lon)
                and math.isfinite(lat)
                and -180 <= lon <= 180
                and -90 <= lat <= 90
            ):
                raise _BadCoordinate(nid)
            nodes[nid] = (lon, lat)
            cur.clear()
            cur.update(kind="node", id=nid, tags={})
        elif name == "way":
            cur.clear()
            cur.update(kind="way", id=int(attrs["id"]), tags={}, refs=[])
        elif name == "relation":
            cur.clear()
            cur.update(kind="relation", id=int(attrs["id"]), tags={}, members=[])
        elif name == "tag" and cur:
            cur["tags"][attrs["k"]] = attrs.get("v", "")
        elif name == "nd" and cur.get("kind") == "way":
            cur["refs"].append(int(attrs["ref"]))
        elif name == "member" and cur.get("kind") == "relation":
            cur["members"].append((attrs.get("type", ""), int(attrs["ref"]), attrs.get("role", "")))

    def end(name: str) -> None:
        stack.pop()
        if name not in {"node", "way", "relation"} or not cur:
            return
        if name == "node" and cur["tags"]:
            tagged_nodes.append((cur["id"], cur["tags"]))
        elif name == "way":
            ways[cur["id"]] = (cur["refs"], cur["tags"])
        elif name == "relation":
            relations.append((cur["id"], cur["members"], cur["tags"]))
        cur.clear()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        with _open_nofollow(path) as raw_fh:
            fh: io.BufferedIOBase | IO[bytes] = raw_fh
            if kind == "bz2":
                fh = bz2.BZ2File(raw_fh)
            elif kind == "gz":
                fh = gzip.GzipFile(fileobj=raw_fh)
            with fh:
                for chunk in _capped_chunks(fh, max_bytes):
                    parser.Parse(chunk, False)
                parser.Parse(b"", True)
    except _TooLarge:
        raise ValidationError(
            f"holds more than {max_bytes / 2**20:.0f} MiB of OSM XML"
            + (" once decompressed" if kind in {"bz2", "gz"} else ""),
            source=str(path),
            fix="cut the extract to the area (osmium extract -p boundary.geojson) "
            "or raise the limit with --max-mb",
        ) from None
    except _BadCoordinate as exc:
        raise ValidationError(
            f"node {exc.node_id} has a longitude/latitude that is not a number within ±180/±90 "
            "(are lat and lon swapped?)",
            source=str(path),
            row=f"node id={exc.node_id}",
            field="lat/lon",
            fix="repair or delete that node (JOSM validator), or export the data again from OSM",
        ) from None
    except (EOFError, OSError, zlib.error) as exc:
        if kind in {"bz2", "gz"} and not isinstance(exc, FileNotFoundError | PermissionError):
            raise ValidationError(
                f"is not a complete {kind} file",
                source=str(path),
                fix="the download is damaged or truncated; download the extract again",
            ) from None
        raise ValidationError(
            f"cannot be read ({getattr(exc, 'strerror', None) or type(exc).__name__})",
            source=str(path),
            fix="check the file's permissions",
        ) from None
    except _Refused as exc:
        raise ValidationError(
            f"refused: {exc}",
            source=str(path),
            fix="OSM XML never needs a DOCTYPE or entities; export the data again from OSM",
        ) from None
    except xml.parsers.expat.ExpatError as exc:
        where = f"line {exc.lineno}, column {exc.offset}"
        raise ValidationError(
            f"is not well-formed OSM XML ({xml.parsers.expat.ErrorString(exc.code)}, {where})",
            source=str(path),
            fix="the file is damaged or truncated, or is not OSM XML; download or export it again",
        ) from None
    except (KeyError, ValueError):
        # the message of int()/float() would quote the file's text: name the element instead
        element = stack[-1] if stack else "osm"
        raise ValidationError(
            f"has a <{element}> element with a missing or non-numeric attribute "
            f"(line {parser.CurrentLineNumber})",
            source=str(path),
            fix="export the data again from OSM (JOSM, overpass or osmium)",
        ) from None
    if not nodes and not ways:
        log.warning("%s holds no OSM nodes or ways", path)

    records: list[tuple[str, dict[str, str], Any]] = []
    for nid, tags in tagged_nodes:
        if _is_poi(tags):
            records.append((f"N{nid}", tags, Point(nodes[nid])))
    way_lines: dict[int, LineString] = {}
    for wid, (refs, _tags) in ways.items():
        coords = [nodes[r] for r in refs if r in nodes]
        if len(coords) >= 2:
            way_lines[wid] = LineString(coords)
    for wid, (refs, tags) in ways.items():
        line = way_lines.get(wid)
        if line is None or not tags:
            continue
        closed = len(refs) >= 4 and refs[0] == refs[-1] and line.is_closed
        if _is_water(tags) or (_is_poi(tags) and "highway" not in tags):
            if closed:
                records.append((f"W{wid}", tags, Polygon(line.coords)))
        elif "highway" in tags:
            records.append((f"W{wid}", tags, line))
    for rid, members, tags in relations:
        if tags.get("type") != "multipolygon" or not _is_water(tags):
            continue
        geom = _multipolygon(
            [
                way_lines[ref]
                for typ, ref, role in members
                if typ == "way" and role != "inner" and ref in way_lines
            ],
            [
                way_lines[ref]
                for typ, ref, role in members
                if typ == "way" and role == "inner" and ref in way_lines
            ],
        )
        if geom is not None:
            records.append((f"R{rid}", tags, geom))
    return _raw_frame(records)


def _multipolygon(outer: list[LineString], inner: list[LineString]) -> Any:
    outer_polys = list(polygonize(unary_union(outer))) if outer else []
    if not outer_polys:
        return None
    geom = unary_union(outer_polys)
    if inner:
        holes = list(polygonize(unary_union(inner)))
        if holes:
            geom = geom.difference(unary_union(holes))
    return None if geom.is_empty else geom


# ----- .osm.pbf -------------------------------------------------------------------------------


def _pyrosm_layers(osm: Any) -> tuple[Any, Any, Any]:
    highways = osm.get_data_by_custom_criteria(
        custom_filter={"highway": True},
        filter_type="keep",
        keep_nodes=False,
        keep_ways=True,
        keep_relations=False,
    )
    water = osm.get_data_by_custom_criteria(
        custom_filter={
            "natural": ["water"],
            "water": True,
            "landuse": sorted(_WATER_LANDUSE),
            "waterway": ["riverbank"],
        },
        filter_type="keep",
        keep_nodes=False,
        keep_ways=True,
        keep_relations=True,
    )
    pois = osm.get_pois(
        custom_filter={
            "amenity": ["police"],
            "tourism": sorted(_TOURISM_POIS),
            "historic": True,
        }
    )
    return highways, water, pois


def read_osm_pbf(
    path: str | os.PathLike[str], *, max_bytes: int = int(MAX_INPUT_MB * 2**20)
) -> gpd.GeoDataFrame:
    """Read highways, water and points of interest from an ``.osm.pbf`` file with pyrosm.

    The file must be a regular file (not a link) of at most ``max_bytes``.
    """
    path = Path(path)
    check_input_file(path, max_bytes)
    try:
        import pyrosm

        osm = pyrosm.OSM(str(path))
        with warnings.catch_warnings():
            # pyrosm warns (rather than returning an empty frame) when a layer has no data
            warnings.filterwarnings("ignore", "Could not find any", UserWarning)
            highways, water, pois = _pyrosm_layers(osm)
    except Exception as exc:  # pyrosm raises bare Exceptions/ValueErrors on damaged files
        raise ValidationError(
            f"cannot be read as an OSM PBF extract ({type(exc).__name__})",
            source=str(path),
            fix="the file is damaged or not a .osm.pbf; download the extract again",
        ) from exc
    records = []
    for frame in (highways, water, pois):
        records.extend(_dict_records(frame))
    return _raw_frame(records)


def _dict_records(gdf: gpd.GeoDataFrame | None) -> list[tuple[str, dict[str, str], Any]]:
    if gdf is None or len(gdf) == 0:
        return []
    # plain dict rows: itertuples would rename columns such as "oneway:bicycle"
    plain = pd.DataFrame(gdf).to_dict("records")
    skip = {"id", "osm_type", "geometry", "tags", "visible", "version", "timestamp", "changeset"}
    skip |= {"lon", "lat", "length"}
    prefix = {"node": "N", "way": "W", "relation": "R"}
    out = []
    for d in plain:
        tags: dict[str, str] = {}
        extra = d.get("tags")
        if isinstance(extra, str) and extra:
            try:
                tags.update({str(k): str(v) for k, v in json.loads(extra).items()})
            except ValueError:
                log.debug("unreadable tags %r", extra)
        for c, v in d.items():
            if c in skip or v is None or (isinstance(v, float) and math.isnan(v)):
                continue
            tags[str(c)] = str(v)
        geom = d["geometry"]
        if geom is None or geom.is_empty:
            continue
        out.append((f"{prefix.get(str(d.get('osm_type')), 'W')}{int(d['id'])}", tags, geom))
    return out


# ----- online (osmnx) -------------------------------------------------------------------------

_ONLINE_TAGS: dict[str, bool | str | list[str]] = {
    "highway": True,
    "natural": "water",
    "water": True,
    "landuse": sorted(_WATER_LANDUSE),
    "waterway": "riverbank",
    "amenity": "police",
    "tourism": sorted(_TOURISM_POIS),
    "historic": True,
}
_NO_NETWORK = "no network: import a .osm/.pbf file instead (patrol import-osm FILE)"


@contextmanager
def _osmnx_configured(online: OnlineOptions, timeout_s: float) -> Iterator[Any]:
    """Configure osmnx for a fast offline failure, restoring its global settings after.

    osmnx keeps its settings (and a patched ``socket.getaddrinfo``) process-wide, so the
    whole configure-download-restore block holds one lock: two app sessions importing at
    once would otherwise interleave their save and restore.
    """
    with _OSMNX_LOCK:
        yield from _osmnx_configured_unlocked(online, timeout_s)


def _osmnx_configured_unlocked(online: OnlineOptions, timeout_s: float) -> Iterator[Any]:
    import osmnx as ox

    names = (
        "overpass_rate_limit",
        "doh_url_template",
        "requests_timeout",
        "nominatim_url",
        "overpass_url",
        "use_cache",
        "log_console",
    )
    saved = {n: getattr(ox.settings, n) for n in names}
    # osmnx pins a resolved address by replacing socket.getaddrinfo; undo that afterwards
    getaddrinfo = socket.getaddrinfo
    try:
        ox.settings.overpass_rate_limit = False
        ox.settings.doh_url_template = None
        ox.settings.requests_timeout = max(1, math.ceil(timeout_s))
        ox.settings.nominatim_url = online.nominatim_url
        ox.settings.overpass_url = online.overpass_url
        ox.settings.use_cache = False
        ox.settings.log_console = False
        yield ox
    finally:
        socket.getaddrinfo = getaddrinfo
        for n, v in saved.items():
            setattr(ox.settings, n, v)


def probe_service(url: str, timeout_s: float) -> None:
    """Raise :class:`OfflineError` unless ``url``'s host resolves and accepts a connection.

    The name lookup runs in a helper thread so that a hanging resolver cannot hold the
    caller beyond ``timeout_s``.
    """
    parts = urlparse(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    result: dict[str, Any] = {}

    def connect() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                result["ok"] = True
        except OSError as exc:
            result["error"] = exc

    worker = threading.Thread(target=connect, name="osm-probe", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if not result.get("ok"):
        detail = result.get("error") or f"no answer within {timeout_s:g} s"
        log.info("cannot reach %s: %s", url, detail)
        raise OfflineError(f"{_NO_NETWORK} [{host}: {detail}]")


def _online_call(fn: Callable[..., Any], *args: Any) -> Any:
    import requests
    from osmnx._errors import ResponseStatusCodeError

    try:
        return fn(*args)
    except requests.exceptions.RequestException as exc:
        raise OfflineError(f"{_NO_NETWORK} [{type(exc).__name__}]") from exc
    except ResponseStatusCodeError as exc:
        raise OfflineError(
            f"the OSM service refused the request ({exc}); try again later, "
            "or import a .osm/.pbf file instead (patrol import-osm FILE)"
        ) from exc


def _osmnx_records(gdf: gpd.GeoDataFrame) -> list[tuple[str, dict[str, str], Any]]:
    prefix = {"node": "N", "way": "W", "relation": "R"}
    cols = [c for c in gdf.columns if c != "geometry"]
    out = []
    for (element, osmid), row in zip(gdf.index, gdf.to_dict("records"), strict=True):
        tags = {
            str(c): str(row[c])
            for c in cols
            if row[c] is not None and not (isinstance(row[c], float) and math.isnan(row[c]))
        }
        out.append((f"{prefix.get(str(element), 'W')}{osmid}", tags, row["geometry"]))
    return out


def _fetch_features(ox: Any, area: Polygon | MultiPolygon) -> Any:
    from osmnx._errors import InsufficientResponseError

    try:
        return _online_call(ox.features_from_polygon, area, _ONLINE_TAGS)
    except InsufficientResponseError:
        return gpd.GeoDataFrame(geometry=[], crs=WGS84)


def _read_online_polygon(area: Polygon | MultiPolygon, online: OnlineOptions) -> gpd.GeoDataFrame:
    probe_service(online.overpass_url, online.probe_timeout_s)
    with _osmnx_configured(online, online.download_timeout_s) as ox:
        gdf = _fetch_features(ox, area)
    return _raw_frame(_osmnx_records(gdf))


def _read_online_place(
    place: str, online: OnlineOptions, allow_outside_china: bool
) -> tuple[gpd.GeoDataFrame, Polygon | MultiPolygon, str]:
    probe_service(online.nominatim_url, online.probe_timeout_s)
    if urlparse(online.overpass_url).hostname != urlparse(online.nominatim_url).hostname:
        probe_service(online.overpass_url, online.probe_timeout_s)
    from osmnx._errors import InsufficientResponseError

    with _osmnx_configured(online, online.geocode_timeout_s) as ox:
        try:
            found = _online_call(ox.geocode_to_gdf, place)
        except (TypeError, ValueError, InsufficientResponseError) as exc:
            raise ValidationError(
                f"place {place!r} was not found as an area ({exc})",
                source="place name",
                fix="give the name as OSM has it (e.g. 什刹海街道, 西城区, 北京市) or a polygon",
            ) from exc
    area = _polygonal(shapely.make_valid(found.geometry.iloc[0]))
    _require_in_china(area, place, allow_outside_china)
    with _osmnx_configured(online, online.download_timeout_s) as ox:
        gdf = _fetch_features(ox, area)
    name = str(found["name"].iloc[0]) if "name" in found.columns else place
    return _raw_frame(_osmnx_records(gdf)), area, name or place


# ---------------------------------------------------------------------------------------------
# Classification


def _is_water(tags: dict[str, str]) -> bool:
    return (
        tags.get("natural") == "water"
        or "water" in tags
        or tags.get("landuse") in _WATER_LANDUSE
        or tags.get("waterway") == "riverbank"
    )


def _poi_kind(tags: dict[str, str]) -> str | None:
    if tags.get("amenity") == "police":
        return "police"
    if tags.get("tourism") in _TOURISM_POIS:
        return "tourism"
    if tags.get("historic"):
        return "historic"
    return None


def _is_poi(tags: dict[str, str]) -> bool:
    return _poi_kind(tags) is not None


def is_walkable(tags: dict[str, str]) -> bool:
    """True when a way with these OSM tags is a street a patrol can walk along."""
    highway = tags.get("highway", "")
    foot = tags.get("foot", "")
    if tags.get("area") == "yes" or foot == "no":
        return False
    if tags.get("access") in {"private", "no"} and foot not in _FOOT_YES:
        return False
    if highway in MOTOR_HIGHWAYS:
        return tags.get("sidewalk") in _SIDEWALK_YES or foot in _FOOT_YES
    return highway in WALKABLE_HIGHWAYS


def street_kind(tags: dict[str, str], main_street_classes: frozenset[str] = frozenset()) -> str:
    """The project's street kind for an OSM way (``lakeside`` is decided later, by geometry)."""
    highway = tags.get("highway", "")
    if tags.get("bridge", "no") != "no":
        return "bridge"
    if highway in main_street_classes:
        return "main_street"
    if highway in _STREET_CLASSES:
        return "street"
    if highway in _HUTONG_CLASSES:
        return "hutong"
    return "path"


def _walkable_lines(raw: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    keep = pd.Series([is_walkable(t) for t in raw["tags"]], index=raw.index, dtype=bool)
    out = raw.loc[keep].copy()
    # closed ways that a reader turned into polygons walk along their outline
    geoms = []
    for g in out.geometry:
        if g.geom_type in {"Polygon", "MultiPolygon"}:
            g = g.boundary
        geoms.append(g)
    out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=WGS84))
    return out[out.geometry.geom_type.isin(["LineString", "MultiLineString"])]


def _clip_parts(geom: Any, area: Any, kinds: tuple[str, ...]) -> list[Any]:
    clipped = geom.intersection(area) if not area.contains(geom) else geom
    return [p for p in shapely.get_parts(clipped) if p.geom_type in kinds and not p.is_empty]


def _split_ids(osm_id: str, n: int) -> list[str]:
    return [osm_id] if n == 1 else [f"{osm_id}_{i}" for i in range(1, n + 1)]


def _streets(lines: gpd.GeoDataFrame, area: Any, classes: frozenset[str]) -> gpd.GeoDataFrame:
    shapely.prepare(area)
    rows = []
    for osm_id, tags, geom in zip(lines["osm_id"], lines["tags"], lines.geometry, strict=True):
        parts = _clip_parts(shapely.line_merge(geom), area, ("LineString",))
        parts = [p for p in parts if p.length > 0]
        kind = street_kind(tags, classes)
        front = "main_streets" if tags.get("highway") in classes else ""
        for sid, part in zip(_split_ids(osm_id, len(parts)), parts, strict=True):
            rows.append(
                {
                    "street_id": sid,
                    "name": tags.get("name", ""),
                    "name_en": tags.get("name:en", ""),
                    "highway": tags.get("highway", ""),
                    "kind": kind,
                    "front": front,
                    "geometry": part,
                }
            )
    return _frame(rows, _STREET_COLUMNS)


def drop_stray_components(
    streets: gpd.GeoDataFrame, work_crs: str, min_component_m: float, *, snap_m: float = 2.0
) -> tuple[gpd.GeoDataFrame, list[tuple[tuple[str, ...], float]]]:
    """Drop street pieces that are cut off from the rest and shorter than ``min_component_m``.

    Two ways belong to one piece when they cross or touch, or when an end of one lies within
    ``snap_m`` of the other — the junctions the street graph makes of them
    (:func:`gis.geography.network.segments_from_lines` snaps ends the same way). The longest piece is
    always kept, however short. Returns the kept streets (WGS 84) and, per dropped piece,
    its street ids and length (m).
    """
    if streets.empty or min_component_m <= 0:
        return streets, []
    geoms = streets.to_crs(work_crs).geometry.values
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = [(left, right)]
    for end in (0, -1):
        ends = shapely.get_point(geoms, end)
        ei, ej = tree.query(ends, predicate="dwithin", distance=snap_m)
        pairs.append((ei, ej))
    G = nx.Graph()
    G.add_nodes_from(range(len(geoms)))
    for a, b in pairs:
        G.add_edges_from(zip(a.tolist(), b.tolist(), strict=True))
    lengths = shapely.length(geoms)
    comps = [sorted(c) for c in nx.connected_components(G)]
    totals = [float(lengths[c].sum()) for c in comps]
    biggest = max(range(len(comps)), key=lambda k: totals[k])
    ids = streets["street_id"].astype(str).to_numpy()
    dropped = sorted(
        (
            (tuple(sorted(set(ids[c]))), totals[k])
            for k, c in enumerate(comps)
            if totals[k] < min_component_m and k != biggest
        ),
        key=lambda d: (-d[1], d[0]),
    )
    gone = {sid for piece, _m in dropped for sid in piece}
    kept = streets.loc[~streets["street_id"].astype(str).isin(gone)].reset_index(drop=True)
    return kept, dropped


def _lakes(raw: gpd.GeoDataFrame, area: Any) -> gpd.GeoDataFrame:
    rows = []
    for osm_id, tags, geom in zip(raw["osm_id"], raw["tags"], raw.geometry, strict=True):
        if not _is_water(tags) or geom.geom_type not in {"Polygon", "MultiPolygon"}:
            continue
        parts = _clip_parts(shapely.make_valid(geom), area, ("Polygon",))
        for lid, part in zip(_split_ids(osm_id, len(parts)), parts, strict=True):
            rows.append(
                {
                    "lake_id": lid,
                    "name": tags.get("name", ""),
                    "name_en": tags.get("name:en", ""),
                    "geometry": part,
                }
            )
    return _frame(rows, _LAKE_COLUMNS)


def _mark_lakeside(
    streets: gpd.GeoDataFrame, lakes: gpd.GeoDataFrame, work_crs: str
) -> gpd.GeoDataFrame:
    """Paths and hutongs that run mostly along water become ``lakeside``."""
    if lakes.empty or streets.empty:
        return streets
    shore = lakes.to_crs(work_crs).geometry.union_all().buffer(LAKESIDE_M)
    metric = streets.to_crs(work_crs).geometry
    share = metric.intersection(shore).length / metric.length
    out = streets.copy()
    mask = out["kind"].isin(["path", "hutong"]).to_numpy() & (share >= LAKESIDE_SHARE).to_numpy()
    out.loc[mask, "kind"] = "lakeside"
    return out


def _pois(raw: gpd.GeoDataFrame, area: Any) -> gpd.GeoDataFrame:
    rows = []
    for osm_id, tags, geom in zip(raw["osm_id"], raw["tags"], raw.geometry, strict=True):
        kind = _poi_kind(tags)
        if kind is None or "highway" in tags:
            continue
        if geom.geom_type != "Point":
            if kind != "police":  # police stations are often drawn as buildings
                continue
            geom = geom.representative_point()
        if not area.covers(geom):
            continue
        rows.append(
            {
                "poi_id": osm_id,
                "name": tags.get("name", ""),
                "name_en": tags.get("name:en", ""),
                "kind": kind,
                "assumed": False,
                "geometry": geom,
            }
        )
    return _frame(rows, _POI_COLUMNS)


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> gpd.GeoDataFrame:
    if not rows:
        return gpd.GeoDataFrame(
            {c: pd.Series([], dtype=object) for c in columns}, geometry=[], crs=WGS84
        )
    return gpd.GeoDataFrame(rows, columns=[*columns, "geometry"], geometry="geometry", crs=WGS84)


# ---------------------------------------------------------------------------------------------
# Zones: a square grid over the boundary


def grid_zones(
    gdf_boundary: gpd.GeoDataFrame,
    *,
    grid_m: float = 500.0,
    codes: GridCodes | None = None,
    crs: str | None = None,
    sliver_share: float = SLIVER_SHARE,
) -> gpd.GeoDataFrame:
    """Tile the boundary with a square grid, numbered west→east, north→south.

    The grid is laid out in ``crs`` (metres; default the UTM zone of the boundary's centre)
    on multiples of ``grid_m``; cells are clipped
    to the boundary, and clipped pieces smaller than ``sliver_share`` of a full cell merge
    into the neighbour they share the longest border with, so the zones still tile the
    boundary exactly. Each zone gets a 15-digit code: admin + street + community + serial.

    Returns
    -------
    GeoDataFrame in WGS 84 with ``zone_id``, ``name``, ``name_en``, ``community``.
    """
    codes = (codes or GridCodes()).validate()
    if crs is None:
        crs = _work_crs(gdf_boundary.to_crs(WGS84).geometry.union_all())
    area = gdf_boundary.to_crs(crs).geometry.union_all()
    minx, miny, maxx, maxy = area.bounds
    x0 = math.floor(minx / grid_m) * grid_m
    y1 = math.ceil(maxy / grid_m) * grid_m
    ncols = max(1, math.ceil((maxx - x0) / grid_m))
    nrows = max(1, math.ceil((y1 - miny) / grid_m))
    shapely.prepare(area)
    pieces: list[list[Any]] = []  # [row, col, geometry]
    for r in range(nrows):
        for c in range(ncols):
            cell = box(
                x0 + c * grid_m, y1 - (r + 1) * grid_m, x0 + (c + 1) * grid_m, y1 - r * grid_m
            )
            if not area.intersects(cell):
                continue
            clipped = cell if area.contains(cell) else cell.intersection(area)
            for part in shapely.get_parts(clipped):
                if part.geom_type == "Polygon" and part.area > 0:
                    pieces.append([r, c, part])
    pieces = _merge_slivers(pieces, sliver_share * grid_m * grid_m)
    pieces.sort(
        key=lambda p: (p[0], p[1], -p[2].representative_point().y, p[2].representative_point().x)
    )
    if len(pieces) > 999:
        raise ValidationError(
            f"a {grid_m:g} m grid gives {len(pieces)} zones, more than the 999 a 3-digit serial allows",
            source="import options",
            field="grid_m",
            fix="use a larger grid (e.g. --grid-m 1000) or a smaller boundary",
        )
    prefix = codes.admin + codes.street + codes.community
    gdf = gpd.GeoDataFrame(
        {
            "zone_id": [f"{prefix}{i:03d}" for i in range(1, len(pieces) + 1)],
            "name": [f"网格{i:03d}" for i in range(1, len(pieces) + 1)],
            "name_en": [f"Grid {i:03d}" for i in range(1, len(pieces) + 1)],
            "community": [codes.community] * len(pieces),
        },
        geometry=[p[2] for p in pieces],
        crs=crs,
    )
    return gdf.to_crs(WGS84)


def _merge_slivers(pieces: list[list[Any]], min_area: float) -> list[list[Any]]:
    alive = list(pieces)
    for sliver in sorted((p for p in pieces if p[2].area < min_area), key=lambda p: p[2].area):
        if sliver not in alive:
            continue
        best, best_len = None, 0.0
        for other in alive:
            if other is sliver:
                continue
            shared = sliver[2].boundary.intersection(other[2].boundary).length
            if shared > best_len:
                best, best_len = other, shared
        if best is None:
            continue
        merged = shapely.union(best[2], sliver[2])
        if merged.geom_type != "Polygon":
            continue
        best[2] = merged
        alive = [p for p in alive if p is not sliver]
    return alive


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
    "GridCodes",
    "MIN_COMPONENT_M",
    "check_input_file",
    "drop_stray_components",
    "LAYER_NAMES",
    "OnlineOptions",
    "OsmLayers",
    "STEPS",
    "grid_zones",
    "import_osm",
    "is_walkable",
    "probe_service",
    "read_boundary",
    "read_osm_pbf",
    "read_osm_xml",
    "street_kind",
    "summarize",
    "write_layers",
]
