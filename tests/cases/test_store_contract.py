"""One contract, two backends: every test runs on GeoPackage and on PostGIS."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from gis.cases.intake import case_from_report
from gis.cases.snapping import locate_reports
from gis.cases.workflow import CASE_FRAME_COLUMNS, STATES
from gis.errors import ConflictError, NotFoundError, StoreError, TransitionError
from gis.localtime import LOCAL_TZ as TZ

from .conftest import NOW, ZONE_E, ZONE_W

ROOT = Path(__file__).resolve().parents[2]


def _advance(store, case_id, steps, start):
    case = store.get_case(case_id)
    t = start
    for action, params in steps:
        t = t + dt.timedelta(minutes=20)
        # closing as rectified needs an after photo or a note saying why there is none
        note = "rectified, seen on the recheck" if action == "close_rectified" else ""
        case = store.apply_transition(
            case_id,
            action,
            who="alice",
            expected_version=case.version,
            at=t,
            params=params,
            note=note,
        )
    return case


def test_add_is_idempotent_by_id_and_content(store, ten_reports):
    first = store.add_reports(ten_reports, received_by="desk1")
    assert first.added == tuple(f"T{i:02d}" for i in range(1, 11))
    assert first.skipped == ()
    again = store.add_reports(ten_reports, received_by="desk2")
    assert again.added == ()
    assert len(again.skipped) == 10
    # the same content under a new id is still the same report
    renamed = dataclasses.replace(ten_reports[0], report_id="NEW")
    assert store.add_reports([renamed], received_by="desk1").added == ()
    assert store.count_cases() == 10
    # first receiver owns the case (首问负责), not the second importer
    assert store.get_case("T01").owner == "desk1"


def test_a_content_duplicate_answers_with_the_stored_id(store, ten_reports, refs):
    """Regression: the same report sent again under another id named the submitted id,
    which no stored case has, instead of the case that holds it."""
    from gis.services import take_in_report

    raw = {
        "report_id": "FIRST",
        "category": "C07",
        "lon": ten_reports[1].lon,
        "lat": ten_reports[1].lat,
        "reported_at": "2026-05-01 23:40",
        "reporter": "r2",
        "description": "噪声 loud music",
    }
    got = take_in_report(None, store, raw, refs=refs, now=NOW, received_by="desk1")
    assert (got.added, got.case_id) == (True, "FIRST")
    again = take_in_report(
        None, store, {**raw, "report_id": "SECOND"}, refs=refs, now=NOW, received_by="desk2"
    )
    assert (again.added, again.case_id) == (False, "FIRST")
    assert store.get_case(again.case_id).owner == "desk1"
    same = take_in_report(None, store, raw, refs=refs, now=NOW, received_by="desk2")
    assert (same.added, same.case_id) == (False, "FIRST")
    assert store.count_cases() == 1
    # the store says which stored case each skipped one matched, in a batch too
    renamed = [dataclasses.replace(r, report_id=f"X{i}") for i, r in enumerate(ten_reports[:3])]
    store.add_reports(ten_reports[:2], received_by="desk1")
    result = store.add_reports([*renamed, ten_reports[0]], received_by="desk1")
    assert result.added == ("X2",)
    assert dict(result.stored_as) == {"X0": "T01", "X1": "T02", "T01": "T01"}


def test_batch_is_all_or_nothing(store, ten_reports, refs):
    good = [case_from_report(r, refs, received_by="desk") for r in ten_reports]
    bad = dataclasses.replace(good[5], state="lost")  # violates the schema
    with pytest.raises(StoreError, match="nothing stored|PostGIS error"):
        store.add_cases([*good[:5], bad, *good[6:]])
    assert store.count_cases() == 0
    assert store.add_cases(good).added[0] == "T01"
    assert store.count_cases() == 10


def test_get_unknown_case(store):
    with pytest.raises(NotFoundError, match="'nope' not found"):
        store.get_case("nope")
    with pytest.raises(NotFoundError, match="'nope' not found"):
        store.audit_trail("nope")


def test_rectified_path_and_audit_trail(store, ten_reports):
    store.add_reports(ten_reports, received_by="desk1")
    t0 = NOW - dt.timedelta(days=3)
    case = _advance(
        store,
        "T02",
        [
            ("register", {}),
            ("serve_notice", {"hours": 24}),
            ("recheck", {}),
            ("close_rectified", {}),
        ],
        t0,
    )
    assert case.state == "closed"
    assert case.version == 5
    assert case.closed_at == t0 + dt.timedelta(minutes=80)
    assert case.deadline_at == t0 + dt.timedelta(minutes=40, hours=24)
    trail = store.audit_trail("T02")
    assert [(e.from_state, e.to_state) for e in trail] == [
        (None, "reported"),
        ("reported", "registered"),
        ("registered", "notice_served"),
        ("notice_served", "rechecking"),
        ("rechecking", "closed"),
    ]
    assert [e.who for e in trail] == ["desk1", "alice", "alice", "alice", "alice"]
    assert (
        trail[2].params["deadline"]
        == (t0 + dt.timedelta(minutes=40, hours=24)).astimezone(dt.UTC).isoformat()
    )


def test_joint_enforcement_path_records_arrivals(store, ten_reports):
    store.add_reports(ten_reports, received_by="desk1")
    t0 = NOW - dt.timedelta(days=5)
    case = _advance(
        store,
        "T01",
        [
            ("register", {}),
            ("serve_notice", {"hours": 2}),
            ("recheck", {}),
            ("call_joint", {"depts": ["chengguan", "heritage", "police"]}),
        ],
        t0,
    )
    called = t0 + dt.timedelta(minutes=80)
    for dept, minutes in (("chengguan", 12), ("police", 45)):
        case = store.apply_transition(
            "T01",
            "record_arrival",
            who="bob",
            expected_version=case.version,
            at=called + dt.timedelta(minutes=minutes),
            params={"dept": dept},
        )
    case = store.apply_transition(
        "T01", "handle", who="bob", expected_version=case.version, at=called + dt.timedelta(hours=2)
    )
    case = store.apply_transition(
        "T01",
        "verify_close",
        who="carol",
        expected_version=case.version,
        at=called + dt.timedelta(hours=3),
    )
    assert case.state == "closed"
    trail = store.audit_trail("T01")
    arrivals = [e.params for e in trail if e.action == "record_arrival"]
    assert [(a["dept"], a["minutes"], a["within_limit"]) for a in arrivals] == [
        ("chengguan", 12.0, True),
        ("police", 45.0, False),
    ]
    assert [e for e in trail if e.action == "handle"][0].params["not_arrived"] == ["heritage"]
    # a department called to a case finds it
    assert [c.case_id for c in store.query_cases(dept="heritage")] == ["T01"]


def test_illegal_transition_changes_nothing(store, ten_reports):
    store.add_reports(ten_reports, received_by="desk1")
    with pytest.raises(TransitionError, match="'reported'; 'close_rectified' is not allowed"):
        store.apply_transition("T03", "close_rectified", who="alice", expected_version=1, at=NOW)
    case = store.get_case("T03")
    assert (case.state, case.version) == ("reported", 1)
    assert len(store.audit_trail("T03")) == 1


def test_lost_update_is_refused(store_factory, ten_reports):
    alice_store = store_factory()
    bob_store = store_factory()
    alice_store.add_reports(ten_reports, received_by="desk1")
    seen_by_alice = alice_store.get_case("T04")
    seen_by_bob = bob_store.get_case("T04")
    t = NOW - dt.timedelta(hours=1)
    alice_store.apply_transition(
        "T04", "register", who="alice", expected_version=seen_by_alice.version, at=t
    )
    with pytest.raises(ConflictError, match=r"changed by alice at 2026-06-01 11:00:00; reload"):
        bob_store.apply_transition(
            "T04",
            "reject",
            who="bob",
            expected_version=seen_by_bob.version,
            at=NOW,
            note="not ours",
        )
    assert bob_store.get_case("T04").state == "registered"


def test_concurrent_threads_one_winner(store_factory, ten_reports):
    store = store_factory()
    store.add_reports(ten_reports, received_by="desk1")
    stores = [store_factory() for _ in range(4)]
    results: list[str] = []
    barrier = threading.Barrier(4)

    def worker(i: int) -> None:
        barrier.wait()
        try:
            stores[i].apply_transition("T05", "register", who=f"u{i}", expected_version=1, at=NOW)
            results.append("ok")
        except ConflictError:
            results.append("conflict")
        except StoreError:
            results.append("locked")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results.count("ok") == 1
    assert store.get_case("T05").version == 2
    assert len(store.audit_trail("T05")) == 2


def test_queries_filter_in_the_store(store, ten_reports, segments):
    located = locate_reports(ten_reports, segments)
    store.add_reports(located, received_by="desk1")
    west = {c.case_id for c in store.query_cases(zone_id=ZONE_W)}
    east = {c.case_id for c in store.query_cases(zone_id=ZONE_E)}
    assert west | east == {f"T{i:02d}" for i in range(1, 11)}
    assert west == {r.report_id for r in located if r.zone_id == ZONE_W}
    assert [c.case_id for c in store.query_cases(category="C07")] == ["T02", "T07"]
    since = dt.datetime(2026, 5, 20, tzinfo=TZ)
    until = dt.datetime(2026, 5, 29, tzinfo=TZ)
    assert [c.case_id for c in store.query_cases(since=since, until=until)] == ["T07", "T08", "T09"]
    assert [c.case_id for c in store.query_cases(dept="environment")] == ["T02", "T07"]
    assert [c.case_id for c in store.query_cases(dept="culture_tourism")] == [
        "T02",
        "T04",
        "T07",
        "T08",
    ]
    store.apply_transition("T07", "reject", who="a", expected_version=1, at=NOW, note="dup call")
    assert "T07" not in {c.case_id for c in store.query_cases(open_only=True)}
    assert [c.case_id for c in store.query_cases(state="rejected")] == ["T07"]
    assert len(store.query_cases(limit=3)) == 3


def test_cases_frame_contract(store, ten_reports, segments):
    store.add_reports(locate_reports(ten_reports, segments), received_by="desk1")
    frame = store.cases_frame()
    assert list(frame.columns) == [*CASE_FRAME_COLUMNS, "geometry"]
    assert frame.crs.to_string() == "EPSG:32650"
    assert len(frame) == 10
    assert str(frame["reported_at"].dt.tz) == "Asia/Shanghai"
    assert frame["closed_at"].isna().all()
    assert set(frame["state"]) <= set(STATES)
    row = frame.set_index("case_id").loc["T03"]
    assert (row["category"], row["lead_dept"], row["tier"]) == ("C01", "chengguan", "general")
    assert row["reported_at"] == pd.Timestamp("2026-04-20 09:15", tz="Asia/Shanghai")
    # the stored point is the reported point (to the centimetre)
    assert row.geometry.distance(row.geometry.__class__(446750.0, 4420600.0)) < 0.01
    assert row["segment_id"] in set(segments["segment_id"])
    assert store.cases_frame(zone_id="none-such").empty


def test_text_is_stored_verbatim(store, refs, now):
    from gis.cases.batch import read_batch

    result = read_batch(Path(__file__).parent / "corpus" / "injection.csv", refs=refs, now=now)
    assert not result.rejects
    store.add_reports(result.reports, received_by="desk1")
    assert store.get_case("I1").reporter == "Robert'); DROP TABLE cases;--"
    assert store.get_case("I1").description == "'; DELETE FROM case_audit WHERE '1'='1"
    assert store.get_case("I2").description.startswith("<script>alert('x')</script>")
    assert store.get_case("I3").description == 'tab\there \\N backslash \\\\ and "quotes"'
    assert store.count_cases() == 3
    assert len(store.audit_trail("I1")) == 1


def test_named_values(store):
    assert store.get_meta("missing", "d") == "d"
    store.set_meta("roster_version", "3")
    store.set_meta("roster_version", "4")
    assert store.get_meta("roster_version") == "4"


_KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time, pathlib
    from gis.store import geopackage, postgis
    from gis.cases.categories import load_references
    from gis.cases.intake import case_from_report
    import pickle
    backend, target, flag, payload = sys.argv[1:5]
    reports = pickle.loads(pathlib.Path(payload).read_bytes())
    refs = load_references()
    def hang(*a, **k):
        pathlib.Path(flag).write_text("inside")
        time.sleep(120)
    if backend == "geopackage":
        store = geopackage.GeoPackageStore(target)
        store._insert_audit = hang
    else:
        store = postgis.PostGISStore(target)
        store._copy_audit = hang
    store.add_reports(reports, received_by="killed")
    """
)


