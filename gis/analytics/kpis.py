"""The enforcement KPIs of a period (reported, open, overdue, closed, rates, joint actions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.analytics.periods import Period
from gis.analytics.selection import TIMEZONE, as_local_timestamp, require_case_frame, to_local_time

#: The account's monthly averages (street-level consultations, joint enforcement actions).
CONSULTATIONS_PER_MONTH = 4.0
JOINT_ACTIONS_PER_MONTH = 10.0
#: States that take a case out of the work (not a violation, or a repeat of another).
DISCARDED_STATES = frozenset({"rejected", "duplicate"})
JOINT_STATES = frozenset({"joint_enforcement", "handled"})

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


@dataclass(frozen=True)
class Kpis:
    """Every figure of one period's report.

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
