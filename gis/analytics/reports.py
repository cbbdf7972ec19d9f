"""KPIs of the enforcement work and the daily, weekly and monthly reports (HTML and CSV).

Definitions (all times local, Asia/Shanghai; a period is ``[start, end)``; ``as_of`` is the
end of the period or now, whichever is earlier):

* **reported** — cases whose ``reported_at`` lies in the period (rejected and duplicate
  reports are counted apart, as *rejected*, and left out of every other figure);
* **open** — cases reported before ``as_of`` and not closed by then (``closed_at`` missing
  or later), i.e. the backlog at the end of the period;
* **overdue** — open cases whose ``deadline_at`` has passed at ``as_of``;
* **closed** — cases with ``closed_at`` in the period;
* **closure rate** — of the cases reported in the period, the share closed by ``as_of``;
* **median time to close** — over cases closed in the period, in hours;
* **within-deadline rate** — of the cases closed in the period that had a deadline, the share
  closed no later than ``grace_hours`` (default 24 h) after it. The deadline is the
  violator's rectification deadline (限期整改) and the recheck happens at it, so a closure
  shortly after the deadline is on time; one that lags by days is not;
* **joint actions / consultations** — from the audit trail (``events``: case_id, at, kind
  ``joint_enforcement`` or ``consultation``) when given; otherwise joint actions are
  estimated from cases reported in the period whose state is ``joint_enforcement`` or
  ``handled`` (a lower bound: closed cases lose that trace) and consultations are unknown.
  Both are compared with the account's averages scaled to the period's length.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import math
import os
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.analytics.hotspots import (
    DAYS_PER_MONTH,
    TIMEZONE,
    CaseFilter,
    DensitySurface,
    as_local_timestamp,
    density_surface,
    require_case_frame,
    to_local_time,
)
from gis.io.csvsafe import SafeWriter

log = logging.getLogger(__name__)

KINDS: tuple[str, ...] = ("daily", "weekly", "monthly")
#: The account's monthly averages (street-level consultations, joint enforcement actions).
CONSULTATIONS_PER_MONTH = 4.0
JOINT_ACTIONS_PER_MONTH = 10.0
#: States that take a case out of the work (not a violation, or a repeat of another).
DISCARDED_STATES = frozenset({"rejected", "duplicate"})
JOINT_STATES = frozenset({"joint_enforcement", "handled"})


# --------------------------------------------------------------------------- periods
@dataclass(frozen=True)
class Period:
    """A reporting period ``[start, end)`` in local time."""

    kind: str
    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def days(self) -> float:
        """Length in days."""
        return (self.end - self.start) / pd.Timedelta(days=1)

    @property
    def months(self) -> float:
        """Length in mean months (30.4375 days)."""
        return self.days / DAYS_PER_MONTH

    def label(self, lang: str = "zh") -> str:
        """``2026年11月29日``, ``2026年11月23日—29日``, ``2026年11月`` (or English)."""
        first = self.start.date()
        last = (self.end - pd.Timedelta(days=1)).date()
        if self.kind == "monthly":
            return f"{first.year}年{first.month}月" if lang == "zh" else f"{first:%B %Y}"
        if self.kind == "daily" or first == last:
            return zh_date(first) if lang == "zh" else en_date(first)
        if lang == "zh":
            tail = (
                f"{last.day}日"
                if (last.year, last.month) == (first.year, first.month)
                else zh_date(last)
                if last.year != first.year
                else f"{last.month}月{last.day}日"
            )
            return f"{zh_date(first)}—{tail}"
        return f"{en_date(first)} – {en_date(last)}"


def zh_date(d: date) -> str:
    """Chinese date: 2026年11月29日."""
    return f"{d.year}年{d.month}月{d.day}日"


def en_date(d: date) -> str:
    """English date: 29 Nov 2026."""
    return f"{d.day} {d:%b %Y}"


def default_report_day(kind: str, today: date) -> date:
    """A day in the last *complete* period of ``kind`` before ``today``.

    A report is read about a period that is over: yesterday for the daily report, last
    Monday–Sunday for the weekly one, last calendar month for the monthly one (a default of
    today would report one day of a period that has barely begun).
    """
    if kind not in KINDS:
        raise _bad(f"unknown report kind {kind!r}", "kind", "use daily, weekly or monthly")
    if kind == "daily":
        return today - timedelta(days=1)
    if kind == "weekly":
        return today - timedelta(days=7)  # always inside the previous ISO week
    return today.replace(day=1) - timedelta(days=1)


def period_for(kind: str, day: date | str | pd.Timestamp) -> Period:
    """The day, the ISO week (Monday–Sunday) or the calendar month containing ``day``."""
    if kind not in KINDS:
        raise _bad(f"unknown report kind {kind!r}", "kind", "use daily, weekly or monthly")
    d = as_local_timestamp(day).normalize()
    if kind == "daily":
        return Period(kind, d, d + pd.Timedelta(days=1))
    if kind == "weekly":
        start = d - pd.Timedelta(days=d.day_of_week)
        return Period(kind, start, start + pd.Timedelta(days=7))
    start = d.replace(day=1)
    end = (start + pd.Timedelta(days=32)).replace(day=1)
    return Period(kind, start, end)


def _bad(problem: str, fld: str, fix: str) -> Exception:
    from gis.errors import ValidationError

    return ValidationError(problem, field=fld, fix=fix)


# --------------------------------------------------------------------------- audit trail
#: Workflow actions that count as a joint enforcement action or a consultation.
EVENT_ACTIONS: dict[str, str] = {"call_joint": "joint_enforcement", "escalate": "consultation"}


def events_from_audit(entries: Sequence[object]) -> pd.DataFrame:
    """The ``events`` frame (case_id, at, kind) from audit-trail entries.

    Entries need ``case_id``, ``action`` and ``at`` attributes (the cases work's
    ``AuditEntry``). ``call_joint`` (吹哨: joint enforcement called) counts as a joint action,
    ``escalate`` (escalation to a consultation, 会商) as a consultation; other steps are
    ignored.
    """
    rows = [
        (str(e.case_id), e.at, EVENT_ACTIONS[e.action])  # type: ignore[attr-defined]
        for e in entries
        if getattr(e, "action", None) in EVENT_ACTIONS
    ]
    df = pd.DataFrame(rows, columns=["case_id", "at", "kind"])
    if len(df):
        df["at"] = to_local_time(df["at"])
    return df


# --------------------------------------------------------------------------- KPIs
@dataclass(frozen=True)
class Kpis:
    """Every figure of one period's report (see the module docstring for definitions)."""

    period: Period
    as_of: pd.Timestamp
    reported: int
    open: int
    overdue: int
    closed: int
    rejected: int
    closure_rate: float | None
    median_hours_to_close: float | None
    within_deadline_rate: float | None
    joint_actions: int | None
    consultations: int | None
    joint_source: str  # events | states
    by_zone: pd.DataFrame
    by_dept: pd.DataFrame
    by_category: pd.DataFrame
    by_person: pd.DataFrame
    daily: pd.DataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: The longest-overdue open cases at ``as_of`` (case_id, category, zone_id, lead_dept,
    #: deadline_at, days_overdue), most overdue first.
    overdue_list: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def expected_joint_actions(self) -> float:
        """The account's 10 a month scaled to the period."""
        return JOINT_ACTIONS_PER_MONTH * self.period.months

    @property
    def expected_consultations(self) -> float:
        """The account's 4 a month scaled to the period."""
        return CONSULTATIONS_PER_MONTH * self.period.months


def _times(gdf: pd.DataFrame, col: str) -> pd.Series:
    if col not in gdf.columns:
        return pd.Series(pd.NaT, index=gdf.index, dtype=f"datetime64[ns, {TIMEZONE}]")
    return to_local_time(gdf[col])


def _group_table(
    df: pd.DataFrame, key: str, masks: Mapping[str, pd.Series], empty_label: str = "—"
) -> pd.DataFrame:
    keys = df[key].astype(object).where(df[key].notna(), empty_label) if key in df else None
    cols = list(masks)
    if keys is None or df.empty:
        return pd.DataFrame(columns=[key, *cols])
    out = pd.DataFrame({key: keys, **{c: m.astype(int) for c, m in masks.items()}})
    out = out.groupby(key, sort=True).sum().reset_index()
    out = out[(out[cols] > 0).any(axis=1)]
    return out.sort_values([cols[0], key], ascending=[False, True]).reset_index(drop=True)


def compute_kpis(
    gdf_cases: gpd.GeoDataFrame,
    period: Period,
    *,
    now: pd.Timestamp | str | None = None,
    events: pd.DataFrame | None = None,
    assignment: Mapping[str, str] | None = None,
    gdf_segments: gpd.GeoDataFrame | None = None,
    grace_hours: float = 24.0,
    max_overdue_listed: int = 20,
) -> Kpis:
    """All KPIs of ``period`` from the case frame.

    Parameters
    ----------
    gdf_cases
        The case frame (contract columns).
    period
        From :func:`period_for`.
    now
        The present (default: the clock); figures are taken at ``min(period end, now)``.
    events
        Optional audit-trail rows (``case_id``, ``at``, ``kind``) for joint actions and
        consultations.
    assignment
        Optional ``segment_id → person_id`` (the districts); with ``gdf_segments`` it gives
        each person's street length and the cases on their streets.
    grace_hours
        How long after the deadline a closure still counts as on time (the recheck).
    max_overdue_listed
        How many of the longest-overdue cases the report lists by id.
    """
    require_case_frame(gdf_cases, need=("reported_at", "state"))
    now_ts = as_local_timestamp(now) if now is not None else pd.Timestamp.now(tz=TIMEZONE)
    as_of = min(period.end, now_ts)
    notes: list[str] = []
    if period.start > now_ts:
        notes.append("the period lies in the future: no cases yet")
    elif period.end > now_ts:
        notes.append(f"the period is still running: figures as of {as_of:%Y-%m-%d %H:%M}")
    df = pd.DataFrame(gdf_cases.drop(columns="geometry"))
    rep = _times(df, "reported_at")
    closed_at = _times(df, "closed_at")
    deadline = _times(df, "deadline_at")
    discarded = df["state"].isin(DISCARDED_STATES)
    live = ~discarded
    in_period = (rep >= period.start) & (rep < period.end)
    reported = in_period & live
    rejected = in_period & discarded
    open_ = live & (rep < as_of) & (closed_at.isna() | (closed_at >= as_of))
    overdue = open_ & deadline.notna() & (deadline < as_of)
    closed = live & closed_at.notna() & (closed_at >= period.start) & (closed_at < period.end)
    closed &= closed_at <= as_of
    n_rep = int(reported.sum())
    closed_by_asof = reported & closed_at.notna() & (closed_at <= as_of)
    closure = closed_by_asof.sum() / n_rep if n_rep else None
    hours = ((closed_at - rep) / pd.Timedelta(hours=1))[closed]
    median_h = float(hours.median()) if len(hours) else None
    with_deadline = closed & deadline.notna()
    in_time = with_deadline & (closed_at <= deadline + pd.Timedelta(hours=grace_hours))
    within = in_time.sum() / with_deadline.sum() if with_deadline.any() else None
    if events is not None and len(events):
        at = to_local_time(events["at"])
        ev = events.loc[((at >= period.start) & (at < as_of)).to_numpy()]
        joint = int((ev["kind"] == "joint_enforcement").sum())
        consult: int | None = int((ev["kind"] == "consultation").sum())
        source = "events"
    elif events is not None:
        joint, consult, source = 0, 0, "events"
    else:
        joint = int((reported & df["state"].isin(JOINT_STATES)).sum())
        consult = None
        source = "states"
        notes.append(
            "joint actions estimated from current case states; consultations need the audit trail"
        )
    masks = {"reported": reported, "open": open_, "overdue": overdue, "closed": closed}
    by_zone = _group_table(df, "zone_id", masks)
    by_dept = _group_table(df, "lead_dept", masks)
    by_cat = _group_table(df, "category", masks)
    by_person = _person_table(df, masks, assignment, gdf_segments)
    late = df.loc[overdue.to_numpy()].copy()
    late["deadline_at"] = deadline[overdue]
    late["days_overdue"] = ((as_of - late["deadline_at"]) / pd.Timedelta(days=1)).round(1)
    cols = [c for c in ("case_id", "category", "zone_id", "lead_dept") if c in late.columns]
    overdue_list = (
        late.sort_values(["days_overdue", "case_id"], ascending=[False, True])[
            [*cols, "deadline_at", "days_overdue"]
        ]
        .head(max_overdue_listed)
        .reset_index(drop=True)
    )
    overdue_list["deadline_at"] = overdue_list["deadline_at"].dt.strftime("%Y-%m-%d %H:%M")
    days = pd.date_range(period.start, period.end - pd.Timedelta(days=1), freq="D")
    daily = pd.DataFrame(
        {
            "date": [d.date() for d in days],
            "reported": [int((reported & (rep.dt.normalize() == d)).sum()) for d in days],
            "closed": [int((closed & (closed_at.dt.normalize() == d)).sum()) for d in days],
        }
    )
    if n_rep == 0 and period.start <= now_ts:
        notes.insert(0, "no cases were reported in this period")
    return Kpis(
        period=period,
        as_of=as_of,
        reported=n_rep,
        open=int(open_.sum()),
        overdue=int(overdue.sum()),
        closed=int(closed.sum()),
        rejected=int(rejected.sum()),
        closure_rate=float(closure) if closure is not None else None,
        median_hours_to_close=median_h,
        within_deadline_rate=float(within) if within is not None else None,
        joint_actions=joint,
        consultations=consult,
        joint_source=source,
        by_zone=by_zone,
        by_dept=by_dept,
        by_category=by_cat,
        by_person=by_person,
        daily=daily,
        overdue_list=overdue_list,
        notes=tuple(notes),
    )


def _person_table(
    df: pd.DataFrame,
    masks: Mapping[str, pd.Series],
    assignment: Mapping[str, str] | None,
    gdf_segments: gpd.GeoDataFrame | None,
) -> pd.DataFrame:
    """Per person: cases they answer for, their streets, and load against the mean."""
    person = (
        df["person_id"].astype(object) if "person_id" in df else pd.Series(None, index=df.index)
    )
    if assignment:
        by_seg = df["segment_id"].map(assignment) if "segment_id" in df else None
        if by_seg is not None:
            person = person.where(person.notna(), by_seg)
    table = _group_table(df.assign(person_id=person), "person_id", masks, empty_label="")
    table = table[table["person_id"] != ""].reset_index(drop=True)
    if assignment:
        people = sorted(set(assignment.values()) | set(table["person_id"]))
        table = table.set_index("person_id").reindex(people, fill_value=0).reset_index()
        if gdf_segments is not None and len(gdf_segments):
            lengths = gdf_segments.set_index("segment_id")["length_m"]
            km = pd.Series({p: 0.0 for p in people}, dtype=float).add(
                pd.Series({s: lengths.get(s, 0.0) for s in assignment}, dtype=float)
                .groupby(pd.Series(assignment))
                .sum()
                / 1000.0,
                fill_value=0.0,
            )
            table["street_km"] = table["person_id"].map(km).astype(float).round(3)
            table["reported_per_km"] = np.where(
                table["street_km"] > 0, table["reported"] / table["street_km"].replace(0, 1), 0.0
            )
    if len(table):
        mean = table["reported"].mean()
        table["load_vs_mean"] = table["reported"] / mean if mean > 0 else 0.0
    else:
        table["load_vs_mean"] = pd.Series(dtype=float)
    return table.reset_index(drop=True)


# --------------------------------------------------------------------------- text
_T = {
    "title": {"zh": "什刹海综合执法中心 {kind}", "en": "Shichahai enforcement center — {kind}"},
    "daily": {"zh": "日报（日碰头）", "en": "daily report"},
    "weekly": {"zh": "周报（周点评）", "en": "weekly report"},
    "monthly": {"zh": "月报（月通报）", "en": "monthly report"},
    "period": {"zh": "统计期", "en": "Period"},
    "as_of": {"zh": "截至", "en": "As of"},
    "reported": {"zh": "新报案件", "en": "Reported"},
    "open": {"zh": "在办案件", "en": "Open"},
    "overdue": {"zh": "超期案件", "en": "Overdue"},
    "closed": {"zh": "结案", "en": "Closed"},
    "rejected": {"zh": "不予立案/重复", "en": "Rejected/duplicate"},
    "closure_rate": {"zh": "结案率", "en": "Closure rate"},
    "median_close": {"zh": "结案用时中位数", "en": "Median time to close"},
    "within_deadline": {"zh": "按期办结率", "en": "Closed within deadline"},
    "joint": {"zh": "联合执法", "en": "Joint enforcement actions"},
    "consult": {"zh": "会商", "en": "Consultations"},
    "expected": {"zh": "常态约 {x}", "en": "usual ≈ {x}"},
    "not_recorded": {"zh": "未记录", "en": "not recorded"},
    "estimated": {"zh": "（按案件状态估计）", "en": " (estimated from case states)"},
    "by_zone": {"zh": "按责任区", "en": "By zone"},
    "by_dept": {"zh": "按主责单位", "en": "By lead department"},
    "by_category": {"zh": "按问题类别", "en": "By category"},
    "by_person": {"zh": "人员工作量", "en": "Workload per person"},
    "overdue_list": {"zh": "超期案件（超期最久的在前）", "en": "Overdue cases (longest first)"},
    "case_id": {"zh": "案件编号", "en": "Case"},
    "deadline_at": {"zh": "整改期限", "en": "Deadline"},
    "days_overdue": {"zh": "超期天数", "en": "Days overdue"},
    "trend": {"zh": "每日新报与结案", "en": "Reported and closed per day"},
    "map": {"zh": "本期热点（核密度）", "en": "Hot spots of the period (kernel density)"},
    "no_map": {"zh": "本期无案件，无热点图", "en": "No cases in the period: no hot-spot map"},
    "no_map_drawn": {
        "zh": "本期有案件，但未生成热点图",
        "en": "The period has cases, but no hot-spot map was drawn",
    },
    "zone_id": {"zh": "责任区", "en": "Zone"},
    "lead_dept": {"zh": "主责单位", "en": "Lead department"},
    "category": {"zh": "类别", "en": "Category"},
    "person_id": {"zh": "责任人", "en": "Person"},
    "street_km": {"zh": "街巷长度(公里)", "en": "Streets (km)"},
    "reported_per_km": {"zh": "每公里新报", "en": "Reported per km"},
    "load_vs_mean": {"zh": "相对平均负荷", "en": "Load vs mean"},
    "notes": {"zh": "说明", "en": "Notes"},
    "none": {"zh": "无", "en": "none"},
    "crowd_alerts": {"zh": "客流预警记录", "en": "Crowd alert log"},
    "raised_at": {"zh": "预警时间", "en": "Raised"},
    "place": {"zh": "点位", "en": "Place"},
    "level": {"zh": "等级", "en": "Level"},
    "lead_min": {"zh": "提前量(分钟)", "en": "Lead (min)"},
    "state": {"zh": "处置状态", "en": "State"},
    "acted_by": {"zh": "处置人", "en": "By"},
    "hours": {"zh": "{x} 小时", "en": "{x} h"},
    "forecast": {
        "zh": "热点预测可信度（滚动回测）",
        "en": "How far to trust the forecast (backtest)",
    },
    "forecast_help": {
        "zh": "按每周预测的高风险区域（占面积或街巷长度的比例）计算：命中率 = 下周案件落入其中的比例；"
        "PAI = 命中率 ÷ 面积比例（越大越好）；事后最优为已知结果时的上限。",
        "en": "Each week the riskiest share of the area (or street length) is picked: hit rate = "
        "share of next week's cases inside it; PAI = hit rate ÷ area share (higher is better); "
        "hindsight is the ceiling when the outcome is known.",
    },
    "method": {"zh": "方法", "en": "Method"},
    "coverage": {"zh": "覆盖比例", "en": "Coverage"},
    "weeks": {"zh": "周数", "en": "Weeks"},
    "hit_rate": {"zh": "命中率", "en": "Hit rate"},
    "pai": {"zh": "PAI", "en": "PAI"},
    "attendance": {"zh": "出勤（签到）", "en": "Attendance (sign-in)"},
    "attendance_team": {"zh": "按班组", "en": "By team"},
    "attendance_person": {"zh": "按人员", "en": "By person"},
    "team": {"zh": "班组", "en": "Team"},
    "name": {"zh": "姓名", "en": "Name"},
    "signins_expected": {"zh": "应签到", "en": "Expected"},
    "on_time": {"zh": "按时", "en": "On time"},
    "late": {"zh": "迟到", "en": "Late"},
    "absent": {"zh": "缺勤", "en": "Absent"},
    "out_of_fence": {"zh": "范围外", "en": "Out of fence"},
    "rate": {"zh": "出勤率", "en": "Attendance rate"},
    "patrol_coverage": {"zh": "巡查覆盖与在岗", "en": "Patrol coverage and time on post"},
    "day": {"zh": "日期", "en": "Day"},
    "shift": {"zh": "班次", "en": "Shift"},
    "planned_m": {"zh": "计划路线(米)", "en": "Planned (m)"},
    "covered_m": {"zh": "已巡(米)", "en": "Covered (m)"},
    "covered_share": {"zh": "覆盖率", "en": "Covered"},
    "on_post_share": {"zh": "在岗率", "en": "On post"},
    "gaps": {"zh": "超15分钟空档", "en": "Gaps > 15 min"},
    # coordination sections (gis.coordination.monthly)
    "punctuality": {
        "zh": "吹哨报到：各部门到场及时率",
        "en": "Whistle calls: arrivals per department",
    },
    "targets": {
        "zh": "会商与联合执法（对照月度目标）",
        "en": "Consultations and joint actions vs target",
    },
    "inspections": {"zh": "明察暗访发现", "en": "Inspection findings"},
    "sources": {"zh": "按来源的上报", "en": "Reports by source"},
    "dept": {"zh": "部门", "en": "Department"},
    "calls": {"zh": "呼叫次数", "en": "Calls"},
    "arrivals": {"zh": "到场次数", "en": "Arrivals"},
    "on_time_30": {"zh": "30分钟内到场", "en": "Within 30 min"},
    "on_time_rate": {"zh": "及时率", "en": "On-time rate"},
    "median_minutes": {"zh": "到场用时中位数(分钟)", "en": "Median minutes"},
    "item": {"zh": "项目", "en": "Item"},
    "recorded": {"zh": "已记录", "en": "Recorded"},
    "target": {"zh": "目标", "en": "Target"},
    "met": {"zh": "达标", "en": "Met"},
    "joint_actions": {"zh": "联合执法", "en": "Joint actions"},
    "consultations": {"zh": "会商", "en": "Consultations"},
    "target_kind": {"zh": "对象类型", "en": "Checked"},
    "result": {"zh": "结果", "en": "Result"},
    "findings": {"zh": "次数", "en": "Findings"},
    "source": {"zh": "来源", "en": "Source"},
}


_NOTES_ZH = {
    "the period lies in the future: no cases yet": "统计期尚未开始，暂无案件",
    "no cases were reported in this period": "本期无新报案件",
    "joint actions estimated from current case states; consultations need the audit trail": (
        "联合执法次数按案件当前状态估计；会商次数需要办案流程记录"
    ),
}


def note_text(note: str, lang: str) -> str:
    """A KPI note in ``lang`` (the notes are kept in English in :class:`Kpis`)."""
    if lang != "zh":
        return note
    if note.startswith("the period is still running: figures as of "):
        return "统计期尚未结束，数据截至 " + note.rsplit("as of ", 1)[1]
    return _NOTES_ZH.get(note, note)


def t(key: str, lang: str, **kw: object) -> str:
    """A report string in ``lang`` (zh or en)."""
    s = _T[key]["zh" if lang == "zh" else "en"]
    return s.format(**kw) if kw else s


def fmt_int(n: int | float | None, lang: str = "zh") -> str:
    """Thousands separators (both conventions use the comma in tables)."""
    return "—" if n is None else f"{int(n):,}"


def fmt_pct(x: float | None, lang: str = "zh") -> str:
    """Percent with one decimal: 85.0%."""
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def fmt_num(x: float | None, digits: int = 1) -> str:
    """A number with ``digits`` decimals, or a dash."""
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.{digits}f}"


