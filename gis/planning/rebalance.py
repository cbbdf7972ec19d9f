"""Re-solve districts from the current assignment, changing as few segments as possible."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

from gis.errors import InfeasibleError, ValidationError
from gis.planning.district_plan import (
    DistrictPlan,
    area_groups,
    check_zones,
    people_ids,
    plan_diagnostics,
    select_area,
)
from gis.planning.district_search import PartitionState, grow_voronoi, max_min_ratio, refine
from gis.planning.segment_graph import (
    SegmentGraph,
    build_segment_graph,
    check_segments,
    connected_pieces,
)
from gis.planning.workload import WorkloadParams, workload_series

log = logging.getLogger(__name__)


def changed_share(old: Mapping[str, str], new: Mapping[str, str]) -> float:
    """Share of the segments present in both answers whose owner differs."""
    common = [s for s in old if s in new]
    if not common:
        return 0.0
    return sum(1 for s in common if old[s] != new[s]) / len(common)


def matched_changed_share(old: Mapping[str, str], new: Mapping[str, str]) -> float:
    """:func:`changed_share` after renaming ``new``'s people to best match ``old``'s.

    A fresh solve numbers its districts arbitrarily; this compares it fairly by matching
    each new district to the old person it overlaps most (Hungarian method on overlaps).
    """
    from scipy.optimize import linear_sum_assignment

    common = [s for s in old if s in new]
    olds = sorted({old[s] for s in common})
    news = sorted({new[s] for s in common})
    oi = {p: i for i, p in enumerate(olds)}
    ni = {p: i for i, p in enumerate(news)}
    overlap = np.zeros((len(news), len(olds)))
    for s in common:
        overlap[ni[new[s]], oi[old[s]]] += 1
    rows, cols = linear_sum_assignment(-overlap)
    rename = {news[r]: olds[c] for r, c in zip(rows, cols, strict=True)}
    relabelled = {s: rename.get(new[s], f"~{new[s]}") for s in common}
    return changed_share({s: old[s] for s in common}, relabelled)


@dataclass(frozen=True)
class Rebalance:
    """A re-solved plan and how much it changed."""

    plan: DistrictPlan
    changed_share: float
    changed_segments: tuple[str, ...]


def _centres(sg: SegmentGraph, state: PartitionState, districts: Sequence[int]) -> list[list[int]]:
    out = []
    for d in districts:
        mem = np.array(sorted(state.members[d]))
        w = sg.weight[mem] + 1e-9
        c = (sg.mid[mem] * w[:, None]).sum(axis=0) / w.sum()
        out.append([int(mem[int(np.argmin(((sg.mid[mem] - c) ** 2).sum(axis=1)))])])
    return out


def rebalance(
    assignment: Mapping[str, str] | DistrictPlan,
    gdf_segments: gpd.GeoDataFrame,
    people: int | Sequence[str] | pd.DataFrame,
    *,
    workload: WorkloadParams | pd.Series | Mapping[str, float] | None = None,
    cases: pd.DataFrame | None = None,
    pins: Mapping[str, str] | None = None,
    allow_front_crossing: bool = False,
    front: str | None = None,
    zones: Sequence[str] | None = None,
    max_moves: int | None = None,
    tolerance: float = 0.005,
) -> Rebalance:
    """Re-solve after a person leaves or joins or a workload changes, keeping most owners.

    People who left hand their segments to the neighbouring districts (nearest first,
    lightest first); a person who joins splits the heaviest district of the piece that needs
    people most; then the same local search as :func:`districts_for_people` evens the loads,
    moving only boundary segments, until max/min ≤ 1 + ``tolerance`` (a looser tolerance
    keeps more owners).
    """
    old = dict(assignment.assignment if isinstance(assignment, DistrictPlan) else assignment)
    ids = people_ids(people, None)
    gdf = select_area(gdf_segments, front, zones)
    check_segments(gdf)
    check_zones(gdf)
    weight = workload_series(gdf, workload, cases=cases)
    sg = build_segment_graph(gdf, weight)
    pos = {p: i for i, p in enumerate(ids)}
    k = len(ids)
    owner = np.array([pos.get(old.get(s, ""), -1) for s in sg.ids], dtype=int)
    fixed = np.zeros(sg.n, dtype=bool)
    for sid, pid in (pins or {}).items():
        if sid not in sg.index or str(pid) not in pos:
            raise ValidationError(
                f"pin {sid!r} → {pid!r} names an unknown segment or person", source="pins"
            )
        owner[sg.index[sid]] = pos[str(pid)]
        fixed[sg.index[sid]] = True
    groups = area_groups(sg, allow_front_crossing)
    group_of = np.empty(sg.n, dtype=int)
    for g, mem in enumerate(groups):
        group_of[mem] = g
    # Keep each person's main piece (with their pins, else the heaviest) in one group.
    for d in range(k):
        mem = np.flatnonzero(owner == d).tolist()
        if not mem:
            continue
        pcs = [pc for pc in connected_pieces(sg, mem)]
        pcs_by_group = []
        for pc in pcs:
            # a piece may straddle groups only when crossing is not allowed; split it
            for g in sorted({int(group_of[s]) for s in pc}):
                sub = [s for s in pc if group_of[s] == g]
                pcs_by_group.extend(connected_pieces(sg, sub))

        def rank(pc: list[int]) -> tuple[int, float]:
            return (int(fixed[pc].any()), float(sg.weight[pc].sum()))

        pcs_by_group.sort(key=rank, reverse=True)
        for pc in pcs_by_group[1:]:
            if fixed[pc].any():
                raise InfeasibleError(
                    f"{ids[d]}'s pins ({', '.join(sg.ids[s] for s in pc if fixed[s])}) are cut "
                    "off from the rest of their district"
                )
            owner[pc] = -1
    state = PartitionState(sg, k, owner, fixed)
    # People per group now; newcomers go where load per person is highest.
    newcomers = [d for d in range(k) if not state.members[d]]
    for d in newcomers:
        best_g, best_q = -1, -1.0
        for g, mem in enumerate(groups):
            people_g = {int(owner[s]) for s in mem if owner[s] >= 0}
            if len(people_g) >= len(mem):
                continue
            q = float(sg.weight[mem].sum()) / max(len(people_g), 1e-9)
            if q > best_q:
                best_q, best_g = q, g
        if best_g < 0:
            raise InfeasibleError(f"no area piece has room for {ids[d]}")
        mem = groups[best_g]
        holders = sorted({int(owner[s]) for s in mem if owner[s] >= 0})
        if not holders:  # an empty piece: start anywhere in it
            start = min(mem)
            state.move(start, d)
            continue
        h = max(holders, key=lambda x: (state.load[x], -x))
        hm = np.array(sorted(state.members[h]))
        movable = [int(s) for s in hm if not fixed[s]]
        if not movable:
            raise InfeasibleError(f"{ids[h]}'s district is all pins; {ids[d]} cannot split it")
        # Split h in two by growing from its two far ends (double sweep).
        sub = sg.matrix[hm][:, hm]
        d0 = dijkstra(sub, directed=False, indices=0)
        a_loc = int(np.argmax(np.where(np.isfinite(d0), d0, -1)))
        d1 = dijkstra(sub, directed=False, indices=a_loc)
        b_loc = int(np.argmax(np.where(np.isfinite(d1), d1, -1)))
        a_seg, b_seg = int(hm[a_loc]), int(hm[b_loc])
        if fixed[b_seg] and not fixed[a_seg]:
            a_seg, b_seg = b_seg, a_seg
        for s in hm:
            if not fixed[s]:
                state.move(int(s), h)  # keep
        keep_src = [a_seg] + [int(s) for s in hm if fixed[s]]
        for s in hm:
            if not fixed[s] and s not in keep_src:
                state.owner[s] = -1
                state.members[h].discard(int(s))
                state.border[h].discard(int(s))
                state.load[h] -= sg.weight[s]
        if fixed[b_seg]:
            b_seg = next(s for s in movable if s not in keep_src)
        state.move(b_seg, d)
        Dsplit = np.full((k, sg.n), np.inf)
        Dsplit[h] = dijkstra(sg.matrix, directed=False, indices=keep_src, min_only=True)
        Dsplit[d] = dijkstra(sg.matrix, directed=False, indices=[b_seg], min_only=True)
        grow_voronoi(state, hm.tolist(), Dsplit, [h, d])
        state = PartitionState(sg, k, state.owner, fixed)
    # A piece left with nobody takes the lightest person of the piece with the lowest load
    # per person among those with two or more people (their old segments are regrown).
    for g, mem in enumerate(groups):
        if any(state.owner[s] >= 0 for s in mem):
            continue
        holders_by_group = [
            sorted({int(state.owner[s]) for s in other if state.owner[s] >= 0}) for other in groups
        ]
        donors = [
            (float(sg.weight[groups[h]].sum()) / len(hs), h)
            for h, hs in enumerate(holders_by_group)
            if len(hs) >= 2 and h != g
        ]
        if not donors:
            raise InfeasibleError(
                f"nobody is left for the area piece starting with {sg.ids[mem[0]]!r} and no "
                "other piece can spare a person: add a person or allow front crossing"
            )
        _, h = min(donors)
        mover = min(
            (d for d in holders_by_group[h] if not fixed[sorted(state.members[d])].any()),
            key=lambda d: (state.load[d], d),
            default=None,
        )
        if mover is None:
            raise InfeasibleError(
                f"nobody is left for the area piece starting with {sg.ids[mem[0]]!r} and "
                "every candidate holds pins elsewhere"
            )
        for s in sorted(state.members[mover]):
            state.owner[s] = -1
        state = PartitionState(sg, k, state.owner, fixed)
        state.move(min(mem), mover)
    # Hand the segments of people who left to their neighbours.
    total_moves = 0
    budget = max_moves if max_moves is not None else 20 * sg.n
    for mem in groups:
        ds = sorted({int(state.owner[s]) for s in mem if state.owner[s] >= 0})
        if not ds:
            raise InfeasibleError(
                f"nobody is left for the area piece starting with {sg.ids[mem[0]]!r}",
            )
        D = np.full((k, sg.n), np.inf)
        for d in ds:
            D[d] = dijkstra(
                sg.matrix, directed=False, indices=sorted(state.members[d]), min_only=True
            )
        state.active = set(ds)
        grow_voronoi(state, mem, D, ds)
        centres = _centres(sg, state, ds)
        for d, src in zip(ds, centres, strict=True):
            D[d] = dijkstra(sg.matrix, directed=False, indices=src, min_only=True)
        total_moves += refine(state, ds, D, budget, tolerance)
    owner = state.owner
    if (owner < 0).any():
        raise InfeasibleError(f"segment {sg.ids[int(np.flatnonzero(owner < 0)[0])]!r} unreachable")
    new = {sg.ids[i]: ids[owner[i]] for i in range(sg.n)}
    loads = np.bincount(owner, weights=sg.weight, minlength=k)
    piece_people = [sorted({int(owner[s]) for s in mem}) for mem in groups]
    worst = max(max_min_ratio(loads[pp]) if len(pp) > 1 else 1.0 for pp in piece_people)
    diag = plan_diagnostics(
        sg,
        owner,
        ids,
        moves=total_moves,
        groups=tuple(
            (sg.ids[mem[0]], len(pp)) for mem, pp in zip(groups, piece_people, strict=True)
        ),
        piece_ratio=worst,
    )
    plan = DistrictPlan(assignment=new, diagnostics=diag, people=ids, workload=weight)
    changed = tuple(s for s in sg.ids if s in old and old[s] != new[s])
    share = len(changed) / max(1, sum(1 for s in sg.ids if s in old))
    return Rebalance(plan=plan, changed_share=share, changed_segments=changed)
