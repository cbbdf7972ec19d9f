"""OSM features into layers: which tags make a walkable street, water or a point of interest."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import networkx as nx
import pandas as pd
import shapely

from gis.errors import ValidationError
from gis.geography.crs import WGS84

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


WATER_LANDUSE = frozenset({"reservoir", "basin"})


TOURISM_POIS = frozenset({"attraction", "museum", "viewpoint"})


#: Paths whose length lies at least this share within ``LAKESIDE_M`` of water are lakeside.
LAKESIDE_SHARE = 0.6


LAKESIDE_M = 25.0


_STREET_COLUMNS = ["street_id", "name", "name_en", "highway", "kind", "front"]


_LAKE_COLUMNS = ["lake_id", "name", "name_en"]


_POI_COLUMNS = ["poi_id", "name", "name_en", "kind", "assumed"]


def parse_classes(classes: Iterable[str]) -> frozenset[str]:
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


def is_water(tags: dict[str, str]) -> bool:
    return (
        tags.get("natural") == "water"
        or "water" in tags
        or tags.get("landuse") in WATER_LANDUSE
        or tags.get("waterway") == "riverbank"
    )


def _poi_kind(tags: dict[str, str]) -> str | None:
    if tags.get("amenity") == "police":
        return "police"
    if tags.get("tourism") in TOURISM_POIS:
        return "tourism"
    if tags.get("historic"):
        return "historic"
    return None


def is_poi(tags: dict[str, str]) -> bool:
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


def walkable_lines(raw: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
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


def street_layer(lines: gpd.GeoDataFrame, area: Any, classes: frozenset[str]) -> gpd.GeoDataFrame:
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


def lake_layer(raw: gpd.GeoDataFrame, area: Any) -> gpd.GeoDataFrame:
    rows = []
    for osm_id, tags, geom in zip(raw["osm_id"], raw["tags"], raw.geometry, strict=True):
        if not is_water(tags) or geom.geom_type not in {"Polygon", "MultiPolygon"}:
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


def mark_lakeside(
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


def poi_layer(raw: gpd.GeoDataFrame, area: Any) -> gpd.GeoDataFrame:
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
