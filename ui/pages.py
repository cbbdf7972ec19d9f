"""The page functions by url path (navigation order lives in gis.access.authorization.PAGES)."""

from __future__ import annotations

from collections.abc import Callable

from ui.cases import cases_page
from ui.coordination import coordination_page
from ui.crowd import crowd_page
from ui.districts import districts_page
from ui.hotspots import hotspots_page
from ui.myday import myday_page
from ui.overview import overview_page
from ui.patrol import patrol_page
from ui.report import report_page
from ui.staff import staff_page
from ui.team import team_page
from ui.users import users_page

PAGE_FUNCTIONS: dict[str, Callable[[], None]] = {
    "overview": overview_page,
    "districts": districts_page,
    "patrol": patrol_page,
    "cases": cases_page,
    "hotspots": hotspots_page,
    "crowd": crowd_page,
    "users": users_page,
    "myday": myday_page,
    "team": team_page,
    "staff": staff_page,
    "coordination": coordination_page,
    "report": report_page,
}
PAGE_ICONS: dict[str, str] = {
    "overview": ":material/map:",
    "districts": ":material/grid_view:",
    "patrol": ":material/directions_walk:",
    "cases": ":material/report:",
    "hotspots": ":material/local_fire_department:",
    "crowd": ":material/groups:",
    "users": ":material/group:",
    "myday": ":material/today:",
    "team": ":material/event_available:",
    "staff": ":material/badge:",
    "coordination": ":material/campaign:",
    "report": ":material/photo_camera:",
}
