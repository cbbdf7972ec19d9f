"""The follower of a growing file: whole lines only, bad batches refused whole, bounded in time."""

from __future__ import annotations

import datetime as dt
import threading
import time
from types import SimpleNamespace

import pandas as pd

from gis.crowd.follow import CountsFollower
from gis.localtime import LOCAL_TZ as TZ

CLOCK = dt.datetime(2026, 10, 5, 20, 0, tzinfo=TZ)


def _line(counter: str, minute: int, occ: int) -> str:
    return f"{counter},2026-10-05 14:{minute:02d},{occ}\n"


def test_follow_a_file_appended_by_another_writer(places, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("counter_id,at,occupancy\n", encoding="utf-8")
    stored: list[pd.DataFrame] = []
    follower = CountsFollower(path, places, lambda b: stored.append(b.frame), clock=lambda: CLOCK)

    def writer() -> None:
        with path.open("a", encoding="utf-8") as fh:
            for m in range(6):
                fh.write(_line("YDQ-CAM1", m, 100 + m))
                fh.flush()
                time.sleep(0.05)
            fh.write("YDQ-CAM1,2026-10-05 14:0")  # half a line: waits for its end
            fh.flush()
            time.sleep(0.3)
            fh.write("6,106\n")
            fh.write(_line("YDQ-CAM1", 3, 1))  # the clock jumps back: this batch is refused
            fh.flush()
            time.sleep(0.3)
            fh.write(_line("YDQ-CAM1", 7, 107))
            fh.flush()

    t = threading.Thread(target=writer)
    t.start()
    result = follower.run(poll_seconds=0.02, max_seconds=5.0, idle_seconds=1.0)
    t.join()
    got = pd.concat(stored)
    minutes = [ts.minute for ts in got["at"]]
    # 14:06 arrives in one write with the row whose clock jumped back to 14:03: that batch is
    # refused whole (nothing half-stored), the follower goes on with 14:07
    assert minutes == [0, 1, 2, 3, 4, 5, 7]
    assert len(result.errors) == 1
    assert "clock jumped back" in result.errors[0]
    assert "export.csv" in result.errors[0]
    assert result.rows == len(got)


def test_follow_stops_when_idle_and_survives_a_rotated_file(places, tmp_path, monkeypatch):
    path = tmp_path / "export.csv"
    path.write_text("counter_id,at,occupancy\n" + _line("GWF-CAM1", 0, 10), encoding="utf-8")
    stored: list[int] = []
    follower = CountsFollower(path, places, lambda b: stored.append(len(b)), clock=lambda: CLOCK)
    assert follower.poll() == 1
    # rotated: a new, shorter file with a later row
    path.write_text("counter_id,at,occupancy\n" + _line("GWF-CAM1", 5, 12), encoding="utf-8")
    assert follower.poll() == 1
    assert any("replaced" in n for n in follower.result.notes)
    # a fake clock: each sleep advances it, so "idle for 0.2 s" is 10 polls of 0.02 s
    fake = {"t": 0.0, "sleeps": 0}

    def sleep(seconds: float) -> None:
        fake["t"] += seconds
        fake["sleeps"] += 1

    monkeypatch.setattr(
        "gis.crowd.follow.time", SimpleNamespace(monotonic=lambda: fake["t"], sleep=sleep)
    )
    follower.run(poll_seconds=0.02, idle_seconds=0.2, should_stop=lambda: fake["sleeps"] > 100)
    assert 9 <= fake["sleeps"] <= 11  # stopped by the idle limit, not by the guard
    assert stored == [1, 1]


def test_follower_refuses_a_sink_error_and_goes_on(places, tmp_path):
    from gis.errors import ValidationError

    path = tmp_path / "export.csv"
    path.write_text("counter_id,at,occupancy\n" + _line("BHBM-CAM1", 0, 10), encoding="utf-8")
    calls = []

    def sink(batch):
        calls.append(len(batch))
        if len(calls) == 1:
            raise ValidationError("store says no", row="BHBM-CAM1 14:00")

    follower = CountsFollower(path, places, sink, clock=lambda: CLOCK)
    assert follower.poll() == 0
    assert follower.result.errors == ["row BHBM-CAM1 14:00: store says no"]
    with path.open("a", encoding="utf-8") as fh:
        fh.write(_line("BHBM-CAM1", 1, 11))
    assert follower.poll() == 1


def test_links_are_not_followed(places, tmp_path):
    import pytest

    from gis.crowd.counts import read_counts_csv
    from gis.errors import ValidationError

    real = tmp_path / "real.csv"
    real.write_text("counter_id,at,occupancy\n" + _line("GWF-CAM1", 0, 10), encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    with pytest.raises(ValidationError, match="symbolic link"):
        read_counts_csv(link, places)
    with pytest.raises(ValidationError, match="not a regular file"):
        CountsFollower(link, places, lambda b: None).poll()
    with pytest.raises(ValidationError, match="MB limit"):
        read_counts_csv(real, places, max_bytes=10)
