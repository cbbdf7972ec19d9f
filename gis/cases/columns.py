"""Whole-batch intake as columns: validate, convert datums, snap and open cases as arrays.

Array operations make a chunk of 20,000 reports cost little more than the database's own COPY.

Every check of :func:`gis.cases.intake.validate_record` runs here on whole columns. A row
that any check doubts — or that carries what only the one-record path handles (a photo, a
footprint, an ``attributes`` JSON cell, a time with an offset) — goes through
``validate_record`` itself, so its error (file, row, field, fix) and its stored values are
exactly those of the one-record path, and the content hash is the same text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from gis.cases.categories import References
from gis.cases.intake import (
    _SOURCE_ALIASES,
    EARLIEST,
    FUTURE_TOLERANCE,
    MAX_ATTRIBUTE,
    MAX_DESCRIPTION,
    MAX_ID,
    Report,
    default_area,
    validate_record,
)
from gis.cases.snapping import to_crs
from gis.cases.workflow import TIERS, tier_flags
from gis.errors import ValidationError
from gis.geography.crs import METRIC, normalize_datum, to_wgs84
from gis.io.intake_files import FieldRows, canonical_column, isnan

#: Report times the column path parses itself (naive, Beijing time); others go row by row.
_NAIVE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$")
#: Fields whose presence sends a row through the one-record path.
_ROW_FIELDS = ("photo", "footprint", "footprint_src", "footprint_invalid", "attributes")
_CTRL = re.compile(r"[\x00-\x1f\x7f]")
_SLASH = operator.methodcaller("replace", "/", "-")
_EPOCH = np.datetime64("1970-01-01T00:00:00", "us")


@dataclass
class ReportColumns:
    """Validated reports of one chunk as columns (WGS 84 lon/lat; times as UTC)."""

    rows: list[object]
    report_id: list[str]
    category: list[str]
    lon: np.ndarray
    lat: np.ndarray
    src_lon: np.ndarray
    src_lat: np.ndarray
    datum: list[str]
    reported_at: np.ndarray  # datetime64[us], UTC
    source: list[str]
    reporter: list[str]
    description: list[str]
    tier: list[str | None]
    attributes: list[Mapping[str, Any]]
    photo_sha256: list[str | None]
    footprint: list[bytes | None]
    content_hash: list[str]
    segment_id: list[str | None] | None = None
    zone_id: list[str | None] | None = None
    front_id: list[str | None] | None = None
    person_id: list[str | None] | None = None
    snap_distance_m: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.report_id)

    def take(self, keep: np.ndarray) -> ReportColumns:
        """The rows where ``keep`` (a boolean mask) is true."""
        idx = np.flatnonzero(keep)
        out: dict[str, Any] = {}
        for name, value in vars(self).items():
            if value is None:
                out[name] = None
            elif isinstance(value, np.ndarray):
                out[name] = value[idx]
            else:
                out[name] = [value[i] for i in idx]
        return ReportColumns(**out)


def _utc64(t: dt.datetime) -> np.datetime64:
    return np.datetime64(t.astimezone(dt.UTC).replace(tzinfo=None), "us")


def _from_reports(rows: list[object], reps: list[Report]) -> ReportColumns:
    return ReportColumns(
        rows=rows,
        report_id=[r.report_id for r in reps],
        category=[r.category for r in reps],
        lon=np.array([r.lon for r in reps], dtype=float),
        lat=np.array([r.lat for r in reps], dtype=float),
        src_lon=np.array([r.src_lon for r in reps], dtype=float),
        src_lat=np.array([r.src_lat for r in reps], dtype=float),
        datum=[r.source_datum for r in reps],
        reported_at=np.array([_utc64(r.reported_at) for r in reps], dtype="datetime64[us]"),
        source=[r.source for r in reps],
        reporter=[r.reporter for r in reps],
        description=[r.description for r in reps],
        tier=[r.tier for r in reps],
        attributes=[r.attributes for r in reps],
        photo_sha256=[r.photo_sha256 for r in reps],
        footprint=[r.footprint_wkb for r in reps],
        content_hash=[r.content_hash for r in reps],
    )


def _concat(parts: list[ReportColumns], order: np.ndarray) -> ReportColumns:
    """Join column sets and put their rows in ``order`` (positions into the joined rows)."""
    out: dict[str, Any] = {}
    for name in vars(parts[0]):
        vals = [getattr(p, name) for p in parts]
        if vals[0] is None:
            out[name] = None
        elif isinstance(vals[0], np.ndarray):
            out[name] = np.concatenate(vals)[order]
        else:
            flat = [v for part in vals for v in part]
            out[name] = [flat[i] for i in order]
    return ReportColumns(**out)


def _texts(values: list[Any]) -> bool:
    """Every value is a str (a CSV's cells), found at C speed."""
    return set(map(type, values)) == {str}


def _blank(values: list[Any]) -> np.ndarray:
    if values.count(None) == len(values):
        return np.ones(len(values), dtype=bool)
    if _texts(values):  # a CSV's cells: no NaN to look for (str.strip and bool in C)
        return ~np.fromiter(map(bool, map(str.strip, values)), dtype=bool, count=len(values))
    return np.array(
        [v is None or (isinstance(v, str) and not v.strip()) or isnan(v) for v in values],
        dtype=bool,
    )


def _numbers(values: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Floats of a column and a mask of the values that are finite numbers."""
    x = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(x)
    if not _texts(values):
        ok &= np.fromiter((not isinstance(v, bool) for v in values), dtype=bool, count=len(x))
    return x, ok


def _map_unique(values: list[Any], fn) -> tuple[list[Any], np.ndarray]:
    """``fn`` of each distinct value (None where it raises) and a mask of the failures."""
    series = pd.Series(values, dtype=object)
    if pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        res: list[Any] = []
        ok: list[bool] = []
        for u in [*uniques.tolist(), None]:  # the last one stands for the empty cells
            try:
                res.append(fn(u))
                ok.append(True)
            except (ValidationError, ValueError, TypeError, KeyError):
                res.append(None)
                ok.append(False)
        res_arr = np.empty(len(res), dtype=object)
        res_arr[:] = res
        return res_arr[codes].tolist(), ~np.array(ok, dtype=bool)[codes]
    cache: dict[Any, Any] = {}
    out: list[Any] = []
    bad = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        key = v if isinstance(v, str | None) else repr(v)
        if key not in cache:
            try:
                cache[key] = (True, fn(v))
            except (ValidationError, ValueError, TypeError, KeyError):
                cache[key] = (False, None)
        ok, res = cache[key]
        out.append(res)
        bad[i] = not ok
    return out, bad


_JSON_UNSAFE = re.compile(r'["\\\x00-\x1f]')


def json_safe(values: list[str]) -> np.ndarray:
    """Rows whose text JSON writes as it is (no quote, backslash or control character)."""
    if not _JSON_UNSAFE.search("".join(values)):
        return np.ones(len(values), dtype=bool)
    return np.array([not _JSON_UNSAFE.search(v) for v in values], dtype=bool)


def _text_bad(values: list[str], limit: int, *, control: bool) -> np.ndarray:
    """Rows over ``limit`` characters or holding control characters (NUL when not ``control``)."""
    bad = np.fromiter(map(len, values), dtype=np.int64, count=len(values)) > limit
    joined = "".join(values)
    if control and _CTRL.search(joined):
        bad |= np.fromiter((bool(_CTRL.search(v)) for v in values), dtype=bool, count=len(values))
    elif not control and "\x00" in joined:
        bad |= np.fromiter(("\x00" in v for v in values), dtype=bool, count=len(values))
    return bad


def _times(values: list[Any], now: dt.datetime) -> tuple[np.ndarray, list[str], np.ndarray]:
    """UTC times, ISO text as the one-record path hashes it, and the rows it cannot do."""
    n = len(values)
    if _texts(values):  # a CSV's cells: C-level maps
        text = list(map(_SLASH, map(str.strip, values)))
    else:
        text = [v.strip().replace("/", "-") if isinstance(v, str) else "" for v in values]
    simple = np.fromiter(map(bool, map(_NAIVE_TIME.match, text)), dtype=bool, count=n)
    iso = [t[:10] + "T" + (t[11:] + ":00" if len(t) == 16 else t[11:] or "00:00:00") for t in text]
    local = pd.to_datetime(
        pd.Series(
            [t if ok else None for t, ok in zip(iso, simple.tolist(), strict=True)], dtype=object
        ),  # fmt: skip
        format="%Y-%m-%dT%H:%M:%S",
        errors="coerce",
    )
    ok = simple & local.notna().to_numpy()
    utc = (local.to_numpy(dtype="datetime64[us]") - np.timedelta64(8, "h")).astype("datetime64[us]")
    lo, hi = _utc64(EARLIEST), _utc64(now + FUTURE_TOLERANCE)
    ok &= (utc >= lo) & (utc <= hi)
    return utc, [s + "+08:00" for s in iso], ~ok


def _source(value: Any) -> str:
    """The source code of a cell, as validate_record maps it (KeyError when unknown)."""
    text = str(value or "patrol").strip()
    found = _SOURCE_ALIASES.get(text.lower(), _SOURCE_ALIASES.get(text))
    if found is None:
        raise ValueError(text)
    return found


class _RowRecords:
    """The record of row ``i`` of a :class:`FieldRows` block, made only when asked."""

    def __init__(self, block: FieldRows) -> None:
        self.block = block

    def __getitem__(self, i: Any) -> Mapping[str, Any]:
        return self.block[int(i)][1]


def validate_columns(
    records: Sequence[tuple[object, Mapping[str, Any]]] | FieldRows,
    *,
    refs: References,
    now: dt.datetime,
    datum: str = "wgs84",
    area: Any = None,
    source: str | None = None,
    photos: Mapping[str, bytes] | None = None,
    crs: str | None = None,
) -> tuple[ReportColumns | None, list[tuple[ValidationError, Mapping[str, Any]]]]:
    """Validate ``(row, record)`` pairs as columns; returns the good rows and the rejects.

    The checks and messages are those of :func:`gis.cases.intake.validate_record` (rows the
    columns doubt are validated by it); ``area`` is in ``crs`` (default: the Shichahai box
    in :data:`METRIC`). Records keyed by other headers (Chinese, GeoJSON properties) are
    read through :func:`gis.io.intake_files.canonical_column`.
    """
    recs: Any
    if isinstance(records, FieldRows):  # a CSV block: its columns, no dict per row
        rows: list[object] = list(records.lines)
        cols = records.columns()
        present = set(cols)
        n = len(rows)
        recs = _RowRecords(records)

        def _column(_recs: Any, name: str) -> list[Any]:
            return cols[name] if name in cols else [None] * n

    else:
        rows = [r for r, _ in records]
        shapes: dict[tuple[Any, ...], bool] = {}
        recs = []
        for _, rec in records:
            shape = tuple(rec)
            plain = shapes.get(shape)
            if plain is None:
                plain = shapes[shape] = all(k == canonical_column(k) for k in shape)
            recs.append(rec if plain else {canonical_column(k): v for k, v in rec.items()})
        present = {canonical_column(k) for shape in shapes for k in shape}
        n = len(recs)

        def _column(_recs: Any, name: str) -> list[Any]:
            if name not in present:
                return [None] * n
            if len(shapes) == 1:  # one header: every record has the field (C-level map)
                return list(map(operator.itemgetter(name), recs))
            return [r.get(name) for r in recs]

    if area is None:
        area, crs = default_area(), METRIC
    crs = crs or METRIC
    slow = np.zeros(n, dtype=bool)
    for f in _ROW_FIELDS:
        if f in present:
            slow |= ~_blank(_column(recs, f))
    cats, bad = _map_unique(_column(recs, "category"), lambda v: refs.category(v or ""))
    slow |= bad
    raw_datum = _column(recs, "datum")
    dnames, bad = _map_unique(
        [datum if b else v for v, b in zip(raw_datum, _blank(raw_datum), strict=True)],
        normalize_datum,
    )
    slow |= bad
    src_lon, ok_lon = _numbers(_column(recs, "lon"))
    src_lat, ok_lat = _numbers(_column(recs, "lat"))
    slow |= ~(ok_lon & ok_lat)
    slow |= (src_lat >= 73) & (src_lat <= 136) & (src_lon >= 3) & (src_lon <= 54)
    slow |= ~((np.abs(src_lon) <= 180) & (np.abs(src_lat) <= 90))
    lon, lat = src_lon.copy(), src_lat.copy()
    for d in ("gcj02", "bd09"):
        sel = np.array([x == d for x in dnames], dtype=bool) & ~slow
        if sel.any():
            lon[sel], lat[sel] = to_wgs84(src_lon[sel], src_lat[sel], d)
    x, y = to_crs(crs).transform(np.where(slow, 0.0, lon), np.where(slow, 0.0, lat))
    shapely.prepare(area)
    slow |= ~shapely.contains_xy(area, x, y)
    utc, iso, bad = _times(_column(recs, "reported_at"), now)
    slow |= bad
    raw_src = _column(recs, "source")
    sources, bad = _map_unique(raw_src, _source)
    slow |= bad
    raw_tier = _column(recs, "tier")
    tiers = [None if t in (None, "") else str(t).strip() for t in raw_tier]
    slow |= np.array([t is not None and t not in TIERS for t in tiers], dtype=bool)
    desc = _column(recs, "description")
    desc = list(desc) if _texts(desc) else ["" if v is None else str(v) for v in desc]
    slow |= _text_bad(desc, MAX_DESCRIPTION, control=False)
    reporter = _column(recs, "reporter")
    if _texts(reporter):
        reporter = list(map(str.strip, reporter))
    else:
        reporter = ["" if v is None else str(v).strip() for v in reporter]
    slow |= _text_bad(reporter, MAX_ID, control=True)
    raw_id = _column(recs, "report_id")
    if _texts(raw_id):  # a CSV's cells
        given = np.fromiter(map(bool, raw_id), dtype=bool, count=n)
    else:
        given = np.array([v is not None and v != "" and not isnan(v) for v in raw_id], dtype=bool)
    ids = [str(v).strip() if g else "" for v, g in zip(raw_id, given, strict=True)]
    slow |= given & (
        _text_bad(ids, MAX_ID, control=True) | ~np.array([bool(i) for i in ids], dtype=bool)
    )
    attrs: list[dict[str, Any]] = [{} for _ in range(n)]
    used = {c.code: c for c in cats if c is not None}
    names = {a for c in used.values() for a in c.attributes} & present
    for name in sorted(names):
        col = _column(recs, name)
        kind_of = [c.attributes.get(name) if c is not None else None for c in cats]
        has = ~_blank(col) & np.array([k is not None for k in kind_of], dtype=bool)
        if not has.any():
            continue
        vals, ok = _numbers([v if h else None for v, h in zip(col, has, strict=True)])
        okv = ok & (vals >= 0) & (vals <= MAX_ATTRIBUTE)
        is_int = np.array([k == "int" for k in kind_of], dtype=bool)
        okv &= ~is_int | (vals == np.floor(np.where(ok, vals, 0)))
        slow |= has & ~okv
        for i in np.flatnonzero(has & okv):
            attrs[i][name] = int(vals[i]) if is_int[i] else float(vals[i])
    fast = ~slow
    # content hash and default id, as validate_record writes them: the JSON text of the
    # parts, joined column-wise (maps at C speed) where json.dumps would write them as they are
    fidx = np.flatnonzero(fast)
    fl = fidx.tolist()
    six = itertools.repeat(6)
    codes = [cats[k].code for k in fl]
    parts = (
        codes,
        list(map(str, map(round, src_lon[fidx].tolist(), six))),
        list(map(str, map(round, src_lat[fidx].tolist(), six))),
        [dnames[k] for k in fl],
        [iso[k] for k in fl],
        [sources[k] for k in fl],
        [reporter[k] for k in fl],
        [desc[k] for k in fl],
    )
    texts = list(map('", "'.join, zip(*parts, strict=True)))
    sha = hashlib.sha256
    hashes = [sha(f'["{t}"]'.encode()).hexdigest() for t in texts]
    safe = (json_safe(reporter) & json_safe(desc))[fidx]
    if not safe.all():
        for j in np.flatnonzero(~safe).tolist():
            text = json.dumps([p[j] for p in parts], ensure_ascii=False)
            hashes[j] = sha(text.encode("utf-8")).hexdigest()
    good = ReportColumns(
        rows=[rows[i] for i in fidx],
        report_id=[ids[i] or f"R{h[:16]}" for i, h in zip(fidx, hashes, strict=True)],
        category=codes,
        lon=lon[fidx],
        lat=lat[fidx],
        src_lon=src_lon[fidx],
        src_lat=src_lat[fidx],
        datum=[dnames[i] for i in fidx],
        reported_at=utc[fidx],
        source=[sources[i] for i in fidx],
        reporter=[reporter[i] for i in fidx],
        description=[desc[i] for i in fidx],
        tier=[tiers[i] for i in fidx],
        attributes=[attrs[i] for i in fidx],
        photo_sha256=[None] * len(fidx),
        footprint=[None] * len(fidx),
        content_hash=hashes,
    )
    # the rows the columns doubt: the one-record path gives the report or the exact error
    rejects: list[tuple[ValidationError, Mapping[str, Any]]] = []
    srows: list[object] = []
    sreps: list[Report] = []
    spos: list[int] = []
    for i in np.flatnonzero(slow):
        try:
            rep = validate_record(
                recs[i], refs=refs, now=now, datum=datum, area=area, source=source,
                row=rows[i], photos=photos, crs=crs,
            )  # fmt: skip
        except ValidationError as exc:
            rejects.append((exc, records[int(i)][1]))
            continue
        srows.append(rows[i])
        sreps.append(rep)
        spos.append(int(i))
    if not sreps:
        return (good if len(good) else None), rejects
    pos = np.concatenate([fidx, np.array(spos, dtype=int)])
    joined = _concat([good, _from_reports(srows, sreps)], np.argsort(pos, kind="stable"))
    return joined, rejects


def locate_columns(
    rc: ReportColumns,
    segment_tree: tuple[shapely.STRtree, np.ndarray, dict[str, str | None], dict[str, str | None]],
    *,
    crs: str,
    zones: Sequence[tuple[str, Any]] = (),
    assignment: Mapping[str, str] | None = None,
    max_distance_m: float = 200.0,
) -> ReportColumns:
    """Snap every report to its segment, zone, front and person (as
    :func:`gis.cases.snapping.locate_reports`, with the tree built once per import)."""
    tree, seg_ids, zone_of_seg, front_of_seg = segment_tree
    n = len(rc)
    x, y = to_crs(crs).transform(rc.lon, rc.lat)
    pts = shapely.points(np.column_stack([x, y]))
    idx, dist = tree.query_nearest(pts, return_distance=True)
    _, first = np.unique(idx[0], return_index=True)
    nearest = np.full(n, -1)
    d = np.full(n, np.nan)
    nearest[idx[0][first]] = idx[1][first]
    d[idx[0][first]] = dist[first]
    within = (nearest >= 0) & (d <= max_distance_m)
    seg = [str(seg_ids[j]) if w else None for j, w in zip(nearest, within, strict=True)]
    zone_pt: list[str | None] = [None] * n
    for zid, geom in reversed(list(zones)):  # the first zone in file order wins
        for i in np.flatnonzero(shapely.contains_xy(geom, x, y)):
            zone_pt[i] = zid
    zone = [(zone_of_seg.get(s) if s else None) or zone_pt[i] for i, s in enumerate(seg)]
    front = [front_of_seg.get(s) if s else None for s in seg]
    person = [assignment.get(s) if (assignment and s) else None for s in seg]
    rc.segment_id, rc.zone_id, rc.front_id, rc.person_id = seg, zone, front, person
    rc.snap_distance_m = d
    return rc


def segment_tree(gdf_segments) -> tuple[shapely.STRtree, np.ndarray, dict, dict]:
    """The pieces :func:`locate_columns` needs, built once per import."""

    def text(v: Any) -> str | None:
        return None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)

    ids = np.array([str(s) for s in gdf_segments["segment_id"]], dtype=object)
    none = [None] * len(ids)
    zones = dict(zip(ids, (text(v) for v in gdf_segments.get("zone_id", none)), strict=True))
    fronts = dict(zip(ids, (text(v) for v in gdf_segments.get("front_id", none)), strict=True))
    return shapely.STRtree(gdf_segments.geometry.values), ids, zones, fronts


@dataclass
class CaseColumns:
    """New cases of one chunk in the store's column layout (:data:`gis.store.base.CASE_COLUMNS`).

    Text columns are lists of str (or None); ``lon``, ``lat``, ``src_lon``, ``src_lat`` and
    ``deadline_hours`` float arrays; ``reported_at`` and ``updated_at`` UTC datetime64[us];
    ``depts`` ``;``-joined codes; ``attributes``/``flags``/``joint`` JSON text.
    """

    columns: dict[str, Any]

    def __len__(self) -> int:
        return len(self.columns["case_id"])


def case_columns(
    rc: ReportColumns, refs: References, *, received_by: str, at: dt.datetime
) -> CaseColumns:
    """Open one case per report (as :func:`gis.cases.intake.case_from_report`), as columns."""
    n = len(rc)
    cats = [refs.categories[c] for c in rc.category]
    tiers = [t or c.default_tier for t, c in zip(rc.tier, cats, strict=True)]
    flags = {t: json.dumps(tier_flags(t), ensure_ascii=False) for t in TIERS}
    owners = [received_by or r or "unknown" for r in rc.reporter]
    none = [None] * n
    cols: dict[str, Any] = {
        "case_id": rc.report_id,
        "content_hash": [h or None for h in rc.content_hash],
        "category": rc.category,
        "tier": tiers,
        "state": ["reported"] * n,
        "source": rc.source,
        "reported_at": rc.reported_at,
        "deadline_at": none,
        "closed_at": none,
        "zone_id": rc.zone_id or none,
        "front_id": rc.front_id or none,
        "segment_id": rc.segment_id or none,
        "person_id": rc.person_id or none,
        "lead_dept": [c.lead_dept for c in cats],
        "depts": [";".join(c.participating) for c in cats],
        "owner": owners,
        "reporter": rc.reporter,
        "description": rc.description,
        "source_datum": rc.datum,
        "src_lon": rc.src_lon,
        "src_lat": rc.src_lat,
        "lon": rc.lon,
        "lat": rc.lat,
        "photo_sha256": rc.photo_sha256,
        "attributes": [
            json.dumps(dict(a), ensure_ascii=False) if a else "{}" for a in rc.attributes
        ],
        "flags": [flags[t] for t in tiers],
        "joint": ["{}"] * n,
        "deadline_hours": np.array([c.deadline_hours for c in cats], dtype=float),
        "version": [1] * n,
        "updated_by": [received_by] * n,
        "updated_at": np.full(n, _utc64(at), dtype="datetime64[us]"),
        "footprint": rc.footprint,
    }
    return CaseColumns(cols)


def iso_utc(values: np.ndarray, unit: str = "us", suffix: str = "+00:00") -> list[str | None]:
    """ISO text of UTC datetime64 values (None for NaT)."""
    arr = np.asarray(values, dtype="datetime64[us]")
    text = np.datetime_as_string(arr, unit=unit)  # type: ignore[call-overload]
    out = (text.astype(object) + suffix).tolist()
    nat = np.isnat(arr)
    if nat.any():
        for i in np.flatnonzero(nat).tolist():
            out[i] = None
    return out


def floats_text(values: np.ndarray) -> list[str | None]:
    """The shortest text that reads back as each float (None for NaN), as repr writes it."""
    arr = np.asarray(values, dtype=float)
    out: list[str | None] = list(map(repr, arr.tolist()))  # numpy's text, 2× as fast
    nan = np.isnan(arr)
    if nan.any():
        for i in np.flatnonzero(nan).tolist():
            out[i] = None
    return out
