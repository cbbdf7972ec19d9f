"""The patrol page split into several routes: the chosen route's steps are marked on the map and
listed with their ticks, the overlays follow the choice (they are prepared once per process),
and the ticks of each route persist in the store."""

from __future__ import annotations

import json

from gis.access.users import DEMO_PASSWORDS
from gis.i18n import t
from gis.settings import Settings
from gis.store import open_store
from tests.app.apptest_helpers import click_button, goto, log_in, new_app

ADD_OVERLAY = "map_div.addLayer(feature_group_feature_group_"


def _overlays(at) -> str:
    """The route overlays the page sends with its map (streamlit-folium's feature groups)."""
    (widget,) = at.get("component_instance")
    return str(json.loads(widget.proto.json_args)["feature_group"])


def _ticks(at) -> dict[str, bool]:
    return {str(b.key): b.value for b in at.checkbox if str(b.key).startswith("patrol_done_")}


def _stored_ticks(app_env) -> dict[str, list[int]]:
    with open_store(Settings(database_url=app_env["PATROL_DATABASE_URL"])) as s:
        raw = s.get_meta("patrol.done.leader")
    return json.loads(raw)["done"] if raw else {}


def test_split_routes_follow_the_chosen_route_and_keep_ticks(app_env) -> None:
    at = log_in(new_app(), "leader", DEMO_PASSWORDS["leader"])
    goto(at, "patrol")
    at.radio(key="patrol_mode").set_value("k").run()
    at.number_input(key="patrol_k").set_value(2)
    click_button(at, t("patrol.plan"))
    assert not at.exception, [e.value for e in at.exception]
    first = _overlays(at)
    assert first.count(ADD_OVERLAY) == 2  # both routes on the map
    ticks0 = _ticks(at)
    assert ticks0 and all(k.startswith("patrol_done_0_") for k in ticks0)
    assert first.count('"stop"') == len(ticks0)  # the chosen route's steps, numbered

    at.radio(key="patrol_which").set_value(1).run()
    second = _overlays(at)
    ticks1 = _ticks(at)
    assert ticks1 and all(k.startswith("patrol_done_1_") for k in ticks1)
    assert second.count(ADD_OVERLAY) == 2 and second.count('"stop"') == len(ticks1)
    assert second != first

    key = sorted(ticks1, key=lambda k: int(k.rsplit("_", 1)[1]))[0]
    at.checkbox(key=key).check().run()
    assert not at.exception, [e.value for e in at.exception]
    assert _ticks(at)[key] is True
    assert _stored_ticks(app_env) == {"1": [int(key.rsplit("_", 1)[1])]}
    assert _overlays(at) == second  # a tick does not change the map

    at.radio(key="patrol_which").set_value(0).run()
    assert _overlays(at) == first  # the same overlays as when route 1 was first chosen
    assert not any(_ticks(at).values())
    at.radio(key="patrol_which").set_value(1).run()
    assert _ticks(at)[key] is True and sum(_ticks(at).values()) == 1
