"""Counts in: CSV exports of counters/cameras (UTF-8, BOM or GBK), validated as one batch.

A batch is accepted whole or refused whole: a bad row (unknown counter, unreadable time,
negative or physically impossible count, duplicate, clock jump back) raises one
:class:`~gis.errors.ValidationError` naming the file and row, and nothing is stored. Gaps
(a counter silent for longer than its step) are accepted and reported as notes naming the row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.crowd.places import counter_map
from gis.errors import ValidationError
from gis.io.intake_files import decode_text
from gis.localtime import LOCAL_TZ as TZ

log = logging.getLogger(__name__)

#: Densest standing crowd people can physically form (persons per m²); above it a count is
#: an instrument error, not a crowd.
MAX_DENSITY_PER_M2 = 6.0
#: Shortest and longest usual reporting steps.
MIN_STEP = dt.timedelta(minutes=1)
GAP_NOTE = dt.timedelta(minutes=5)
#: A time this far past the wall clock is a clock error of the counter.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
COUNT_COLUMNS: tuple[str, ...] = ("counter_id", "place_id", "at", "occupancy")
#: Largest counts file taken in one go (a year of 1-minute counts of 10 counters ≈ 250 MB).
MAX_COUNTS_BYTES = 512 * 1024 * 1024

_ALIASES = {
    "counter_id": "counter_id",
    "counter": "counter_id",
    "camera": "counter_id",
    "camera_id": "counter_id",
    "设备编号": "counter_id",
    "设备": "counter_id",
    "摄像头": "counter_id",
    "at": "at",
    "time": "at",
    "timestamp": "at",
    "时间": "at",
    "统计时间": "at",
    "occupancy": "occupancy",
    "count": "occupancy",
    "人数": "occupancy",
    "在场人数": "occupancy",
    "in": "in",
    "进": "in",
    "进入": "in",
    "out": "out",
    "出": "out",
    "离开": "out",
}


@dataclass(frozen=True)
class CountBatch:
    """Validated counts (``COUNT_COLUMNS``, ``at`` tz-aware) and notes on gaps."""

    frame: pd.DataFrame
    notes: tuple[str, ...] = ()
    source: str = ""

    def __len__(self) -> int:
        return len(self.frame)


@dataclass
class CounterState:
    """What a follower remembers between batches: last time and occupancy per counter."""

    last_at: dict[str, pd.Timestamp] = field(default_factory=dict)
    last_occupancy: dict[str, int] = field(default_factory=dict)

    def update(self, frame: pd.DataFrame) -> None:
        """Remember the newest row of each counter in an accepted batch."""
        if frame.empty:
            return
        last = frame.sort_values("at").groupby("counter_id").tail(1)
        for c, t, o in zip(last["counter_id"], last["at"], last["occupancy"], strict=True):
            self.last_at[str(c)] = t
            self.last_occupancy[str(c)] = int(o)


def empty_counts() -> pd.DataFrame:
    """An empty counts frame with the right dtypes."""
    return pd.DataFrame(
        {
            "counter_id": pd.Series(dtype=object),
            "place_id": pd.Series(dtype=object),
            "at": pd.Series(dtype=f"datetime64[ns, {TZ.key}]"),
            "occupancy": pd.Series(dtype="int64"),
        }
    )


def _rows_from_text(text: str, source: str, first_line: int) -> tuple[list[str], list[list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError("is empty", source=source, fix="add a header row") from None
    rows = []
    for fields in reader:
        rows.append(fields)
    return header, rows


def _bad(problem: str, source: str, row: object, fld: str, fix: str) -> ValidationError:
    return ValidationError(problem, source=source, row=row, field=fld, fix=fix)


def _refuse_first(
    mask: Any,
    lines: np.ndarray,
    problem: Callable[[int], str],
    source: str,
    fld: str,
    fix: str,
) -> None:
    """Raise for the first row where ``mask`` holds (``problem(i)`` says what is wrong)."""
    m = np.asarray(mask, dtype=bool)
    if m.any():
        i = int(np.flatnonzero(m)[0])
        raise _bad(problem(i), source, int(lines[i]), fld, fix)


def validate_counts(
    header: list[str],
    rows: list[list[str]],
    gdf_places: gpd.GeoDataFrame,
    *,
    source: str,
    first_line: int = 2,
    state: CounterState | None = None,
    now: dt.datetime | None = None,
) -> CountBatch:
    """Check raw CSV rows (after the header) and turn them into a count batch.

    ``first_line`` is the file line number of ``rows[0]`` (2 right after the header), so
    messages name file lines. ``state`` carries the last time/occupancy per counter from
    earlier batches of the same feed (clock jumps and in/out running totals continue).
    """
    names = [_ALIASES.get(h.strip().lstrip("\ufeff").lower(), h.strip()) for h in header]
    if "counter_id" not in names or "at" not in names:
        raise _bad(
            f"lacks columns counter_id/at (has {header})",
            source,
            1,
            "header",
            "name the columns counter_id, at, occupancy (or 设备编号, 时间, 人数); or in, out",
        )
    has_occ = "occupancy" in names
    if not has_occ and not ("in" in names and "out" in names):
        raise _bad(
            "has neither occupancy nor in/out columns",
            source,
            1,
            "header",
            "add an occupancy (人数) column, or in (进) and out (出)",
        )
    state = state or CounterState()
    lines = np.arange(first_line, first_line + len(rows))
    keep = [i for i, r in enumerate(rows) if any(f.strip() for f in r)]
    for i in keep:
        if len(rows[i]) != len(names):
            raise _bad(
                f"has {len(rows[i])} fields, the header has {len(names)}",
                source,
                int(lines[i]),
                "row",
                "one value per column; quote values containing commas",
            )
    if not keep:
        return CountBatch(empty_counts(), (), source)
    df = pd.DataFrame([rows[i] for i in keep], columns=names)
    line = lines[keep]
    cmap = counter_map(gdf_places)
    df["counter_id"] = df["counter_id"].str.strip()
    unknown = ~df["counter_id"].isin(list(cmap))
    _refuse_first(
        unknown,
        line,
        lambda i: f"unknown counter {df['counter_id'].iloc[i]!r}",
        source,
        "counter_id",
        f"use a counter listed in the places file ({', '.join(sorted(cmap))})",
    )
    at = pd.to_datetime(df["at"].str.strip(), errors="coerce", format="mixed")
    _refuse_first(
        at.isna().to_numpy(),
        line,
        lambda i: f"time {df['at'].iloc[i]!r} cannot be read",
        source,
        "at",
        "write times as YYYY-MM-DD HH:MM (Beijing time) or ISO 8601 with offset",
    )
    if at.dt.tz is None:
        at = at.dt.tz_localize(TZ)
    else:
        at = at.dt.tz_convert(TZ)
    df["at"] = at

    def ints(col: str) -> np.ndarray:
        v = pd.to_numeric(df[col].str.strip(), errors="coerce")
        bad = v.isna() | (v != v.round())
        _refuse_first(
            bad.to_numpy(),
            line,
            lambda i: f"{df[col].iloc[i]!r} is not a whole number",
            source,
            col,
            "counts are whole numbers of people",
        )
        return v.to_numpy(dtype=np.int64)

    order = np.lexsort((df["at"].to_numpy(), df["counter_id"].to_numpy()))
    df = df.iloc[order].reset_index(drop=True)
    line = line[order]
    if has_occ:
        occ = ints("occupancy")
    else:
        ins, outs = ints("in"), ints("out")
        for col, v in (("in", ins), ("out", outs)):
            if (v < 0).any():
                i = int(np.flatnonzero(v < 0)[0])
                raise _bad(
                    f"negative {col} count {v[i]}", source, int(line[i]), col, "counts are ≥ 0"
                )
        delta = pd.Series(ins - outs)
        start = df["counter_id"].map(lambda c: state.last_occupancy.get(c, 0)).to_numpy()
        occ = delta.groupby(df["counter_id"].to_numpy()).cumsum().to_numpy() + start
    df["occupancy"] = occ
    _refuse_first(
        occ < 0,
        line,
        lambda i: f"negative occupancy {occ[i]}",
        source,
        "occupancy" if has_occ else "out",
        "check the counter: more people left than were there",
    )
    df["place_id"] = df["counter_id"].map(cmap)
    area = gdf_places.set_index("place_id")["usable_area_m2"]
    limit = df["place_id"].map(area).to_numpy() * MAX_DENSITY_PER_M2
    over = occ > limit
    _refuse_first(
        over,
        line,
        lambda i: (
            f"{occ[i]} people on {area[df['place_id'].iloc[i]]:.0f} m² is more than "
            f"{MAX_DENSITY_PER_M2:g} per m², which cannot happen"
        ),
        source,
        "occupancy",
        "check the counter's calibration or the place's usable area",
    )
    now = now or dt.datetime.now(TZ)
    future = df["at"] > pd.Timestamp(now + FUTURE_TOLERANCE)
    _refuse_first(
        future.to_numpy(),
        line,
        lambda i: f"time {df['at'].iloc[i]:%Y-%m-%d %H:%M} is in the future",
        source,
        "at",
        "set the counter's clock (Beijing time)",
    )
    # within the batch: same counter and time twice; steps under a minute; order in file
    same = df["counter_id"].to_numpy()
    step = df["at"].diff()
    samec = np.r_[False, same[1:] == same[:-1]]
    dup = samec & (step == pd.Timedelta(0)).to_numpy()
    _refuse_first(
        dup,
        line,
        lambda i: (
            f"counter {same[i]} at {df['at'].iloc[i]:%Y-%m-%d %H:%M:%S} appears twice "
            f"(also line {int(line[i - 1])})"
        ),
        source,
        "at",
        "remove the duplicate row",
    )
    short = samec & (step < pd.Timedelta(MIN_STEP)).to_numpy()
    _refuse_first(
        short,
        line,
        lambda i: (
            f"counter {same[i]} reports {step.iloc[i].total_seconds():.0f} s after line "
            f"{int(line[i - 1])}; steps are 1–5 minutes"
        ),
        source,
        "at",
        "export at 1–5 minute steps",
    )
    # the file's own order: a counter's time must not run backwards (a clock jump)
    file_order = np.argsort(line)
    fo = df.iloc[file_order]
    back = (fo.groupby("counter_id", sort=False)["at"].diff() < pd.Timedelta(0)).to_numpy()
    _refuse_first(
        back,
        line[file_order],
        lambda i: (
            f"counter {fo['counter_id'].iloc[i]}'s clock jumped back to "
            f"{fo['at'].iloc[i]:%Y-%m-%d %H:%M} (earlier than the row before it)"
        ),
        source,
        "at",
        "fix the counter's clock and re-export from that time",
    )
    first = ~samec
    for i in np.flatnonzero(first).tolist():
        c = str(same[i])
        prev = state.last_at.get(c)
        if prev is not None and df["at"].iloc[i] <= prev:
            raise _bad(
                f"counter {c}'s clock jumped back to {df['at'].iloc[i]:%Y-%m-%d %H:%M}; "
                f"it already reported {prev:%Y-%m-%d %H:%M}",
                source,
                int(line[i]),
                "at",
                "fix the counter's clock; rows already taken in are not repeated",
            )
    notes = []
    gap = samec & (step > pd.Timedelta(GAP_NOTE)).to_numpy()
    for j in np.flatnonzero(gap)[:20]:
        notes.append(
            f"{source} line {int(line[j])}: counter {same[j]} silent for "
            f"{step.iloc[j].total_seconds() / 60:.0f} min before {df['at'].iloc[j]:%m-%d %H:%M}"
        )
    if gap.sum() > 20:
        notes.append(f"{source}: {int(gap.sum()) - 20} more gaps")
    out = df[list(COUNT_COLUMNS)].copy()
    out["occupancy"] = out["occupancy"].astype(np.int64)
    return CountBatch(out.reset_index(drop=True), tuple(notes), source)


def read_counts_csv(
    path: str | Path,
    gdf_places: gpd.GeoDataFrame,
    *,
    encoding: str | None = None,
    state: CounterState | None = None,
    now: dt.datetime | None = None,
    max_bytes: int = MAX_COUNTS_BYTES,
) -> CountBatch:
    """Read and validate a counts CSV file (UTF-8, UTF-8 with BOM, or GBK).

    The file is opened like an upload: a symbolic link, a device or a file above
    ``max_bytes`` is refused before a byte is read.
    """
    from gis.io.uploads import open_upload

    p = Path(path)
    with open_upload(p, max_bytes) as fh:  # a regular file, no link, size checked first
        data = fh.read()
    return counts_from_bytes(
        data, gdf_places, source=p.name, encoding=encoding, state=state, now=now
    )


def counts_from_bytes(
    data: bytes,
    gdf_places: gpd.GeoDataFrame,
    *,
    source: str,
    encoding: str | None = None,
    state: CounterState | None = None,
    now: dt.datetime | None = None,
) -> CountBatch:
    """Validate counts from the bytes of a CSV (an upload or a file)."""
    text = decode_text(data, encoding, source)
    try:
        header, rows = _rows_from_text(text, source, 2)
    except csv.Error as exc:
        raise ValidationError(f"malformed CSV: {exc}", source=source, fix="close quotes") from None
    return validate_counts(header, rows, gdf_places, source=source, state=state, now=now)


def place_series(
    counts: pd.DataFrame, place_ids: list[str] | None = None, *, step: str = "1min"
) -> pd.DataFrame:
    """Occupancy per place (columns) on a regular time index: counters of a place are
    summed; each counter's last value is carried over its silent minutes (up to 15)."""
    if counts.empty:
        return pd.DataFrame(columns=place_ids or [])
    per_counter = counts.pivot_table(
        index="at", columns="counter_id", values="occupancy", aggfunc="last"
    )
    per_counter = per_counter.resample(step).last().ffill(limit=15)
    places = counts.drop_duplicates("counter_id").set_index("counter_id")["place_id"]
    out = per_counter.T.groupby(places.reindex(per_counter.columns).to_numpy()).sum(min_count=1).T
    if place_ids is not None:
        out = out.reindex(columns=place_ids)
    return out


def counts_csv_text(counts: pd.DataFrame) -> str:
    """A counts frame as CSV text (header ``counter_id,at,occupancy``, Beijing time)."""
    at = counts["at"].dt.tz_convert(TZ).dt.strftime("%Y-%m-%d %H:%M")
    out = pd.DataFrame(
        {"counter_id": counts["counter_id"], "at": at, "occupancy": counts["occupancy"]}
    )
    return out.to_csv(index=False, lineterminator="\n")


def state_from_counts(counts: pd.DataFrame) -> CounterState:
    """The follower state of counts already stored."""
    s = CounterState()
    s.update(counts)
    return s


def describe(batch: CountBatch) -> Mapping[str, object]:
    """A small summary of a batch for logs and the CLI."""
    f = batch.frame
    return {
        "rows": len(f),
        "counters": int(f["counter_id"].nunique()) if len(f) else 0,
        "from": f["at"].min() if len(f) else None,
        "to": f["at"].max() if len(f) else None,
        "notes": len(batch.notes),
    }
