"""A seeded, clearly labelled synthetic year of cases, with the true intensity that made it.

Nothing here is real data. The generator draws reports from an explicit intensity model
(where × when per scenario) so maps and heatmaps have something to show on first run and
hotspot forecasts can be scored against the truth:

* outdoor tables (C04) along the bar street from 16:00, peaking in the evening;
* noise (C07) at the bars late at night;
* pedicab tours (C09) near 银锭桥 and 烟袋斜街 in the daytime;
* illegal structures (C01) in residential hutongs on working days;
* crowding (C29) on the lakeside on holiday afternoons;
* a low background of the other categories everywhere.

Weekends and public holidays raise every tourist scenario. Cases are then advanced through
the workflow as the duty officers would have done by ``end`` (recent cases stay open, a few
rechecks come days late, so some cases sit overdue for a while).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from gis.cases.categories import References, load_references
from gis.cases.intake import Report, case_from_report
from gis.cases.workflow import AuditEntry, Case, apply_action, content_hash
from gis.geography.crs import WGS84, require_metric
from gis.localtime import LOCAL_TZ as TZ

log = logging.getLogger(__name__)

#: Prefix of every synthetic description: demo data must never pass for real records.
DEMO_LABEL = "[演示数据 DEMO]"

_HOLIDAY_SPANS = [
    (dt.date(2025, 1, 1), 1),
    (dt.date(2025, 1, 28), 8),
    (dt.date(2025, 4, 4), 3),
    (dt.date(2025, 5, 1), 5),
    (dt.date(2025, 5, 31), 3),
    (dt.date(2025, 10, 1), 8),
    (dt.date(2026, 1, 1), 3),
    (dt.date(2026, 2, 15), 9),
    (dt.date(2026, 4, 4), 3),
    (dt.date(2026, 5, 1), 5),
    (dt.date(2026, 6, 19), 3),
    (dt.date(2026, 9, 25), 3),
    (dt.date(2026, 10, 1), 7),
    (dt.date(2027, 1, 1), 3),
]
#: Public holidays 2025–2027 (approximate official calendars), when visitor numbers peak.
HOLIDAYS: frozenset[dt.date] = frozenset(
    d + dt.timedelta(days=i) for d, n in _HOLIDAY_SPANS for i in range(n)
)


@dataclass(frozen=True)
class Scenario:
    """One source of reports: a category, where (segment selector), when (hour profile)."""

    name: str
    category: str
    per_day: float  # mean reports per ordinary weekday
    hours: tuple[float, ...]  # 24 relative weights, hour 0..23 local time
    where: str  # bar_street | pedicab | residential | lakeside | everywhere
    weekend: float = 1.0
    holiday: float = 1.0
    summer: float = 1.0  # May–September factor
    sources: Mapping[str, float] = field(default_factory=lambda: {"patrol": 1.0})


def _profile(spec: Mapping[tuple[int, int], float]) -> tuple[float, ...]:
    w = np.zeros(24)
    for (a, b), v in spec.items():
        for h in range(a, b):
            w[h % 24] = v
    return tuple(float(x) for x in w / w.sum())


#: One row per scenario: name, category, reports per ordinary weekday, hours (local) → weight,
#: where, weekend, holiday and summer factors, report sources → share.
_ScenarioRow = tuple[
    str, str, float, Mapping[tuple[int, int], float], str, float, float, float, Mapping[str, float]
]
_SCENARIO_ROWS: tuple[_ScenarioRow, ...] = (
    ("outdoor_tables", "C04", 4.0, {(16, 17): 0.6, (17, 19): 1.0, (19, 22): 1.4, (22, 24): 0.7},
     "bar_street", 1.6, 2.2, 1.7, {"patrol": 0.7, "video": 0.3}),
    ("bar_noise", "C07", 3.0, {(21, 22): 0.6, (22, 24): 1.4, (24, 26): 1.2, (26, 27): 0.5},
     "bar_street", 1.8, 1.8, 1.5, {"hotline_12345": 0.55, "complaint": 0.25, "patrol": 0.2}),
    ("touting", "C08", 1.5, {(19, 24): 1.0},
     "bar_street", 1.5, 1.5, 1.3, {"patrol": 0.8, "video": 0.2}),
    ("pedicabs", "C09", 2.5, {(9, 11): 0.8, (11, 17): 1.2, (17, 19): 0.6},
     "pedicab", 1.7, 2.5, 1.3, {"patrol": 0.6, "video": 0.3, "complaint": 0.1}),
    ("illegal_structures", "C01", 0.5, {(8, 12): 1.0, (13, 17): 0.8},
     "residential", 0.4, 0.3, 1.0, {"inspection": 0.5, "complaint": 0.3, "hotline_12345": 0.2}),
    ("crowding", "C29", 0.15, {(13, 18): 1.0, (18, 21): 0.8},
     "lakeside", 3.0, 12.0, 1.5, {"video": 0.8, "patrol": 0.2}),
    ("background", "*", 3.0, {(8, 12): 1.0, (12, 18): 1.0, (18, 22): 0.6},
     "everywhere", 1.2, 1.3, 1.0,
     {"patrol": 0.5, "hotline_12345": 0.25, "complaint": 0.15, "inspection": 0.1}),
)  # fmt: skip
SCENARIOS: tuple[Scenario, ...] = tuple(
    Scenario(name, category, per_day, _profile(hours), where, weekend, holiday, summer, sources)
    for name, category, per_day, hours, where, weekend, holiday, summer, sources in _SCENARIO_ROWS
)
_BACKGROUND = ("C03", "C05", "C06", "C12", "C13", "C14", "C15", "C16", "C18", "C21", "C23", "C24")


@dataclass(frozen=True)
class DemoHistory:
    """The synthetic cases, their audit trail and the true intensity used.

    ``spatial``: scenario, category, segment_id, weight (weights of a scenario sum to 1).
    ``temporal``: scenario, hour (tz-aware start of the hour), expected (mean reports in that
    hour over the whole area). The true mean count for a segment and hour is
    ``weight × expected``.
    """

    cases: list[Case]
    audit: list[AuditEntry]
    spatial: pd.DataFrame
    temporal: pd.DataFrame
    seed: int
    start: dt.date
    end: dt.datetime

    def expected_by_segment(
        self, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> pd.Series:
        """True expected report count per segment over a time window (all scenarios)."""
        t = self.temporal
        if since is not None:
            t = t[t["hour"] >= pd.Timestamp(since)]
        if until is not None:
            t = t[t["hour"] < pd.Timestamp(until)]
        totals = t.groupby("scenario")["expected"].sum()
        s = self.spatial.assign(
            expected=self.spatial["weight"] * self.spatial["scenario"].map(totals).fillna(0.0)
        )
        return s.groupby("segment_id")["expected"].sum().sort_values(ascending=False)


def _select_segments(
    kind: str, segments: gpd.GeoDataFrame, pois: gpd.GeoDataFrame | None, rng: np.random.Generator
) -> np.ndarray:
    """Spatial weights (one per segment) for a scenario's ``where``."""
    n = len(segments)
    w = np.zeros(n)
    names = segments["name"].fillna("").astype(str)
    kinds = segments["kind"].fillna("").astype(str) if "kind" in segments else pd.Series([""] * n)
    mids = shapely.line_interpolate_point(segments.geometry.values, 0.5, normalized=True)
    lengths = segments.geometry.length.to_numpy()
    if kind == "everywhere":
        w = lengths.copy()
    elif kind == "residential":
        w = np.where(kinds == "hutong", lengths, 0.0)
    elif kind == "lakeside":
        w = np.where(kinds.isin(["lakeside", "bridge"]), lengths, 0.0)
    elif kind == "bar_street":
        mask = (kinds == "lakeside") | names.str.contains("酒吧|荷花市场|银锭")
        w = np.where(mask, lengths, 0.0)
        bars = (
            pois[pois["kind"].astype(str) == "bar_street"]
            if pois is not None and len(pois) and "kind" in pois
            else None
        )
        if bars is not None and len(bars):
            # the bars crowd the lakeside around the bar street (后海/前海), fewer at 西海
            d = np.min([shapely.distance(mids, b) for b in bars.geometry], axis=0)
            w = w * np.exp(-((d / 600.0) ** 2))
    elif kind == "pedicab":
        anchors = []
        if pois is not None and len(pois):
            hits = pois[pois["name"].astype(str).str.contains("银锭桥|烟袋斜街|恭王府")]
            anchors = list(hits.geometry)
        anchors += list(segments.geometry[names.str.contains("银锭|烟袋斜街")].centroid)
        if anchors:
            d = np.min([shapely.distance(mids, a) for a in anchors], axis=0)
            w = np.exp(-((d / 250.0) ** 2)) * lengths
    if w.sum() <= 0:
        # geography without these features (e.g. a synthetic grid): a seeded stand-in corridor
        pick = rng.choice(n, size=max(1, n // 10), replace=False)
        w = np.zeros(n)
        w[pick] = lengths[pick]
    return w / w.sum()


def _day_factor(s: Scenario, day: dt.date) -> float:
    f = 1.0
    if day in HOLIDAYS:
        f *= s.holiday
    elif day.weekday() >= 5:
        f *= s.weekend
    if 5 <= day.month <= 9:
        f *= s.summer
    return f


def generate_demo_history(
    segments: gpd.GeoDataFrame,
    pois: gpd.GeoDataFrame | None = None,
    *,
    seed: int = 2026,
    end: dt.datetime | None = None,
    days: int = 365,
    scale: float = 1.0,
    refs: References | None = None,
    officers: int = 24,
    progress: Callable[[int, int], None] | None = None,
) -> DemoHistory:
    """Generate a reproducible synthetic history ending at ``end`` (default 2026-06-01).

    Parameters
    ----------
    segments
        Street segments (EPSG:32650), the contract of :mod:`gis.geography.network`.
    pois
        Points of interest (EPSG:32650) with ``name``; 银锭桥 and 烟袋斜街 anchor pedicabs.
    seed
        Same seed, same history (cases, times, places and workflow steps).
    scale
        Multiplies every rate (1.0 ≈ 15 reports a day on average).
    progress
        Called as ``progress(done, total)`` while cases are advanced (for a progress bar).
    """
    to_wgs = Transformer.from_crs(require_metric(segments, "segments"), WGS84, always_xy=True)
    refs = refs or load_references()
    end = end or dt.datetime(2026, 6, 1, 0, 0, tzinfo=TZ)
    start = (end - dt.timedelta(days=days)).date()
    rng = np.random.default_rng(seed)
    segs = segments.reset_index(drop=True)
    seg_geoms = segs.geometry.values
    spatial_rows = []
    temporal_parts = []
    reports: list[Report] = []
    hours_index = pd.date_range(pd.Timestamp(start, tz=TZ), periods=days * 24, freq="h", tz=TZ)
    for s in SCENARIOS:
        weights = _select_segments(s.where, segs, pois, rng)
        nz = np.flatnonzero(weights)
        spatial_rows.append(
            pd.DataFrame(
                {
                    "scenario": s.name,
                    "category": s.category,
                    "segment_id": segs["segment_id"].to_numpy()[nz],
                    "weight": weights[nz],
                }
            )
        )
        day_f = np.array([_day_factor(s, (start + dt.timedelta(days=i))) for i in range(days)])
        expected = (day_f[:, None] * np.array(s.hours)[None, :] * s.per_day * scale).ravel()
        temporal_parts.append(
            pd.DataFrame({"scenario": s.name, "hour": hours_index, "expected": expected})
        )
        counts = rng.poisson(expected)
        src_names = list(s.sources)
        src_p = np.array([s.sources[k] for k in src_names])
        src_p = src_p / src_p.sum()
        for h in np.flatnonzero(counts):
            for _ in range(int(counts[h])):
                i = int(rng.choice(len(weights), p=weights))
                geom = seg_geoms[i]
                p = geom.interpolate(float(rng.uniform(0, 1)), normalized=True)
                jitter = rng.normal(0, 3.0, 2)
                x, y = p.x + jitter[0], p.y + jitter[1]
                t = hours_index[h].to_pydatetime() + dt.timedelta(
                    seconds=float(rng.uniform(0, 3600))
                )
                cat = s.category if s.category != "*" else str(rng.choice(_BACKGROUND))
                source = str(rng.choice(src_names, p=src_p))
                attrs = _attributes(cat, rng)
                lon, lat = to_wgs.transform(x, y)
                row = segs.iloc[i]
                reports.append(
                    Report(
                        report_id="",
                        category=cat,
                        lon=float(lon),
                        lat=float(lat),
                        src_lon=float(lon),
                        src_lat=float(lat),
                        reported_at=t.replace(microsecond=0),
                        source=source,
                        reporter="demo",
                        description=f"{DEMO_LABEL} {refs.categories[cat].name_zh} ({s.name})",
                        attributes=attrs,
                        segment_id=str(row["segment_id"]),
                        zone_id=None if pd.isna(row.get("zone_id")) else str(row["zone_id"]),
                        front_id=None if pd.isna(row.get("front_id")) else str(row["front_id"]),
                    )
                )
    reports.sort(key=lambda r: (r.reported_at, r.category, r.lon))
    cases: list[Case] = []
    audit: list[AuditEntry] = []
    for n, r in enumerate(reports, start=1):
        rid = f"DEMO-{seed}-{n:06d}"
        digest = content_hash(["demo", seed, n])
        r = _replace(r, report_id=rid, content_hash=digest)
        officer = f"duty-{int(rng.integers(1, officers + 1)):02d}"
        case = case_from_report(r, refs, received_by=officer)
        case, steps = _advance(case, rng, end, officer)
        cases.append(case)
        audit.extend(steps)
        if progress is not None and (n % 500 == 0 or n == len(reports)):
            progress(n, len(reports))
    log.info("demo history: %d cases, seed %d, %s to %s", len(cases), seed, start, end)
    return DemoHistory(
        cases=cases,
        audit=audit,
        spatial=pd.concat(spatial_rows, ignore_index=True),
        temporal=pd.concat(temporal_parts, ignore_index=True),
        seed=seed,
        start=start,
        end=end,
    )


def _replace(r: Report, **kw: object) -> Report:
    return dataclasses.replace(r, **kw)  # type: ignore[arg-type]


def _attributes(cat: str, rng: np.random.Generator) -> dict[str, float | int]:
    if cat == "C01":
        return {
            "floors": int(rng.choice([1, 1, 1, 2])),
            "area_m2": round(float(rng.uniform(6, 60)), 1),
        }
    if cat == "C04":
        return {
            "frontage_m": round(float(rng.uniform(3, 15)), 1),
            "tables": int(rng.integers(1, 9)),
        }
    if cat == "C07":
        return {"db": round(float(rng.normal(80, 6)), 1)}
    if cat == "C09":
        return {"vehicles": int(rng.integers(1, 6))}
    if cat == "C29":
        return {"persons": int(rng.integers(200, 3000))}
    return {}


def _advance(
    case: Case, rng: np.random.Generator, end: dt.datetime, officer: str
) -> tuple[Case, list[AuditEntry]]:
    """Walk a case through the workflow with plausible delays, stopping at ``end``."""
    steps: list[AuditEntry] = []
    t = case.reported_at
    seq = 1

    def step(action: str, delay_h: float, who: str = officer, **params: object) -> bool:
        nonlocal case, t, seq
        t_next = t + dt.timedelta(hours=float(delay_h))
        if t_next > end:
            return False
        t = t_next
        note = "演示" if action != "reject" else "演示: 不属实"
        case, entry = apply_action(
            case, action, who=who, at=t, note=note, params=params, seq=seq, now=end
        )
        steps.append(entry)
        seq += 1
        return True

    u = rng.uniform()
    if u < 0.05:
        step("reject", rng.uniform(0.2, 2))
        return case, steps
    if u < 0.08:
        step("mark_duplicate", rng.uniform(0.2, 2), duplicate_of="(demo)")
        return case, steps
    emergency = case.category == "C29" and rng.uniform() < 0.2
    if not step("register", rng.uniform(0.1, 1.5), **({"tier": "emergency"} if emergency else {})):
        return case, steps
    if not emergency:
        if not step("serve_notice", rng.uniform(0.05, 0.5)):
            return case, steps
        # a few rechecks come days late: those cases sit overdue for a while
        late_h = float(rng.uniform(24, 240)) if rng.uniform() < 0.05 else 0.0
        if not step("recheck", case.deadline_hours * rng.uniform(1.0, 1.3) + late_h):
            return case, steps
        # ~2.5% are not rectified: about 10 joint actions a month, as in the account
        if rng.uniform() < 0.975:
            step("close_rectified", rng.uniform(0.1, 1.0))
            return case, steps
    depts = [case.lead_dept, *case.depts]
    if not step("call_joint", rng.uniform(0.05, 0.3), depts=depts):
        return case, steps
    # ~40% of joint cases go to consultation: about 4 a month
    if rng.uniform() < 0.4 and not step("escalate", rng.uniform(0.1, 1.0)):  # 会商
        return case, steps
    called = t
    arrivals = sorted((float(rng.lognormal(np.log(18), 0.5)), d) for d in depts)
    for minutes, d in arrivals:
        if rng.uniform() < 0.05:
            continue  # never showed up
        at = called + dt.timedelta(minutes=minutes)
        if at > end:
            break
        case, entry = apply_action(
            case, "record_arrival", who=officer, at=at, params={"dept": d}, seq=seq, now=end
        )
        steps.append(entry)
        seq += 1
        t = max(t, at)
    if not step("handle", rng.uniform(1, 3)):
        return case, steps
    step("verify_close", rng.uniform(12, 48), who=f"lead-{int(rng.integers(1, 4))}")
    return case, steps


def write_demo_history(store: object, history: DemoHistory) -> int:
    """Store a demo history (idempotent: same seed, same ids) and label the store."""
    result = store.add_cases(history.cases, history.audit)  # type: ignore[attr-defined]
    store.set_meta("demo_history", demo_meta(history))  # type: ignore[attr-defined]
    return len(result.added)


def demo_meta(history: DemoHistory) -> str:
    """The label stored with a demo history (store meta ``demo_history``)."""
    return json.dumps(
        {
            "synthetic": True,
            "label": DEMO_LABEL,
            "seed": history.seed,
            "start": history.start.isoformat(),
            "end": history.end.isoformat(),
            "cases": len(history.cases),
        },
        ensure_ascii=False,
    )
