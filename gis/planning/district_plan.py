"""A district plan and its diagnostics, with the checks and area selection every solve shares."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse.csgraph import connected_components

from gis.errors import ValidationError
from gis.planning.district_search import max_min_ratio
from gis.planning.segment_graph import SegmentGraph, connected_pieces, network_diameter

#: Fronts whose segments legitimately have no zone (the main-street fronts).
ZONELESS_FRONTS: frozenset[str] = frozenset({"main_streets", "gulou_west"})


Assignment = dict[str, str]


@dataclass(frozen=True)
class Diagnostics:
    """How good a partition is: balance, contiguity, compactness, run facts."""

    loads: Mapping[str, float]
    ratio: float  # max/min workload
    contiguous: Mapping[str, bool]
    pieces: Mapping[str, int]
    diameter_m: Mapping[str, float]
    n_segments: Mapping[str, int]
    moves: int = 0
    groups: tuple[tuple[str, int], ...] = ()  # (area piece label, people) allotment
    #: the worst max/min inside one area piece (equals ``ratio`` when the area is one piece;
    #: with fronts respected the allotment of whole people to fronts sets ``ratio``)
    piece_ratio: float = math.nan
    attempts: int = 1
    notes: tuple[str, ...] = ()

    @property
    def all_contiguous(self) -> bool:
        """True when every district is one connected piece."""
        return all(self.contiguous.values())


@dataclass(frozen=True)
class DistrictPlan:
    """The answer: owner per segment and its diagnostics."""

    assignment: Mapping[str, str]
    diagnostics: Diagnostics
    people: tuple[str, ...]
    workload: pd.Series = field(repr=False)

    def table(self) -> pd.DataFrame:
        """Assignment table: segment_id → person_id, with the segment's workload."""
        ids = list(self.assignment)
        return pd.DataFrame(
            {
                "segment_id": ids,
                "person_id": [self.assignment[s] for s in ids],
                "workload": self.workload.reindex(ids).to_numpy(),
            }
        )


def people_ids(people: int | Sequence[str] | pd.DataFrame, k: int | None) -> tuple[str, ...]:
    if isinstance(people, pd.DataFrame):
        if "person_id" not in people.columns:
            raise ValidationError("people lack column 'person_id'", source="people")
        for i, rec in enumerate(people.to_dict("records"), start=1):
            name = rec.get("name", "x")
            if (
                name is None
                or (isinstance(name, float) and math.isnan(name))
                or not str(name).strip()
            ):
                raise ValidationError(
                    f"person {rec['person_id']!r} has no name",
                    source="people",
                    row=i,
                    field="name",
                    fix="every responsible person needs a name for the signboard",
                )
        ids = tuple(str(p) for p in people["person_id"])
    elif isinstance(people, int | np.integer):
        if people <= 0:
            raise ValidationError(
                f"k = {people}: at least one person is needed",
                source="people",
                field="k",
                fix="ask for 1 or more people",
            )
        ids = tuple(f"P{i + 1:02d}" for i in range(int(people)))
    else:
        ids = tuple(str(p) for p in people)
        for i, p in enumerate(ids, start=1):
            if not p.strip():
                raise ValidationError("empty person id", source="people", row=i, field="person_id")
    if len(set(ids)) != len(ids):
        dup = next(p for p in ids if ids.count(p) > 1)
        raise ValidationError(f"person {dup!r} listed twice", source="people", field="person_id")
    if k is not None:
        if k <= 0:
            raise ValidationError(
                f"k = {k}: at least one person is needed",
                source="people",
                field="k",
                fix="ask for 1 or more people",
            )
        if k > len(ids):
            raise ValidationError(
                f"k = {k} but only {len(ids)} people were given",
                source="people",
                field="k",
                fix="give more people or a smaller k",
            )
        ids = ids[:k]
    if not ids:
        raise ValidationError(
            "k = 0: at least one person is needed",
            source="people",
            field="k",
            fix="ask for 1 or more people",
        )
    return ids


def check_zones(gdf: gpd.GeoDataFrame) -> None:
    if "zone_id" not in gdf.columns or "front_id" not in gdf.columns:
        return
    zone = gdf["zone_id"]
    bad = gdf[(zone.isna() | (zone.astype(str) == "")) & ~gdf["front_id"].isin(ZONELESS_FRONTS)]
    if len(bad):
        row = bad.iloc[0]
        raise ValidationError(
            f"segment {row['segment_id']!r} ({row.get('name', '')}) lies outside every zone "
            f"but its front {row['front_id']!r} is not a main-street front",
            source="segments",
            row=row["segment_id"],
            field="zone_id",
            fix="give it a zone_id or a main-street front (main_streets, gulou_west)",
        )


def select_area(
    gdf_segments: gpd.GeoDataFrame,
    front: str | None,
    zones: Sequence[str] | None,
) -> gpd.GeoDataFrame:
    gdf = gdf_segments
    if front is not None:
        gdf = gdf[gdf["front_id"] == front]
        if gdf.empty:
            raise ValidationError(
                f"no segments on front {front!r}",
                source="segments",
                field="front_id",
                fix=f"use one of {sorted(set(gdf_segments['front_id'].dropna()))}",
            )
    if zones is not None:
        zs = {str(z) for z in zones}
        gdf = gdf[gdf["zone_id"].astype(str).isin(zs)]
        if gdf.empty:
            raise ValidationError(
                f"no segments in zones {sorted(zs)}", source="segments", field="zone_id"
            )
    return gdf.reset_index(drop=True)


def area_groups(sg: SegmentGraph, allow_front_crossing: bool) -> list[list[int]]:
    """Connected pieces of the area, separately per front unless crossing is allowed."""
    if allow_front_crossing:
        labels = [""] * sg.n
    else:
        labels = list(sg.front)
    out: list[list[int]] = []
    for lab in sorted(set(labels)):
        members = [i for i in range(sg.n) if labels[i] == lab]
        sub = sg.matrix[members][:, members]
        nc, lab_arr = connected_components(sub, directed=False)
        for c in range(nc):
            out.append(sorted(members[j] for j in np.flatnonzero(lab_arr == c)))
    out.sort(key=lambda g: g[0])
    return out


def plan_diagnostics(
    sg: SegmentGraph, owner: np.ndarray, people: Sequence[str], **extra
) -> Diagnostics:
    loads: dict[str, float] = {}
    contiguous: dict[str, bool] = {}
    pieces: dict[str, int] = {}
    diam: dict[str, float] = {}
    nseg: dict[str, int] = {}
    for d, p in enumerate(people):
        mem = np.flatnonzero(owner == d)
        loads[p] = float(sg.weight[mem].sum())
        pcs = connected_pieces(sg, mem.tolist())
        pieces[p] = len(pcs)
        contiguous[p] = len(pcs) == 1
        nseg[p] = len(mem)
        diam[p] = network_diameter(sg, mem)
    arr = np.array(list(loads.values()))
    return Diagnostics(
        loads=loads,
        ratio=max_min_ratio(arr) if len(arr) else math.inf,
        contiguous=contiguous,
        pieces=pieces,
        diameter_m=diam,
        n_segments=nseg,
        **extra,
    )
