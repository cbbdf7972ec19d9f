"""Violation categories, departments, and the intake and validation of reports.

Intake turns what people send (a form, a CSV written by Excel, GeoJSON, a GeoPackage) into
:class:`Report` records: coordinates converted to WGS 84 with the source datum kept, times
made tz-aware (naive times are Beijing time), every bad value reported with its row, field
and the fix. A batch with any bad row is refused unless the caller keeps the good rows.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import hashlib
import io
import itertools
import json
import logging
import math
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import Point, Polygon, box, shape

from gis.cases.workflow import SOURCES, TIERS, Case, content_hash, tier_flags
from gis.errors import DatumError, NotFoundError, ValidationError
from gis.geography.crs import METRIC, WGS84, normalize_datum, to_wgs84
from gis.geography.network import SegmentIndex
from gis.io.csvsafe import safe_cell
from gis.io.uploads import check_size, open_upload, read_upload
from gis.localtime import LOCAL_TZ as TZ
from gis.localtime import parse_instant
from gis.settings import BUNDLED_DATA_DIR

log = logging.getLogger(__name__)

#: 什刹海街道 bounding box (WGS 84, from the OSM boundary), used when no geography is given.
SHICHAHAI_BBOX_WGS84 = (116.36575, 39.92085, 116.39301, 39.94754)
#: Points this far outside the area (metres) are still accepted (boundary streets).
AREA_MARGIN_M = 150.0
#: Default largest batch file accepted (bytes); pass ``max_bytes`` (``--max-mb``,
#: ``PATROL_MAX_UPLOAD_MB``) to change it. The size is checked before anything is read.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
#: GeoJSON and GeoPackage files are parsed whole; larger ones are refused at once (CSV
#: streams in bounded memory at any accepted size).
MAX_WHOLE_FILE_BYTES = 64 * 1024 * 1024
#: Rows validated and stored per chunk by :func:`import_batch` (bounds its memory).
IMPORT_CHUNK_ROWS = 20_000
#: Largest value of a category attribute (decibels, floors, tables, persons …).
MAX_ATTRIBUTE = 1_000_000
#: Longest report id and reporter name (characters).
MAX_ID = 128
#: Photo cells may name an uploaded file or an http(s) URL; the URL is recorded, never fetched.
PHOTO_URL_SCHEMES = ("http://", "https://")
#: Longest description kept (characters).
MAX_DESCRIPTION = 4000
#: Reports may be timestamped at most this far in the future (clock skew of phones).
FUTURE_TOLERANCE = dt.timedelta(minutes=10)
#: Earliest plausible report time.
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=TZ)
#: Median snap distance (m) above which a batch's coordinates are suspicious.
DATUM_SUSPECT_M = 25.0
#: A single point declared WGS 84 is refused when it lies farther than this from every
#: street (m) while its GCJ-02 reading lies within :data:`POINT_DATUM_NEAR_M` of one and
#: at most a quarter as far. On the bundled streets this catches about half of phone
#: (GCJ-02) points sent as WGS 84 (the others land near some street anyway) and spares
#: points on a street or in a courtyard; a lake report may need ``datum_checked``.
POINT_DATUM_FAR_M = 40.0
POINT_DATUM_NEAR_M = 15.0

_TO_METRIC = Transformer.from_crs(WGS84, METRIC, always_xy=True)
_TO_WGS84 = Transformer.from_crs(METRIC, WGS84, always_xy=True)

_SOURCE_ALIASES = {
    "patrol": "patrol",
    "巡查": "patrol",
    "巡查发现": "patrol",
    "video": "video",
    "视频": "video",
    "雪亮工程": "video",
    "complaint": "complaint",
    "投诉": "complaint",
    "群众投诉": "complaint",
    "hotline_12345": "hotline_12345",
    "12345": "hotline_12345",
    "hotline": "hotline_12345",
    "12345热线": "hotline_12345",
    "inspection": "inspection",
    "检查": "inspection",
    "督查": "inspection",
    "明察暗访": "inspection",
    "xicheng_dama": "xicheng_dama",
    "西城大妈": "xicheng_dama",
    "grid_worker": "grid_worker",
    "网格员": "grid_worker",
    "civility_team": "civility_team",
    "文明劝导队": "civility_team",
    "resident": "resident",
    "居民": "resident",
    "市民": "resident",
}
_COLUMN_ALIASES = {
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


# ---------------------------------------------------------------- reference tables


@dataclass(frozen=True)
class Department:
    """A member department (成员单位)."""

    code: str
    name_zh: str
    name_en: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Category:
    """One of the 29 problem categories: who leads, who helps, how long to fix."""

    code: str
    name_zh: str
    name_en: str
    default_tier: str
    lead_dept: str
    participating: tuple[str, ...]
    deadline_hours: float
    attributes: Mapping[str, str]  # attribute name -> "int" | "float"


@dataclass(frozen=True)
class References:
    """Categories and departments, validated against each other."""

    categories: Mapping[str, Category]
    departments: Mapping[str, Department]

    def category(self, value: str, *, source: str | None = None, row: object = None) -> Category:
        """Find a category by code (``C07``), Chinese or English name."""
        key = str(value).strip()
        if key.upper() in self.categories:
            return self.categories[key.upper()]
        for c in self.categories.values():
            if key in (c.name_zh, c.name_en) or key.lower() == c.name_en.lower():
                return c
        raise ValidationError(
            f"unknown category {value!r}",
            source=source,
            row=row,
            field="category",
            fix="use a code C01–C29 or a Chinese name from data/categories.csv (e.g. C07 噪声扰民)",
        )

    def department(self, value: str) -> Department:
        """Find a department by code, Chinese name or alias (``市场监管`` -> 工商)."""
        key = str(value).strip()
        if key in self.departments:
            return self.departments[key]
        for d in self.departments.values():
            if key in (d.name_zh, d.name_en):
                return d
        for d in self.departments.values():
            if key in d.aliases:
                return d
        raise NotFoundError(
            f"unknown department {value!r}: use a code or name from data/departments.csv"
        )


def _ref_path(data_dir: Path | None, name: str) -> Path:
    for base in (data_dir, BUNDLED_DATA_DIR):
        if base is not None and (Path(base) / name).is_file():
            return Path(base) / name
    raise NotFoundError(f"reference table {name} not found in {data_dir} or the bundled data")


def load_references(data_dir: Path | None = None) -> References:
    """Load and cross-check ``categories.csv`` and ``departments.csv``."""
    return _load_references(
        str(_ref_path(data_dir, "categories.csv")), str(_ref_path(data_dir, "departments.csv"))
    )


@lru_cache(maxsize=4)
def _load_references(cat_path: str, dept_path: str) -> References:
    depts: dict[str, Department] = {}
    with open(dept_path, encoding="utf-8-sig", newline="") as fh:
        for i, rec in enumerate(csv.DictReader(fh), start=2):
            code = (rec.get("code") or "").strip()
            if not code or code in depts:
                raise ValidationError(
                    f"missing or repeated code {code!r}", source=dept_path, row=i, field="code"
                )
            aliases = tuple(a for a in (rec.get("aliases") or "").split(";") if a)
            depts[code] = Department(code, rec["name_zh"], rec["name_en"], aliases)
    cats: dict[str, Category] = {}
    with open(cat_path, encoding="utf-8-sig", newline="") as fh:
        for i, rec in enumerate(csv.DictReader(fh), start=2):
            code = rec["code"].strip()
            if code in cats:
                raise ValidationError(f"repeated code {code}", source=cat_path, row=i)
            if rec["default_tier"] not in TIERS:
                raise ValidationError(
                    f"unknown tier {rec['default_tier']!r}",
                    source=cat_path,
                    row=i,
                    field="default_tier",
                    fix=f"use one of {TIERS}",
                )
            part = tuple(p for p in (rec.get("participating_depts") or "").split(";") if p)
            for d in (rec["lead_dept"], *part):
                if d not in depts:
                    raise ValidationError(
                        f"department {d!r} is not in departments.csv",
                        source=cat_path,
                        row=i,
                        field="lead_dept/participating_depts",
                    )
            attrs: dict[str, str] = {}
            for spec in (rec.get("attributes") or "").split(";"):
                if spec:
                    name, _, kind = spec.partition(":")
                    attrs[name] = kind or "float"
            cats[code] = Category(
                code=code,
                name_zh=rec["name_zh"],
                name_en=rec["name_en"],
                default_tier=rec["default_tier"],
                lead_dept=rec["lead_dept"],
                participating=part,
                deadline_hours=float(rec["deadline_hours"]),
                attributes=attrs,
            )
    return References(categories=cats, departments=depts)


# ---------------------------------------------------------------- reports


@dataclass(frozen=True)
class Report:
    """A validated violation report (WGS 84 point; footprint polygon for structures)."""

    report_id: str
    category: str
    lon: float
    lat: float
    reported_at: dt.datetime
    source: str = "patrol"
    reporter: str = ""
    description: str = ""
    source_datum: str = "wgs84"
    src_lon: float | None = None
    src_lat: float | None = None
    photo_sha256: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    footprint_wkb: bytes | None = None
    tier: str | None = None
    content_hash: str = ""
    segment_id: str | None = None
    zone_id: str | None = None
    front_id: str | None = None
    person_id: str | None = None
    snap_distance_m: float | None = None


@dataclass(frozen=True)
class IntakeResult:
    """Good reports and the rejected rows (each a ValidationError and the raw record)."""

    reports: list[Report]
    rejects: list[tuple[ValidationError, Mapping[str, Any]]]


def _num(value: Any, *, source: str | None, row: object, fld: str) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(
            "is missing", source=source, row=row, field=fld, fix=f"fill in {fld} (decimal degrees)"
        )
    try:
        x = float(str(value).strip())
    except ValueError:
        raise ValidationError(
            f"{value!r} is not a number",
            source=source,
            row=row,
            field=fld,
            fix="write decimal degrees such as 116.3853 (no ° or ′, no commas)",
        ) from None
    if not math.isfinite(x):
        raise ValidationError(f"{value!r} is not finite", source=source, row=row, field=fld)
    return x


def parse_time(
    value: Any,
    *,
    now: dt.datetime,
    source: str | None = None,
    row: object = None,
    field: str = "reported_at",
) -> dt.datetime:
    """Parse a report time; naive times are Beijing time; refuse future and impossible ones.

    ``field`` names the column or option the value came from in error messages.
    """
    t = parse_instant(value, source=source, row=row, field=field)
    if t > now + FUTURE_TOLERANCE:
        raise ValidationError(
            f"{t.isoformat()} is in the future (now {now.isoformat()})",
            source=source,
            row=row,
            field=field,
            fix="check the date and the phone's clock; times without offset are Beijing time",
        )
    if t < EARLIEST:
        raise ValidationError(
            f"{t.isoformat()} is before {EARLIEST.date()}",
            source=source,
            row=row,
            field=field,
            fix="check the year (Excel may have turned an empty cell into 1900-01-00)",
        )
    return t


def default_area() -> Polygon:
    """The Shichahai bounding box in EPSG:32650 (used when no geography is given)."""
    x0, y0 = _TO_METRIC.transform(SHICHAHAI_BBOX_WGS84[0], SHICHAHAI_BBOX_WGS84[1])
    x1, y1 = _TO_METRIC.transform(SHICHAHAI_BBOX_WGS84[2], SHICHAHAI_BBOX_WGS84[3])
    return box(x0, y0, x1, y1)


def area_from_segments(gdf_segments: gpd.GeoDataFrame, margin_m: float = AREA_MARGIN_M):
    """The acceptance area for a street set: its convex hull plus a margin (EPSG:32650)."""
    return shapely.convex_hull(shapely.union_all(gdf_segments.geometry.values)).buffer(margin_m)


def validate_record(
    raw: Mapping[str, Any],
    *,
    refs: References,
    now: dt.datetime,
    datum: str = "wgs84",
    area: Any = None,
    source: str | None = None,
    row: object = None,
    base_dir: Path | None = None,
    photos: Mapping[str, bytes] | None = None,
    gdf_segments: gpd.GeoDataFrame | None = None,
) -> Report:
    """Validate one raw report (a form or a file row) and return a :class:`Report`.

    ``raw`` keys may use the English or Chinese column names (经度, 纬度, 类别, …).
    Coordinates are in ``datum`` unless the record carries its own ``datum``.

    A ``photo`` is the photo's bytes, the name of a file in ``photos`` (files uploaded with
    the batch), or an http(s) URL that is recorded in the attributes and never fetched. A
    path on the server is never read (``base_dir`` is kept for compatibility and unused).
    With ``gdf_segments`` a single point declared WGS 84 that sits far from every street
    but on one when read as GCJ-02 is refused (:func:`check_point_datum`).
    """
    rec = {_COLUMN_ALIASES.get(str(k).strip().lower(), str(k).strip()): v for k, v in raw.items()}
    cat = refs.category(rec.get("category", ""), source=source, row=row)
    row_datum = rec.get("datum")
    if row_datum is None or _isnan(row_datum) or str(row_datum).strip() == "":
        row_datum = datum
    d = normalize_datum(row_datum, source=source, row=row)
    src_lon = _num(rec.get("lon"), source=source, row=row, fld="lon")
    src_lat = _num(rec.get("lat"), source=source, row=row, fld="lat")
    if 73 <= src_lat <= 136 and 3 <= src_lon <= 54:
        raise ValidationError(
            f"lon {src_lon} and lat {src_lat} look swapped",
            source=source,
            row=row,
            field="lon/lat",
            fix="swap the longitude and latitude columns (Beijing is lon ≈ 116.4, lat ≈ 39.9)",
        )
    if not (-180 <= src_lon <= 180 and -90 <= src_lat <= 90):
        raise ValidationError(
            f"({src_lon}, {src_lat}) is not a longitude/latitude",
            source=source,
            row=row,
            field="lon/lat",
            fix="give decimal degrees in WGS 84, GCJ-02 or BD-09, not projected metres",
        )
    lon_arr, lat_arr = to_wgs84([src_lon], [src_lat], d)
    lon, lat = float(lon_arr[0]), float(lat_arr[0])
    area = default_area() if area is None else area
    x, y = _TO_METRIC.transform(lon, lat)
    if not area.contains(Point(x, y)):
        dist = area.distance(Point(x, y))
        raise ValidationError(
            f"({src_lon}, {src_lat}) {d} lies {dist:.0f} m outside Shichahai",
            source=source,
            row=row,
            field="lon/lat",
            fix="check the point and its datum (--datum gcj02 for AMap/WeChat, bd09 for Baidu)",
        )
    if gdf_segments is not None and d == "wgs84":
        check_point_datum(src_lon, src_lat, gdf_segments, source=source, row=row)
    reported_at = parse_time(rec.get("reported_at"), now=now, source=source, row=row)
    src_raw = str(rec.get("source") or "patrol").strip()
    src = _SOURCE_ALIASES.get(src_raw.lower(), _SOURCE_ALIASES.get(src_raw))
    if src is None:
        raise ValidationError(
            f"unknown source {src_raw!r}",
            source=source,
            row=row,
            field="source",
            fix=f"use one of {', '.join(SOURCES)} (or 巡查/视频/投诉/12345/检查/西城大妈/网格员/文明劝导队/居民)",
        )
    tier = rec.get("tier")
    tier = str(tier).strip() if tier not in (None, "") else None
    if tier is not None and tier not in TIERS:
        raise ValidationError(
            f"unknown tier {tier!r}", source=source, row=row, field="tier", fix=f"use {TIERS}"
        )
    description = "" if rec.get("description") is None else str(rec["description"])
    if len(description) > MAX_DESCRIPTION or "\x00" in description:
        raise ValidationError(
            f"description is {len(description)} characters or contains NUL bytes",
            source=source,
            row=row,
            field="description",
            fix=f"shorten it to {MAX_DESCRIPTION} characters of plain text",
        )
    reporter = "" if rec.get("reporter") is None else str(rec["reporter"]).strip()
    _plain_text(reporter, "reporter", MAX_ID, source=source, row=row)
    attributes: dict[str, Any] = {}
    extra_attrs = rec.get("attributes")
    if isinstance(extra_attrs, str) and extra_attrs.strip():
        try:
            extra_attrs = json.loads(extra_attrs)
        except json.JSONDecodeError:
            raise ValidationError(
                "attributes is not JSON",
                source=source,
                row=row,
                field="attributes",
                fix='write {"db": 82}',
            ) from None
    merged = {**(extra_attrs if isinstance(extra_attrs, Mapping) else {}), **rec}
    for name, kind in cat.attributes.items():
        value = merged.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, float) and math.isnan(value):
            continue
        try:
            num = float(str(value).strip())
        except ValueError:
            raise ValidationError(
                f"{value!r} is not a number",
                source=source,
                row=row,
                field=name,
                fix=f"write {name} as a number for {cat.code} {cat.name_zh}",
            ) from None
        if (
            not math.isfinite(num)
            or num < 0
            or num > MAX_ATTRIBUTE
            or (kind == "int" and num != int(num))
        ):
            raise ValidationError(
                f"{value!r} is not a valid {kind}",
                source=source,
                row=row,
                field=name,
                fix=f"write {name} as a {'whole ' if kind == 'int' else ''}number from 0 to "
                f"{MAX_ATTRIBUTE:g}",
            )
        attributes[name] = int(num) if kind == "int" else num
    photo_hash, photo_url = _photo(rec.get("photo"), photos, source=source, row=row)
    if photo_url is not None:
        attributes["photo_url"] = photo_url
    footprint = rec.get("footprint")
    footprint_wkb = footprint if isinstance(footprint, bytes) else None
    digest = content_hash(
        [cat.code, round(src_lon, 6), round(src_lat, 6), d, reported_at.isoformat(), src, reporter]
        + [description]
    )
    rid = rec.get("report_id")
    rid = str(rid).strip() if rid not in (None, "") and not _isnan(rid) else f"R{digest[:16]}"
    _plain_text(rid, "report_id", MAX_ID, source=source, row=row)
    if not rid:
        raise ValidationError(
            "report id is blank", source=source, row=row, field="report_id", fix="leave it empty"
        )
    return Report(
        report_id=rid,
        category=cat.code,
        lon=lon,
        lat=lat,
        reported_at=reported_at,
        source=src,
        reporter=reporter,
        description=description,
        source_datum=d,
        src_lon=src_lon,
        src_lat=src_lat,
        photo_sha256=photo_hash,
        attributes=attributes,
        footprint_wkb=footprint_wkb,
        tier=tier,
        content_hash=digest,
    )


def _isnan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _plain_text(value: str, fld: str, limit: int, *, source: str | None, row: object) -> None:
    """Refuse control characters (NUL, line breaks) in ids and names, and overlong ones."""
    if len(value) > limit or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValidationError(
            f"{fld} is {len(value)} characters or contains control characters",
            source=source,
            row=row,
            field=fld,
            fix=f"use at most {limit} characters of plain text (no NUL, tab or line break)",
        )


def _photo(
    value: Any, photos: Mapping[str, bytes] | None, *, source: str | None, row: object
) -> tuple[str | None, str | None]:
    """(sha256 of the photo's bytes, URL) of a photo cell; never touches the server's files.

    Bytes are hashed; a name is looked up among the files uploaded with the batch; an
    http(s) URL is kept as text and never fetched. Anything else (an absolute or relative
    path, ``..``, ``file:``) is refused without looking at the file system, so the answer
    does not reveal whether such a file exists.
    """
    if value is None or value == "" or _isnan(value):
        return None, None
    if isinstance(value, bytes | bytearray | memoryview):
        return hashlib.sha256(bytes(value)).hexdigest(), None
    text = str(value).strip()
    if not text:
        return None, None
    if text.lower().startswith(PHOTO_URL_SCHEMES):
        if len(text) > 2000 or any(ord(ch) < 33 or ord(ch) == 127 for ch in text):
            raise ValidationError(
                "photo URL is too long or contains spaces or control characters",
                source=source,
                row=row,
                field="photo",
                fix="give a plain http(s) link of at most 2000 characters",
            )
        return None, text
    if photos and text in photos:
        return hashlib.sha256(bytes(photos[text])).hexdigest(), None
    raise ValidationError(
        f"photo {text[:80]!r} is neither an uploaded file nor an http(s) link",
        source=source,
        row=row,
        field="photo",
        fix="upload the photo with the batch (its file name in this column) or give an "
        "https:// link; paths on the server are never read",
    )


def validate_records(
    records: Iterable[tuple[object, Mapping[str, Any]]],
    *,
    refs: References,
    now: dt.datetime,
    datum: str = "wgs84",
    area: Any = None,
    source: str | None = None,
    base_dir: Path | None = None,
    photos: Mapping[str, bytes] | None = None,
) -> IntakeResult:
    """Validate ``(row, record)`` pairs; every problem becomes a reject, none is dropped."""
    good: list[Report] = []
    rejects: list[tuple[ValidationError, Mapping[str, Any]]] = []
    first_row: dict[str, object] = {}
    for row, raw in records:
        if isinstance(raw, ValidationError):
            rejects.append((raw, {}))
            continue
        try:
            rep = validate_record(
                raw,
                refs=refs,
                now=now,
                datum=datum,
                area=area,
                source=source,
                row=row,
                photos=photos,
            )
            if rep.report_id in first_row:
                raise ValidationError(
                    f"duplicate report id {rep.report_id!r} (first on row {first_row[rep.report_id]})",
                    source=source,
                    row=row,
                    field="report_id",
                    fix="give each report its own id, or remove the repeated row",
                )
            first_row[rep.report_id] = row
            good.append(rep)
        except ValidationError as exc:
            rejects.append((exc, raw))
    return IntakeResult(good, rejects)


# ---------------------------------------------------------------- batch files


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


def iter_csv_records(
    path: Path, *, encoding: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Iterator[tuple[object, Mapping[str, Any] | ValidationError]]:
    """Rows of a CSV keyed by header, read in bounded memory; malformed rows as errors.

    The file (UTF-8, UTF-8 with BOM or GBK) is opened by :func:`_open_upload` (size checked
    first, links refused), its encoding checked in one streaming pass, then parsed row by
    row. Errors never quote the file's content beyond the offending field names.
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
        names = [_COLUMN_ALIASES.get(h.strip().lower(), h.strip()) for h in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        if missing:
            raise ValidationError(
                f"lacks columns {missing} (the first row has {len(header)} column(s), none "
                "of them named so)",
                source=source,
                row=1,
                fix="name the columns category, lon, lat, reported_at (or 类别, 经度, 纬度, 上报时间)",
            )
        while True:
            line = reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                yield (
                    line,
                    ValidationError(
                        f"malformed CSV: {exc}",
                        source=source,
                        row=line,
                        fix="close the quotes; quote fields that contain commas or line breaks",
                    ),
                )
                break
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(names):
                yield (
                    line,
                    ValidationError(
                        f"has {len(fields)} fields, the header has {len(names)}",
                        source=source,
                        row=line,
                        fix="quote fields that contain commas; remove stray separators",
                    ),
                )
                continue
            yield (line, dict(zip(names, fields, strict=True)))
    finally:
        fh.close()


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
        clean = {k: (None if _isnan(v) or v is pd.NaT else v) for k, v in rec.items()}
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


def _records(
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
    records = list(_records(p, encoding=encoding, max_bytes=max_bytes))
    if gdf_segments is not None and normalize_datum(datum) == "wgs84":
        # before the area check: a shifted file would otherwise show up as "outside" rows
        lon, lat = _raw_lonlat(records)
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
    )
    return result


def _with_footprints(records, datum, *, source: str | None = None):
    for row, rec in records:
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


class _RejectsSink:
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


def _id_keys(ids: Sequence[str]) -> np.ndarray:
    """64-bit keys of report ids (for duplicate detection in bounded memory)."""
    return np.array(
        [int.from_bytes(hashlib.blake2b(i.encode("utf-8"), digest_size=8).digest()) for i in ids],
        dtype=np.uint64,
    )


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
    records = iter(_records(p, encoding=encoding, max_bytes=max_bytes))
    area = area_from_segments(gdf_segments) if gdf_segments is not None else None
    sink = _RejectsSink(rejects_path)
    seen = np.empty(0, dtype=np.uint64)
    counts = {"rows": 0}

    def chunks() -> Iterator[list[Case]]:
        nonlocal seen
        first = True
        while True:
            part = list(itertools.islice(records, chunk_rows))
            if not part:
                break
            if first and gdf_segments is not None and normalize_datum(datum) == "wgs84":
                lon, lat = _raw_lonlat(part)
                check_datum_lonlat(lon, lat, gdf_segments, source=source)
            first = False
            counts["rows"] += len(part)
            good: list[Report] = []
            rows: list[object] = []
            for row, raw in _with_footprints(part, datum, source=source):
                if isinstance(raw, ValidationError):
                    sink.add(raw, {})
                    continue
                try:
                    good.append(
                        validate_record(
                            raw,
                            refs=refs,
                            now=now,
                            datum=datum,
                            area=area,
                            source=source,
                            row=row,
                            photos=photos,
                        )
                    )
                    rows.append(row)
                except ValidationError as exc:
                    sink.add(exc, raw)
            keys = _id_keys([r.report_id for r in good])
            _, first_idx = np.unique(keys, return_index=True)
            fresh = np.zeros(len(keys), dtype=bool)
            fresh[first_idx] = True
            if len(seen):
                pos = np.clip(np.searchsorted(seen, keys), 0, len(seen) - 1)
                fresh &= seen[pos] != keys
            kept: list[Report] = []
            for rep, ok, row in zip(good, fresh, rows, strict=True):
                if ok:
                    kept.append(rep)
                    continue
                sink.add(
                    ValidationError(
                        f"duplicate report id {rep.report_id!r} (repeats an earlier row)",
                        source=source,
                        row=row,
                        field="report_id",
                        fix="give each report its own id, or remove the repeated row",
                    ),
                    {"report_id": rep.report_id},
                )
            seen = np.union1d(seen, keys)
            if progress is not None:
                progress(counts["rows"])
            if sink.count and not keep_good:
                continue  # keep validating for the full list of rejects; store nothing
            if gdf_segments is not None and kept:
                kept = locate_reports(
                    kept, gdf_segments, gdf_zones=gdf_zones, assignment=assignment
                )
            yield [case_from_report(r, refs, received_by=received_by, at=now) for r in kept]
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
        added, skipped = store.add_cases_stream(chunks())
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


# ---------------------------------------------------------------- datum check and snapping


def _metric_points(reports: Sequence[Report]) -> np.ndarray:
    lon = np.array([r.lon for r in reports], dtype=float)
    lat = np.array([r.lat for r in reports], dtype=float)
    x, y = _TO_METRIC.transform(lon, lat)
    return shapely.points(np.column_stack([x, y]))


def _median_snap(points: np.ndarray, gdf_segments: gpd.GeoDataFrame) -> float:
    tree = shapely.STRtree(gdf_segments.geometry.values)
    _, dist = tree.query_nearest(points, return_distance=True)
    return float(np.median(dist)) if len(dist) else 0.0


def check_datum(
    reports: Sequence[Report],
    gdf_segments: gpd.GeoDataFrame,
    *,
    source: str | None = None,
    min_points: int = 5,
) -> dict[str, float]:
    """Detect a batch declared WGS 84 that is really GCJ-02 (or BD-09).

    GCJ-02 shifts Shichahai about 530 m east and 150 m north, so such points sit a
    systematic distance from the streets; read as GCJ-02 they fall back onto them. Raises
    :class:`DatumError` when the median snap distance as declared exceeds
    :data:`DATUM_SUSPECT_M` and reading the batch as another datum more than halves it.
    Returns the median snap distance (m) per datum tried (empty when too few points).
    """
    wgs = [r for r in reports if r.source_datum == "wgs84"]
    return check_datum_lonlat(
        np.array([r.lon for r in wgs], dtype=float),
        np.array([r.lat for r in wgs], dtype=float),
        gdf_segments,
        source=source,
        min_points=min_points,
    )


def check_datum_lonlat(
    lon: np.ndarray,
    lat: np.ndarray,
    gdf_segments: gpd.GeoDataFrame,
    *,
    source: str | None = None,
    min_points: int = 5,
) -> dict[str, float]:
    """:func:`check_datum` on coordinate arrays declared WGS 84."""
    ok = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = lon[ok], lat[ok]
    if len(lon) < min_points:
        return {}
    x, y = _TO_METRIC.transform(lon, lat)
    medians = {"wgs84": _median_snap(shapely.points(np.column_stack([x, y])), gdf_segments)}
    for d in ("gcj02", "bd09"):
        clon, clat = to_wgs84(lon, lat, d)
        x, y = _TO_METRIC.transform(clon, clat)
        medians[d] = _median_snap(shapely.points(np.column_stack([x, y])), gdf_segments)
    best = min(medians, key=lambda k: medians[k])
    if (
        medians["wgs84"] > DATUM_SUSPECT_M
        and best != "wgs84"
        and medians[best] < 0.5 * medians["wgs84"]
    ):
        raise DatumError(
            f"the points declared WGS 84 sit a median {medians['wgs84']:.0f} m from the streets; "
            f"read as {best.upper()} they sit {medians[best]:.0f} m away",
            source=source,
            field="datum",
            fix=f"the file is probably {best.upper()} (phone map apps): import it with --datum {best}",
        )
    return medians


def check_point_datum(
    lon: float,
    lat: float,
    gdf_segments: gpd.GeoDataFrame,
    *,
    source: str | None = None,
    row: object = None,
) -> tuple[float, float]:
    """Refuse one point declared WGS 84 that is really GCJ-02 (phone map apps).

    The batch check (:func:`check_datum`) needs several points; for one point compare its
    distance to the street network read as WGS 84 and read as GCJ-02. Returns both
    distances (m); raises :class:`DatumError` when the WGS 84 reading is far from every
    street and the GCJ-02 reading is on one (see :data:`POINT_DATUM_FAR_M`).
    """
    if gdf_segments is None or not len(gdf_segments):
        return (math.nan, math.nan)
    tree = shapely.STRtree(gdf_segments.geometry.values)
    glon, glat = to_wgs84(np.array([lon]), np.array([lat]), "gcj02")
    xs, ys = _TO_METRIC.transform(np.array([lon, glon[0]]), np.array([lat, glat[0]]))
    _, dist = tree.query_nearest(
        shapely.points(np.column_stack([xs, ys])), return_distance=True, all_matches=False
    )
    d_wgs, d_gcj = float(dist[0]), float(dist[1])
    if d_wgs > POINT_DATUM_FAR_M and d_gcj <= POINT_DATUM_NEAR_M and d_gcj <= 0.25 * d_wgs:
        raise DatumError(
            f"({lon}, {lat}) declared WGS 84 lies {d_wgs:.0f} m from the nearest street; "
            f"read as GCJ-02 it lies {d_gcj:.0f} m from one",
            source=source,
            row=row,
            field="datum",
            fix="phone map apps (AMap, WeChat) give GCJ-02: send it with --datum gcj02; if "
            "the point really is away from the streets (a courtyard, the lake), confirm the "
            "datum (--datum-checked)",
        )
    return d_wgs, d_gcj


def _raw_lonlat(records: Sequence[tuple[object, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Numeric lon/lat of the records that have them and declare no datum of their own."""
    lons, lats = [], []
    for _, rec in records:
        if not isinstance(rec, Mapping):
            continue
        r = {_COLUMN_ALIASES.get(str(k).strip().lower(), str(k).strip()): v for k, v in rec.items()}
        if r.get("datum") not in (None, "") and not _isnan(r.get("datum")):
            continue
        try:
            lons.append(float(str(r.get("lon")).strip()))
            lats.append(float(str(r.get("lat")).strip()))
        except ValueError:
            continue
    return np.array(lons, dtype=float), np.array(lats, dtype=float)


def locate_reports(
    reports: Sequence[Report],
    gdf_segments: gpd.GeoDataFrame,
    *,
    gdf_zones: gpd.GeoDataFrame | None = None,
    assignment: Mapping[str, str] | pd.DataFrame | None = None,
    max_distance_m: float = 200.0,
) -> list[Report]:
    """Snap each report to its street segment, zone, front and responsible person.

    The zone and front come from the segment; a segment without a zone (main-street
    fronts) takes the zone polygon containing the point when ``gdf_zones`` is given.
    ``assignment`` maps segment_id -> person_id (a dict, or a frame with both columns,
    as the districts work produces).
    """
    if not reports:
        return []
    pts = gpd.GeoSeries(_metric_points(reports), crs=METRIC)
    snaps = SegmentIndex(gdf_segments).snap_many(pts, max_distance_m=max_distance_m)
    if isinstance(assignment, pd.DataFrame):
        assignment = dict(zip(assignment["segment_id"], assignment["person_id"], strict=True))
    zone_of_point: list[str | None] = [None] * len(reports)
    if gdf_zones is not None and len(gdf_zones):
        joined = gpd.sjoin(
            gpd.GeoDataFrame(geometry=pts, crs=METRIC),
            gdf_zones[["zone_id", "geometry"]],
            how="left",
            predicate="within",
        )
        joined = joined[~joined.index.duplicated()]
        zone_of_point = [None if pd.isna(z) else str(z) for z in joined["zone_id"]]

    # plain lists and dicts: per-row pandas indexing costs more than the snapping itself
    def _text(v: Any) -> str | None:
        return None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)

    seg_ids = [str(s) for s in gdf_segments["segment_id"]]
    zone_of_seg = dict(
        zip(
            seg_ids,
            (_text(v) for v in gdf_segments.get("zone_id", pd.Series([None] * len(seg_ids)))),
            strict=True,
        )
    )
    front_of_seg = dict(
        zip(
            seg_ids,
            (_text(v) for v in gdf_segments.get("front_id", pd.Series([None] * len(seg_ids)))),
            strict=True,
        )
    )
    snap_seg = snaps["segment_id"].tolist()
    snap_within = snaps["within"].tolist()
    snap_dist = snaps["distance_m"].tolist()
    out = []
    for i, r in enumerate(reports):
        seg_id = str(snap_seg[i]) if bool(snap_within[i]) else None
        zone = front = None
        if seg_id is not None:
            zone = zone_of_seg.get(seg_id)
            front = front_of_seg.get(seg_id)
        zone = zone or zone_of_point[i]
        person = assignment.get(seg_id) if (assignment and seg_id) else None
        out.append(
            dataclasses.replace(
                r,
                segment_id=seg_id,
                zone_id=zone,
                front_id=front,
                person_id=person,
                snap_distance_m=float(snap_dist[i]),
            )
        )
    return out


def case_from_report(
    report: Report, refs: References, *, received_by: str, at: dt.datetime | None = None
) -> Case:
    """Open a case for a report: lead and participating departments from the category,
    the tier's plan flags, and the first receiver as owner (首问负责)."""
    cat = refs.categories[report.category]
    tier = report.tier or cat.default_tier
    return Case(
        case_id=report.report_id,
        category=cat.code,
        tier=tier,
        state="reported",
        source=report.source,
        reported_at=report.reported_at,
        lon=report.lon,
        lat=report.lat,
        lead_dept=cat.lead_dept,
        owner=received_by or report.reporter or "unknown",
        depts=cat.participating,
        zone_id=report.zone_id,
        front_id=report.front_id,
        segment_id=report.segment_id,
        person_id=report.person_id,
        description=report.description,
        reporter=report.reporter,
        source_datum=report.source_datum,
        src_lon=report.src_lon,
        src_lat=report.src_lat,
        photo_sha256=report.photo_sha256,
        content_hash=report.content_hash,
        footprint_wkb=report.footprint_wkb,
        attributes=dict(report.attributes),
        flags=tier_flags(tier),
        deadline_hours=cat.deadline_hours,
        version=1,
        updated_by=received_by,
        updated_at=at or report.reported_at,
    )