def _paren(a: str, b: str, lang: str) -> str:
    return f"{a}（{b}）" if lang == "zh" else f"{a} ({b})"


def kpi_rows(k: Kpis, lang: str = "zh") -> list[tuple[str, str]]:
    """(label, value) of the headline figures, formatted for ``lang``."""
    joint = fmt_int(k.joint_actions) + (t("estimated", lang) if k.joint_source == "states" else "")
    consult = fmt_int(k.consultations) if k.consultations is not None else t("not_recorded", lang)
    med = (
        t("hours", lang, x=fmt_num(k.median_hours_to_close))
        if k.median_hours_to_close is not None
        else "—"
    )
    exp_j = fmt_num(k.expected_joint_actions)
    exp_c = fmt_num(k.expected_consultations)
    return [
        (t("reported", lang), fmt_int(k.reported)),
        (t("open", lang), fmt_int(k.open)),
        (t("overdue", lang), fmt_int(k.overdue)),
        (t("closed", lang), fmt_int(k.closed)),
        (t("rejected", lang), fmt_int(k.rejected)),
        (t("closure_rate", lang), fmt_pct(k.closure_rate)),
        (t("median_close", lang), med),
        (t("within_deadline", lang), fmt_pct(k.within_deadline_rate)),
        (t("joint", lang), _paren(joint, t("expected", lang, x=exp_j), lang)),
        (t("consult", lang), _paren(consult, t("expected", lang, x=exp_c), lang)),
    ]


