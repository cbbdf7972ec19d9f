"""The bridge to capabilities that arrive separately (districts, cases store, hotspots).

Each function returns None (or False, or does nothing) when its capability is not installed,
and the page then says so plainly instead of pretending.
"""

from __future__ import annotations

import logging
from typing import Any

import streamlit as st

from gis.geography.place import Place
from gis.services import districts as services_districts
from layers.basemap import OfflineMap
from ui.common import Context

log = logging.getLogger(__name__)

#: More cases than this are drawn as graded cells instead of markers: each marker is a folium
#: object (slow to render, ~1 kB to send), cells are one GeoJSON layer.
MAX_MARKERS = 500

#: Store meta key of the saved districts (kept by gis.services).
ASSIGNMENT_META = services_districts.ASSIGNMENT_META


@st.cache_resource(show_spinner=False)
def _store(database_url: str) -> Any:
    from gis.settings import Settings
    from gis.store import open_store

    return open_store(Settings(database_url=database_url))


@st.cache_resource(show_spinner=False)
def _scoped_store(database_url: str, subdistrict: str) -> Any:
    """The store seen from one subdistrict (``*``: the district level): a view sharing
    the process's store (PostGIS: its connection pool), one per subdistrict."""
    base = _store(database_url)
    if getattr(base, "subdistrict", subdistrict) == subdistrict or not hasattr(base, "scoped"):
        return base
    return base.scoped(subdistrict)


def user_subdistrict(c: Context) -> str:
    """The subdistrict of the logged-in user (``*`` for the district level)."""
    return str(getattr(c.user, "subdistrict", "") or "shichahai")


def store(c: Context) -> Any:
    """The case store of the configured database, seen from the logged-in user's
    subdistrict (one per process and subdistrict)."""
    return _scoped_store(c.settings.database_url, user_subdistrict(c))


#: The whole case history for analysis is re-read at most this often (seconds).
ANALYSIS_TTL_S = 300


@st.cache_resource(show_spinner=False, ttl=ANALYSIS_TTL_S, max_entries=2)
def _analysis_frame(database_url: str, count: int, subdistrict: str = "shichahai") -> Any:
    return _scoped_store(database_url, subdistrict).cases_frame()


def analysis_frame(c: Context) -> Any:
    """Every case, for hotspots and reports: cached for ANALYSIS_TTL_S seconds, and re-read
    at once when cases are added (reading 100k cases takes seconds)."""
    s = store(c)
    assert s is not None
    return _analysis_frame(c.settings.database_url, s.count_cases(), user_subdistrict(c))


def save_assignment(c: Context, assignment: dict[str, str]) -> bool:
    """Save districts (segment → person) with the data; False without a store."""
    s = store(c)
    if s is None:
        return False
    from gis.services import save_districts
    from ui.people import now

    save_districts(s, assignment, day=now().date(), by=c.user.username)
    log.info("user %r saved districts for %d segments", c.user.username, len(assignment))
    return True


def saved_assignment(c: Context) -> dict[str, str]:
    """The saved districts (segment → person), empty when none or without a store."""
    s = store(c)
    if s is None:
        return {}
    from gis.services import saved_districts

    return saved_districts(s)


def responsible_person(c: Context, place: Place) -> str | None:
    """The person answering for the place's street, when districts are saved."""
    if place.segment_id is None:
        return None
    s = store(c)
    if s is not None and hasattr(s, "people"):  # the named person in force today
        from ui.people import now

        person = s.people.responsible_for(place.segment_id, now().date())
        if person is not None:
            return f"{person.name}（{person.person_id}）"
    return saved_assignment(c).get(place.segment_id)


def open_case_count(c: Context, place: Place) -> int | None:
    """Open cases in the clicked zone (or on the clicked street), None without a store."""
    s = store(c)
    if s is None:
        return None
    if place.zone_id is not None:
        return len(s.query_cases(zone_id=place.zone_id, open_only=True))
    if place.segment_id is not None:
        frame = s.cases_frame(open_only=True)
        return int((frame["segment_id"] == place.segment_id).sum())
    return 0


def add_cases_to_map(c: Context, m: OfflineMap, frame: Any) -> None:
    """Add cases to a map: clustered markers, graded cells past a few thousand."""
    from layers import violations as layer

    if frame is None:
        return
    from layers.assets import AssetMode
    from ui.static import MARKERCLUSTER_URL_PREFIX

    s = store(c)
    names = {}
    if s is not None:
        names = {
            k: (v.name_zh if c.lang == "zh" else v.name_en) for k, v in s.refs.categories.items()
        }
    layer.violations_layer(
        frame,
        lang=c.lang,
        max_markers=MAX_MARKERS,
        assets=AssetMode.served_at(MARKERCLUSTER_URL_PREFIX),
        category_names=names,
        thumbs=case_thumbnails(s, frame) if len(frame) <= MAX_MARKERS else None,
    ).add_to(m)


def case_thumbnails(s: Any, frame: Any) -> dict[str, dict[str, str]] | None:
    """Before/after photo thumbnails of the cases on a map (None without photo evidence)."""
    if s is None or not hasattr(s, "coord_rows") or frame is None or not len(frame):
        return None
    from gis.coordination.evidence import case_thumbnails as thumbnails

    return thumbnails(s, frame["case_id"])


def add_case_layer(c: Context, m: OfflineMap) -> None:
    """Add the open cases the user may see (aggregated when many) to a map."""
    s = store(c)
    if s is None:
        return
    from gis.access.authorization import scope_mask

    if c.user.role == "liaison":  # lead, participating or called
        frame = s.cases_frame(dept=c.user.department, open_only=True)
    else:
        frame = s.cases_frame(open_only=True)
        frame = frame.loc[scope_mask(c.user, frame)]
    add_cases_to_map(c, m, frame)


class NoDataError(Exception):
    """A capability is installed but has nothing to work on (e.g. no case history)."""


def route_colour(i: int) -> str:
    """The colour of the i-th route of a team."""
    from layers.styles import colour_for

    return colour_for(3 + i) if i else "#c0392b"
