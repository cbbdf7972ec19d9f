"""Readers of report batch files (CSV as Excel writes it, GeoJSON, GeoPackage) and rejects.

Every row comes out as ``(row, record)`` or ``(row, ValidationError)``; rejects go to a CSV.
(Over 600 lines: the CSV, GeoJSON and GeoPackage readers share their checks and errors here.)
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import logging
import math
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape

from gis.errors import ValidationError
from gis.geography.crs import WGS84
from gis.io.csvsafe import safe_cell
from gis.io.uploads import check_size, open_upload, read_upload

log = logging.getLogger(__name__)

#: Default largest batch file accepted (bytes); pass ``max_bytes`` (``--max-mb``,
#: ``PATROL_MAX_UPLOAD_MB``) to change it. The size is checked before anything is read.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
#: GeoJSON and GeoPackage files are parsed whole; larger ones are refused at once (CSV
#: streams in bounded memory at any accepted size).
MAX_WHOLE_FILE_BYTES = 64 * 1024 * 1024

COLUMN_ALIASES = {
    "id": "report_id",
    "编号": "report_id",
    "report_id": "report_id",
    "category": "category",
    "类别": "category",
    "问题类别": "category",
    "lon": "lon",
    "lng": "lon",
    "longitude": "lon",
    "经度": "lon",
    "x": "lon",
    "lat": "lat",
    "latitude": "lat",
    "纬度": "lat",
    "y": "lat",
    "reported_at": "reported_at",
    "time": "reported_at",
    "时间": "reported_at",
    "上报时间": "reported_at",
    "source": "source",
    "来源": "source",
    "reporter": "reporter",
    "上报人": "reporter",
    "description": "description",
    "描述": "description",
    "问题描述": "description",
    "photo": "photo",
    "照片": "photo",
    "datum": "datum",
    "坐标系": "datum",
    "tier": "tier",
    "级别": "tier",
}
REQUIRED_COLUMNS = ("category", "lon", "lat", "reported_at")


def canonical_column(name: object) -> str:
    """The field a column header names (English or Chinese header → ``lon``, ``category`` …)."""
    text = str(name).strip()
    return COLUMN_ALIASES.get(text.lower(), text)


def isnan(v: Any) -> bool:
    """True for a float NaN (an empty cell of a GeoPackage or spreadsheet)."""
    return isinstance(v, float) and math.isnan(v)


def decode_text(data: bytes, encoding: str | None, source: str) -> str:
    """Text of a CSV as Excel writes it: UTF-8 (with or without BOM), else GBK/GB18030.

    An explicit ``encoding`` is used as given. Raises :class:`ValidationError` naming the
    file (and the line of the first bad byte) with the fix.
    """
    if encoding:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ValidationError(
                f"cannot be read as {encoding}: {exc}",
                source=source,
                fix="save it as CSV UTF-8 in Excel, or give the right --encoding",
            ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValidationError(
            f"is neither UTF-8 nor GBK (bad byte at line {line})",
            source=source,
            row=line,
            fix="save it from Excel as 'CSV UTF-8' (or CSV, which writes GBK)",
        ) from None
    log.info("%s decoded as GBK/GB18030", source)
    return text


def read_photo(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of a photo file the operator names on the command line (an upload).

    Opened like a batch file: a regular file, never through a symbolic link, its size
    checked before reading; and it must be an image, so a system file named as a photo
    is refused rather than hashed into a case.
    """
    try:
        data = _read_limited(path, max_bytes)
    except ValidationError as exc:
        raise ValidationError(
            exc.problem, source=exc.source, field="--photo", fix=exc.fix
        ) from None
    if not data.startswith(_IMAGE_MAGIC):
        raise ValidationError(
            "is not a photo (JPEG, PNG, HEIC, WebP or GIF)",
            source=Path(path).name,
            field="--photo",
            fix="give the photo file the phone or camera saved",
        )
    return data


#: First bytes of the image formats phones and cameras save.
_IMAGE_MAGIC = (
    b"\xff\xd8\xff",  # JPEG
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a",
    b"GIF89a",
    b"RIFF",  # WebP (RIFF....WEBP)
    b"\x00\x00\x00\x18ftyp",  # HEIC/HEIF and MP4-family boxes
    b"\x00\x00\x00\x1cftyp",
    b"\x00\x00\x00\x20ftyp",
    b"\x00\x00\x00\x24ftyp",
)