# --------------------------------------------------------------------------- CSV
_CSV_ZH = {
    "kpi": "指标汇总",
    "daily": "每日",
    "start": "开始",
    "end": "结束",
    "reported": "新报案件",
    "open": "在办案件",
    "overdue": "超期案件",
    "closed": "结案",
    "rejected": "不予立案/重复",
    "closure_rate": "结案率",
    "median_hours_to_close": "结案用时中位数(小时)",
    "within_deadline_rate": "按期办结率",
    "joint_actions": "联合执法",
    "joint_actions_expected": "联合执法常态值",
    "consultations": "会商",
    "consultations_expected": "会商常态值",
    "zone_id": "责任区",
    "lead_dept": "主责单位",
    "category": "类别",
    "person_id": "责任人",
    "street_km": "街巷长度(公里)",
    "reported_per_km": "每公里新报",
    "load_vs_mean": "相对平均负荷",
}


def report_csv(
    k: Kpis, lang: str = "zh", names: Mapping[str, Mapping[str, str]] | None = None
) -> str:
    """Excel-friendly CSV text (write it with ``encoding="utf-8-sig"`` for the BOM).

    Long format: section, key, metric, value — one row per figure, so every table of the
    report is in one sheet. Labels are Chinese in the zh version; keys (zone ids, category
    codes) stay as they are, with ``names`` appended when given (``C04 店外经营``).
    Rates are fractions (0.9567), not percentages, so Excel can compute with them.
    """
    zh = lang == "zh"
    names = names or {}

    def lab(key: str) -> str:
        return _CSV_ZH.get(key, key) if zh else key

    def keyname(section: str, key: object) -> str:
        text = str(key)
        shown = names.get(section, {}).get(text)
        return (
            f"{text} {shown}"
            if shown and shown != text and not shown.startswith(text)
            else (shown or text)
        )

    buf = io.StringIO()
    w = SafeWriter(buf, lineterminator="\r\n")
    w.writerow(["部分", "项", "指标", "数值"] if zh else ["section", "key", "metric", "value"])
    head = t("period", lang)
    last = k.period.end - pd.Timedelta(days=1)
    w.writerow([head, k.period.label(lang), lab("start"), k.period.start.strftime("%Y-%m-%d")])
    w.writerow([head, k.period.label(lang), lab("end"), last.strftime("%Y-%m-%d")])
    raw = {
        "reported": k.reported,
        "open": k.open,
        "overdue": k.overdue,
        "closed": k.closed,
        "rejected": k.rejected,
        "closure_rate": "" if k.closure_rate is None else round(k.closure_rate, 4),
        "median_hours_to_close": ""
        if k.median_hours_to_close is None
        else round(k.median_hours_to_close, 2),
        "within_deadline_rate": ""
        if k.within_deadline_rate is None
        else round(k.within_deadline_rate, 4),
        "joint_actions": "" if k.joint_actions is None else k.joint_actions,
        "joint_actions_expected": round(k.expected_joint_actions, 2),
        "consultations": "" if k.consultations is None else k.consultations,
        "consultations_expected": round(k.expected_consultations, 2),
    }
    for m, v in raw.items():
        w.writerow([lab("kpi"), "", lab(m), v])
    for section, table in (
        ("zone_id", k.by_zone),
        ("lead_dept", k.by_dept),
        ("category", k.by_category),
        ("person_id", k.by_person),
    ):
        for _, row in table.iterrows():
            for col in table.columns:
                if col == section:
                    continue
                v = row[col]
                value = round(float(v), 4) if isinstance(v, float) else v
                w.writerow([lab(section), keyname(section, row[section]), lab(col), value])
    for _, row in k.daily.iterrows():
        day = row["date"].isoformat()
        w.writerow([lab("daily"), day, lab("reported"), row["reported"]])
        w.writerow([lab("daily"), day, lab("closed"), row["closed"]])
    return buf.getvalue()


