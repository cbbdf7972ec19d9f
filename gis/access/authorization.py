"""Authorisation: which pages a role may open, and the scope that limits a user's data.

Every page of the app calls :func:`authorize` before showing anything, and every request for
a zone, front, person or department that arrives through a widget, a URL path or a query
parameter is checked the same way, so changing the URL never widens what a user may see.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from gis.access.users import User
from gis.errors import AuthError

#: The app's pages (url paths) in navigation order.
PAGES: tuple[str, ...] = (
    "overview",
    "districts",
    "patrol",
    "cases",
    "hotspots",
    "crowd",
    "users",
    "myday",
    "team",
    "staff",
    "coordination",
    "report",
)

#: Which pages each role may open. Data on a page is further limited by the user's scope.
ROLE_PAGES: Mapping[str, frozenset[str]] = {
    "leadership": frozenset({"overview", "districts", "patrol", "cases", "hotspots"})
    | {"team", "staff", "coordination", "crowd"},
    "area_chief": frozenset({"overview", "districts", "patrol", "cases", "hotspots"})
    | {"team", "coordination", "crowd"},
    "patrol": frozenset({"overview", "patrol", "cases"}) | {"myday", "coordination"},
    "liaison": frozenset({"overview", "cases"}) | {"coordination"},
    "admin": frozenset({"overview", "users"}) | {"staff"},
    # volunteers and residents (西城大妈, 网格员, 文明劝导队): their own reports only
    "reporter": frozenset({"report"}),
}


@dataclass(frozen=True)
class Resource:
    """The data a request touches; unset fields are not constrained.

    ``departments`` lists participating departments (the lead goes in ``lead_dept``).
    """

    zone_id: str | None = None
    front_id: str | None = None
    person_id: str | None = None
    lead_dept: str | None = None
    departments: tuple[str, ...] = ()
    reported_by: str | None = None


class ForbiddenError(AuthError):
    """The user's role or scope does not allow this page or data."""

    def __init__(self, user: User, what: str) -> None:
        self.user = user
        self.what = what
        super().__init__(f"user {user.username!r} ({user.role}) may not open {what}")


def allowed_pages(user: User) -> tuple[str, ...]:
    """The pages a user may open, in navigation order."""
    pages = ROLE_PAGES.get(user.role, frozenset())
    return tuple(p for p in PAGES if p in pages)


def in_scope(user: User, resource: Resource) -> bool:
    """True when the resource lies inside the user's scope (see :class:`User`)."""
    if user.sees_everything:
        return True
    if user.role == "area_chief":
        return bool(
            (resource.zone_id and resource.zone_id in user.zones)
            or (resource.front_id and resource.front_id in user.fronts)
        )
    if user.role == "patrol":
        return bool(
            (resource.person_id and resource.person_id == user.person_id)
            or (resource.reported_by and resource.reported_by == user.username)
            or (resource.zone_id and resource.zone_id in user.zones)
        )
    if user.role == "liaison":
        return bool(
            user.department
            and (resource.lead_dept == user.department or user.department in resource.departments)
        )
    return False


def authorize(user: User, page: str, resource: Resource | None = None) -> User:
    """Allow a user onto a page (and to a resource), or raise :class:`ForbiddenError`.

    Every page calls this first with its own name, and again for each zone, front, person
    or department that a request names, wherever the name came from.
    """
    if not user.active:
        raise ForbiddenError(user, f"page {page!r} (account disabled)")
    if page not in ROLE_PAGES.get(user.role, frozenset()):
        raise ForbiddenError(user, f"page {page!r}")
    if resource is not None and not in_scope(user, resource):
        raise ForbiddenError(user, _describe(resource))
    return user


def _describe(resource: Resource) -> str:
    parts = [
        f"{k} {v!r}"
        for k, v in (
            ("zone", resource.zone_id),
            ("front", resource.front_id),
            ("person", resource.person_id),
            ("department", resource.lead_dept),
        )
        if v
    ]
    return ", ".join(parts) or "this data"


#: Roles that may move cases through the workflow / import batches of reports.
ADVANCE_ROLES = frozenset({"leadership", "area_chief", "liaison"})
IMPORT_ROLES = frozenset({"leadership", "area_chief"})


def scope_mask(user: User, frame: pd.DataFrame) -> pd.Series:
    """Which rows of a case frame the user may see (the vectorised :func:`in_scope`).

    Uses the frame's zone_id, front_id, person_id, lead_dept and, when present, ``depts``
    (participating departments, ';'-separated) and ``reporter``.
    """
    index = frame.index
    if user.sees_everything:
        return pd.Series(True, index=index)
    false = pd.Series(False, index=index)

    def col(name: str) -> pd.Series:
        return frame[name].astype(object) if name in frame.columns else false.astype(object)

    if user.role == "area_chief":
        return col("zone_id").isin(user.zones) | col("front_id").isin(user.fronts)
    if user.role == "patrol":
        mask = col("person_id").eq(user.person_id) | col("zone_id").isin(user.zones)
        return mask | col("reporter").eq(user.username)
    if user.role == "liaison" and user.department:
        depts = col("depts").fillna("").astype(str).str.split(";")
        return col("lead_dept").eq(user.department) | depts.map(lambda ds: user.department in ds)
    return false


def scope_zones(user: User, zones: Mapping[str, str]) -> list[str]:
    """The zone ids (of ``zones``: zone_id → front_id) that a user may see, in input order."""
    return [z for z, f in zones.items() if in_scope(user, Resource(zone_id=z, front_id=f))]
