"""The area of an OSM import: its boundary, the China extent check, the metric CRS and the zone grid."""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from gis.errors import ValidationError
from gis.geography.crs import WGS84, metric_crs_for
from gis.geography.osm_files import check_input_file

log = logging.getLogger(__name__)


#: A rough extent of China (WGS 84); imports elsewhere are refused unless asked for.
CHINA_LON = (73.0, 135.0)


CHINA_LAT = (18.0, 54.0)


#: Boundary polygon files larger than this are refused unread.
BOUNDARY_MAX_BYTES = 64 * 2**20


def polygonal(geom: Any) -> Polygon | MultiPolygon:
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
    return polygonal(geom), name or path.stem


def require_in_china(geom: Any, source: str, allow: bool) -> None:
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


def choose_work_crs(area: Any) -> str:
    """The metric CRS of the area: the UTM zone of its centre (see gis.geography.crs.metric_crs_for)."""
    centre = area.centroid
    crs = metric_crs_for(float(centre.x), float(centre.y))
    log.info("area measured in %s", crs)
    return crs


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


#: Clipped grid cells smaller than this share of a full cell merge into a neighbour.
SLIVER_SHARE = 0.1


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
        crs = choose_work_crs(gdf_boundary.to_crs(WGS84).geometry.union_all())
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
