"""What every page shares: the request context, the page guard, cached data and the map widget."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit_folium import st_folium

from gis.access.authorization import ForbiddenError, Resource, authorize
from gis.access.db import AccessDB
from gis.access.login import Session
from gis.access.session_token import COOKIE_NAME, SessionTokens
from gis.access.users import StoreUserRepository, User, access_db
from gis.errors import NotFoundError
from gis.geography.layers import Geography
from gis.i18n import t
from gis.settings import Settings
from layers.assets import AssetMode
from layers.basemap import OfflineMap, new_map
from ui.static import LEAFLET_URL_PREFIX

log = logging.getLogger(__name__)

#: Session-state keys (one place, so tests and pages agree).
SESSION_KEY = "patrol_session"
LANG_KEY = "patrol_lang"
BASEMAP_KEY = "patrol_basemap"

#: The signed session token in the session state (the browser holds it in an HttpOnly
#: cookie, never in the URL), and the one-time code that turns a login into that cookie.
TOKEN_KEY = "patrol_token"
HANDOFF_KEY = "patrol_handoff"

#: Session-state key of the page objects of this run (for a button that opens another page).
PAGES_KEY = "patrol_pages"

#: st_folium returns only the last click: panning and zooming never rerun the page.
RETURNED_OBJECTS = ["last_clicked"]


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


#: How much of an error's detail a page shows (the whole message, with its fix).
ERROR_CHARS = 2000


def plain(value: object, limit: int = 200) -> str:
    """Data text (names from a file or OSM, case ids, error details) for a message rendered as
    Markdown (st.markdown, st.write, st.caption, st.info ...): shown literally, at most
    ``limit`` characters, so that no link, image or emphasis in it takes effect."""
    return _MARKDOWN.sub(r"\\\1", str(value)[:limit])


@dataclass(frozen=True)
class Context:
    """Who is asking, in which language, with which settings."""

    settings: Settings
    user: User
    lang: str

    def t(self, key: str, **fmt: object) -> str:
        """A message in the user's language."""
        return t(key, self.lang, **fmt)


def settings() -> Settings:
    """Settings from the environment (read per run: cheap, and tests change the environment)."""
    return Settings.from_env()


def current_lang(s: Settings) -> str:
    """The language chosen in the sidebar, or the configured default."""
    return str(st.session_state.get(LANG_KEY, s.language))


def context() -> Context:
    """The context of the current run; the app only calls pages for a logged-in session."""
    s = settings()
    session: Session = st.session_state[SESSION_KEY]
    return Context(settings=s, user=session.user, lang=current_lang(s))


def guard(page: str) -> Context:
    """Authorise the current user for a page, or show why not and stop the run."""
    c = context()
    try:
        authorize(c.user, page)
    except ForbiddenError:
        log.warning("user %r refused page %r", c.user.username, page)
        st.error(
            c.t("auth.forbidden_page", role=c.t(f"role.{c.user.role}"), page=c.t(f"page.{page}"))
        )
        st.stop()
    return c


def resource_allowed(c: Context, page: str, resource: Resource, what: str) -> bool:
    """True when the user may see a resource; otherwise show a message and return False."""
    try:
        authorize(c.user, page, resource)
    except ForbiddenError:
        log.warning("user %r refused %s on %r", c.user.username, what, page)
        st.error(c.t("auth.forbidden_scope", what=what))
        return False
    return True


#: How long a subdistrict's layer version is trusted before the store is asked again
#: (seconds): layers loaded while the app runs show within this time.
GEOGRAPHY_CHECK_S = 10

#: (database URL, data folder, subdistrict, layer version): which geography a page draws.
GeoKey = tuple[str, str, str, str]


@st.cache_data(ttl=GEOGRAPHY_CHECK_S, show_spinner=False)
def _geography_version(database_url: str, data_dir: str, subdistrict: str) -> str:
    """The stored layer version of a subdistrict ("" when the store has none); the bundled
    subdistrict's layers are stored from the data folder on the first ask (and again when
    the folder changed: :func:`gis.services.subdistricts.ensure_subdistrict_geography`)."""
    from gis.services.subdistricts import ensure_subdistrict_geography
    from ui.capabilities import _scoped_store

    store = _scoped_store(database_url, subdistrict)
    try:
        ensure_subdistrict_geography(store, Settings(data_dir=Path(data_dir)))
        version = store.geography_version()
    except NotImplementedError:  # a store without geography tables: the data folder's
        return "files"
    return version or ""


