"""Immutable configuration read once from PATROL_* environment variables."""

from __future__ import annotations

import os
import site
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gis.errors import ValidationError

#: Where an installed wheel puts the bundled data, under its installation prefix.
_SHARE = Path("share") / "shichahai-patrol" / "data"


def _bundled_data_dir() -> Path:
    """The bundled data folder: ``data/`` beside ``gis/`` in a source checkout (or an
    editable install), else ``<prefix>/share/shichahai-patrol/data`` of an installed wheel
    (``sys.prefix`` for a venv or system install, the user base for ``pip install --user``).
    """
    checkout = Path(__file__).resolve().parent.parent / "data"
    candidates = [checkout]
    for prefix in (sys.prefix, sys.base_prefix, getattr(site, "USER_BASE", None) or ""):
        if prefix:
            candidates.append(Path(prefix) / _SHARE)
    for c in candidates:
        if (c / "categories.csv").is_file():
            return c
    return checkout


#: The bundled data folder (Shichahai geography, reference tables, demo staff).
BUNDLED_DATA_DIR = _bundled_data_dir()


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(raw)
    except ValueError:
        raise ValidationError(
            f"{raw!r} is not a number", source="environment", field=name, fix="set a number"
        ) from None
    if value <= 0:
        raise ValidationError(
            f"{value} must be positive",
            source="environment",
            field=name,
            fix="set a positive number",
        )
    return value


def _parse_shift_hours(text: str) -> Any:
    from gis.people.roster import parse_shift_hours

    return parse_shift_hours(text, source="PATROL_SHIFT_HOURS")


@dataclass(frozen=True)
class Settings:
    """Everything the library and app need to know about their environment.

    Build it with :meth:`from_env` and pass it explicitly; nothing reads the
    environment behind your back.
    """

    data_dir: Path = BUNDLED_DATA_DIR
    #: ``postgresql://…`` for PostGIS, otherwise a path to a GeoPackage file.
    database_url: str = str(Path("var") / "patrol.gpkg")
    walk_speed_kmh: float = 4.5
    basemap: str = "none"  # none | osm | tianditu
    tianditu_key: str = ""
    language: str = "zh"
    session_minutes: float = 480.0
    #: The subdistrict whose rows the store shows and writes (``*``: the district level,
    #: reads all); see docs/store.md. ``PATROL_SUBDISTRICT`` or ``patrol --subdistrict``.
    subdistrict: str = "shichahai"
    #: Largest uploaded or imported batch file (MB), checked before reading it.
    max_upload_mb: float = 20.0
    #: Duty-roster shift hours (``morning=07:00-12:00,...``; empty: the defaults), validated
    #: when read; :meth:`shift_hours_parsed` gives them as hours.
    shift_hours: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read ``PATROL_*`` variables (defaults for the bundled Shichahai demo)."""
        env = os.environ if env is None else env
        basemap = env.get("PATROL_BASEMAP", "none").strip().lower() or "none"
        if basemap not in {"none", "osm", "tianditu"}:
            raise ValidationError(
                f"unknown basemap {basemap!r}",
                source="environment",
                field="PATROL_BASEMAP",
                fix="use none, osm or tianditu",
            )
        language = env.get("PATROL_LANG", "zh").strip().lower() or "zh"
        if language not in {"zh", "en"}:
            raise ValidationError(
                f"unknown language {language!r}",
                source="environment",
                field="PATROL_LANG",
                fix="use zh or en",
            )
        data_dir = Path(env.get("PATROL_DATA_DIR") or BUNDLED_DATA_DIR)
        shift_hours = env.get("PATROL_SHIFT_HOURS", "").strip()
        _parse_shift_hours(shift_hours)
        return cls(
            data_dir=data_dir,
            database_url=env.get("PATROL_DATABASE_URL") or cls.database_url,
            walk_speed_kmh=_float(env, "PATROL_WALK_SPEED_KMH", cls.walk_speed_kmh),
            basemap=basemap,
            tianditu_key=env.get("PATROL_TIANDITU_KEY", ""),
            language=language,
            session_minutes=_float(env, "PATROL_SESSION_MINUTES", cls.session_minutes),
            subdistrict=(env.get("PATROL_SUBDISTRICT") or cls.subdistrict).strip(),
            max_upload_mb=_float(env, "PATROL_MAX_UPLOAD_MB", cls.max_upload_mb),
            shift_hours=shift_hours,
        )

    def shift_hours_parsed(self) -> Any:
        """The roster's :class:`~gis.people.roster.ShiftHours` from :attr:`shift_hours`."""
        return _parse_shift_hours(self.shift_hours)

    @property
    def uses_postgis(self) -> bool:
        """True when the production PostGIS store is configured."""
        return self.database_url.startswith(("postgresql://", "postgres://"))
