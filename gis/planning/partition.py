"""The initial partition: one contiguous, balanced district per person from scratch."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.errors import InfeasibleError, ValidationError
from gis.planning.district_plan import (
    DistrictPlan,
    area_groups,
    check_zones,
    people_ids,
    plan_diagnostics,
    select_area,
)
from gis.planning.district_search import (
    PartitionState,
    grow_capacitated,
    grow_voronoi,
    kmeanspp,
    max_min_ratio,
    refine,
    smooth,
)
from gis.planning.segment_graph import (
    SegmentGraph,
    build_segment_graph,
    check_segments,
    network_distances,
    shortest_path,
)
from gis.planning.workload import WorkloadParams, workload_series

log = logging.getLogger(__name__)


def _allot(weights: list[float], sizes: list[int], minimum: list[int], k: int) -> list[int]:
    """D'Hondt allotment of ``k`` people: next person where the load per person is highest."""
    alloc = list(minimum)
    while sum(alloc) < k:
        best = -1
        best_q = -1.0
        for g, (w, n) in enumerate(zip(weights, sizes, strict=True)):
            if alloc[g] >= n:
                continue
            q = w / alloc[g] if alloc[g] else math.inf
            if q > best_q:
                best_q, best = q, g
        if best < 0:
            break
        alloc[best] += 1
    return alloc


ETA0 = 1.0


ETA_DECAY = 0.9


def _solve_group(
    sg: SegmentGraph,
    group: list[int],
    k: int,
    pinned: dict[int, list[int]],  # local district index → pinned segments
    owner: np.ndarray,
    fixed: np.ndarray,
    offset: int,
    rng,
    lloyd_rounds: int,
    max_moves: int,
    balance_rounds: int = 20,
) -> int:
    """Partition one connected piece into ``k`` districts numbered from ``offset``."""
    districts = list(range(offset, offset + k))
    if k > len(group):
        raise InfeasibleError(
            f"{k} people for an area piece of only {len(group)} segments "
            f"(starting with {sg.ids[group[0]]!r}): some would have no street",
        )
    # Join the pins of each person by shortest paths avoiding other people's pins.
    all_pins = {s for segs in pinned.values() for s in segs}
    claimed: dict[int, int] = {}
    for local in sorted(pinned):
        d = offset + local
        segs = pinned[local]
        body = {segs[0]}
        blocked = (all_pins - set(segs)) | {s for s, o in claimed.items() if o != d}
        for s in segs[1:]:
            if s in body:
                continue
            path = shortest_path(sg, body, s, blocked)
            if path is None:
                others = sorted(sg.ids[x] for x in blocked)[:5]
                raise InfeasibleError(
                    f"pinned segments {sg.ids[segs[0]]!r} and {sg.ids[s]!r} of one person "
                    f"cannot be joined into one contiguous district: every walking path "
                    f"between them crosses segments pinned to someone else ({', '.join(others)})"
                )
            body.update(path)
        for s in body:
            claimed[s] = d
    for s, d in claimed.items():
        owner[s] = d
    for segs in pinned.values():
        for s in segs:
            fixed[s] = True
    fixed_sources = [
        sorted(s for s, o in claimed.items() if o == offset + i) for i in sorted(pinned)
    ]
    n_pinned = len(fixed_sources)
    sources = kmeanspp(sg, np.array(group), k, fixed_sources, rng)
    cache: dict[tuple, np.ndarray] = {}

    def grow(src: list[list[int]], off: np.ndarray | None) -> tuple[PartitionState, np.ndarray]:
        key = tuple(tuple(x) for x in src)
        if key not in cache:
            cache.clear()
            dist = np.full((offset + k, sg.n), np.inf)
            dist[offset:] = network_distances(sg, src)
            cache[key] = dist
        for s in group:
            if s not in claimed:
                owner[s] = -1
        for i, seeds in enumerate(src[n_pinned:], start=n_pinned):
            for s in seeds:
                owner[s] = offset + i
        st = PartitionState(sg, offset + k, owner, fixed)
        st.active = set(districts)
        dist = cache[key]
        if off is None:
            grow_voronoi(st, group, dist, districts)
        else:
            grow_capacitated(st, group, dist, districts, off)
        return st, dist

    zero = np.zeros(offset + k)
    for _r in range(lloyd_rounds):
        state, D = grow(sources, zero)
        new_sources = list(sources[:n_pinned])
        taken = {x for s in new_sources for x in s}
        for i in range(n_pinned, k):
            mem = np.array(sorted(state.members[offset + i]))
            w = sg.weight[mem] + 1e-9
            c = (sg.mid[mem] * w[:, None]).sum(axis=0) / w.sum()
            order = np.argsort(((sg.mid[mem] - c) ** 2).sum(axis=1), kind="stable")
            pick = next(int(mem[j]) for j in order if int(mem[j]) not in taken)
            taken.add(pick)
            new_sources.append([pick])
        sources = new_sources
    # Balance by additive offsets on the network distance (a capacitated network Voronoi):
    # heavy districts get pushed back, light ones pulled forward; keep the best round.
    off = zero.copy()
    best_owner: np.ndarray | None = None
    best_ss = math.inf
    eta = ETA0
    for _r in range(balance_rounds):
        state, D = grow(sources, off)
        if (owner[group] < 0).any():
            break
        ss = state.ss()
        if ss < best_ss:
            best_ss, best_owner = ss, owner.copy()
        loads = state.load[districts]
        radius = float(np.median([D[d, sorted(state.members[d])].max() for d in districts]))
        off[districts] += eta * radius * (loads / loads.mean() - 1.0)
        eta *= ETA_DECAY
    if best_owner is None:
        state, D = grow(sources, None)
    else:
        owner[:] = best_owner
        state = PartitionState(sg, offset + k, owner, fixed)
        state.active = set(districts)
    missing = [s for s in group if owner[s] < 0]
    if missing:  # cannot happen on a connected piece; guard against a bug
        raise InfeasibleError(f"segment {sg.ids[missing[0]]!r} could not be reached")
    moves = refine(state, districts, D, max_moves)
    smoothed = smooth(state, districts)
    if smoothed:  # smoothing can open new balancing moves: finish at a local optimum
        moves += smoothed + refine(state, districts, D, max_moves)
    return moves