def geography_key(who: Context | Settings) -> GeoKey:
    """Which geography ``who`` works on: the logged-in user's subdistrict's (the district
    level: the deployment's), at the store's current layer version. Before login (a
    :class:`Settings`): the deployment's subdistrict."""
    from gis.services.subdistricts import map_subdistrict

    if isinstance(who, Context):
        s, code = who.settings, str(getattr(who.user, "subdistrict", "") or "")
    else:
        s, code = who, ""
    sub = map_subdistrict(code, s)
    data_dir = str(s.data_dir)
    return (s.database_url, data_dir, sub, _geography_version(s.database_url, data_dir, sub))


@st.cache_resource(show_spinner=False, max_entries=16)
def _geography(key: GeoKey) -> Geography:
    """One geography per (store, subdistrict, layer version), read from the store once."""
    from gis.services.subdistricts import subdistrict_geography
    from ui.capabilities import _scoped_store

    database_url, data_dir, subdistrict, _ = key
    return subdistrict_geography(
        _scoped_store(database_url, subdistrict), Settings(data_dir=Path(data_dir))
    )


def geography(who: Context | Settings) -> Geography:
    """The geography of the logged-in user's subdistrict (see :func:`geography_key`),
    loaded once per process and layer version (it is immutable). A subdistrict without
    stored layers gets a message saying how to load them, and the page stops."""
    key = geography_key(who)
    try:
        return _geography(key)
    except NotFoundError as exc:
        lang = who.lang if isinstance(who, Context) else who.language
        log.warning("no geography for subdistrict %s: %s", key[2], exc)
        st.error(
            t("app.no_geography", lang, subdistrict=plain(key[2]), detail=plain(exc, ERROR_CHARS))
        )
        st.stop()
        raise  # st.stop() raises; for type checkers


@st.cache_resource(show_spinner=False, max_entries=256)
def _prepared_geography(key: GeoKey, lang: str, highlight: tuple[str, ...]) -> Any:
    from layers.catalogue import prepare_geography

    return prepare_geography(_geography(key), lang=lang, highlight_zones=highlight or None)


def draw_base_layers(c: Context, m: OfflineMap, highlight: tuple[str, ...] = ()) -> None:
    """Every catalogue layer with labels and legend, fitted to ``highlight`` (zone ids) or
    the subdistrict. The layers' GeoJSON is built and serialised once per process for a
    geography, language and highlight (an immutable value, never a folium object); each run
    only wraps it in a new map."""
    from layers.catalogue import add_geography

    key = geography_key(c)
    geography(c)  # a subdistrict without layers says so and stops here
    add_geography(m, _prepared_geography(key, c.lang, tuple(highlight)))


@st.cache_resource(show_spinner=False)
def _access_db(database_url: str) -> AccessDB:
    return access_db(Settings(database_url=database_url))


def user_repository(s: Settings) -> StoreUserRepository:
    """The users of the configured store (one connection set per process)."""
    return StoreUserRepository(_access_db(s.database_url))


@st.cache_resource(show_spinner=False)
def _tokens(database_url: str) -> SessionTokens:
    return SessionTokens(_access_db(database_url))


def session_tokens(s: Settings) -> SessionTokens:
    """The sessions and their signing secret in the configured store (one per process)."""
    return _tokens(s.database_url)


def session_cookie() -> str | None:
    """The session token the browser sent in its HttpOnly cookie (None when absent)."""
    try:
        value = st.context.cookies.get(COOKIE_NAME)
    except Exception:  # noqa: BLE001 - no request context (AppTest, bare mode)
        return None
    return value if isinstance(value, str) and value else None


#: Tile hosts of the online basemaps (probed before a map asks the browser for tiles).
TILE_HOSTS = {"osm": "tile.openstreetmap.org", "tianditu": "t0.tianditu.gov.cn"}
#: How long a reachability answer holds (seconds), and how long a probe may take.
TILE_PROBE_TTL_S = 300
TILE_PROBE_TIMEOUT_S = 1.5


@st.cache_data(ttl=TILE_PROBE_TTL_S, show_spinner=False)
def tiles_reachable(host: str) -> bool:
    """True when the tile host answers on 443 within TILE_PROBE_TIMEOUT_S (name lookup
    included: it runs in a worker so an offline resolver cannot stall the page)."""
    import socket
    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures import TimeoutError as FutureTimeout

    def connect() -> bool:
        with socket.create_connection((host, 443), timeout=TILE_PROBE_TIMEOUT_S):
            return True

    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return bool(pool.submit(connect).result(timeout=TILE_PROBE_TIMEOUT_S))
    except (OSError, FutureTimeout):
        return False
    finally:
        pool.shutdown(wait=False)