def write_text_atomic(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to a temporary file beside ``path``, then move it into place.

    A failure (an unencodable character, a full disk, an interrupted run) leaves the
    previous file untouched and no partial file behind: a truncated report that looks
    complete is worse than none.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as fh:
            fh.write(text)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_html(text: str, path: str | Path) -> Path:
    """Write a rendered report (:func:`render_html`) atomically as UTF-8."""
    return write_text_atomic(path, text, "utf-8")


def write_csv(
    k: Kpis, path: str, lang: str = "zh", names: Mapping[str, Mapping[str, str]] | None = None
) -> None:
    """Write :func:`report_csv` as UTF-8 with a BOM so Excel opens Chinese text correctly.

    Written atomically (:func:`write_text_atomic`).
    """
    write_text_atomic(path, report_csv(k, lang, names), "utf-8-sig")


# --------------------------------------------------------------------------- charts
def svg_bars(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    colors: Sequence[str] = ("#4575b4", "#d73027", "#fdae61", "#1a9850"),
    width: int = 640,
    bar_h: int = 14,
) -> str:
    """A horizontal grouped bar chart as inline SVG (no fonts or scripts to fetch)."""
    n = len(labels)
    names = list(series)
    if n == 0:
        return ""
    vmax = max([max(v) if len(v) else 0 for v in series.values()] + [1])
    left, right = 150, 50
    group_h = bar_h * len(names) + 6
    height = n * group_h + 30
    scale = (width - left - right) / vmax
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-size="11" font-family="sans-serif">'
    ]
    for i, lab in enumerate(labels):
        y0 = i * group_h
        parts.append(
            f'<text x="{left - 6}" y="{y0 + group_h / 2 + 4:.0f}" text-anchor="end">'
            f"{html.escape(str(lab))}</text>"
        )
        for j, name in enumerate(names):
            v = float(series[name][i])
            y = y0 + j * bar_h
            parts.append(
                f'<rect x="{left}" y="{y}" width="{v * scale:.1f}" height="{bar_h - 2}" '
                f'fill="{colors[j % len(colors)]}"><title>{html.escape(name)}: {v:g}</title></rect>'
                f'<text x="{left + v * scale + 3:.1f}" y="{y + bar_h - 4}">{v:g}</text>'
            )
    ly = n * group_h + 18
    for j, name in enumerate(names):
        x = left + j * 120
        parts.append(
            f'<rect x="{x}" y="{ly - 9}" width="10" height="10" fill="{colors[j % len(colors)]}"/>'
            f'<text x="{x + 14}" y="{ly}">{html.escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def svg_columns(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    colors: Sequence[str] = ("#4575b4", "#d73027"),
    width: int = 680,
    height: int = 180,
) -> str:
    """A vertical grouped column chart (one group per day) as inline SVG."""
    n = len(labels)
    names = list(series)
    if n == 0:
        return ""
    vmax = max([max(v) if len(v) else 0 for v in series.values()] + [1])
    left, bottom, top = 30, 34, 12
    plot_h = height - bottom - top
    group_w = (width - left - 10) / n
    bar_w = max(1.0, (group_w - 2) / len(names))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-size="10" font-family="sans-serif">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" '
        'stroke="#888"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{vmax:g}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    step = max(1, int(np.ceil(n / 16)))
    for i, lab in enumerate(labels):
        x0 = left + i * group_w + 1
        for j, name in enumerate(names):
            v = float(series[name][i])
            h = plot_h * v / vmax
            parts.append(
                f'<rect x="{x0 + j * bar_w:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{colors[j % len(colors)]}">'
                f"<title>{html.escape(str(lab))} {html.escape(name)}: {v:g}</title></rect>"
            )
        if i % step == 0:
            parts.append(
                f'<text x="{x0 + group_w / 2:.1f}" y="{top + plot_h + 12}" '
                f'text-anchor="middle">{html.escape(str(lab))}</text>'
            )
    for j, name in enumerate(names):
        x = left + j * 120
        parts.append(
            f'<rect x="{x}" y="{height - 12}" width="10" height="10" '
            f'fill="{colors[j % len(colors)]}"/>'
            f'<text x="{x + 14}" y="{height - 3}">{html.escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def hotspot_map_png(
    surface: DensitySurface,
    *,
    gdf_segments: gpd.GeoDataFrame | None = None,
    lang: str = "zh",
    size_in: float = 6.0,
) -> bytes | None:
    """A static PNG of the period's density (classed, with legend) over the streets.

    Returns None when matplotlib is not installed or the surface is empty: the report then
    says so instead of showing a misleading picture.
    """
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - matplotlib is optional
        log.info("matplotlib is not installed: no static map in the report")
        return None
    if surface.is_empty:
        return None
    buf = io.BytesIO()
    with (
        warnings.catch_warnings(),
        matplotlib.rc_context(
            {"font.family": ["Noto Sans CJK SC", "Noto Sans CJK JP", "DejaVu Sans"]}
        ),
    ):
        warnings.simplefilter("ignore")  # a missing CJK glyph must not break a report
        _draw_map(surface, gdf_segments, lang, size_in, buf)
    return buf.getvalue()


