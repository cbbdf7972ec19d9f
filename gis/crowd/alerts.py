"""Alerts: raised when the forecast crosses a level, with lead time; acknowledge or escalate."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.crowd.places import LEVEL_CODES, Levels, level_rank
from gis.errors import TransitionError, ValidationError
from gis.localtime import LOCAL_TZ as TZ

ALERT_STATES: tuple[str, ...] = ("open", "acknowledged", "escalated")
#: Levels that raise an alert (blue only colours the map).
ALERT_LEVELS: tuple[str, ...] = ("yellow", "orange", "red")
#: A place's alerts within this window count as one episode: only a higher level raises again.
EPISODE = dt.timedelta(hours=3)
ESCALATION_TIERS: tuple[str, ...] = ("major", "emergency")
ALERT_COLUMNS: tuple[str, ...] = (
    "alert_id",
    "place_id",
    "level",
    "raised_at",
    "expected_at",
    "lead_min",
    "occupancy",
    "forecast_peak",
    "capacity",
    "state",
    "acted_by",
    "acted_at",
    "case_id",
    "detail",
    "version",
)


@dataclass(frozen=True)
class Alert:
    """One crowd alert at a place.

    ``expected_at`` is when the forecast reaches the level (``raised_at`` when it already
    has); ``lead_min`` is the time between them. ``detail`` holds the forecast curve and the
    nearest staff at raising time.
    """

    alert_id: str
    place_id: str
    level: str
    raised_at: dt.datetime
    expected_at: dt.datetime
    lead_min: float
    occupancy: float
    forecast_peak: float
    capacity: int
    state: str = "open"
    acted_by: str = ""
    acted_at: dt.datetime | None = None
    case_id: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    version: int = 1

    def __post_init__(self) -> None:
        if self.level not in LEVEL_CODES[1:]:
            raise ValidationError(f"unknown alert level {self.level!r}", field="level")
        if self.state not in ALERT_STATES:
            raise ValidationError(f"unknown alert state {self.state!r}", field="state")

    def record(self) -> dict[str, Any]:
        """Column values for a store (``detail`` as JSON text)."""
        rec = {c: getattr(self, c) for c in ALERT_COLUMNS}
        rec["detail"] = json.dumps(self.detail, ensure_ascii=False, sort_keys=True)
        return rec

    @classmethod
    def from_record(cls, rec: Mapping[str, Any]) -> Alert:
        """Rebuild an alert from stored column values."""
        from gis.localtime import parse_stored_instant

        return cls(
            alert_id=str(rec["alert_id"]),
            place_id=str(rec["place_id"]),
            level=str(rec["level"]),
            raised_at=parse_stored_instant(rec["raised_at"]),  # type: ignore[arg-type]
            expected_at=parse_stored_instant(rec["expected_at"]),  # type: ignore[arg-type]
            lead_min=float(rec["lead_min"]),
            occupancy=float(rec["occupancy"]),
            forecast_peak=float(rec["forecast_peak"]),
            capacity=int(rec["capacity"]),
            state=str(rec["state"]),
            acted_by=str(rec.get("acted_by") or ""),
            acted_at=parse_stored_instant(rec.get("acted_at")),
            case_id=rec.get("case_id") or None,
            detail=json.loads(rec.get("detail") or "{}"),
            version=int(rec["version"]),
        )


def alert_id(place_id: str, level: str, raised_at: dt.datetime) -> str:
    """A readable, unique id: place, level and raising minute."""
    return f"CW-{place_id}-{raised_at.astimezone(TZ):%Y%m%d%H%M}-{level}"


def evaluate_alerts(
    gdf_places: gpd.GeoDataFrame,
    series: pd.DataFrame,
    forecast: pd.DataFrame,
    now: dt.datetime,
    *,
    recent: Iterable[Alert] = (),
    levels: Levels | None = None,
    alert_levels: Sequence[str] = ALERT_LEVELS,
    episode: dt.timedelta = EPISODE,
    staff_for: Any = None,
) -> list[Alert]:
    """New alerts: each level a place's occupancy or forecast reaches that its recent alerts
    (within ``episode``) have not reached yet, with the lead time to the crossing.

    ``staff_for(place_id)`` (optional) gives the nearest staff to record with the alert.
    """
    levels = levels or Levels()
    now = now.astimezone(TZ)
    top: dict[str, int] = {}
    for a in recent:
        if now - a.raised_at <= episode:
            top[a.place_id] = max(top.get(a.place_id, 0), level_rank(a.level))
    out = []
    for _, p in gdf_places.iterrows():
        pid = str(p["place_id"])
        cap = float(p["capacity"])
        s = series[pid].loc[: pd.Timestamp(now)].dropna() if pid in series else pd.Series()
        occ = float(s.iloc[-1]) if len(s) else 0.0
        f = forecast[forecast["place_id"] == pid].sort_values("at")
        times = list(f["at"])
        means = f["mean"].to_numpy(dtype=float)
        curve = [
            [t.isoformat(), round(float(m), 1), round(float(lo), 1), round(float(hi), 1)]
            for t, m, lo, hi in zip(times, means, f["lo"], f["hi"], strict=True)
        ]
        peak = float(max([occ, *means])) if len(means) else occ
        thresholds = levels.thresholds(cap)
        for lv in alert_levels:
            if level_rank(lv) <= top.get(pid, 0):
                continue
            thr = thresholds[lv]
            if occ >= thr:
                when, lead = now, 0.0
            else:
                hit = np.flatnonzero(means >= thr)
                if not len(hit):
                    continue
                when = times[int(hit[0])].to_pydatetime()
                lead = (when - now).total_seconds() / 60.0
            detail: dict[str, Any] = {"curve": curve, "threshold": round(thr, 1)}
            if staff_for is not None:
                detail["staff"] = staff_for(pid)
            out.append(
                Alert(
                    alert_id=alert_id(pid, lv, now),
                    place_id=pid,
                    level=lv,
                    raised_at=now,
                    expected_at=when,
                    lead_min=round(lead, 1),
                    occupancy=occ,
                    forecast_peak=round(peak, 1),
                    capacity=int(cap),
                    detail=detail,
                )
            )
    return out


def acknowledge(alert: Alert, *, who: str, at: dt.datetime | None = None) -> Alert:
    """The alert acknowledged (seen, being handled) by ``who``."""
    if alert.state != "open":
        raise TransitionError(
            f"alert {alert.alert_id} is already {alert.state} (by {alert.acted_by}); reload it"
        )
    if not who.strip():
        raise ValidationError("who acknowledges is empty", field="who", fix="log in")
    return dataclasses.replace(
        alert,
        state="acknowledged",
        acted_by=who,
        acted_at=at or dt.datetime.now(TZ),
        version=alert.version + 1,
    )


def escalated(alert: Alert, *, who: str, case_id: str, at: dt.datetime | None = None) -> Alert:
    """The alert raised to the case ``case_id`` by ``who`` (from open or acknowledged)."""
    if alert.state == "escalated":
        raise TransitionError(
            f"alert {alert.alert_id} is already case {alert.case_id}; open that case instead"
        )
    return dataclasses.replace(
        alert,
        state="escalated",
        acted_by=who,
        acted_at=at or dt.datetime.now(TZ),
        case_id=case_id,
        version=alert.version + 1,
    )


def alerts_frame(alerts: Sequence[Alert]) -> pd.DataFrame:
    """Alerts as a table (for reports and pages), newest first."""
    rows = [{c: getattr(a, c) for c in ALERT_COLUMNS if c != "detail"} for a in alerts]
    df = pd.DataFrame(rows, columns=[c for c in ALERT_COLUMNS if c != "detail"])
    return df.sort_values("raised_at", ascending=False, ignore_index=True) if len(df) else df
