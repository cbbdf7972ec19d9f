"""Crowd contract on both stores: places, counts (all or nothing, idempotent) and alerts."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from gis.crowd.alerts import acknowledge, evaluate_alerts
from gis.errors import ConflictError, NotFoundError, ValidationError
from gis.localtime import LOCAL_TZ as TZ

T0 = dt.datetime(2026, 10, 1, 12, 0, tzinfo=TZ)


def test_places_round_trip(store, places):
    assert store.load_places().empty
    assert store.save_places(places) == 6
    got = store.load_places().set_index("place_id")
    want = places.set_index("place_id")
    assert set(got.index) == set(want.index)
    for pid in want.index:
        assert got.loc[pid, "capacity"] == want.loc[pid, "capacity"]
        assert got.loc[pid, "counters"] == want.loc[pid, "counters"]
        assert got.loc[pid, "geometry"].symmetric_difference(want.loc[pid, "geometry"]).area < 1.0
    # saving again replaces, not appends
    store.save_places(places.iloc[:2])
    assert len(store.load_places()) == 2


def _batch(feed, hours: int = 2):
    c = feed.counts
    m = (c["at"] >= pd.Timestamp(T0)) & (c["at"] < pd.Timestamp(T0) + pd.Timedelta(hours=hours))
    return c[m].reset_index(drop=True)


def test_counts_all_or_nothing_and_idempotent(store, feed):
    batch = _batch(feed)
    assert store.add_counts(batch) == len(batch) == 10 * 120
    assert store.count_counts() == 1200
    # the same rows again: nothing new
    assert store.add_counts(batch) == 0
    # overlapping batch: only the new rows go in
    more = _batch(feed, 3)
    assert store.add_counts(more) == 600
    # a batch contradicting a stored row is refused whole, naming the counter and time
    bad = _batch(feed, 4).copy()
    i = int(bad.index[(bad["counter_id"] == "YDQ-CAM2") & (bad["at"] == pd.Timestamp(T0))][0])
    bad.loc[i, "occupancy"] += 1
    with pytest.raises(ValidationError, match="counter YDQ-CAM2 at 2026-10-01 12:00 is stored"):
        store.add_counts(bad)
    assert store.count_counts() == 1800
    got = store.query_counts(
        since=T0 + dt.timedelta(minutes=30), until=T0 + dt.timedelta(hours=1), counters=["YDQ-CAM1"]
    )
    want = more[(more["counter_id"] == "YDQ-CAM1")].set_index("at")["occupancy"]
    assert len(got) == 30
    assert list(got["occupancy"]) == list(want.loc[got["at"]])
    assert got["at"].iloc[0] == pd.Timestamp(T0 + dt.timedelta(minutes=30))
    assert str(got["at"].dt.tz) == "Asia/Shanghai"
    assert store.query_counts(since=T0 + dt.timedelta(days=5)).empty


def test_alerts_store_update_and_conflict(store, places):
    ids = list(places["place_id"])
    series = pd.DataFrame({p: [700.0] for p in ids}, index=[pd.Timestamp(T0)])
    fc = pd.DataFrame(
        [
            {"place_id": p, "at": pd.Timestamp(T0) + pd.Timedelta(minutes=5), "mean": 700.0,
             "lo": 600.0, "hi": 800.0}
            for p in ids
        ]
    )  # fmt: skip
    alerts = evaluate_alerts(places, series, fc, T0)
    assert store.add_alerts(alerts) == len(alerts)
    assert store.add_alerts(alerts) == 0
    a = store.get_alert("CW-YDQ-202610011200-orange")
    assert a == alerts[[x.alert_id for x in alerts].index(a.alert_id)]
    ack = acknowledge(a, who="leader1", at=T0 + dt.timedelta(minutes=3))
    store.update_alert(ack, expected_version=1)
    assert store.get_alert(a.alert_id).acted_by == "leader1"
    late = dataclasses.replace(ack, acted_by="leader2", version=2)
    with pytest.raises(ConflictError, match="changed by leader1 .acknowledged"):
        store.update_alert(late, expected_version=1)
    with pytest.raises(NotFoundError, match="no crowd alert"):
        store.get_alert("nope")
    ydq = store.query_alerts(place_id="YDQ")
    assert [x.level for x in ydq] == ["orange", "yellow"]  # same time: by id
    assert store.query_alerts(state="acknowledged") == [store.get_alert(a.alert_id)]
    assert store.query_alerts(since=T0 + dt.timedelta(minutes=1)) == []


def test_raise_alert_to_a_c29_case(store, places):
    from gis.crowd.watch import acknowledge_alert, escalate_alert

    ids = list(places["place_id"])
    series = pd.DataFrame({p: [0.0] for p in ids}, index=[pd.Timestamp(T0)])
    series["YDQ"] = 640.0
    fc = pd.DataFrame(
        [{"place_id": "YDQ", "at": pd.Timestamp(T0) + pd.Timedelta(minutes=5), "mean": 650.0,
          "lo": 600.0, "hi": 700.0}]
    )  # fmt: skip
    alerts = evaluate_alerts(places, series, fc, T0)
    store.add_alerts(alerts)
    orange = store.get_alert("CW-YDQ-202610011200-orange")
    acked = acknowledge_alert(store, orange.alert_id, who="chief", version=1)
    with pytest.raises(ConflictError, match="changed by chief"):
        escalate_alert(store, places, orange.alert_id, who="leader", tier="major", version=1)
    alert, case = escalate_alert(
        store, places, orange.alert_id, who="leader", tier="major", version=acked.version,
        at=T0 + dt.timedelta(minutes=4),
    )  # fmt: skip
    assert (alert.state, alert.case_id, alert.acted_by) == ("escalated", case.case_id, "leader")
    stored = store.get_case(case.case_id)
    assert (stored.category, stored.tier, stored.state, stored.owner) == (
        "C29", "major", "registered", "leader",
    )  # fmt: skip
    assert stored.flags["contingency_plan"] is True  # 重大: start the contingency plan
    # registered with the tier's handling: leadership's banner and the chiefs' approval
    from gis.coordination.alerts import case_alerts

    kinds = sorted(a["kind"] for a in case_alerts(store, case.case_id))
    assert kinds == ["approval", "major"]
    assert store.get_alert(orange.alert_id).case_id == case.case_id
    with pytest.raises(ConflictError):
        escalate_alert(store, places, orange.alert_id, who="x", tier="emergency", version=3)


def test_gdal_reads_the_crowd_places_layer(tmp_path, places, refs):
    import pyogrio

    from gis.store.geopackage import GeoPackageStore

    path = tmp_path / "p.gpkg"
    with GeoPackageStore(path, refs=refs) as store:
        store.save_places(places)
    gdf = pyogrio.read_dataframe(path, layer="crowd_places")
    assert list(gdf["name"]) == list(places["name"])
    assert gdf.crs.to_epsg() == 4326
    assert abs(gdf.to_crs(32650).area.sum() - places.area.sum()) < 5.0
