"""The intake and validation of reports: one record (a form, a file row) becomes a Report.

Intake turns what people send into :class:`Report` records: coordinates converted to WGS 84
with the source datum kept, times made tz-aware (naive times are Beijing time), every bad
value reported with its row, field and the fix. Reference tables live in
:mod:`gis.cases.categories`, file readers in :mod:`gis.io.intake_files`, snapping in
:mod:`gis.cases.snapping` and whole batches in :mod:`gis.cases.batch`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from pyproj import Transformer
from shapely.geometry import Point, Polygon, box

from gis.cases.categories import References
from gis.cases.snapping import check_point_datum, intake_crs, to_crs
from gis.cases.workflow import SOURCES, TIERS, Case, content_hash, tier_flags
from gis.errors import ValidationError
from gis.geography.crs import METRIC, WGS84, normalize_datum, to_wgs84
from gis.io.intake_files import canonical_column, isnan
from gis.localtime import LOCAL_TZ as TZ
from gis.localtime import parse_instant

#: 什刹海街道 bounding box (WGS 84, from the OSM boundary), used when no geography is given.
SHICHAHAI_BBOX_WGS84 = (116.36575, 39.92085, 116.39301, 39.94754)
#: Points this far outside the area (metres) are still accepted (boundary streets).
AREA_MARGIN_M = 150.0
#: Rows validated and stored per chunk by :func:`gis.cases.batch.import_batch`.
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

_TO_METRIC = Transformer.from_crs(WGS84, METRIC, always_xy=True)

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


def _number(value: Any, *, source: str | None, row: object, fld: str, fix: str) -> float:
    """A cell as a number; ``fix`` says how to write it when it is not one."""
    try:
        return float(str(value).strip())
    except ValueError:
        raise ValidationError(
            f"{value!r} is not a number", source=source, row=row, field=fld, fix=fix
        ) from None


def _num(value: Any, *, source: str | None, row: object, fld: str) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(
            "is missing", source=source, row=row, field=fld, fix=f"fill in {fld} (decimal degrees)"
        )
    fix = "write decimal degrees such as 116.3853 (no ° or ′, no commas)"
    x = _number(value, source=source, row=row, fld=fld, fix=fix)
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
    """The acceptance area for a street set: its convex hull plus a margin (segments' CRS)."""
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
    crs: str | None = None,
    area_name: str | None = None,
) -> Report:
    """Validate one raw report (a form or a file row) and return a :class:`Report`.

    ``raw`` keys may use the English or Chinese column names (经度, 纬度, 类别, …).
    Coordinates are in ``datum`` unless the record carries its own ``datum``.

    A ``photo`` is the photo's bytes, the name of a file in ``photos`` (files uploaded with
    the batch), or an http(s) URL that is recorded in the attributes and never fetched. A
    path on the server is never read (``base_dir`` is kept for compatibility and unused).
    With ``gdf_segments`` a single point declared WGS 84 that sits far from every street
    but on one when read as GCJ-02 is refused (:func:`check_point_datum`).

    ``area`` (a polygon) and ``gdf_segments`` are in the metric CRS ``crs`` — by default
    the segments' own CRS, else :data:`METRIC` with the Shichahai :func:`default_area` —
    so the distance outside the area is measured true wherever the geography lies.
    ``area_name`` names the area in the message.
    """
    refuse = functools.partial(ValidationError, source=source, row=row)  # every refusal names them
    rec = {canonical_column(k): v for k, v in raw.items()}
    cat = refs.category(rec.get("category", ""), source=source, row=row)
    row_datum = rec.get("datum")
    if row_datum is None or isnan(row_datum) or str(row_datum).strip() == "":
        row_datum = datum
    d = normalize_datum(row_datum, source=source, row=row)
    src_lon = _num(rec.get("lon"), source=source, row=row, fld="lon")
    src_lat = _num(rec.get("lat"), source=source, row=row, fld="lat")
    if 73 <= src_lat <= 136 and 3 <= src_lon <= 54:
        raise refuse(
            f"lon {src_lon} and lat {src_lat} look swapped",
            field="lon/lat",
            fix="swap the longitude and latitude columns (Beijing is lon ≈ 116.4, lat ≈ 39.9)",
        )
    if not (-180 <= src_lon <= 180 and -90 <= src_lat <= 90):
        raise refuse(
            f"({src_lon}, {src_lat}) is not a longitude/latitude",
            field="lon/lat",
            fix="give decimal degrees in WGS 84, GCJ-02 or BD-09, not projected metres",
        )
    lon_arr, lat_arr = to_wgs84([src_lon], [src_lat], d)
    lon, lat = float(lon_arr[0]), float(lat_arr[0])
    if area is None:
        area, crs, area_name = default_area(), METRIC, area_name or "Shichahai"
    x, y = to_crs(intake_crs(gdf_segments, crs)).transform(lon, lat)
    if not area.contains(Point(x, y)):
        dist = area.distance(Point(x, y))
        raise refuse(
            f"({src_lon}, {src_lat}) {d} lies {dist:.0f} m outside {area_name or 'the area'}",
            field="lon/lat",
            fix="check the point and its datum (--datum gcj02 for AMap/WeChat, bd09 for Baidu)",
        )
    if gdf_segments is not None and d == "wgs84":
        check_point_datum(src_lon, src_lat, gdf_segments, source=source, row=row)
    reported_at = parse_time(rec.get("reported_at"), now=now, source=source, row=row)
    src_raw = str(rec.get("source") or "patrol").strip()
    src = _SOURCE_ALIASES.get(src_raw.lower(), _SOURCE_ALIASES.get(src_raw))
    if src is None:
        raise refuse(
            f"unknown source {src_raw!r}",
            field="source",
            fix=f"use one of {', '.join(SOURCES)} (or 巡查/视频/投诉/12345/检查/西城大妈/网格员/文明劝导队/居民)",
        )
    tier = rec.get("tier")
    tier = str(tier).strip() if tier not in (None, "") else None
    if tier is not None and tier not in TIERS:
        raise refuse(f"unknown tier {tier!r}", field="tier", fix=f"use {TIERS}")
    description = "" if rec.get("description") is None else str(rec["description"])
    if len(description) > MAX_DESCRIPTION or "\x00" in description:
        raise refuse(
            f"description is {len(description)} characters or contains NUL bytes",
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
            raise refuse(
                "attributes is not JSON",
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
        fix = f"write {name} as a number for {cat.code} {cat.name_zh}"
        num = _number(value, source=source, row=row, fld=name, fix=fix)
        if (
            not math.isfinite(num)
            or num < 0
            or num > MAX_ATTRIBUTE
            or (kind == "int" and num != int(num))
        ):
            raise refuse(
                f"{value!r} is not a valid {kind}",
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
    rid = str(rid).strip() if rid not in (None, "") and not isnan(rid) else f"R{digest[:16]}"
    _plain_text(rid, "report_id", MAX_ID, source=source, row=row)
    if not rid:
        raise refuse("report id is blank", field="report_id", fix="leave it empty")
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
    if value is None or value == "" or isnan(value):
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
    crs: str | None = None,
) -> IntakeResult:
    """Validate ``(row, record)`` pairs; every problem becomes a reject, none is dropped.

    ``area`` is in the metric CRS ``crs`` (see :func:`validate_record`).
    """
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
                crs=crs,
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
