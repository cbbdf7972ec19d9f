"""The crowd page shows an area chief the alerts of the places in their zones only."""

from __future__ import annotations

from gis.access.users import User
from gis.geography.layers import load_geography
from gis.settings import Settings
from ui.common import Context
from ui.crowd import _places_in_scope

from .conftest import DATA


def test_area_chief_sees_the_places_of_their_zones(places):
    geo = load_geography(DATA / "shichahai")
    ydq = places.set_index("place_id").loc["YDQ", "geometry"].representative_point()
    zone = geo.zone_for_point(ydq)
    assert zone is not None
    leader = Context(Settings(), User("leader", "leadership"), "zh")
    chief = Context(Settings(), User("chief", "area_chief", zones=(zone,)), "zh")
    assert _places_in_scope(leader, geo, places) == set(places["place_id"])
    mine = _places_in_scope(chief, geo, places)
    assert "YDQ" in mine
    assert mine < set(places["place_id"])
    other = Context(Settings(), User("c2", "area_chief", zones=("nowhere",)), "zh")
    assert _places_in_scope(other, geo, places) == set()
