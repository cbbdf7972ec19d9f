"""Draw the crowd watch places (客流监测点位) on the bundled Shichahai streets and write them.

Each place is drawn from the project's own street drawing (``data/shichahai/streets.geojson``)
or its points of interest: a walk, bridge or street piece widened to its walkable width, or a
small gate plaza. The usable area is the drawn area times a usable share (railings, trees,
stalls and the lake edge take the rest). Edit ``places.geojson`` directly for operational use;
this script only records how the demonstration places were first drawn.

Run from the repository root::

    python data/crowd/build.py
"""

from __future__ import annotations

import json
from pathlib import Path

import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Polygon, box, shape
from shapely.ops import substring

HERE = Path(__file__).resolve().parent
STREETS = HERE.parent / "shichahai" / "streets.geojson"

_TO_M = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True).transform
_TO_LL = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True).transform


def transform(fn, geom):  # noqa: ANN001, ANN201 - a drawing script
    """Apply a coordinate transform (x, y arrays → x, y arrays) to a geometry."""
    return shapely.transform(geom, lambda x, y: fn(x, y), interleaved=False)


def _street(name: str) -> LineString:
    feats = json.loads(STREETS.read_text(encoding="utf-8"))["features"]
    lines = [shape(f["geometry"]) for f in feats if f["properties"]["name"] == name]
    if not lines:
        raise SystemExit(f"no street called {name} in {STREETS}")
    return transform(_TO_M, shapely.line_merge(shapely.union_all(lines)))


def _piece(line: LineString, start_m: float, end_m: float) -> LineString:
    return substring(line, start_m, end_m)


def _plaza(lon: float, lat: float, dx_m: float, dy_m: float) -> Polygon:
    x, y = _TO_M(lon, lat)
    return box(x - dx_m / 2, y - dy_m / 2, x + dx_m / 2, y + dy_m / 2)


def places() -> list[tuple[dict, Polygon]]:
    """The demonstration places as (properties, metric polygon)."""
    bridge = _street("银锭桥")
    yandai = _street("烟袋斜街")
    lotus = _street("荷花市场")
    north_bank = _street("前海北沿")
    qianhai_west_st = _street("前海西街")
    # 恭王府's gate faces 前海西街 (address 前海西街17); the plaza is the street piece in
    # front of it, lon 116.3793-116.3808, widened to the forecourt.
    gx0, _ = _TO_M(116.3793, 39.9341)
    gx1, _ = _TO_M(116.3808, 39.9341)
    gate_street = qianhai_west_st.intersection(box(gx0, -1e9, gx1, 1e9))
    specs: list[tuple[dict, Polygon, float]] = [
        (
            {
                "place_id": "YDQ",
                "name": "银锭桥",
                "name_en": "Yinding Bridge",
                "per_person_m2": 1.0,
                "counters": ["YDQ-CAM1", "YDQ-CAM2"],
                "drawn_from": "streets.geojson 银锭桥 widened 6 m each side (deck and approaches)",
            },
            bridge.buffer(6.0, cap_style="flat"),
            0.75,
        ),
        (
            {
                "place_id": "YDXJ",
                "name": "烟袋斜街口",
                "name_en": "Yandai Xiejie entrance",
                "per_person_m2": 1.5,
                "counters": ["YDXJ-CAM1"],
                "drawn_from": "streets.geojson 烟袋斜街, first 70 m from 地安门外大街, 4 m each side",
            },
            _piece(yandai, 0.0, 70.0).buffer(4.0, cap_style="flat"),
            0.8,
        ),
        (
            {
                "place_id": "HHSC",
                "name": "荷花市场",
                "name_en": "Lotus Market",
                "per_person_m2": 2.0,
                "counters": ["HHSC-CAM1", "HHSC-CNT1"],
                "drawn_from": "streets.geojson 荷花市场 lakeside walk, 8 m each side",
            },
            lotus.buffer(8.0, cap_style="flat"),
            0.7,
        ),
        (
            {
                "place_id": "QHBY",
                "name": "前海北沿酒吧街",
                "name_en": "Qianhai North Bank bar street",
                "per_person_m2": 1.5,
                "counters": ["QHBY-CAM1", "QHBY-CAM2"],
                "drawn_from": "streets.geojson 前海北沿 lakeside walk, 6 m each side",
            },
            north_bank.buffer(6.0, cap_style="flat"),
            0.6,
        ),
        (
            {
                "place_id": "GWF",
                "name": "恭王府门前",
                "name_en": "Prince Gong Mansion gate area",
                "per_person_m2": 2.0,
                "counters": ["GWF-CAM1"],
                "drawn_from": "streets.geojson 前海西街 at lon 116.3793-116.3808, 15 m each side",
            },
            gate_street.buffer(15.0, cap_style="flat"),
            0.7,
        ),
        (
            {
                "place_id": "BHBM",
                "name": "北海北门",
                "name_en": "Beihai Park North Gate",
                "per_person_m2": 2.0,
                "counters": ["BHBM-CAM1", "BHBM-CNT1"],
                "drawn_from": "pois.geojson 北海公园北门, a 60 m x 30 m gate plaza",
            },
            _plaza(116.385, 39.9318, 60.0, 30.0),
            0.8,
        ),
    ]
    out = []
    for props, poly, share in specs:
        props = dict(props)
        props["usable_area_m2"] = round(poly.area * share)
        props["counters"] = list(props["counters"])
        out.append((props, poly))
    return out


def _round(obj: object) -> object:
    if isinstance(obj, float):
        return round(obj, 6)
    if isinstance(obj, list | tuple):
        return [_round(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    return obj


def main() -> None:
    """Write ``places.geojson`` next to this script."""
    feats = []
    for props, poly in places():
        geom = shapely.geometry.mapping(transform(_TO_LL, poly.simplify(0.2)))
        feats.append({"type": "Feature", "properties": props, "geometry": _round(geom)})
    doc = {
        "type": "FeatureCollection",
        "name": "crowd_places",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": feats,
    }
    (HERE / "places.geojson").write_text(
        json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
