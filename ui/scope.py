"""Turn the zone/person a request names (widget or query parameter) into an allowed one."""

from __future__ import annotations

from typing import Any

import streamlit as st

from gis.access.authorization import Resource, scope_zones
from gis.geography.layers import Geography
from ui.common import Context, draw_base_layers, people, resource_allowed
from ui.names import zone_names


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
    name = zone_names(geo, c.lang).get(zone, zone)
    if resource_allowed(
        c, page, Resource(zone_id=zone, front_id=fronts.get(zone)), c.t("auth.zone", id=name)
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
        name = people(c).get(person, person)
        if resource_allowed(c, page, Resource(person_id=person), c.t("auth.person", id=name)):
            return person
        del st.query_params["person"]
    return c.user.person_id


def scope_area(c: Context, geo: Geography) -> Any:
    """The part of the map the user works in: their zones, else the whole subdistrict."""
    if c.user.sees_everything or c.user.role == "liaison":
        return geo.boundary
    zones = set(zones_in_scope(c, geo))
    area = geo.zones.loc[geo.zones["zone_id"].isin(zones)]
    return area if len(area) else geo.boundary


def draw_geography(c: Context, m: Any, geo: Geography) -> None:
    """Every catalogue layer with labels; the user's own zones highlighted (and the view
    fitted to them) unless the user sees everything."""
    mine: list[str] = []
    if not (c.user.sees_everything or c.user.role == "liaison"):
        mine = zones_in_scope(c, geo)
    draw_base_layers(c, m, tuple(mine))