def districts_for_people(
    gdf_segments: gpd.GeoDataFrame,
    people: int | Sequence[str] | pd.DataFrame,
    k: int | None = None,
    *,
    workload: WorkloadParams | pd.Series | Mapping[str, float] | None = None,
    cases: pd.DataFrame | None = None,
    pins: Mapping[str, str] | None = None,
    allow_front_crossing: bool = False,
    front: str | None = None,
    zones: Sequence[str] | None = None,
    seed: int = 0,
    lloyd_rounds: int = 2,
    max_moves: int | None = None,
    restarts: int = 6,
    good_enough: float = 0.03,
    min_attempts: int | None = None,
) -> DistrictPlan:
    """Split the chosen area's segments into one contiguous, balanced district per person.

    Parameters
    ----------
    gdf_segments
        Segments per the network contract (EPSG:32650).
    people
        A number of people (ids ``P01``…), a list of person ids, or a staff table with
        ``person_id`` and ``name`` (a nameless person is refused).
    k
        Use only the first ``k`` people; all of them when omitted.
    workload
        :class:`~gis.planning.workload.WorkloadParams` (default) or a ready workload per segment.
    cases
        Case history for the workload formula (ignored when ``workload`` is a series).
    pins
        ``{segment_id: person_id}`` assignments that must hold.
    allow_front_crossing
        When false, every district lies on one front; people are allotted to fronts in
        proportion to their workload.
    front, zones
        Restrict the area to one front and/or a set of zone ids; the whole input otherwise.
    seed
        Random seed for the seeding step; the same input and seed give the same answer.
    restarts, good_enough, min_attempts
        The solve runs with seeds ``seed``, ``seed + 1`` … at least ``min_attempts`` times
        (default 3 for areas of up to 5,000 segments, 1 above, where one attempt already
        takes seconds) and keeps the answer with the fewest links between districts (the
        most compact) among those whose worst max/min within an area piece is at most
        ``1 + good_enough``. While none is, it goes on up to ``restarts`` attempts and keeps
        the best balanced: a district seeded in a dead-end pocket can get walled in behind
        cut vertices of its neighbour, which no single move undoes.

    Raises
    ------
    ValidationError
        k = 0, a nameless person, unknown pins, a segment outside every zone.
    InfeasibleError
        More people than segments in a piece, fewer people than disconnected pieces (or
        fronts), pins that cannot be made contiguous.

    Notes
    -----
    The unit of responsibility is the street segment. Two segments are neighbours when they
    share a junction of the walking graph (the line graph of ``G``), so lakes are barriers and
    bridges connect exactly as the walking network does; straight-line nearness never counts.
    A district is *contiguous* when its segments form one connected piece of that line graph.

    Method (deterministic for a given input and ``seed``):

    1. **Components and fronts.** The chosen area is split into the connected pieces of its
       line graph, and — unless front crossing is allowed — by front. Each piece gets people in
       proportion to its workload (D'Hondt: the next person goes where the load per person is
       highest), at least one each, and at least as many as its pinned people.
    2. **Seeds.** k-means++ seeding by network distance (Dijkstra on the line graph, midpoint to
       midpoint), pinned people seeded at their pins (pins of one person are first joined by the
       shortest path that avoids other people's pins).
    3. **Region growing.** Districts grow from their seeds through neighbouring segments only,
       so every district stays connected: twice as a plain network Voronoi (each segment goes to
       the seed that reaches it first) with the free seeds moved to the segment nearest their
       district's weighted centre in between (Lloyd), then up to 20 rounds of a *capacitated*
       network Voronoi where every district's distance carries an additive offset that grows
       while the district is heavy and shrinks while it is light; the best-balanced round is kept.
    4. **Local search.** Boundary segments move from heavy to light neighbouring districts when
       that lowers the sum of squared loads, never through a cut vertex of the donor (a segment
       whose removal would split it: checked by a two-sided search between its end junctions).
       When no single move helps, weight is passed along the shortest chain of districts from the
       heaviest to the lightest one. Among admissible moves, those that remove a bulge (more
       neighbours in the receiver than left in the donor) go first, then those nearest the
       receiver's seed, which keeps districts compact. The search stops at max/min ≤ 1.005.

    Segments are never split: balance is limited by the largest segment's share of a district,
    and the achieved max/min is reported in :class:`Diagnostics`.
    """
    ids = people_ids(people, k)
    gdf = select_area(gdf_segments, front, zones)
    check_segments(gdf)
    check_zones(gdf)
    if len(ids) > len(gdf):
        raise ValidationError(
            f"k = {len(ids)} is more than the {len(gdf)} segments of the area",
            source="people",
            field="k",
            fix=f"ask for at most {len(gdf)} people",
        )
    weight = workload_series(gdf, workload, cases=cases)
    sg = build_segment_graph(gdf, weight)
    pins = dict(pins or {})
    pin_idx: dict[str, list[int]] = {}
    for sid, pid in sorted(pins.items()):
        if sid not in sg.index:
            raise ValidationError(
                f"pinned segment {sid!r} is not in the chosen area",
                source="pins",
                field="segment_id",
                fix="pin only segments of the area being split",
            )
        if str(pid) not in ids:
            raise ValidationError(
                f"segment {sid!r} is pinned to {pid!r}, who is not among the people",
                source="pins",
                field="person_id",
            )
        pin_idx.setdefault(str(pid), []).append(sg.index[sid])
    if min_attempts is None:
        min_attempts = 3 if sg.n <= 5000 else 1
    coo = sg.matrix.tocoo()
    best: tuple[tuple[bool, float], np.ndarray, int, tuple[tuple[str, int], ...], float] | None
    best = None
    attempt = 0
    for attempt in range(max(1, restarts)):
        owner, moves, groups_info, per_group = _solve(
            sg, ids, pin_idx, allow_front_crossing, seed + attempt, lloyd_rounds, max_moves
        )
        loads = np.bincount(owner, weights=sg.weight, minlength=len(ids))
        worst = max(max_min_ratio(loads[g]) if len(g) > 1 else 1.0 for g in per_group)
        good = worst <= 1.0 + good_enough
        cut = float(np.count_nonzero(owner[coo.row] != owner[coo.col])) / 2.0
        key = (not good, cut if good else worst)
        if best is None or key < best[0]:
            best = (key, owner, moves, groups_info, worst)
        if good and attempt + 1 >= min_attempts:
            break
        log.info("districts: attempt %d: max/min %.3f, %d cut links", attempt, worst, cut)
    assert best is not None
    _, owner, moves, groups_info, worst = best
    assignment = {sg.ids[i]: ids[owner[i]] for i in range(sg.n)}
    diag = plan_diagnostics(
        sg, owner, ids, moves=moves, groups=groups_info, piece_ratio=worst, attempts=attempt + 1
    )
    log.info("districts: k=%d, max/min %.3f, %d moves", len(ids), diag.ratio, moves)
    return DistrictPlan(assignment=assignment, diagnostics=diag, people=ids, workload=weight)


