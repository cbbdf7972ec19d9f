"""Counts in: encodings, every refusal names its file row, gaps noted, in/out turned to occupancy."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from gis.crowd.counts import (
    CounterState,
    counts_csv_text,
    counts_from_bytes,
    place_series,
    read_counts_csv,
)
from gis.errors import ValidationError
from gis.localtime import LOCAL_TZ as TZ

NOW = dt.datetime(2026, 10, 5, 18, 0, tzinfo=TZ)
GOOD = (
    "counter_id,at,occupancy\n"
    "YDQ-CAM1,2026-10-05 14:00,120\n"
    "YDQ-CAM1,2026-10-05 14:01,125\n"
    "YDQ-CAM2,2026-10-05 14:00,80\n"
    "YDQ-CAM2,2026-10-05 14:01,82\n"
)


def _read(text: str, places, *, encoding: str = "utf-8", bom: bool = False, **kw):
    data = text.encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    return counts_from_bytes(data, places, source="feed.csv", now=NOW, **kw)


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8", False), ("utf-8", True), ("gbk", False)])
def test_encodings_and_chinese_headers(places, encoding, bom):
    text = "设备编号,时间,人数\nYDQ-CAM1,2026-10-05 14:00,120\nYDQ-CAM1,2026-10-05 14:01,121\n"
    b = _read(text, places, encoding=encoding, bom=bom)
    assert list(b.frame["occupancy"]) == [120, 121]
    assert list(b.frame["place_id"]) == ["YDQ", "YDQ"]
    assert b.frame["at"].iloc[0] == pd.Timestamp("2026-10-05 14:00", tz=TZ)


def test_good_batch_and_place_series(places):
    b = _read(GOOD, places)
    assert len(b) == 4 and b.notes == ()
    s = place_series(b.frame, ["YDQ", "YDXJ"])
    assert list(s["YDQ"]) == [200, 207]
    assert s["YDXJ"].isna().all()


def test_in_out_counts_become_occupancy(places):
    text = (
        "counter_id,at,in,out\n"
        "YDXJ-CAM1,2026-10-05 14:00,30,0\n"
        "YDXJ-CAM1,2026-10-05 14:01,10,5\n"
        "YDXJ-CAM1,2026-10-05 14:02,0,20\n"
    )
    b = _read(text, places)
    assert list(b.frame["occupancy"]) == [30, 35, 15]
    # a follower continues the running total of the earlier batches
    state = CounterState(last_occupancy={"YDXJ-CAM1": 100})
    b2 = _read(text, places, state=state)
    assert list(b2.frame["occupancy"]) == [130, 135, 115]


@pytest.mark.parametrize(
    ("row", "line", "match"),
    [
        ("XX-CAM9,2026-10-05 14:02,1", 6, "unknown counter 'XX-CAM9'"),
        ("YDQ-CAM1,yesterday,1", 6, "time 'yesterday' cannot be read"),
        ("YDQ-CAM1,2026-10-05 14:02,-3", 6, "negative occupancy -3"),
        ("YDQ-CAM1,2026-10-05 14:02,12.5", 6, "not a whole number"),
        ("YDQ-CAM1,2026-10-05 14:02,9000", 6, "cannot happen"),
        ("YDQ-CAM1,2026-10-05 14:01,125", 6, "appears twice"),
        ("YDQ-CAM1,2026-10-05 13:30,100", 6, "clock jumped back"),
        ("YDQ-CAM1,2026-10-06 14:00,100", 6, "in the future"),
        ("YDQ-CAM1,2026-10-05 14:01:30,100", 6, "steps are 1–5 minutes"),
        ("YDQ-CAM1,2026-10-05 14:02", 6, "has 2 fields"),
    ],
)
def test_bad_rows_refuse_the_batch_naming_the_row(places, row, line, match):
    with pytest.raises(ValidationError, match=match) as err:
        _read(GOOD + row + "\n", places)
    assert f"file feed.csv, row {line}" in str(err.value)
    assert "Fix:" in str(err.value)


def test_clock_jump_against_earlier_batches(places):
    state = CounterState(last_at={"YDQ-CAM1": pd.Timestamp("2026-10-05 14:30", tz=TZ)})
    with pytest.raises(ValidationError, match=r"row 2.*already reported 2026-10-05 14:30"):
        _read(GOOD, places, state=state)


def test_gaps_are_accepted_with_a_note_naming_the_row(places):
    text = GOOD + "YDQ-CAM1,2026-10-05 14:30,90\n"
    b = _read(text, places)
    assert len(b) == 5
    assert b.notes == ("feed.csv line 6: counter YDQ-CAM1 silent for 29 min before 10-05 14:30",)


def test_missing_columns_and_bad_encoding(places):
    with pytest.raises(ValidationError, match="row 1.*lacks columns"):
        _read("a,b\n1,2\n", places)
    with pytest.raises(ValidationError, match="neither occupancy nor in/out"):
        _read("counter_id,at\nYDQ-CAM1,2026-10-05 14:00\n", places)
    with pytest.raises(ValidationError, match="neither UTF-8 nor GBK"):
        counts_from_bytes(b"counter_id,at\n\xff\xff\xff", places, source="x.csv")


def test_csv_round_trip(places, feed, tmp_path):
    part = feed.counts[feed.counts["counter_id"] == "HHSC-CNT1"].head(30)
    path = tmp_path / "c.csv"
    path.write_text(counts_csv_text(part), encoding="utf-8")
    b = read_counts_csv(path, places, now=NOW)
    assert list(b.frame["occupancy"]) == list(part["occupancy"])
    assert list(b.frame["at"]) == list(part["at"])