def _read_limited_size(path: Path, max_bytes: int) -> None:
    with _open_upload(path, max_bytes):
        pass


_open_upload = open_upload
_read_limited = read_upload
_check_size = check_size


def _scan_encoding(fh: BinaryIO, encoding: str | None, source: str) -> str:
    """The encoding a CSV can be read in, checked over the whole file in 1 MiB steps.

    UTF-8 (with or without BOM) first, then GBK/GB18030 unless ``encoding`` is given.
    NUL bytes (binary or UTF-16 files) are refused. The file is rewound afterwards.
    """
    candidates = [encoding] if encoding else ["utf-8-sig", "gb18030"]
    for enc in candidates:
        try:
            decoder = codecs.getincrementaldecoder(enc)(errors="strict")
        except LookupError:
            raise ValidationError(
                f"unknown encoding {enc!r}",
                source=source,
                fix="give an encoding such as utf-8 or gbk (--encoding)",
            ) from None
        fh.seek(0)
        lines = 1
        ok = True
        while True:
            block = fh.read(1 << 20)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                bad_line = lines + block[: max(exc.start, 0)].count(b"\n")
                ok = False
                if encoding or enc == candidates[-1]:
                    fix = (
                        "save it as CSV UTF-8 in Excel, or give the right --encoding"
                        if encoding
                        else "save it from Excel as 'CSV UTF-8' (or CSV, which writes GBK)"
                    )
                    what = (
                        f"cannot be read as {encoding}" if encoding else "is neither UTF-8 nor GBK"
                    )
                    raise ValidationError(
                        f"{what} (bad byte at line {bad_line})",
                        source=source,
                        row=bad_line,
                        fix=fix,
                    ) from None
                break
            if b"\x00" in block:
                raise ValidationError(
                    "contains NUL bytes (is it a binary or UTF-16 file?)",
                    source=source,
                    row=lines + block[: block.index(b"\x00")].count(b"\n"),
                    fix="save it from Excel as 'CSV UTF-8'",
                )
            if not block:
                break
            lines += block.count(b"\n")
        if ok:
            fh.seek(0)
            if enc == "gb18030":
                log.info("%s decoded as GBK/GB18030", source)
            return enc
    raise AssertionError("unreachable")  # pragma: no cover


class FieldRows:
    """A block of CSV rows under one header: each row's line and its fields (a list), or
    the row's :class:`ValidationError` (malformed, wrong number of fields).

    Indexing and iteration give ``(line, record)`` pairs as :func:`iter_csv_records` does
    (records as dicts keyed by the canonical header); :meth:`columns` gives the fields of
    a block without errors as one list per column, with no dict per row.
    """

    __slots__ = ("items", "lines", "names")

    def __init__(self, names: list[str], lines: list[int], items: list[Any]) -> None:
        self.names = names
        self.lines = lines
        self.items = items

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return FieldRows(self.names, self.lines[i], self.items[i])
        item = self.items[i]
        if type(item) is list:
            item = dict(zip(self.names, item, strict=True))
        return (self.lines[i], item)

    def __iter__(self) -> Iterator[tuple[object, Mapping[str, Any] | ValidationError]]:
        for i in range(len(self.lines)):
            yield self[i]

    def split(self) -> tuple[list[tuple[int, ValidationError]], FieldRows]:
        """The block's row errors (in order) and its rows with fields."""
        bad = [i for i, item in enumerate(self.items) if type(item) is not list]
        if not bad:
            return [], self
        skip = set(bad)
        keep = [i for i in range(len(self.items)) if i not in skip]
        return (
            [(self.lines[i], self.items[i]) for i in bad],
            FieldRows(self.names, [self.lines[i] for i in keep], [self.items[i] for i in keep]),
        )

    def columns(self) -> dict[str, list[Any]]:
        """Each column's fields (a block without errors); a repeated header keeps its last."""
        last = {name: k for k, name in enumerate(self.names)}
        if not self.items:
            return {name: [] for name in last}
        cols = list(zip(*self.items, strict=True))
        return {name: list(cols[k]) for name, k in last.items()}


#: Rows per block of :func:`iter_csv_blocks` when the caller does not say.
CSV_BLOCK_ROWS = 20_000


