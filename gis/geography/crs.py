"""Datums and reference systems: WGS 84, GCJ-02, BD-09 and each geography's metric CRS.

Every geography measures in its own metric CRS (:func:`metric_crs_for`: the UTM zone of its
centroid, or a local transverse Mercator where UTM is not defined), chosen at import and
stored with its layers. :data:`METRIC` (UTM 50N) is the bundled Shichahai data's choice and
the CRS of the case store; it is not a default for anything measured elsewhere.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gis.errors import CRSError, ValidationError

if TYPE_CHECKING:  # geopandas and pyproj load on first use: `patrol --help` needs neither
    import geopandas as gpd

#: Storage and display datum (OSM, Tianditu/CGCS2000 are compatible at map scale).
WGS84 = "EPSG:4326"
#: The bundled Shichahai geography's metric CRS (UTM zone 50N) and the case store's.
METRIC = "EPSG:32650"
#: A stored metric CRS may distort lengths at the geography's centre by at most this share.
MAX_SCALE_ERROR = 0.002

Datum = Literal["wgs84", "gcj02", "bd09"]
DATUMS: tuple[str, ...] = ("wgs84", "gcj02", "bd09")

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0


def _transform_lat(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def _gcj_offset(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Apply the published GCJ-02 obfuscation (valid inside mainland China)."""
    x, y = _as_arrays(lon, lat)
    dlon, dlat = _gcj_offset(x, y)
    return x + dlon, y + dlat


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Invert GCJ-02 by fixed-point iteration (error well under 1 cm after a few steps)."""
    gx, gy = _as_arrays(lon, lat)
    x, y = gx.copy(), gy.copy()
    for _ in range(8):
        fx, fy = wgs84_to_gcj02(x, y)
        x = x - (fx - gx)
        y = y - (fy - gy)
    return x, y


def gcj02_to_bd09(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Baidu's BD-09 from GCJ-02."""
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GCJ-02 from Baidu's BD-09 (the standard closed-form inverse)."""
    bx, by = _as_arrays(lon, lat)
    x = bx - 0.0065
    y = by - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def to_wgs84(
    lon: ArrayLike, lat: ArrayLike, datum: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert coordinates declared in ``datum`` (wgs84, gcj02, bd09) to WGS 84."""
    d = normalize_datum(datum)
    if d == "wgs84":
        return _as_arrays(lon, lat)
    if d == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    gx, gy = bd09_to_gcj02(lon, lat)
    return gcj02_to_wgs84(gx, gy)


def from_wgs84(
    lon: ArrayLike, lat: ArrayLike, datum: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert WGS 84 coordinates to ``datum`` (for round-trip checks and exports)."""
    d = normalize_datum(datum)
    if d == "wgs84":
        return _as_arrays(lon, lat)
    gx, gy = wgs84_to_gcj02(lon, lat)
    if d == "gcj02":
        return gx, gy
    return gcj02_to_bd09(gx, gy)


_ALIASES = {
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "wgs 84": "wgs84",
    "epsg:4326": "wgs84",
    "4326": "wgs84",
    "cgcs2000": "wgs84",
    "gps": "wgs84",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "gcj": "gcj02",
    "amap": "gcj02",
    "高德": "gcj02",
    "tencent": "gcj02",
    "wechat": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "baidu": "bd09",
    "百度": "bd09",
}


def normalize_datum(datum: str, *, source: str | None = None, row: object | None = None) -> str:
    """Map a user's datum name (``GCJ-02``, ``高德``, ``baidu`` …) to wgs84/gcj02/bd09."""
    key = str(datum).strip().lower()
    if key not in _ALIASES:
        raise ValidationError(
            f"unknown datum {datum!r}",
            source=source,
            row=row,
            field="datum",
            fix="use wgs84 (GPS, OSM, Tianditu), gcj02 (AMap, Tencent, WeChat) or bd09 (Baidu)",
        )
    return _ALIASES[key]


def metric_crs_for(lon: float, lat: float) -> str:
    """The metric CRS for an area centred at (lon, lat) in WGS 84 degrees.

    The UTM zone of the point (EPSG:326xx north of the equator, 327xx south), whose scale
    error stays under 0.1 % across its 6° zone; beyond UTM's latitudes (84° N, 80° S) a
    transverse Mercator centred on the point.
    """
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise CRSError(
            f"({lon}, {lat}) is not a WGS 84 longitude/latitude",
            source="<centre>",
            fix="longitude within ±180 and latitude within ±90",
        )
    if -80.0 <= lat <= 84.0:
        zone = min(60, int((lon + 180.0) // 6.0) + 1)
        return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"
    return (
        f"+proj=tmerc +lat_0={lat:.6f} +lon_0={lon:.6f} +k=1 +x_0=0 +y_0=0 "
        "+datum=WGS84 +units=m +no_defs +type=crs"
    )


def is_metric(crs: object) -> bool:
    """True for a projected CRS measured in metres."""
    if crs is None:
        return False
    import pyproj

    c = pyproj.CRS.from_user_input(crs)
    if not c.is_projected:
        return False
    return all((a.unit_name or "").lower() in {"metre", "meter", "m"} for a in c.axis_info[:2])


def require_metric(gdf: gpd.GeoDataFrame | gpd.GeoSeries, what: str) -> str:
    """Return the frame's CRS, or raise unless it is a projected CRS in metres."""
    if not is_metric(gdf.crs):
        raise CRSError(
            f"{what} must be in a metric (projected, metres) CRS, got {gdf.crs}",
            source=what,
            fix="reproject with gis.geography.crs.to_metric(frame, crs=geography.crs) at the boundary",
        )
    return str(gdf.crs.to_string())


def scale_error(crs: object, lon: float, lat: float) -> float:
    """How far (as a share) ``crs`` stretches or shrinks lengths at (lon, lat)."""
    import pyproj

    factors = pyproj.Proj(pyproj.CRS.from_user_input(crs)).get_factors(lon, lat)
    scales = (factors.meridional_scale, factors.parallel_scale)
    if not all(math.isfinite(s) for s in scales):
        return math.inf
    return max(abs(s - 1.0) for s in scales)


def to_metric(
    gdf: gpd.GeoDataFrame, *, crs: str = METRIC, source: str = "<data>"
) -> gpd.GeoDataFrame:
    """Reproject to the metric CRS ``crs``; a frame without a CRS is refused, not guessed."""
    if gdf.crs is None:
        raise CRSError(
            "has no coordinate reference system",
            source=source,
            fix="save the layer with its CRS (WGS 84, EPSG:4326, for OSM-based data)",
        )
    import pyproj

    if gdf.crs == pyproj.CRS.from_user_input(crs):
        return gdf
    return gdf.to_crs(crs)


def to_display(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject to WGS 84 for Leaflet/GeoJSON output."""
    if gdf.crs is None:
        raise CRSError("has no coordinate reference system", source="<display layer>")
    return gdf if gdf.crs.to_string() == WGS84 else gdf.to_crs(WGS84)


def require_same_crs(*frames: gpd.GeoDataFrame | gpd.GeoSeries, what: str = "layers") -> None:
    """Raise when frames are in different CRSs: mixing them silently is always a bug."""
    crss = {str(f.crs) for f in frames}
    if len(crss) > 1:
        raise CRSError(
            f"{what} are in different CRSs: {sorted(crss)}",
            fix="reproject everything to the geography's CRS first "
            "(gis.geography.crs.to_metric(frame, crs=geography.crs))",
        )
