"""Batch intake: read, validate, locate and store whole files, all or nothing."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import itertools
import queue
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.cases.categories import References
from gis.cases.columns import (
    CaseColumns,
    ReportColumns,
    case_columns,
    locate_columns,
    segment_tree,
    validate_columns,
)
from gis.cases.intake import (
    IMPORT_CHUNK_ROWS,
    IntakeResult,
    Report,
    area_from_segments,
    validate_records,
)
from gis.cases.snapping import check_datum_lonlat, intake_crs, raw_lonlat
from gis.errors import ValidationError
from gis.geography.crs import normalize_datum, require_same_crs, to_wgs84
from gis.io.intake_files import (
    DEFAULT_MAX_BYTES,
    FieldRows,
    RejectsSink,
    iter_csv_blocks,
    read_records,
    write_rejects,
)


def read_batch(
    path: Path,
    *,
    refs: References,
    now: dt.datetime,
    datum: str = "wgs84",
    area: Any = None,
    encoding: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    gdf_segments: gpd.GeoDataFrame | None = None,
    photos: Mapping[str, bytes] | None = None,
) -> IntakeResult:
    """Read and validate a batch file (.csv, .geojson/.json, .gpkg) without storing anything.

    When street segments are given and the batch declares WGS 84, the datum check of
    :func:`check_datum` runs on the good rows and raises :class:`DatumError` for a file that
    is really GCJ-02 or BD-09. ``photos`` are the files uploaded with the batch, by name.
    The whole result is kept in memory: for big files use :func:`import_batch`.
    """
    p = Path(path)
    records = list(read_records(p, encoding=encoding, max_bytes=max_bytes))
    if gdf_segments is not None and normalize_datum(datum) == "wgs84":
        # before the area check: a shifted file would otherwise show up as "outside" rows
        lon, lat = raw_lonlat(records)
        check_datum_lonlat(lon, lat, gdf_segments, source=p.name)
    if area is None and gdf_segments is not None:
        area = area_from_segments(gdf_segments)
    result = validate_records(
        _with_footprints(records, datum, source=p.name),
        refs=refs,
        now=now,
        datum=datum,
        area=area,
        source=p.name,
        photos=photos,
        crs=intake_crs(gdf_segments) if area is not None else None,
    )
    return result


def _with_footprints(records, datum, *, source: str | None = None):
    for row, rec in records:
        if type(rec) is dict and "footprint_invalid" not in rec and "footprint_src" not in rec:
            yield row, rec  # a plain row (a CSV's): nothing to do, no ABC check
            continue
        if isinstance(rec, Mapping) and "footprint_invalid" in rec:
            yield (
                row,
                ValidationError(
                    f"footprint polygon is invalid ({rec['footprint_invalid']})",
                    source=source,
                    row=row,
                    field="geometry",
                    fix="draw the outline again without crossing edges (a bow-tie is not a "
                    "polygon); make sure the ring is closed",
                ),
            )
            continue
        if isinstance(rec, Mapping) and "footprint_src" in rec:
            rec = dict(rec)
            poly = rec.pop("footprint_src")
            coords = shapely.get_coordinates(poly)
            d = rec.get("datum") or datum
            try:
                lon, lat = to_wgs84(coords[:, 0], coords[:, 1], d)
                rec["footprint"] = shapely.to_wkb(
                    shapely.set_coordinates(poly, np.column_stack([lon, lat]))
                )
            except ValidationError:
                pass  # the datum error is raised (with its row) by validate_record
        yield row, rec


@dataclass(frozen=True)
class BatchImport:
    """What :func:`import_batch` did: counts of stored, already present and rejected rows."""

    added: int
    skipped: int
    rejected: int
    rows: int


def id_keys(ids: Sequence[str]) -> np.ndarray:
    """64-bit keys of report ids (for duplicate detection in bounded memory)."""
    return pd.util.hash_array(np.asarray(ids, dtype=object))


def chunk_cases(
    good: ReportColumns,
    refs: References,
    *,
    received_by: str,
    now: dt.datetime,
    tree: Any = None,
    crs: str | None = None,
    zones: Sequence[tuple[str, Any]] = (),
    assignment: Mapping[str, str] | None = None,
) -> CaseColumns:
    """Snap a validated chunk (when a street tree is given) and open its cases, as columns."""
    if tree is not None and crs is not None:
        good = locate_columns(good, tree, crs=crs, zones=zones, assignment=assignment)
    return case_columns(good, refs, received_by=received_by, at=now)


def ramp(part: list[Any]) -> Iterator[list[Any]]:
    """The first chunk in growing pieces (an eighth, an eighth, a quarter, a half), so that
    the store starts on the first rows while the rest of the chunk is still validated."""
    n = len(part)
    bounds = sorted({0, n // 8, n // 4, n // 2, n})
    for a, b in itertools.pairwise(bounds):
        yield part[a:b]


_GC_LOCK = threading.Lock()


class _GcState:
    users = 0
    saved: tuple[int, ...] = (700, 10, 10)


@contextlib.contextmanager
def fewer_collections(gen0: int = 50_000) -> Iterator[None]:
    """Run the garbage collector's youngest generation every ``gen0`` new objects instead
    of every 700 while batches are imported (restored when the last import ends).

    A chunk makes hundreds of thousands of small objects (cells, texts) that all live until
    it is stored, so each collection walked them again: a seventh of the intake's CPU time
    (bench/README.md). Nothing is kept alive longer; cycles are still collected.
    """
    with _GC_LOCK:
        if _GcState.users == 0:
            _GcState.saved = saved = gc.get_threshold()
            gc.set_threshold(max(saved[0], gen0), *saved[1:])
        _GcState.users += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GcState.users -= 1
            if _GcState.users == 0:
                gc.set_threshold(*_GcState.saved)


def prefetched(chunks: Iterator[Any]) -> Iterator[Any]:
    """Run ``chunks`` one chunk ahead in a thread, so the next chunk is validated and
    snapped while the database takes in this one. Its errors are raised here, in order."""
    box: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for chunk in chunks:
                if not put(("chunk", chunk)):
                    return
            put(("done", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put(("error", exc))

    worker = threading.Thread(target=work, name="intake-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = box.get()
            if kind == "chunk":
                yield value
            elif kind == "done":
                return
            else:
                raise value
    finally:
        stop.set()
        worker.join(timeout=5)


def import_batch(
    path: Path,
    store: Any,
    *,
    refs: References,
    now: dt.datetime,
    received_by: str,
    datum: str = "wgs84",
    encoding: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    gdf_segments: gpd.GeoDataFrame | None = None,
    gdf_zones: gpd.GeoDataFrame | None = None,
    assignment: Mapping[str, str] | pd.DataFrame | None = None,
    keep_good: bool = False,
    rejects_path: Path | None = None,
    photos: Mapping[str, bytes] | None = None,
    chunk_rows: int = IMPORT_CHUNK_ROWS,
    progress: Any = None,
) -> BatchImport:
    """Validate, locate and store a batch file in chunks: bounded memory, all or nothing.

    A CSV is streamed (:func:`iter_csv_records`) ``chunk_rows`` rows at a time; GeoJSON and
    GeoPackage files are parsed whole up to :data:`MAX_WHOLE_FILE_BYTES`. Every chunk is
    validated, snapped to the streets (when ``gdf_segments`` is given) and written inside
    one store transaction (``store.add_cases_stream``), so a bad row anywhere (without
    ``keep_good``), an error or a killed process leaves the store as it was; ids and
    content already stored are skipped (idempotent). Memory holds one chunk, the 64-bit
    keys of the report ids seen (duplicate ids are rejects) and the first rejects.

    Raises
    ------
    ValidationError
        The file is too large, unreadable, or has bad rows (without ``keep_good``); its
        ``rejects_count`` attribute says how many. Nothing is stored.
    DatumError
        The first chunk's points declared WGS 84 are really GCJ-02 or BD-09.
    """
    p = Path(path)
    source = p.name
    if p.suffix.lower() in (".csv", ".txt"):  # in blocks of fields: no dict per row
        blocks: Iterator[Any] = iter_csv_blocks(
            p, encoding=encoding, max_bytes=max_bytes, size=chunk_rows
        )
    else:
        records = iter(read_records(p, encoding=encoding, max_bytes=max_bytes))
        blocks = iter(lambda: list(itertools.islice(records, chunk_rows)), [])
    area = area_from_segments(gdf_segments) if gdf_segments is not None else None
    crs = intake_crs(gdf_segments) if gdf_segments is not None else None
    sink = RejectsSink(rejects_path)
    seen = np.empty(0, dtype=np.uint64)
    counts = {"rows": 0}

    tree = segment_tree(gdf_segments) if gdf_segments is not None else None
    zones = (
        [(str(z), g) for z, g in zip(gdf_zones["zone_id"], gdf_zones.geometry, strict=True)]
        if gdf_zones is not None and gdf_segments is not None and len(gdf_zones)
        else []
    )
    if zones:
        require_same_crs(gdf_segments, gdf_zones, what="segments and zones")
    if isinstance(assignment, pd.DataFrame):
        assignment = dict(zip(assignment["segment_id"], assignment["person_id"], strict=True))

    def parts() -> Iterator[Any]:
        first = True
        for part in blocks:
            if not first:
                yield part
                continue
            first = False
            if gdf_segments is not None and normalize_datum(datum) == "wgs84":
                lon, lat = raw_lonlat(part)
                check_datum_lonlat(lon, lat, gdf_segments, source=source)
            yield from ramp(part)

    def chunks() -> Iterator[CaseColumns]:
        nonlocal seen
        for part in parts():
            counts["rows"] += len(part)
            ok: Any
            if isinstance(part, FieldRows):
                errors, ok = part.split()
                for _, exc in errors:
                    sink.add(exc, {})
            else:
                ok = []
                for row, raw in _with_footprints(part, datum, source=source):
                    if isinstance(raw, ValidationError):
                        sink.add(raw, {})
                    else:
                        ok.append((row, raw))
            good, rejects = validate_columns(
                ok, refs=refs, now=now, datum=datum, area=area, source=source,
                photos=photos, crs=crs,
            )  # fmt: skip
            for exc, raw in rejects:
                sink.add(exc, raw)
            if good is not None and len(good):
                keys = id_keys(good.report_id)
                _, first_idx = np.unique(keys, return_index=True)
                fresh = np.zeros(len(keys), dtype=bool)
                fresh[first_idx] = True
                if len(seen):
                    pos = np.clip(np.searchsorted(seen, keys), 0, len(seen) - 1)
                    fresh &= seen[pos] != keys
                for i in np.flatnonzero(~fresh):
                    rid = good.report_id[i]
                    sink.add(
                        ValidationError(
                            f"duplicate report id {rid!r} (repeats an earlier row)",
                            source=source,
                            row=good.rows[i],
                            field="report_id",
                            fix="give each report its own id, or remove the repeated row",
                        ),
                        {"report_id": rid},
                    )
                # the chunk's new keys (sorted, distinct) merged into the sorted ones seen
                new_keys = keys[first_idx][fresh[first_idx]]
                seen = np.insert(seen, np.searchsorted(seen, new_keys), new_keys)
                if not fresh.all():
                    good = good.take(fresh)
            if progress is not None:
                progress(counts["rows"])
            if sink.count and not keep_good:
                continue  # keep validating for the full list of rejects; store nothing
            if good is None or not len(good):
                continue
            yield chunk_cases(
                good, refs, received_by=received_by, now=now, tree=tree, crs=crs,
                zones=zones, assignment=assignment,
            )  # fmt: skip
        if sink.count and not keep_good:
            first_msgs = "; ".join(str(e) for e in sink.first)
            refused = ValidationError(
                f"{sink.count} bad row(s), nothing stored. First: {first_msgs}",
                source=source,
                fix="correct the rows, or import with keep_good (--keep-good --rejects out.csv)",
            )
            refused.rejects_count = sink.count  # type: ignore[attr-defined]
            raise refused

    try:
        with fewer_collections():
            # a store that builds its rows in a thread of its own (PostGIS: the COPY text)
            # runs the chunks there too; the others get them one chunk ahead from here
            own = getattr(store, "prefetches_columns", False)
            added, skipped = store.add_case_columns(chunks() if own else prefetched(chunks()))
    finally:
        sink.close()
    return BatchImport(added=added, skipped=skipped, rejected=sink.count, rows=counts["rows"])


def enforce_batch_policy(
    result: IntakeResult,
    *,
    keep_good: bool = False,
    rejects_path: Path | None = None,
    source: str | None = None,
) -> list[Report]:
    """All or nothing: any reject refuses the batch unless ``keep_good``.

    With ``keep_good`` the good reports are returned and the rejects written to
    ``rejects_path`` (CSV, UTF-8 with BOM so Excel opens it) with the reason per row.
    The raised error carries the rejects in its ``rejects`` attribute.
    """
    if result.rejects and rejects_path is not None:
        write_rejects(result.rejects, rejects_path)
    if result.rejects and not keep_good:
        first = "; ".join(str(e) for e, _ in result.rejects[:3])
        exc = ValidationError(
            f"{len(result.rejects)} bad row(s), nothing stored. First: {first}",
            source=source,
            fix="correct the rows, or import with keep_good (--keep-good --rejects out.csv)",
        )
        exc.rejects = result.rejects  # type: ignore[attr-defined]
        raise exc
    return result.reports
