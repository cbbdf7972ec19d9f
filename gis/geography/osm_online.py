"""Online OSM import through osmnx: short timeouts, no DNS-over-HTTPS, and a clear no-network error."""

from __future__ import annotations

import logging
import math
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import geopandas as gpd
import shapely
from shapely.geometry import MultiPolygon, Polygon

from gis.errors import OfflineError, ValidationError
from gis.geography.crs import WGS84
from gis.geography.osm_area import polygonal, require_in_china
from gis.geography.osm_classify import TOURISM_POIS, WATER_LANDUSE
from gis.geography.osm_files import raw_frame

log = logging.getLogger(__name__)


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


#: Serialises use of osmnx's process-wide settings (see _osmnx_configured).
_OSMNX_LOCK = threading.Lock()


_ONLINE_TAGS: dict[str, bool | str | list[str]] = {
    "highway": True,
    "natural": "water",
    "water": True,
    "landuse": sorted(WATER_LANDUSE),
    "waterway": "riverbank",
    "amenity": "police",
    "tourism": sorted(TOURISM_POIS),
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


def read_online_polygon(area: Polygon | MultiPolygon, online: OnlineOptions) -> gpd.GeoDataFrame:
    probe_service(online.overpass_url, online.probe_timeout_s)
    with _osmnx_configured(online, online.download_timeout_s) as ox:
        gdf = _fetch_features(ox, area)
    return raw_frame(_osmnx_records(gdf))


def read_online_place(
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
    area = polygonal(shapely.make_valid(found.geometry.iloc[0]))
    require_in_china(area, place, allow_outside_china)
    with _osmnx_configured(online, online.download_timeout_s) as ox:
        gdf = _fetch_features(ox, area)
    name = str(found["name"].iloc[0]) if "name" in found.columns else place
    return raw_frame(_osmnx_records(gdf)), area, name or place
