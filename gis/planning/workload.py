"""Workload per street segment: how many minutes a month a segment asks of its responsible person.

Formula (minutes per month, one number per segment)::

    workload = patrol + handling

    patrol   = passes_per_month × length_m / (walk_speed_kmh × 1000 / 60)
    handling = Σ_category  expected_violations[category] × handling_minutes[category]

Expected violations per month for a segment come from the case history when one is given,
shrunk towards the prior so that a quiet month does not zero a busy street (empirical Bayes
with ``prior_weight_months`` pseudo-months)::

    expected[c] = (cases[c] + prior[c] × prior_weight_months) / (months + prior_weight_months)

and from the prior alone when there is no history::

    prior[c] = rate_per_100m[highway] × front_factor[front] × kind_factor[kind]
               × length_m / 100 × mix[c]

``rate_per_100m`` (violations per 100 m per month) depends on the OSM highway class,
``front_factor`` on the front (the scenic area is busiest), ``kind_factor`` on the street
kind (lake banks and bridges draw crowds; 1 for other kinds), and ``mix`` spreads the prior
over the categories most often seen on the street (it sums to 1). All tables are fields of
the frozen :class:`WorkloadParams`, so a centre can tune them and the app can show them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.errors import ValidationError

log = logging.getLogger(__name__)


def _frozen(d: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(d))


#: Violations per 100 m of street per month, by OSM highway class (prior, before front factor).
DEFAULT_RATE_PER_100M: Mapping[str, float] = _frozen(
    {
        "primary": 1.2,
        "secondary": 1.0,
        "tertiary": 0.9,
        "unclassified": 0.6,
        "residential": 0.6,
        "living_street": 0.7,
        "pedestrian": 1.4,
        "service": 0.4,
        "footway": 0.8,
        "path": 0.5,
        "steps": 0.2,
        "other": 0.5,
    }
)

#: Multiplier on the prior rate by front: the scenic area draws the crowds and the bars.
DEFAULT_FRONT_FACTOR: Mapping[str, float] = _frozen(
    {"scenic": 1.5, "main_streets": 1.0, "gulou_west": 1.2}
)

#: Multiplier by street kind: lake banks and bridges are where crowds and touts gather.
DEFAULT_KIND_FACTOR: Mapping[str, float] = _frozen({"lakeside": 1.3, "bridge": 1.5})

#: Minutes of a duty officer's time to handle one case (find, serve notice, recheck), by category.
DEFAULT_HANDLING_MINUTES: Mapping[str, float] = _frozen(
    {
        "C01": 120.0,
        "C02": 90.0,
        "C03": 25.0,
        "C04": 20.0,
        "C05": 45.0,
        "C06": 15.0,
        "C07": 40.0,
        "C08": 20.0,
        "C09": 30.0,
        "C10": 30.0,
        "C11": 30.0,
        "C12": 10.0,
        "C13": 10.0,
        "C14": 45.0,
        "C15": 30.0,
        "C16": 60.0,
        "C17": 45.0,
        "C18": 90.0,
        "C19": 60.0,
        "C20": 60.0,
        "C21": 15.0,
        "C22": 45.0,
        "C23": 20.0,
        "C24": 15.0,
        "C25": 15.0,
        "C26": 30.0,
        "C27": 90.0,
        "C28": 45.0,
        "C29": 60.0,
    }
)

#: How the prior's violations spread over categories (sums to 1).
DEFAULT_PRIOR_MIX: Mapping[str, float] = _frozen(
    {
        "C03": 0.15,
        "C04": 0.15,
        "C06": 0.10,
        "C07": 0.10,
        "C08": 0.05,
        "C09": 0.10,
        "C12": 0.15,
        "C13": 0.10,
        "C21": 0.10,
    }
)

#: Case states that never cost handling time (see gis.cases.workflow.STATES for the full list).
IGNORED_STATES: frozenset[str] = frozenset({"rejected", "duplicate"})


@dataclass(frozen=True)
class WorkloadParams:
    """Everything the workload formula depends on (see the module docstring).

    Attributes
    ----------
    walk_speed_kmh
        Walking speed on patrol.
    passes_per_month
        How often each segment is walked in a month (30 = once a day).
    rate_per_100m
        Prior violations per 100 m per month by OSM highway class; unknown classes use
        ``rate_per_100m["other"]``.
    front_factor
        Multiplier on the prior by front; unknown fronts use 1.
    kind_factor
        Multiplier on the prior by street kind (``lakeside``, ``bridge``…); others use 1.
    handling_minutes
        Minutes to handle one case, by category; unknown categories use ``default_handling``.
    prior_mix
        Share of the prior's violations per category (sums to 1).
    prior_weight_months
        Pseudo-months of prior mixed into a case history (0 = history only).
    default_handling
        Minutes for a category missing from ``handling_minutes``.
    """

    walk_speed_kmh: float = 4.5
    passes_per_month: float = 30.0
    rate_per_100m: Mapping[str, float] = field(default_factory=lambda: DEFAULT_RATE_PER_100M)
    front_factor: Mapping[str, float] = field(default_factory=lambda: DEFAULT_FRONT_FACTOR)
    kind_factor: Mapping[str, float] = field(default_factory=lambda: DEFAULT_KIND_FACTOR)
    handling_minutes: Mapping[str, float] = field(default_factory=lambda: DEFAULT_HANDLING_MINUTES)
    prior_mix: Mapping[str, float] = field(default_factory=lambda: DEFAULT_PRIOR_MIX)
    prior_weight_months: float = 3.0
    default_handling: float = 30.0

    def __post_init__(self) -> None:
        for name in ("walk_speed_kmh", "passes_per_month", "default_handling"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValidationError(
                    f"{name} must be a positive number, got {value!r}",
                    source="WorkloadParams",
                    field=name,
                    fix="give a positive number",
                )
        if self.prior_weight_months < 0:
            raise ValidationError(
                f"prior_weight_months must be >= 0, got {self.prior_weight_months!r}",
                source="WorkloadParams",
                field="prior_weight_months",
            )
        total = float(sum(self.prior_mix.values()))
        if abs(total - 1.0) > 1e-6:
            raise ValidationError(
                f"prior_mix sums to {total:.3f}, not 1",
                source="WorkloadParams",
                field="prior_mix",
                fix="make the category shares add up to 1",
            )
        for table in ("rate_per_100m", "front_factor", "kind_factor", "handling_minutes"):
            for key, value in getattr(self, table).items():
                if value < 0:
                    raise ValidationError(
                        f"{table}[{key!r}] is negative ({value})",
                        source="WorkloadParams",
                        field=table,
                    )

    @property
    def metres_per_minute(self) -> float:
        """Walking speed in metres per minute."""
        return self.walk_speed_kmh * 1000.0 / 60.0

    def handling(self, category: str) -> float:
        """Minutes to handle one case of ``category``."""
        return float(self.handling_minutes.get(category, self.default_handling))

    @property
    def prior_handling_per_violation(self) -> float:
        """Mean handling minutes of one prior violation (the mix-weighted average)."""
        return float(sum(share * self.handling(c) for c, share in self.prior_mix.items()))


def describe_formula(params: WorkloadParams | None = None, language: str = "zh") -> str:
    """The workload formula as text the app can show, with the current parameter values."""
    p = params or WorkloadParams()
    speed = p.metres_per_minute
    mean_h = p.prior_handling_per_violation
    if language == "en":
        return (
            "Workload of a street segment (minutes per month) = patrol + handling.\n"
            f"Patrol = {p.passes_per_month:g} passes a month × length ÷ {speed:.0f} m/min "
            f"(walking {p.walk_speed_kmh:g} km/h).\n"
            "Handling = Σ over categories of expected violations a month × handling minutes.\n"
            "Expected violations come from the case history (cases per month on the segment, "
            f"mixed with {p.prior_weight_months:g} months of prior); without history, from the "
            "prior: rate per 100 m by street class × front factor × kind factor (lake banks, "
            "bridges) × length ÷ 100 "
            f"(mean {mean_h:.0f} handling minutes per prior violation)."
        )
    return (
        "路段工作量（分钟/月）= 巡查时间 + 处置时间。\n"
        f"巡查时间 = 每月巡查 {p.passes_per_month:g} 遍 × 路段长度 ÷ {speed:.0f} 米/分钟"
        f"（步行 {p.walk_speed_kmh:g} 公里/小时）。\n"
        "处置时间 = Σ 各类问题 每月预计发生数 × 该类处置分钟数。\n"
        "预计发生数取自案件历史（该路段每月案件数，并按先验折合 "
        f"{p.prior_weight_months:g} 个月平滑）；无历史时用先验：按道路等级的每百米发生率 × "
        f"战线系数 × 类型系数（湖岸、桥梁）× 长度 ÷ 100（先验每起平均处置 {mean_h:.0f} 分钟）。"
    )


def prior_violations(gdf_segments: gpd.GeoDataFrame, params: WorkloadParams) -> pd.Series:
    """Prior expected violations per month per segment (all categories together)."""
    other = params.rate_per_100m.get("other", 0.5)
    rates = gdf_segments["highway"].map(lambda h: params.rate_per_100m.get(str(h), other))
    factors = gdf_segments["front_id"].map(lambda f: params.front_factor.get(str(f), 1.0))
    if "kind" in gdf_segments.columns:
        kinds = gdf_segments["kind"].map(lambda k: params.kind_factor.get(str(k), 1.0))
    else:
        kinds = pd.Series(1.0, index=gdf_segments.index)
    out = (
        rates.astype(float)
        * factors.astype(float)
        * kinds.astype(float)
        * gdf_segments["length_m"]
        / 100.0
    )
    return pd.Series(out.to_numpy(), index=gdf_segments["segment_id"].to_numpy(), name="prior")


def _history(
    gdf_segments: gpd.GeoDataFrame, cases: pd.DataFrame, params: WorkloadParams
) -> tuple[np.ndarray, np.ndarray, float]:
    """Case counts and handling minutes per segment over the history, and its span in months."""
    for col in ("segment_id", "category", "reported_at"):
        if col not in cases.columns:
            raise ValidationError(
                f"case frame lacks column {col!r}",
                source="cases",
                field=col,
                fix="pass a case frame with segment_id, category and reported_at",
            )
    use = cases
    if "state" in cases.columns:
        use = cases[~cases["state"].isin(IGNORED_STATES)]
    use = use[use["segment_id"].isin(set(gdf_segments["segment_id"]))]
    ids = gdf_segments["segment_id"].to_numpy()
    if use.empty:
        zeros = np.zeros(len(ids))
        return zeros, zeros.copy(), 0.0
    when = pd.to_datetime(use["reported_at"])
    span_days = (when.max() - when.min()).total_seconds() / 86400.0
    months = max(span_days / 30.4375, 1.0)
    minutes = use["category"].map(params.handling).astype(float)
    keys = use["segment_id"].to_numpy()
    per_seg = minutes.groupby(keys).sum().reindex(ids, fill_value=0.0)
    counts = minutes.groupby(keys).size().reindex(ids, fill_value=0)
    return counts.to_numpy(dtype=float), per_seg.to_numpy(dtype=float), months


def segment_workload(
    gdf_segments: gpd.GeoDataFrame,
    params: WorkloadParams | None = None,
    *,
    cases: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Workload per segment, minutes per month, with its parts.

    Parameters
    ----------
    gdf_segments
        Segments per the network contract (``segment_id``, ``highway``, ``front_id``,
        ``length_m``).
    params
        Formula parameters; the documented defaults when omitted.
    cases
        Optional case history (the case frame: ``segment_id``, ``category``,
        ``reported_at``, optionally ``state``). Rejected and duplicate cases are ignored.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``segment_id`` with ``patrol_min``, ``expected_violations``,
        ``handling_min`` and ``workload`` (= patrol + handling).
    """
    p = params or WorkloadParams()
    for col in ("segment_id", "highway", "front_id", "length_m"):
        if col not in gdf_segments.columns:
            raise ValidationError(f"segments lack column {col!r}", source="segments", field=col)
    ids = gdf_segments["segment_id"].to_numpy()
    length = gdf_segments["length_m"].to_numpy(dtype=float)
    patrol = p.passes_per_month * length / p.metres_per_minute
    prior = prior_violations(gdf_segments, p).to_numpy()
    prior_min = prior * p.prior_handling_per_violation
    if cases is None:
        expected = prior
        handling = prior_min
    else:
        hist_count, hist_min, months = _history(gdf_segments, cases, p)
        w = p.prior_weight_months
        denom = months + w
        if denom <= 0:
            expected = prior
            handling = prior_min
        else:
            expected = (hist_count + prior * w) / denom
            handling = (hist_min + prior_min * w) / denom
    out = pd.DataFrame(
        {
            "patrol_min": patrol,
            "expected_violations": expected,
            "handling_min": handling,
        },
        index=pd.Index(ids, name="segment_id"),
    )
    out["workload"] = out["patrol_min"] + out["handling_min"]
    return out


