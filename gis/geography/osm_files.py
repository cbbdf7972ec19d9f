"""OSM files (``.osm`` XML, plain or compressed, and ``.osm.pbf``) read into one raw frame of features."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import logging
import math
import os
import stat
import warnings
import xml.parsers.expat
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import polygonize, unary_union

from gis.errors import ValidationError
from gis.geography.crs import WGS84
from gis.geography.osm_classify import TOURISM_POIS, WATER_LANDUSE, is_poi, is_water

log = logging.getLogger(__name__)


#: Local input files larger than this (MiB, on disk and decompressed) are refused unread.
MAX_INPUT_MB = 1024.0


#: File name endings read as OSM XML (plain or compressed) and as OSM PBF.
XML_SUFFIXES = (".osm", ".xml", ".osm.bz2", ".osm.gz", ".xml.bz2", ".xml.gz")


PBF_SUFFIXES = (".pbf",)


def raw_frame(records: list[tuple[str, dict[str, str], Any]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"osm_id": [r[0] for r in records], "tags": [r[1] for r in records]},
        geometry=[r[2] for r in records],
        crs=WGS84,
    )


def looks_like_path(text: str) -> bool:
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


class _Refused(Exception):
    """Raised inside the expat callbacks to stop on DOCTYPE/entity declarations."""


class _BadCoordinate(Exception):
    """Raised inside the expat callbacks for a node whose lon/lat is not a usable number."""

    def __init__(self, node_id: int) -> None:
        super().__init__(node_id)
        self.node_id = node_id


_MAGIC = {b"BZh": "bz2", b"\x1f\x8b": "gz"}


def sniff(path: Path) -> str:
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
    kind = sniff(path)
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
        if is_poi(tags):
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
        if is_water(tags) or (is_poi(tags) and "highway" not in tags):
            if closed:
                records.append((f"W{wid}", tags, Polygon(line.coords)))
        elif "highway" in tags:
            records.append((f"W{wid}", tags, line))
    for rid, members, tags in relations:
        if tags.get("type") != "multipolygon" or not is_water(tags):
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
    return raw_frame(records)


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
            "landuse": sorted(WATER_LANDUSE),
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
            "tourism": sorted(TOURISM_POIS),
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
    return raw_frame(records)


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
