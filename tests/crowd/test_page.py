"""The crowd page through AppTest: places, alerts, acknowledge, the holiday profile."""

from __future__ import annotations

import datetime as dt

import pytest

from gis.access.users import DEMO_PASSWORDS, SqliteUserRepository, seed_demo_users
from gis.crowd.watch import advance_replay, ensure_places, seed_demo
from gis.geography.layers import load_geography
from gis.i18n import t
from gis.store.geopackage import GeoPackageStore
from tests.app.apptest_helpers import goto, log_in, new_app, texts
from tests.app.conftest import TEST_ROUNDS

from .conftest import DATA


@pytest.fixture
def seeded(tmp_path, monkeypatch):
    path = tmp_path / "patrol.gpkg"
    zones = list(load_geography(DATA / "shichahai").zones["zone_id"])
    seed_demo_users(SqliteUserRepository(path), zones, rounds=TEST_ROUNDS)
    with GeoPackageStore(path) as store:
        places = ensure_places(store, DATA)
        seed_demo(store, places, day=dt.date(2026, 10, 5), weeks=2)
        advance_replay(store, places, 60)
    monkeypatch.setenv("PATROL_DATABASE_URL", str(path))
    monkeypatch.setenv("PATROL_LANG", "zh")
    monkeypatch.setenv("PATROL_BASEMAP", "none")
    monkeypatch.delenv("PATROL_DATA_DIR", raising=False)
    return path


@pytest.mark.slow
def test_leader_sees_alerts_acknowledges_and_opens_the_holiday_profile(seeded):
    at = log_in(new_app(), "leader", DEMO_PASSWORDS["leader"])
    goto(at, "crowd")
    assert not at.exception, at.exception
    assert [h.value for h in at.subheader] == [t("crowd.title")]
    page = texts(at)
    assert "节假日回放（2026-10-05" in page
    with GeoPackageStore(seeded) as store:
        alerts = store.query_alerts()
    assert alerts
    first = alerts[-1]
    ack = [b for b in at.button if b.key == f"ack_{first.alert_id}"]
    ack[0].click().run()
    assert not at.exception, at.exception
    with GeoPackageStore(seeded) as store:
        got = store.get_alert(first.alert_id)
    assert (got.state, got.acted_by) == ("acknowledged", "leader")
    at.toggle(key="crowd_holiday").set_value(True).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