def basemap_choice(c: Context) -> str:
    """The basemap to draw: the chosen one when it can load, else "none" with a message."""
    choice = str(st.session_state.get(BASEMAP_KEY, c.settings.basemap))
    if choice == "tianditu" and not c.settings.tianditu_key:
        st.info(c.t("app.basemap.no_key"))
        return "none"
    if choice in TILE_HOSTS and not tiles_reachable(TILE_HOSTS[choice]):
        st.warning(c.t("app.basemap.offline"))
        return "none"
    return choice


def base_map(c: Context, **kwargs: Any) -> OfflineMap:
    """An empty map with the chosen basemap and Leaflet served by this app."""
    choice = basemap_choice(c)
    m = new_map(
        basemap=choice,
        tianditu_key=c.settings.tianditu_key,
        assets=AssetMode.served_at(LEAFLET_URL_PREFIX),
        lang=c.lang,
        **kwargs,
    )
    return m


def show_map(
    m: OfflineMap,
    key: str,
    *,
    height: int = 560,
    fit: tuple[float, float, float, float] | None = None,
    overlays: Sequence[Any] = (),
) -> dict[str, Any] | None:
    """Render a map; returns the last click ({'lat', 'lng'}) or None.

    Only clicks are returned, so pan and zoom stay in the browser without a rerun. ``fit``
    (from :func:`fit_map` or :func:`bounds_wgs84`) opens the map on those bounds (the
    widget's own view setting wins over any fitBounds in the map script).

    ``overlays`` are FeatureGroups that change from run to run (a route, districts) while
    ``m`` stays the same: the browser keeps the map and swaps only these groups, instead of
    building the whole map again (the widget is keyed by the script of ``m``). They are not
    listed in the layer control.
    """
    center, zoom = (None, None)
    if fit is not None:
        center, zoom = view_for(fit, width_px=FIT_MIN_WIDTH_PX, height_px=height - 40)
    out = st_folium(
        m,
        key=key,
        height=height,
        use_container_width=True,
        returned_objects=RETURNED_OBJECTS,
        center=center,
        zoom=zoom,
        feature_group_to_add=list(overlays) or None,
    )
    if not out:
        return None
    click = out.get("last_clicked")
    return click if isinstance(click, dict) and "lat" in click else None


def people(c: Context) -> dict[str, str]:
    """person_id → name for this deployment: the staff of the user's subdistrict in the
    store first, then the staff table files, accounts and demo staff."""
    from ui.capabilities import store
    from ui.names import person_names

    names = person_names(c.settings.data_dir, user_repository(c.settings).list_users())
    try:
        stored = store(c).people.list_people()
    except (NotImplementedError, AttributeError):  # a store without people tables
        stored = []
    names.update({p.person_id: p.name for p in stored if p.name})
    return names


#: The narrowest map a view is fitted for (a phone in portrait).
FIT_MIN_WIDTH_PX = 360


def fit_map(m: OfflineMap, gdf: Any) -> tuple[float, float, float, float] | None:
    """Fit the map to a GeoDataFrame's extent (any CRS); returns (west, south, east, north)
    in WGS 84 for :func:`show_map` (None when the frame is empty)."""
    if gdf is None or len(gdf) == 0:
        return None
    from gis.geography.crs import to_display

    west, south, east, north = (float(v) for v in to_display(gdf).total_bounds)
    m.fit_bounds([[south, west], [north, east]])
    return west, south, east, north


def bounds_wgs84(gdf: Any) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) in WGS 84 of a GeoDataFrame (any CRS), for
    :func:`show_map`'s ``fit`` without adding a fitBounds to the map script."""
    if gdf is None or len(gdf) == 0:
        return None
    from gis.geography.crs import to_display

    west, south, east, north = (float(v) for v in to_display(gdf).total_bounds)
    return west, south, east, north


def view_for(
    bounds: tuple[float, float, float, float], *, width_px: int, height_px: int
) -> tuple[list[float], float]:
    """Centre and the largest Web Mercator zoom, in the maps' quarter steps, that shows
    ``bounds`` in that many pixels less a margin of 16 px on each side."""
    import math

    west, south, east, north = bounds

    def merc(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    lon_frac = max(east - west, 1e-6) / 360.0
    lat_frac = max(merc(north) - merc(south), 1e-9) / (2 * math.pi)
    width_px, height_px = max(width_px - 32, 64), max(height_px - 32, 64)
    zoom = min(math.log2(width_px / 256 / lon_frac), math.log2(height_px / 256 / lat_frac))
    quarters = math.floor(zoom * 4) / 4  # the maps snap to quarter zooms
    return [(south + north) / 2, (west + east) / 2], max(10.0, min(18.0, quarters))


def switch_to(page: str) -> None:
    """Open another page of the app (registered by app.py in this session)."""
    pages = st.session_state.get(PAGES_KEY) or {}
    if page in pages:
        st.switch_page(pages[page])