def test_killed_import_leaves_store_consistent(store_factory, ten_reports, tmp_path):
    import pickle

    store = store_factory()
    store.add_reports(ten_reports[:3], received_by="desk1")
    payload = tmp_path / "payload.pkl"
    payload.write_bytes(pickle.dumps(ten_reports[3:]))
    flag = tmp_path / "flag"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _KILL_SCRIPT,
            store_factory.backend,
            store_factory.target,
            str(flag),
            str(payload),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert proc.poll() is None, "the importer died before reaching the audit insert"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(0.2)
    fresh = store_factory()
    assert fresh.count_cases() == 3
    assert fresh.add_reports(ten_reports[3:], received_by="desk1").added[0] == "T04"
    assert fresh.count_cases() == 10
    assert len(fresh.audit_trail("T04")) == 1


def test_creation_entry_matches_the_library(store, ten_reports, refs):
    from gis.cases.workflow import creation_entry

    at = NOW - dt.timedelta(days=1)
    store.add_reports(ten_reports[:2], received_by="desk9", at=at)
    case = store.get_case("T01")
    (stored,) = store.audit_trail("T01")
    expected = creation_entry(case)
    assert (stored.action, stored.from_state, stored.to_state, stored.who, stored.at) == (
        expected.action,
        None,
        "reported",
        "desk9",
        at,
    )
    assert dict(stored.params) == {"source": "patrol", "reporter": "r1"}
