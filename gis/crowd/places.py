"""Watched places and their capacity (LB/T 034-2014: usable area ÷ per-person space)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry import shape

from gis.errors import ValidationError
from gis.geography.crs import METRIC, WGS84

#: Alert levels, lowest first: (code, Chinese name, share of capacity). LB/T 034-2014 leaves
#: the shares to the site; these defaults are the issue's 蓝 60 %, 黄 80 %, 橙 100 %, 红 120 %.
DEFAULT_LEVELS: tuple[tuple[str, str, float], ...] = (
    ("blue", "蓝", 0.6),
    ("yellow", "黄", 0.8),
    ("orange", "橙", 1.0),
    ("red", "红", 1.2),
)
#: Level codes, lowest first; "none" is below the first level.
LEVEL_CODES: tuple[str, ...] = ("none",) + tuple(c for c, _, _ in DEFAULT_LEVELS)
LEVEL_COLOURS: Mapping[str, str] = {
    "none": "#2ca25f",
    "blue": "#3182bd",
    "yellow": "#f2c500",
    "orange": "#f07f09",
    "red": "#d7191c",
}
_COUNTER_ID = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
#: Largest places file read.
MAX_PLACES_BYTES = 20 * 1024 * 1024
PLACE_COLUMNS: tuple[str, ...] = (
    "place_id",
    "name",
    "name_en",
    "usable_area_m2",
    "per_person_m2",
    "capacity",
    "counters",
)


@dataclass(frozen=True)
class Levels:
    """Alert thresholds as shares of capacity, lowest first (configurable per deployment)."""

    shares: tuple[tuple[str, float], ...] = tuple((c, s) for c, _, s in DEFAULT_LEVELS)

    def __post_init__(self) -> None:
        codes = [c for c, _ in self.shares]
        if codes != list(LEVEL_CODES[1:]):
            raise ValidationError(
                f"alert levels {codes} are not {list(LEVEL_CODES[1:])}",
                field="levels",
                fix="give a share for each of blue, yellow, orange, red",
            )
        values = [s for _, s in self.shares]
        if any(not (0 < v < 10) for v in values) or values != sorted(values):
            raise ValidationError(
                f"alert shares {values} must be positive and rising",
                field="levels",
                fix="e.g. 0.6, 0.8, 1.0, 1.2",
            )

    @classmethod
    def from_shares(cls, blue: float, yellow: float, orange: float, red: float) -> Levels:
        """Levels from the four shares of capacity."""
        return cls((("blue", blue), ("yellow", yellow), ("orange", orange), ("red", red)))

    def thresholds(self, capacity: float) -> dict[str, float]:
        """Occupancy at which each level starts."""
        return {c: s * capacity for c, s in self.shares}

    def level(self, occupancy: float, capacity: float) -> str:
        """The level code of an occupancy (``"none"`` below blue)."""
        out = "none"
        for code, share in self.shares:
            if occupancy >= share * capacity:
                out = code
        return out


def level_rank(code: str) -> int:
    """0 for none, 1 blue … 4 red."""
    return LEVEL_CODES.index(code)


def capacity(usable_area_m2: float, per_person_m2: float) -> int:
    """Instantaneous capacity C = S / s (LB/T 034-2014), rounded down to whole people."""
    if not usable_area_m2 > 0 or not per_person_m2 > 0:
        raise ValidationError(
            f"usable area {usable_area_m2} m² and per-person space {per_person_m2} m² "
            "must both be positive",
            fix="measure the walkable area and set the per-person space (e.g. 1–3 m²)",
        )
    return math.floor(usable_area_m2 / per_person_m2)


def _num(props: Mapping[str, Any], key: str, source: str, row: object) -> float:
    v = props.get(key)
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        x = math.nan
    if not math.isfinite(x) or x <= 0:
        raise ValidationError(
            f"{v!r} is not a positive number", source=source, row=row, field=key, fix="a number > 0"
        )
    return x


def places_from_geojson(
    doc: Mapping[str, Any],
    *,
    source: str = "<places>",
    per_person_override: Mapping[str, float] | None = None,
) -> gpd.GeoDataFrame:
    """Validate a places GeoJSON document into a frame in EPSG:32650.

    Each feature needs ``place_id``, ``name``, a polygon, ``usable_area_m2`` (at most the
    polygon's area), ``per_person_m2`` and ``counters`` (a list of counter ids, each used by
    one place only). ``per_person_override`` replaces the per-person space by place id.
    """
    feats = doc.get("features") if isinstance(doc, Mapping) else None
    if not isinstance(feats, list) or not feats:
        raise ValidationError("no features", source=source, fix="a GeoJSON FeatureCollection")
    rows: list[dict[str, Any]] = []
    geoms = []
    seen_ids: set[str] = set()
    seen_counters: dict[str, str] = {}
    for i, f in enumerate(feats, start=1):
        props = dict(f.get("properties") or {})
        pid = str(props.get("place_id") or "").strip()
        if not pid or pid in seen_ids:
            raise ValidationError(
                f"place id {pid!r} is empty or repeated",
                source=source,
                row=i,
                field="place_id",
                fix="give every place its own id",
            )
        seen_ids.add(pid)
        name = str(props.get("name") or "").strip()
        if not name:
            raise ValidationError("no name", source=source, row=pid, field="name", fix="a name")
        try:
            geom = shape(f.get("geometry"))
        except Exception as exc:  # shapely raises several types for bad input
            raise ValidationError(
                f"bad geometry ({exc})", source=source, row=pid, field="geometry", fix="a polygon"
            ) from exc
        if geom.geom_type not in ("Polygon", "MultiPolygon") or not geom.is_valid:
            raise ValidationError(
                f"geometry is a {geom.geom_type} (valid: {geom.is_valid})",
                source=source,
                row=pid,
                field="geometry",
                fix="draw a valid polygon",
            )
        area = _num(props, "usable_area_m2", source, pid)
        pp = _num(props, "per_person_m2", source, pid)
        if per_person_override and pid in per_person_override:
            pp = float(per_person_override[pid])
        counters = props.get("counters")
        if isinstance(counters, str):
            counters = [c for c in counters.replace(",", ";").split(";") if c.strip()]
        if not isinstance(counters, list) or not counters:
            raise ValidationError(
                "no counters or cameras", source=source, row=pid, field="counters",
                fix='a list of counter ids, e.g. ["YDQ-CAM1"]',
            )  # fmt: skip
        for c in counters:
            c = str(c).strip()
            if not _COUNTER_ID.fullmatch(c):
                raise ValidationError(
                    f"counter id {c!r} has characters other than letters, digits, '-', '_', '.'",
                    source=source,
                    row=pid,
                    field="counters",
                    fix="ids like YDQ-CAM1",
                )
            if c in seen_counters:
                raise ValidationError(
                    f"counter {c!r} is already used by place {seen_counters[c]}",
                    source=source,
                    row=pid,
                    field="counters",
                    fix="each counter sees one place",
                )
            seen_counters[c] = pid
        rows.append(
            {
                "place_id": pid,
                "name": name,
                "name_en": str(props.get("name_en") or ""),
                "usable_area_m2": area,
                "per_person_m2": pp,
                "capacity": capacity(area, pp),
                "counters": tuple(str(c).strip() for c in counters),
            }
        )
        geoms.append(geom)
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs=WGS84).to_crs(METRIC)
    for pid, geom, area in zip(gdf["place_id"], gdf.geometry, gdf["usable_area_m2"], strict=True):
        if area > geom.area * 1.001:
            raise ValidationError(
                f"usable area {area:.0f} m² exceeds the drawn area {geom.area:.0f} m²",
                source=source,
                row=pid,
                field="usable_area_m2",
                fix="measure the usable area inside the polygon",
            )
    return gdf


def load_places(
    path: str | Path, *, per_person_override: Mapping[str, float] | None = None
) -> gpd.GeoDataFrame:
    """Read and validate a places GeoJSON file (WGS 84) into EPSG:32650."""
    from gis.io.uploads import open_upload

    p = Path(path)
    try:
        with open_upload(p, MAX_PLACES_BYTES) as fh:  # no links, devices or huge files
            doc = json.loads(fh.read().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(
            f"cannot read places ({exc})", source=str(p.name), fix="a UTF-8 GeoJSON file"
        ) from exc
    return places_from_geojson(doc, source=p.name, per_person_override=per_person_override)


def bundled_places_path(data_dir: str | Path) -> Path:
    """The places file of a data directory (``crowd/places.geojson``)."""
    return Path(data_dir) / "crowd" / "places.geojson"


def counter_map(gdf_places: gpd.GeoDataFrame) -> dict[str, str]:
    """counter id → place id."""
    return {
        c: pid
        for pid, counters in zip(gdf_places["place_id"], gdf_places["counters"], strict=True)
        for c in counters
    }


def places_geojson(
    gdf_places: gpd.GeoDataFrame, extra: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """Places as a WGS 84 GeoJSON mapping (for the map and for storing), with extra
    properties by place id (level, occupancy …)."""
    ll = gdf_places.to_crs(WGS84)
    feats = []
    for _, r in ll.iterrows():
        props: dict[str, Any] = {
            "place_id": r["place_id"],
            "name": r["name"],
            "name_en": r["name_en"],
            "usable_area_m2": float(r["usable_area_m2"]),
            "per_person_m2": float(r["per_person_m2"]),
            "capacity": int(r["capacity"]),
            "counters": list(r["counters"]),
        }
        if extra and r["place_id"] in extra:
            props.update(extra[r["place_id"]])
        feats.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": shapely.geometry.mapping(r.geometry),
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def place_ids(gdf_places: gpd.GeoDataFrame) -> Sequence[str]:
    """The place ids in file order."""
    return list(gdf_places["place_id"])
