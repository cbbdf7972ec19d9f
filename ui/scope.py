"""Turn the zone/person a request names (widget or query parameter) into an allowed one."""

from __future__ import annotations

import streamlit as st

from gis.auth import Resource, scope_zones
from gis.geography import Geography
from ui.common import Context, resource_allowed


def zones_in_scope(c: Context, geo: Geography) -> list[str]:
    """Zone ids the user may work with (all for leadership)."""
    fronts = dict(zip(geo.zones["zone_id"], geo.zones["front_id"], strict=True))
    return scope_zones(c.user, fronts)


def requested_zone(c: Context, page: str, geo: Geography) -> str | None:
    """The ``?zone=`` query parameter if present and allowed; a forbidden one is dropped."""
    zone = st.query_params.get("zone")
    if not zone:
        return None
    fronts = dict(zip(geo.zones["zone_id"], geo.zones["front_id"], strict=True))
    if resource_allowed(
        c, page, Resource(zone_id=zone, front_id=fronts.get(zone)), c.t("auth.zone", id=zone)
    ):
        return zone
    del st.query_params["zone"]
    return None


def requested_person(c: Context, page: str) -> str | None:
    """The ``?person=`` query parameter if present and allowed; a forbidden one is dropped.

    Patrol members default to themselves.
    """
    person = st.query_params.get("person")
    if person:
        if resource_allowed(c, page, Resource(person_id=person), c.t("auth.person", id=person)):
            return person
        del st.query_params["person"]
    return c.user.person_id