def _draw_map(
    surface: DensitySurface,
    gdf_segments: gpd.GeoDataFrame | None,
    lang: str,
    size_in: float,
    buf: io.BytesIO,
) -> None:
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    leg = surface.legend(lang=lang)
    cls = leg.classify(surface.values).astype(float)
    cls[cls < 0] = np.nan
    fig = Figure(figsize=(size_in, size_in))
    ax = fig.add_subplot(1, 1, 1)
    minx, miny, maxx, maxy = surface.bounds
    if gdf_segments is not None and len(gdf_segments):
        gdf_segments.plot(ax=ax, color="#9a9a9a", linewidth=0.6, zorder=1)
    ax.imshow(
        np.ma.masked_invalid(cls),
        origin="lower",
        extent=(minx, maxx, miny, maxy),
        cmap=ListedColormap(list(leg.colors)),
        vmin=-0.5,
        vmax=len(leg.colors) - 0.5,
        alpha=0.75,
        interpolation="nearest",
        zorder=2,
    )
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    handles = [Patch(color=c, label=lab) for c, lab in zip(leg.colors, leg.labels, strict=True)]
    ax.legend(handles=handles, loc="lower left", fontsize=7, title=leg.title, title_fontsize=8)
    # scale bar: the largest round length within 30 % of the width
    width = maxx - minx
    bar = max([b for b in (20, 50, 100, 200, 500, 1000, 2000) if b <= 0.3 * width] or [10])
    x0, y0 = minx + 0.04 * width, maxy - 0.05 * (maxy - miny)
    ax.plot([x0, x0 + bar], [y0, y0], color="black", linewidth=2, zorder=3)
    ax.text(x0 + bar / 2, y0 + 0.015 * (maxy - miny), f"{bar} m", ha="center", fontsize=7)
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=110)


