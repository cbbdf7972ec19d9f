"""Reporter intake and closing a joint action are one transaction on both stores: a failure
in a later write (injected) leaves nothing of the earlier ones."""

from __future__ import annotations

import datetime as dt

import pytest

from gis.access.users import User
from gis.coordination import evidence, joint, reporters
from gis.errors import ConflictError, StoreError
from gis.store.coordination import Exec

from .conftest import NOW, lonlat
from .photos import jpeg

DAMA = User(username="dama1", role="reporter")
CHIEF = User(username="chief1", role="area_chief", zones=("z",))
COORD = ("coord_reports", "coord_alerts", "coord_photos")


def _submit(store, **kw):
    lon, lat = lonlat(60, 10)
    return reporters.submit_report(
        store, DAMA, category="C04", lon=lon, lat=lat, sentence="门口六张桌子",
        source="xicheng_dama", photo=jpeg(lon=lon, lat=lat), now=NOW, **kw,
    )  # fmt: skip


def _nothing_stored(store) -> None:
    assert store.count_cases() == 0
    for table in COORD:
        assert store.coord_rows(table) == [], table


def test_intake_failing_at_the_reporter_link_stores_no_case(store, monkeypatch):
    """The case is written first; the reporter link (the second write) fails."""
    real = Exec.insert

    def failing(self, table, row):
        if table == "coord_reports":
            raise StoreError("injected: the disk is full")
        return real(self, table, row)

    monkeypatch.setattr(Exec, "insert", failing)
    with pytest.raises(StoreError, match="injected"):
        _submit(store)
    _nothing_stored(store)
    monkeypatch.setattr(Exec, "insert", real)
    case_id = _submit(store)  # the same report goes through once the store works
    assert store.get_case(case_id).reporter == "dama1"
    assert [r["case_id"] for r in store.coord_rows("coord_reports")] == [case_id]
    assert len(store.coord_rows("coord_photos")) == 1


def test_intake_failing_at_the_photo_stores_no_case(store, monkeypatch):
    def failing(*args, **kw):
        raise StoreError("injected: photo write failed")

    monkeypatch.setattr(evidence, "add_photo", failing)
    with pytest.raises(StoreError, match="photo write failed"):
        _submit(store)
    _nothing_stored(store)


def _two_targets(loaded):
    t = NOW - dt.timedelta(hours=5)
    for cid in ("T01", "T02"):
        case = loaded.get_case(cid)
        for i, a in enumerate(["register", "serve_notice", "recheck", "call_joint"]):
            case = loaded.apply_transition(cid, a, who="p1", expected_version=case.version,
                                           at=t + dt.timedelta(minutes=i))  # fmt: skip
    plan = joint.plan_joint_action(loaded, CHIEF, title="后海", planned_at=NOW,
                                   depts=["police"], target_cases=["T01", "T02"], at=NOW)  # fmt: skip
    before = {cid: (loaded.get_case(cid), len(loaded.audit_trail(cid))) for cid in ("T01", "T02")}
    return plan["action_id"], before


def _unchanged(loaded, action_id, before) -> None:
    for cid, (case, steps) in before.items():
        now = loaded.get_case(cid)
        assert (now.state, now.version) == (case.state, case.version), cid
        assert len(loaded.audit_trail(cid)) == steps, cid
    assert joint.get_joint_action(loaded, action_id)["state"] == "planned"


def test_closing_failing_at_the_second_case_changes_no_case(loaded, monkeypatch):
    action_id, before = _two_targets(loaded)
    real = loaded.apply_transition
    calls = []

    def failing(*args, **kw):
        calls.append(args[0])
        if len(calls) == 2:
            raise StoreError("injected: connection lost")
        return real(*args, **kw)

    monkeypatch.setattr(loaded, "apply_transition", failing)
    with pytest.raises(StoreError, match="connection lost"):
        joint.close_joint_action(loaded, action_id, CHIEF, {"T01": "handle", "T02": "handle"},
                                 at=NOW)  # fmt: skip
    assert calls == ["T01", "T02"]  # the first case's step had been written
    _unchanged(loaded, action_id, before)
    monkeypatch.setattr(loaded, "apply_transition", real)
    closed = joint.close_joint_action(loaded, action_id, CHIEF,
                                      {"T01": "handle", "T02": "handle"}, at=NOW)  # fmt: skip
    assert closed["state"] == "closed"
    assert {loaded.get_case(c).state for c in ("T01", "T02")} == {"handled"}


def test_closing_failing_at_the_action_row_changes_no_case(loaded, monkeypatch):
    action_id, before = _two_targets(loaded)
    real = Exec.update

    def failing(self, table, key, sets):
        if table == "coord_joint_actions":
            raise StoreError("injected: the action row is locked")
        return real(self, table, key, sets)

    monkeypatch.setattr(Exec, "update", failing)
    with pytest.raises(StoreError, match="locked"):
        joint.close_joint_action(loaded, action_id, CHIEF, {"T01": "handle", "T02": "handle"},
                                 at=NOW)  # fmt: skip
    monkeypatch.setattr(Exec, "update", real)
    _unchanged(loaded, action_id, before)


@pytest.mark.postgis
def test_a_case_changed_meanwhile_rolls_the_whole_closing_back(pg_url, refs, ten_reports):
    """Another user moves the second case after the checks: a conflict, and nothing moves.

    PostGIS only: a GeoPackage has one writer at a time, so there the other user waits
    for the closing to commit and no such race exists.
    """
    from gis.store.postgis import PostGISStore

    mine, theirs = PostGISStore(pg_url, refs=refs), PostGISStore(pg_url, refs=refs)
    mine.add_reports(ten_reports, received_by="desk1")
    action_id, before = _two_targets(mine)
    real = mine.apply_transition
    done = []

    def racing(case_id, *args, **kw):
        if case_id == "T02" and not done:
            done.append(1)
            other = theirs.get_case("T02")
            theirs.apply_transition("T02", "record_arrival", who="li", params={"dept": "police"},
                                    expected_version=other.version, at=NOW)  # fmt: skip
        return real(case_id, *args, **kw)

    mine.apply_transition = racing  # type: ignore[method-assign]
    with pytest.raises(ConflictError):
        joint.close_joint_action(mine, action_id, CHIEF, {"T01": "handle", "T02": "handle"},
                                 at=NOW)  # fmt: skip
    t01, steps = before["T01"]
    assert mine.get_case("T01").version == t01.version
    assert len(mine.audit_trail("T01")) == steps
    assert joint.get_joint_action(mine, action_id)["state"] == "planned"
    mine.close()
    theirs.close()