def workload_series(
    gdf_segments: gpd.GeoDataFrame,
    workload: WorkloadParams | pd.Series | Mapping[str, float] | None = None,
    *,
    cases: pd.DataFrame | None = None,
) -> pd.Series:
    """One workload number per segment from parameters, a ready series or a mapping.

    A series or mapping must cover every segment with a finite, non-negative number.
    """
    ids = gdf_segments["segment_id"].to_numpy()
    if workload is None or isinstance(workload, WorkloadParams):
        return segment_workload(gdf_segments, workload, cases=cases)["workload"]
    series = pd.Series(workload, dtype=float) if not isinstance(workload, pd.Series) else workload
    missing = [s for s in ids if s not in series.index]
    if missing:
        raise ValidationError(
            f"no workload for segment {missing[0]!r} ({len(missing)} segments missing)",
            source="workload",
            field="segment_id",
            fix="give a workload for every segment or pass WorkloadParams",
        )
    out = series.reindex(ids).astype(float)
    bad = out[~np.isfinite(out.to_numpy()) | (out.to_numpy() < 0)]
    if len(bad):
        raise ValidationError(
            f"workload of segment {bad.index[0]!r} is {float(bad.iloc[0])!r}",
            source="workload",
            field="workload",
            fix="use a finite number of minutes >= 0",
        )
    out.index.name = "segment_id"
    out.name = "workload"
    return out
