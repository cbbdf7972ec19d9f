"""Services: the one place where the library is wired together for a user's request.

The ``patrol`` command and the app call these functions and contain no orchestration of
their own, so the same request gives the same answer in both front ends:

* :func:`plan_patrol` — which streets, from where, and by which method a patrol walks;
* :func:`take_in_report` — a report checked against the boundary polygon, snapped to its
  street and given the responsible person of the saved districts, then stored;
* :func:`save_districts` / :func:`saved_districts` — the district assignment kept with the
  data, which intake and reports read;
* :func:`produce_report` — the periodic report's KPIs and printable HTML;
* :func:`hotspot_layer` — density, Gi* or forecast of a window, in the geography's CRS.
"""

from __future__ import annotations

from gis.services.districts import ASSIGNMENT_META, save_districts, saved_districts
from gis.services.hotspots import HotspotRequest, hotspot_layer
from gis.services.intake import Intake, take_in_report
from gis.services.patrol import (
    CENTER_KIND,
    PatrolPlan,
    PatrolRequest,
    forecast_weights,
    plan_patrol,
    resolve_place,
)
from gis.services.reports import ProducedReport, ReportRequest, produce_report

__all__ = [
    "ASSIGNMENT_META",
    "CENTER_KIND",
    "HotspotRequest",
    "Intake",
    "PatrolPlan",
    "PatrolRequest",
    "ProducedReport",
    "ReportRequest",
    "forecast_weights",
    "hotspot_layer",
    "plan_patrol",
    "produce_report",
    "resolve_place",
    "save_districts",
    "saved_districts",
    "take_in_report",
]