def iter_csv_blocks(
    path: Path,
    *,
    encoding: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    size: int = CSV_BLOCK_ROWS,
) -> Iterator[FieldRows]:
    """The rows of a CSV in blocks of ``size`` (rows and row errors; blank rows skipped).

    What :func:`iter_csv_records` yields, ``size`` at a time and without a dict per row:
    the same rows, lines and errors in the same order.
    """
    source = Path(path).name
    fh = _open_upload(path, max_bytes)
    try:
        enc = _scan_encoding(fh, encoding, source)
        text = io.TextIOWrapper(fh, encoding=enc, newline="")
        head = text.read(4096)
        text.seek(0)
        try:
            delimiter = csv.Sniffer().sniff(head, delimiters=",;\t").delimiter
        except csv.Error:
            delimiter = ","
        reader = csv.reader(text, delimiter=delimiter, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            raise ValidationError("is empty", source=source, fix="add a header row") from None
        except csv.Error as exc:
            raise ValidationError(f"header is malformed: {exc}", source=source, row=1) from None
        names = [COLUMN_ALIASES.get(h.strip().lower(), h.strip()) for h in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        if missing:
            raise ValidationError(
                f"lacks columns {missing} (the first row has {len(header)} column(s), none "
                "of them named so)",
                source=source,
                row=1,
                fix="name the columns category, lon, lat, reported_at (or 类别, 经度, 纬度, 上报时间)",
            )
        width = len(names)
        done = False
        while not done:
            lines: list[int] = []
            items: list[Any] = []
            while len(items) < size and not done:
                before = reader.line_num
                want = size - len(items)
                got: list[list[str]] = []
                ends: list[int] = []
                failed: csv.Error | None = None
                try:
                    for fields in itertools.islice(reader, want):
                        got.append(fields)
                        ends.append(reader.line_num)
                except csv.Error as exc:
                    failed = exc
                if len(got) < want:
                    done = True
                # a row starts on the line after the previous one ends
                starts = [before + 1, *[e + 1 for e in ends[:-1]]] if got else []
                filled = list(map(bool, map(str.strip, map("".join, got))))
                if all(filled) and set(map(len, got)) == {width}:
                    lines += starts
                    items += got
                else:
                    for line, fields, full in zip(starts, got, filled, strict=True):
                        if not full:  # every field blank
                            continue
                        lines.append(line)
                        if len(fields) != width:
                            items.append(
                                ValidationError(
                                    f"has {len(fields)} fields, the header has {width}",
                                    source=source,
                                    row=line,
                                    fix="quote fields that contain commas; remove stray separators",
                                )
                            )
                        else:
                            items.append(fields)
                if failed is not None:
                    line = (ends[-1] if ends else before) + 1
                    lines.append(line)
                    items.append(
                        ValidationError(
                            f"malformed CSV: {failed}",
                            source=source,
                            row=line,
                            fix="close the quotes; quote fields that contain commas or line breaks",
                        )
                    )
                    done = True
            if items:
                yield FieldRows(names, lines, items)
    finally:
        fh.close()


def iter_csv_records(
    path: Path, *, encoding: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Iterator[tuple[object, Mapping[str, Any] | ValidationError]]:
    """Rows of a CSV keyed by header, read in bounded memory; malformed rows as errors.

    The file (UTF-8, UTF-8 with BOM or GBK) is opened by :func:`_open_upload` (size checked
    first, links refused), its encoding checked in one streaming pass, then parsed in
    blocks (:func:`iter_csv_blocks`). Errors never quote the file's content beyond the
    offending field names.
    """
    for block in iter_csv_blocks(path, encoding=encoding, max_bytes=max_bytes):
        yield from block


def read_csv_records(
    path: Path, *, encoding: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[tuple[object, Mapping[str, Any] | ValidationError]]:
    """Rows of a CSV (UTF-8, UTF-8 with BOM or GBK) keyed by header; malformed rows as errors."""
    return list(iter_csv_records(path, encoding=encoding, max_bytes=max_bytes))


def read_geojson_records(
    path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[tuple[object, Mapping[str, Any] | ValidationError]]:
    """Features of a GeoJSON file as records (Point, or Polygon footprint -> its centroid).

    The file is parsed whole, so at most :data:`MAX_WHOLE_FILE_BYTES` are accepted.
    """
    source = Path(path).name
    data = _read_limited(path, min(max_bytes, MAX_WHOLE_FILE_BYTES))
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(
            f"is not valid GeoJSON: {exc}", source=source, fix="export it again as GeoJSON"
        ) from None
    except RecursionError:
        raise ValidationError(
            "is nested too deeply to be GeoJSON",
            source=source,
            fix="export it again as GeoJSON (a FeatureCollection of Points or Polygons)",
        ) from None
    feats = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(feats, list):
        raise ValidationError(
            "has no 'features' list", source=source, fix="use a FeatureCollection"
        )
    out: list[tuple[object, Mapping[str, Any] | ValidationError]] = []
    for i, feat in enumerate(feats, start=1):
        if not isinstance(feat, dict):
            out.append(
                (
                    i,
                    ValidationError(
                        f"is not a GeoJSON Feature object (got {type(feat).__name__})",
                        source=source,
                        row=i,
                        field="feature",
                        fix="give each feature as an object with geometry and properties",
                    ),
                )
            )
            continue
        raw_props = feat.get("properties")
        if raw_props is not None and not isinstance(raw_props, dict):
            out.append(
                (
                    i,
                    ValidationError(
                        f"properties is a {type(raw_props).__name__}, not an object",
                        source=source,
                        row=i,
                        field="properties",
                        fix='give properties as an object, e.g. {"category": "C04"}',
                    ),
                )
            )
            continue
        props = dict(raw_props or {})
        try:
            geom = shape(feat["geometry"])
            fields = _geometry_fields(geom)
        except Exception:  # noqa: BLE001 - any malformed geometry is a row error
            out.append(
                (
                    i,
                    ValidationError(
                        "has no valid geometry",
                        source=source,
                        row=i,
                        field="geometry",
                        fix="give a Point, or a Polygon for a structure",
                    ),
                )
            )
            continue
        out.append((i, {**props, **fields}))
    return out


def _geometry_fields(geom: Any) -> dict[str, Any]:
    """lon/lat (and the footprint polygon) of a feature's geometry; empty ones give None."""
    if geom is None or geom.is_empty:
        return {"lon": None, "lat": None}
    if geom.geom_type == "Point":
        return {"lon": geom.x, "lat": geom.y}
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        if not np.isfinite(shapely.get_coordinates(geom)).all():
            return {"lon": None, "lat": None}
        if not geom.is_valid:
            return {"lon": None, "lat": None, "footprint_invalid": shapely.is_valid_reason(geom)}
        c = geom.representative_point()
        return {"lon": c.x, "lat": c.y, "footprint_src": geom}
    return {"lon": None, "lat": None}


def read_gpkg_records(
    path: Path, *, layer: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[tuple[object, Mapping[str, Any] | ValidationError]]:
    """Features of a GeoPackage layer as records (its CRS must be geographic).

    The file's bytes are read once (links refused, size checked first) and parsed from a
    private copy, so GDAL never opens the path it was given.
    """
    import tempfile

    import pyogrio
    from pyogrio.errors import (
        DataLayerError,
        DataSourceError,
        FeatureError,
        FieldError,
        GeometryError,
    )

    data = _read_limited(path, min(max_bytes, MAX_WHOLE_FILE_BYTES))
    try:
        with tempfile.TemporaryDirectory(prefix="patrol-gpkg-") as tmp:
            copy = Path(tmp) / "upload.gpkg"  # our own copy: GDAL opens no path it was given
            copy.write_bytes(data)
            with warnings.catch_warnings():
                # GDAL's notes on a damaged file come as warnings; the error below says it
                warnings.simplefilter("ignore", RuntimeWarning)
                gdf = pyogrio.read_dataframe(copy, layer=layer)
    except (DataSourceError, DataLayerError, FeatureError, FieldError, GeometryError) as exc:
        raise ValidationError(
            f"cannot be read as a GeoPackage: {exc}",
            source=Path(path).name,
            fix="export it again as GeoPackage (or as GeoJSON/CSV)",
        ) from None
    if gdf.crs is not None and not gdf.crs.is_geographic:
        gdf = gdf.to_crs(WGS84)
    out: list[tuple[object, Mapping[str, Any] | ValidationError]] = []
    cols = [c for c in gdf.columns if c != "geometry"]
    for i, (rec, geom) in enumerate(
        zip(gdf[cols].to_dict("records"), gdf.geometry, strict=True), start=1
    ):
        fields = _geometry_fields(geom)
        clean = {k: (None if isnan(v) or v is pd.NaT else v) for k, v in rec.items()}
        out.append((i, {**clean, **fields}))
    return out


def check_batch_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> int:
    """Refuse at once a batch file that cannot be imported; returns its size in bytes.

    Checks the type, that it is a regular file and not a link, and its size against
    ``max_bytes`` (and :data:`MAX_WHOLE_FILE_BYTES` for files parsed whole) without
    reading it, so a caller can say no before loading anything else.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".txt", ".geojson", ".json", ".gpkg"):
        raise ValidationError(
            f"unknown file type {suffix!r}", source=p.name, fix="use .csv, .geojson or .gpkg"
        )
    with _open_upload(p, max_bytes) as fh:
        size = os.fstat(fh.fileno()).st_size
    if suffix not in (".csv", ".txt") and size > MAX_WHOLE_FILE_BYTES:
        raise ValidationError(
            f"is {size / 1e6:.1f} MB; {suffix} files are read whole, at most "
            f"{MAX_WHOLE_FILE_BYTES / 1e6:.0f} MB",
            source=p.name,
            fix="convert it to CSV (which is streamed) or split it",
        )
    return size


def read_records(
    p: Path, *, encoding: str | None, max_bytes: int
) -> Iterable[tuple[object, Mapping[str, Any] | ValidationError]]:
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt"):
        return iter_csv_records(p, encoding=encoding, max_bytes=max_bytes)
    if suffix in (".geojson", ".json", ".gpkg"):
        check_batch_file(p, max_bytes=max_bytes)
        if suffix == ".gpkg":
            return read_gpkg_records(p, max_bytes=max_bytes)
        return read_geojson_records(p, max_bytes=max_bytes)
    raise ValidationError(
        f"unknown file type {suffix!r}", source=p.name, fix="use .csv, .geojson or .gpkg"
    )


def write_rejects(rejects: Sequence[tuple[ValidationError, Mapping[str, Any]]], path: Path) -> Path:
    """Write rejected rows with row, field, problem and fix (UTF-8 with BOM for Excel).

    Text cells that a spreadsheet would run as a formula are escaped (:mod:`gis.io.csvsafe`).
    """
    extra: list[str] = []
    for _, raw in rejects:
        for k in raw:
            if k not in extra and k not in ("footprint", "footprint_src"):
                extra.append(str(k))
    cols = ["row", "field", "problem", "fix", *extra]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        # the header comes from the uploaded file's column names: escape it like any cell
        w.writerow({c: safe_cell(c) for c in cols})
        for exc, raw in rejects:
            rec = {k: raw.get(k, "") for k in extra}
            rec.update(row=exc.row, field=exc.field or "", problem=exc.problem, fix=exc.fix or "")
            w.writerow({k: safe_cell(v) for k, v in rec.items()})
    return path


class RejectsSink:
    """Rejected rows for the message and the rejects CSV, in bounded memory.

    The first :attr:`BUFFER` rejects are kept to choose the CSV's columns; later ones are
    written straight through. Only the first three stay for the error message.
    """

    BUFFER = 1000

    def __init__(self, path: Path | None) -> None:
        self.path = Path(path) if path is not None else None
        self.count = 0
        self.first: list[ValidationError] = []
        self._buffer: list[tuple[ValidationError, Mapping[str, Any]]] = []
        self._fh: Any = None
        self._writer: Any = None
        self._extra: list[str] = []

    def add(self, exc: ValidationError, raw: Mapping[str, Any]) -> None:
        self.count += 1
        if len(self.first) < 3:
            self.first.append(exc)
        if self.path is None:
            return
        if self._writer is None:
            self._buffer.append((exc, raw))
            if len(self._buffer) >= self.BUFFER:
                self._open()
        else:
            self._write(exc, raw)

    def _open(self) -> None:
        assert self.path is not None
        for _, raw in self._buffer:
            for k in raw:
                if k not in self._extra and k not in ("footprint", "footprint_src"):
                    self._extra.append(str(k))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
        cols = ["row", "field", "problem", "fix", *self._extra]
        self._writer = csv.DictWriter(self._fh, fieldnames=cols, extrasaction="ignore")
        self._writer.writerow({c: safe_cell(c) for c in cols})
        for exc, raw in self._buffer:
            self._write(exc, raw)
        self._buffer = []

    def _write(self, exc: ValidationError, raw: Mapping[str, Any]) -> None:
        rec = {k: raw.get(k, "") for k in self._extra}
        rec.update(row=exc.row, field=exc.field or "", problem=exc.problem, fix=exc.fix or "")
        self._writer.writerow({k: safe_cell(v) for k, v in rec.items()})

    def close(self) -> None:
        if self.path is not None and self.count and self._writer is None:
            self._open()
        if self._fh is not None:
            self._fh.close()