# --------------------------------------------------------------------------- HTML
_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em;
color:#222;max-width:60em}
h1{font-size:1.5em;border-bottom:2px solid #b22;padding-bottom:.3em}
h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #bbb;padding:.25em .6em;text-align:right}
th{background:#f0f0f0}
td:first-child,th:first-child,td.t{text-align:left}
.kpi td:last-child{font-weight:bold}
.note{color:#8a4b00}
.synthetic{color:#a00;font-weight:bold}
@media print{body{margin:0}h2{page-break-after:avoid}table,svg,img{page-break-inside:avoid}}
"""


def _table_html(df: pd.DataFrame, lang: str) -> str:
    if df.empty:
        return f"<p>{t('none', lang)}</p>"
    head = "".join(f"<th>{html.escape(_col(c, lang))}</th>" for c in df.columns)
    rows = []
    for _, r in df.iterrows():
        cells = []
        for c in df.columns:
            v = r[c]
            text = False
            if isinstance(v, float):
                s = fmt_num(v, 2)
                s = s.rstrip("0").rstrip(".") if "." in s else s
            elif isinstance(v, (int, np.integer)):
                s = fmt_int(int(v))
            else:
                s, text = str(v), True
            cls = ' class="t"' if text else ""
            cells.append(f"<td{cls}>{html.escape(s)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _col(c: str, lang: str) -> str:
    return t(c, lang) if c in _T else c


def render_html(
    k: Kpis,
    *,
    lang: str = "zh",
    surface: DensitySurface | None = None,
    gdf_segments: gpd.GeoDataFrame | None = None,
    names: Mapping[str, Mapping[str, str]] | None = None,
    synthetic: bool = False,
    scorecard: pd.DataFrame | None = None,
    crowd_alerts: pd.DataFrame | None = None,
    attendance: Mapping[str, pd.DataFrame] | None = None,
    coverage: pd.DataFrame | None = None,
    coordination: Mapping[str, pd.DataFrame] | None = None,
) -> str:
    """A self-contained printable HTML report (inline SVG charts, inline PNG map).

    ``crowd_alerts`` (from :func:`crowd_alert_log`) adds the crowd alert log of the period.
    ``attendance`` (``{"team": …, "person": …}`` from
    :func:`gis.people.signin.attendance_summary`) and ``coverage`` (one row per person and
    shift) add the people sections: who signed in, and what was really patrolled.

    ``coordination`` (from :func:`gis.coordination.monthly.coordination_tables`) adds the
    departments' punctuality, consultations and joint actions against their targets,
    inspection findings and reports by source.

    ``scorecard`` (from :func:`forecast_scorecard`) adds how far the hotspot forecast can be
    trusted: its backtested hit rate and PAI next to the best possible in hindsight.

    ``names`` optionally maps table keys to display names, e.g.
    ``{"zone_id": {"110102…": "大金丝社区"}, "category": {"C04": "店外经营"}}``.
    ``synthetic`` puts a warning banner on reports made from demo data.
    """
    lang = "zh" if lang == "zh" else "en"
    names = names or {}
    title = t("title", lang, kind=t(k.period.kind, lang) if k.period.kind in KINDS else "")
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)} {html.escape(k.period.label(lang))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if synthetic:
        msg = (
            "演示数据（合成），非真实案件"
            if lang == "zh"
            else "Demo data (synthetic), not real cases"
        )
        out.append(f'<p class="synthetic">{msg}</p>')
    as_of = zh_date(k.as_of.date()) if lang == "zh" else en_date(k.as_of.date())
    out.append(
        f"<p>{t('period', lang)}: {html.escape(k.period.label(lang))} · "
        f"{t('as_of', lang)}: {as_of} {k.as_of:%H:%M}</p>"
    )
    for n in k.notes:
        out.append(f'<p class="note">{html.escape(note_text(n, lang))}</p>')
    out.append('<table class="kpi">')
    for label, value in kpi_rows(k, lang):
        out.append(f"<tr><td>{html.escape(label)}</td><td>{html.escape(value)}</td></tr>")
    out.append("</table>")
    if len(k.daily) > 1 and (k.daily["reported"].sum() + k.daily["closed"].sum()) > 0:
        out.append(f"<h2>{t('trend', lang)}</h2>")
        out.append(
            svg_columns(
                [f"{d.month}/{d.day}" for d in k.daily["date"]],
                {t("reported", lang): k.daily["reported"], t("closed", lang): k.daily["closed"]},
            )
        )
    out.append(f"<h2>{t('map', lang)}</h2>")
    png = hotspot_map_png(surface, gdf_segments=gdf_segments, lang=lang) if surface else None
    if png:
        b64 = base64.b64encode(png).decode("ascii")
        out.append(f'<img alt="{t("map", lang)}" src="data:image/png;base64,{b64}" width="560">')
        out.append(
            f"<p>{html.escape(surface.description)}; bandwidth {surface.bandwidth_m:.0f} m</p>"
            if lang == "en" and surface
            else f"<p>带宽 {surface.bandwidth_m:.0f} 米</p>"
            if surface
            else ""
        )
    else:  # say "no cases" only when there were none
        out.append(f"<p>{t('no_map' if k.reported == 0 else 'no_map_drawn', lang)}</p>")
    out.append(f"<h2>{t('overdue_list', lang)}</h2>")
    late = k.overdue_list.copy()
    for key in ("category", "zone_id", "lead_dept"):
        if key in names and key in late.columns and len(late):
            late[key] = late[key].map(lambda v, m=names[key]: m.get(v, v))
    out.append(_table_html(late, lang))
    if crowd_alerts is not None:
        out.append(f"<h2>{t('crowd_alerts', lang)}</h2>")
        out.append(_table_html(crowd_alerts, lang))
    if scorecard is not None:
        out.append(f"<h2>{t('forecast', lang)}</h2>")
        out.append(f"<p>{t('forecast_help', lang)}</p>")
        out.append(_table_html(scorecard, lang))
    for key, table, sec in (
        ("category", k.by_category, "by_category"),
        ("zone_id", k.by_zone, "by_zone"),
        ("lead_dept", k.by_dept, "by_dept"),
        ("person_id", k.by_person, "by_person"),
    ):
        out.append(f"<h2>{t(sec, lang)}</h2>")
        tab = table.copy()
        if key in names and len(tab):
            tab[key] = tab[key].map(lambda v, m=names[key]: m.get(v, v))
        bars = [c for c in ("reported", "closed", "overdue") if c in tab.columns]
        if len(tab) and key != "person_id" and bars and float(tab[bars].to_numpy().sum()) > 0:
            top = tab.head(15)
            out.append(
                svg_bars(
                    list(top[key].astype(str)),
                    {t(c, lang): top[c] for c in ("reported", "closed", "overdue")},
                )
            )
        out.append(_table_html(tab, lang))
    if attendance is not None:
        out.append(f"<h2>{t('attendance', lang)}</h2>")
        for key in ("team", "person"):
            if key in attendance:
                out.append(f"<h3>{t('attendance_' + key, lang)}</h3>")
                tab = attendance[key].rename(columns={"expected": "signins_expected"})
                out.append(_table_html(tab, lang))
    if coverage is not None:
        out.append(f"<h2>{t('patrol_coverage', lang)}</h2>")
        out.append(_table_html(coverage, lang))
    for sec, table in (coordination or {}).items():
        if sec in _T:
            out.append(f"<h2>{t(sec, lang)}</h2>")
            tab = table.copy()
            if "item" in tab.columns:
                tab["item"] = [t(v, lang) if v in _T else v for v in tab["item"]]
            if "met" in tab.columns:
                tab["met"] = ["✓" if m else "✗" for m in tab["met"]]
            tab = tab.rename(columns={"on_time": "on_time_30"})
            out.append(_table_html(tab, lang))
    out.append("</body></html>")
    return "\n".join(out)


_LEVEL_NAMES = {
    "zh": {"blue": "蓝", "yellow": "黄", "orange": "橙", "red": "红"},
    "en": {"blue": "blue", "yellow": "yellow", "orange": "orange", "red": "red"},
}
_ALERT_STATES = {
    "zh": {"open": "待处置", "acknowledged": "已确认", "escalated": "已立案"},
    "en": {"open": "open", "acknowledged": "acknowledged", "escalated": "raised to case"},
}


def crowd_alert_log(
    alerts: Sequence[Any], period: Period, place_names: Mapping[str, str], lang: str = "zh"
) -> pd.DataFrame:
    """The period's crowd alerts (raised, place, level, lead time, state, by whom, case)."""
    lg = "zh" if lang == "zh" else "en"
    rows = [
        {
            "raised_at": pd.Timestamp(a.raised_at).tz_convert(TIMEZONE).strftime("%m-%d %H:%M"),
            "place": place_names.get(a.place_id, a.place_id),
            "level": _LEVEL_NAMES[lg].get(a.level, a.level),
            "lead_min": int(round(float(a.lead_min))),
            "state": _ALERT_STATES[lg].get(a.state, a.state),
            "acted_by": a.acted_by or "",
            "case_id": a.case_id or "",
        }
        for a in sorted(alerts, key=lambda x: x.raised_at)
        if period.start <= pd.Timestamp(a.raised_at) < period.end
    ]
    cols = ["raised_at", "place", "level", "lead_min", "state", "acted_by", "case_id"]
    return pd.DataFrame(rows, columns=cols)


_METHOD_NAMES = {
    "last4": {"zh": "近4周计数", "en": "Last 4 weeks"},
    "kde_decay": {"zh": "时间衰减核密度", "en": "Decaying density"},
    "near_repeat": {"zh": "近重复模型", "en": "Near-repeat"},
    "hindsight": {"zh": "事后最优", "en": "Hindsight (best possible)"},
}


def forecast_scorecard(summary: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """The backtest summary as a small display table (method, coverage, weeks, hit rate, PAI).

    ``summary`` is :attr:`gis.analytics.forecast.Backtest.summary`; hit rate and coverage become
    percentages (strings) so the table prints as is.
    """
    cols = ["method", "coverage", "weeks", "hit_rate", "pai"]
    if summary is None or summary.empty:
        return pd.DataFrame(columns=cols)
    lg = "zh" if lang == "zh" else "en"
    out = summary[cols].copy()
    out["method"] = out["method"].map(lambda m: _METHOD_NAMES.get(m, {}).get(lg, m))
    out["coverage"] = out["coverage"].map(lambda c: f"{100 * c:.0f}%")
    out["hit_rate"] = out["hit_rate"].map(lambda h: fmt_pct(float(h)))
    out["pai"] = out["pai"].astype(float).round(2)
    out["weeks"] = out["weeks"].astype(int)
    return out.reset_index(drop=True)


def period_surface(
    gdf_cases: gpd.GeoDataFrame,
    period: Period,
    *,
    now: pd.Timestamp | None = None,
    bounds: tuple[float, float, float, float] | None = None,
) -> DensitySurface:
    """The density surface of the cases reported in ``period`` (for the report's map).

    ``bounds`` (e.g. the subdistrict's, padded) fixes the map's extent so every report shows
    the same area.
    """
    live = gdf_cases[~gdf_cases["state"].isin(DISCARDED_STATES)] if len(gdf_cases) else gdf_cases
    flt = CaseFilter(start=period.start, end=period.end)
    return density_surface(live, flt, now=now, bounds=bounds)