def _solve(
    sg: SegmentGraph,
    ids: Sequence[str],
    pin_idx: Mapping[str, list[int]],
    allow_front_crossing: bool,
    seed: int,
    lloyd_rounds: int,
    max_moves: int | None,
) -> tuple[np.ndarray, int, tuple[tuple[str, int], ...], list[np.ndarray]]:
    groups = area_groups(sg, allow_front_crossing)
    group_of = np.empty(sg.n, dtype=int)
    for g, mem in enumerate(groups):
        group_of[mem] = g
    k = len(ids)
    if k < len(groups):
        what = "pieces" if allow_front_crossing else "front pieces"
        examples = ", ".join(repr(sg.ids[g[0]]) for g in groups[:4])
        raise InfeasibleError(
            f"the area falls into {len(groups)} {what} not connected on the walking network "
            f"(starting with {examples}); {k} people cannot each hold one contiguous district"
            + ("" if allow_front_crossing else "; allow front crossing or add people")
        )
    # Which group each pinned person belongs to.
    person_group: dict[str, int] = {}
    for pid, segs in pin_idx.items():
        gs = sorted({int(group_of[s]) for s in segs})
        if len(gs) > 1:
            raise InfeasibleError(
                f"{pid} is pinned to segments {sg.ids[segs[0]]!r} and "
                f"{sg.ids[next(s for s in segs if group_of[s] != group_of[segs[0]])]!r} "
                "that are not connected"
                + ("" if allow_front_crossing else " within one front")
                + ": no contiguous district can hold both"
            )
        person_group[pid] = gs[0]
    weights = [float(sg.weight[g].sum()) for g in groups]
    minimum = [max(1, sum(1 for g in person_group.values() if g == i)) for i in range(len(groups))]
    if sum(minimum) > k:
        raise InfeasibleError(
            f"pins need people in {sum(minimum)} separate pieces but only {k} people were given"
        )
    alloc = _allot(weights, [len(g) for g in groups], minimum, k)
    if sum(alloc) < k:
        raise InfeasibleError(f"k = {k} is more than the segments can hold")
    # Hand out people: pinned people to their group, the rest in list order.
    free = [p for p in ids if p not in person_group]
    order: list[str] = []
    per_group_people: list[list[str]] = []
    fi = 0
    for g in range(len(groups)):
        members = [p for p in ids if person_group.get(p) == g]
        need = alloc[g] - len(members)
        members += free[fi : fi + need]
        fi += need
        per_group_people.append(members)
        order += members
    owner = np.full(sg.n, -1, dtype=int)
    fixed = np.zeros(sg.n, dtype=bool)
    rng = np.random.default_rng(seed)
    total_moves = 0
    offset = 0
    budget = max_moves if max_moves is not None else 20 * sg.n
    for g, mem in enumerate(groups):
        members = per_group_people[g]
        pinned_local = {i: sorted(pin_idx[p]) for i, p in enumerate(members) if p in pin_idx}
        total_moves += _solve_group(
            sg, mem, len(members), pinned_local, owner, fixed, offset, rng, lloyd_rounds, budget
        )
        offset += len(members)
    # owner holds positions in ``order``; map back to positions in ``ids``.
    pos = np.array([ids.index(p) for p in order])
    final = pos[owner]
    info = tuple((sg.ids[groups[g][0]], alloc[g]) for g in range(len(groups)))
    id_pos = {p: i for i, p in enumerate(ids)}
    per_group = [np.array([id_pos[p] for p in members], dtype=int) for members in per_group_people]
    return final, total_moves, info, per_group
