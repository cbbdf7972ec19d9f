"""One contract, two backends: staff, dated assignments, roster, sign-ins and tracks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3

import pytest

from gis.errors import ConflictError, NotFoundError, StoreError, ValidationError
from gis.people.assignments import Assignment
from gis.people.roster import RosterEntry
from gis.people.signin import SignIn
from gis.people.tracks import Track

from .conftest import MAY3, at


def test_staff_round_trip_and_update(store, four_people):
    assert store.people.save_people(four_people, by="admin") == (4, 0)
    assert store.people.list_people() == four_people
    moved = dataclasses.replace(four_people[1], team="二组", phone="010-0000-0099")
    assert store.people.save_people([moved], by="leader") == (0, 1)
    assert store.people.get_person("P02") == moved
    # P04 left at the end of May
    june = [p.person_id for p in store.people.list_people(active_on=dt.date(2026, 6, 1))]
    assert june == ["P01", "P02", "P03"]
    with pytest.raises(NotFoundError, match="'P99' is not in the staff table"):
        store.people.get_person("P99")


def test_bad_person_stores_nothing(store, four_people):
    bad = dataclasses.replace(four_people[2], presence="sometimes")
    with pytest.raises(StoreError):
        store.people.save_people([four_people[0], bad])
    assert store.people.list_people() == []


def test_who_answered_for_a_street_on_a_day(store, four_people):
    """ "Who was responsible for this street on 3 May?" is one query over dated rows."""
    store.people.save_people(four_people)
    store.people.assign(
        [
            Assignment("S1", "P01", dt.date(2026, 4, 1), district_id="D1"),
            Assignment("S2", "P01", dt.date(2026, 4, 1), district_id="D1"),
        ]
    )
    store.people.assign([Assignment("S1", "P02", dt.date(2026, 5, 4), district_id="D2")])
    assert store.people.responsible_for("S1", MAY3).person_id == "P01"
    assert store.people.responsible_for("S1", dt.date(2026, 5, 4)).person_id == "P02"
    assert store.people.responsible_for("S1", dt.date(2026, 3, 31)) is None
    history = store.people.assignment_history("S1")
    assert [(a.person_id, a.valid_from, a.valid_to) for a in history] == [
        ("P01", dt.date(2026, 4, 1), dt.date(2026, 5, 4)),
        ("P02", dt.date(2026, 5, 4), None),
    ]
    assert [a.segment_id for a in store.people.assignments_on(MAY3, person_id="P01")] == [
        "S1",
        "S2",
    ]
    assert [a.segment_id for a in store.people.assignments_on(dt.date(2026, 5, 4))] == ["S1", "S2"]
    # same-day reassignment replaces; rewriting the past is refused and stores nothing
    store.people.assign([Assignment("S1", "P03", dt.date(2026, 5, 4))])
    assert store.people.responsible_for("S1", dt.date(2026, 5, 4)).person_id == "P03"
    with pytest.raises(ValidationError, match="S1 already has an assignment from 2026-05-04"):
        store.people.assign(
            [Assignment("S2", "P02", dt.date(2026, 5, 1)), Assignment("S1", "P02", MAY3)]
        )
    assert store.people.responsible_for("S2", dt.date(2026, 5, 2)).person_id == "P01"


def test_roster_replace_edit_and_range(store, four_people):
    store.people.save_people(four_people)
    d1, d2 = dt.date(2026, 5, 1), dt.date(2026, 5, 2)
    entries = [
        RosterEntry(d1, "P01", "morning"),
        RosterEntry(d1, "P02", "evening"),
        RosterEntry(d2, "P01", "rest"),
    ]
    assert store.people.save_roster(entries, start=d1, end=d2) == 3
    assert store.people.roster(d1, d2) == entries
    store.people.set_duty(RosterEntry(d2, "P01", "leave", note="病假", edited_by="chief"))
    assert store.people.roster(d2, d2, person_id="P01")[0].note == "病假"
    store.people.save_roster([RosterEntry(d1, "P03", "midday")], start=d1, end=d1)
    assert [(e.person_id, e.duty) for e in store.people.roster(d1, d2)] == [
        ("P03", "midday"),
        ("P01", "leave"),
    ]
    with pytest.raises(ValidationError, match="unknown duty 'nap'"):
        store.people.set_duty(RosterEntry(d1, "P01", "nap"))
    with pytest.raises(ValidationError, match="outside 2026-05-01"):
        store.people.save_roster([RosterEntry(d2, "P01", "rest")], start=d1, end=d1)


def test_signin_once_per_slot(store, four_people):
    store.people.save_people(four_people)
    s = SignIn(
        "P01", MAY3, "morning", at(MAY3, 9, 4), 116.39, 39.94, 120.0, late=True, recorded_by="P01"
    )
    store.people.add_signin(s)
    with pytest.raises(
        ConflictError,
        match="P01 already signed in for the morning of "
        "2026-05-03 at 09:04 .*nothing was stored twice",
    ):
        store.people.add_signin(dataclasses.replace(s, at=at(MAY3, 9, 30), recorded_by="chief"))
    store.people.add_signin(SignIn("P02", MAY3, "evening", at(MAY3, 18, 55), recorded_by="chief"))
    got = store.people.signins(MAY3, MAY3)
    assert [(g.person_id, g.slot, g.late, g.at) for g in got] == [
        ("P02", "evening", False, at(MAY3, 18, 55)),
        ("P01", "morning", True, at(MAY3, 9, 4)),
    ]
    assert store.people.signins(MAY3, MAY3, person_id="P01") == [s]


def _track(pid: str = "P01") -> Track:
    times = tuple(at(MAY3, 12, m) for m in range(0, 10))
    return Track(
        track_id=f"{pid}-x",
        person_id=pid,
        day=MAY3,
        times=times,
        lon=tuple(116.39 + 0.0001 * i for i in range(10)),
        lat=tuple(39.94 for _ in range(10)),
        name="午巡查",
        uploaded_by=pid,
        notes=("point 4 dropped: 2 km jump",),
    )


def test_tracks_round_trip_once(store, four_people):
    store.people.save_people(four_people)
    t = _track()
    assert store.people.add_track(t) is True
    assert store.people.add_track(t) is False
    got = store.people.tracks(start=MAY3, end=MAY3, person_id="P01")
    assert len(got) == 1
    g = got[0]
    assert g.times == t.times and g.notes == t.notes
    assert g.lon == pytest.approx(t.lon) and g.lat == pytest.approx(t.lat)
    assert store.people.tracks(person_id="P02") == []
    # a track of someone not on the staff is refused by the schema
    with pytest.raises(StoreError):
        store.people.add_track(_track("P99"))


def test_geopackage_registers_people_tables(tmp_path, refs):
    from gis.store.geopackage import GeoPackageStore

    s = GeoPackageStore(tmp_path / "p.gpkg", refs=refs)
    assert int(s.get_meta("schema_version") or 0) >= 3
    s.close()
    con = sqlite3.connect(tmp_path / "p.gpkg")
    kinds = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
    con.close()
    assert kinds["tracks"] == "features" and kinds["staff"] == "attributes"


def test_gdal_reads_stored_tracks(tmp_path, refs, four_people):
    import pyogrio

    from gis.store.geopackage import GeoPackageStore

    path = tmp_path / "t.gpkg"
    with GeoPackageStore(path, refs=refs) as s:
        s.people.save_people(four_people)
        s.people.add_track(_track())
    gdf = pyogrio.read_dataframe(path, layer="tracks")
    assert list(gdf["person_id"]) == ["P01"]
    assert gdf.geometry.iloc[0].coords[0] == pytest.approx((116.39, 39.94))
    assert len(gdf.geometry.iloc[0].coords) == 10


def test_a_persons_usual_shift_is_kept(store, four_people):
    """Version 11: the staff table file's shift is stored (empty when unknown)."""
    from gis.people.staff import people_from_table

    day = dataclasses.replace(four_people[0], shift="day")
    store.people.save_people([day, *four_people[1:]])
    assert [p.shift for p in store.people.list_people()] == ["day", "", "", ""]
    store.people.save_people([dataclasses.replace(day, shift="rotating")])
    assert store.people.get_person("P01").shift == "rotating"
    import pandas as pd

    table = pd.DataFrame([{**day.as_record(), "shift": "night"}])
    with pytest.raises(ValidationError, match="unknown shift 'night'"):
        people_from_table(table, source="staff.csv")
