"""Take in one report: validate, check it lies in the boundary, snap it, give it a person, store it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gis.services.districts import saved_districts

if TYPE_CHECKING:
    from gis.cases.intake import References, Report
    from gis.geography.layers import Geography


@dataclass(frozen=True)
class Intake:
    """The stored (or already known) report and whether this call added it."""

    report: Report
    added: bool
    case_id: str


def take_in_report(
    geo: Geography | None,
    store: Any,
    raw: Mapping[str, Any],
    *,
    refs: References,
    now: dt.datetime,
    received_by: str,
    datum: str = "wgs84",
    source: str | None = None,
    assignment: Mapping[str, str] | None = None,
    datum_check: bool = True,
) -> Intake:
    """Validate ``raw`` (a form or command line), locate it and store it as a case.

    The acceptance area is the geography's boundary polygon, the same in every front end;
    distances (outside the boundary, to the street) are measured in the geography's own
    metric CRS, so they are true wherever it lies. The report is snapped to its
    street, zone and front, and gets the responsible person of ``assignment`` — by default
    the districts saved with the data (:func:`gis.services.saved_districts`). Without a
    geography (a store-only installation) the library's default area applies and the
    report is stored unsnapped. With ``datum_check`` a single point declared WGS 84 that
    lies far from every street but on one when read as GCJ-02 is refused.
    """
    from gis.cases.intake import locate_reports, validate_record

    if geo is None:
        report = validate_record(raw, refs=refs, now=now, datum=datum, source=source)
        result = store.add_reports([report], received_by=received_by, at=now)
        added = bool(result.added)
        return Intake(report, added, str(result.added[0]) if added else str(report.report_id))
    # measured in the geography's own metric CRS, so distances are true wherever it lies
    segments = geo.segments
    names = geo.boundary.get("name")
    area_name = str(names.iloc[0]) if names is not None and len(names) and names.iloc[0] else None
    report = validate_record(
        raw,
        refs=refs,
        now=now,
        datum=datum,
        area=geo.boundary.union_all(),
        source=source,
        gdf_segments=segments if datum_check else None,
        crs=geo.crs,
        area_name=area_name,
    )
    if assignment is None:
        assignment = saved_districts(store)
    report = locate_reports(
        [report],
        segments,
        gdf_zones=geo.zones,
        assignment=dict(assignment) or None,
    )[0]
    result = store.add_reports([report], received_by=received_by, at=now)
    added = bool(result.added)
    case_id = str(result.added[0]) if added else str(report.report_id)
    return Intake(report=report, added=added, case_id=case_id)
