"""Take in one report: validate, check it lies in the boundary, snap it, give it a person, store it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gis.geography.place import acceptance_area
from gis.services.districts import saved_districts

if TYPE_CHECKING:
    from gis.cases.categories import References
    from gis.cases.intake import Report
    from gis.geography.layers import Geography


@dataclass(frozen=True)
class Intake:
    """The report, whether this call added it, and the id of the stored case.

    ``case_id`` is the case that holds the report: the new one, or the one already stored
    with the same id or the same content (whose id may differ from ``report.report_id``).
    """

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
    from gis.cases.intake import validate_record
    from gis.cases.snapping import locate_reports

    if geo is None:
        report = validate_record(raw, refs=refs, now=now, datum=datum, source=source)
        return _store(store, report, received_by=received_by, now=now)
    # measured in the geography's own metric CRS, so distances are true wherever it lies
    segments = geo.segments
    names = geo.boundary.get("name")
    area_name = str(names.iloc[0]) if names is not None and len(names) and names.iloc[0] else None
    report = validate_record(
        raw,
        refs=refs,
        now=now,
        datum=datum,
        area=acceptance_area(geo),
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
    return _store(store, report, received_by=received_by, now=now)


def _store(store: Any, report: Report, *, received_by: str, now: dt.datetime) -> Intake:
    """Store the report; a report already stored (same id or same content under another
    id) answers with the id of the stored case, which is the one that exists."""
    result = store.add_reports([report], received_by=received_by, at=now)
    if result.added:
        return Intake(report=report, added=True, case_id=str(result.added[0]))
    stored = result.stored_as.get(report.report_id, report.report_id)
    return Intake(report=report, added=False, case_id=str(stored))
