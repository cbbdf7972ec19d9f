"""Manual district edits: move segments by hand, see which districts break, repair with the fewest moves."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.errors import InfeasibleError, ValidationError
from gis.planning.district_plan import DistrictPlan
from gis.planning.district_search import PartitionState, max_min_ratio
from gis.planning.segment_graph import (
    SegmentGraph,
    build_segment_graph,
    check_segments,
    connected_pieces,
)
from gis.planning.workload import WorkloadParams, workload_series


@dataclass(frozen=True)
class Break:
    """A district that a manual move cut into pieces."""

    person_id: str
    pieces: tuple[tuple[str, ...], ...]  # segment ids of each piece, main piece first

    def describe(self) -> str:
        """One line: whose district falls into how many pieces of which segments."""
        rest = "; ".join(", ".join(p) for p in self.pieces[1:])
        return (
            f"{self.person_id}'s district falls into {len(self.pieces)} pieces: "
            f"the main piece of {len(self.pieces[0])} segments and {rest}"
        )


@dataclass(frozen=True)
class MoveCheck:
    """What a manual move does: the new assignment and exactly what it breaks."""

    assignment: Mapping[str, str]
    moved: tuple[str, ...]
    to_person: str
    breaks: tuple[Break, ...]
    pins_overridden: tuple[str, ...]
    front_conflicts: tuple[str, ...]
    ratio_before: float
    ratio_after: float
    loads_after: Mapping[str, float]

    @property
    def ok(self) -> bool:
        """True when every district stays contiguous and no pin or front is broken."""
        return not (self.breaks or self.pins_overridden or self.front_conflicts)

    def messages(self) -> list[str]:
        """Plain sentences for the user, one per problem, plus the balance change."""
        out = [b.describe() for b in self.breaks]
        if self.pins_overridden:
            out.append(f"pinned segments moved: {', '.join(self.pins_overridden)}")
        if self.front_conflicts:
            out.append(
                f"segments moved onto another front's person: {', '.join(self.front_conflicts)}"
            )
        out.append(f"workload max/min {self.ratio_before:.3f} → {self.ratio_after:.3f}")
        return out


def _edit_context(
    assignment: Mapping[str, str] | DistrictPlan,
    gdf_segments: gpd.GeoDataFrame,
    workload: WorkloadParams | pd.Series | Mapping[str, float] | None,
    cases: pd.DataFrame | None,
) -> tuple[dict[str, str], SegmentGraph, list[str]]:
    current = dict(assignment.assignment if isinstance(assignment, DistrictPlan) else assignment)
    if isinstance(assignment, DistrictPlan) and workload is None:
        workload = assignment.workload
    gdf = gdf_segments[gdf_segments["segment_id"].isin(set(current))].reset_index(drop=True)
    check_segments(gdf)
    weight = workload_series(gdf, workload, cases=cases)
    sg = build_segment_graph(gdf, weight)
    people = sorted(set(current.values()))
    return current, sg, people


def _loads(sg: SegmentGraph, assignment: Mapping[str, str], people: Sequence[str]) -> dict:
    loads = {p: 0.0 for p in people}
    for i, s in enumerate(sg.ids):
        loads[assignment[s]] = loads.get(assignment[s], 0.0) + float(sg.weight[i])
    return loads


def _breaks(
    sg: SegmentGraph,
    assignment: Mapping[str, str],
    people: Iterable[str],
    pins: Mapping[str, str],
) -> tuple[Break, ...]:
    by_person: dict[str, list[int]] = {}
    for i, s in enumerate(sg.ids):
        by_person.setdefault(assignment[s], []).append(i)
    out = []
    for p in sorted(set(people)):
        pcs = connected_pieces(sg, by_person.get(p, []))
        if len(pcs) <= 1:
            continue

        def rank(pc: list[int], p: str = p) -> tuple[int, float, int]:
            pinned = sum(1 for s in pc if pins.get(sg.ids[s]) == p)
            return (-pinned, -float(sg.weight[pc].sum()), pc[0])

        pcs.sort(key=rank)
        out.append(Break(person_id=p, pieces=tuple(tuple(sg.ids[s] for s in pc) for pc in pcs)))
    return tuple(out)


def move_segments(
    assignment: Mapping[str, str] | DistrictPlan,
    segment_ids: Sequence[str],
    to_person: str,
    gdf_segments: gpd.GeoDataFrame,
    *,
    workload: WorkloadParams | pd.Series | Mapping[str, float] | None = None,
    cases: pd.DataFrame | None = None,
    pins: Mapping[str, str] | None = None,
    allow_front_crossing: bool = False,
    people: Sequence[str] | None = None,
) -> MoveCheck:
    """Give ``segment_ids`` to ``to_person`` and say exactly what that breaks.

    The move is always carried out in the returned assignment (the input is not changed);
    :attr:`MoveCheck.breaks` lists every district that is no longer one piece (the donor
    cut in two, or the receiver when the segments do not touch its district), with the
    segment ids of each piece, and the balance before and after.
    """
    current, sg, known = _edit_context(assignment, gdf_segments, workload, cases)
    everyone = sorted(set(known) | set(people or ()))
    if to_person not in everyone:
        raise ValidationError(
            f"{to_person!r} holds no district here",
            source="move",
            field="to_person",
            fix=f"move to one of {', '.join(everyone)}",
        )
    for s in segment_ids:
        if s not in current:
            raise ValidationError(
                f"segment {s!r} is not in the assignment", source="move", field="segment_id"
            )
    pins = dict(pins or {})
    new = dict(current)
    for s in segment_ids:
        new[s] = to_person
    before = _loads(sg, current, everyone)
    after = _loads(sg, new, everyone)
    overridden = tuple(s for s in segment_ids if s in pins and pins[s] != to_person)
    conflicts: tuple[str, ...] = ()
    if not allow_front_crossing:
        fronts_of_receiver = {sg.front[i] for i, s in enumerate(sg.ids) if current[s] == to_person}
        if fronts_of_receiver:
            conflicts = tuple(
                s for s in segment_ids if sg.front[sg.index[s]] not in fronts_of_receiver
            )
    touched = {current[s] for s in segment_ids} | {to_person}
    return MoveCheck(
        assignment=new,
        moved=tuple(segment_ids),
        to_person=to_person,
        breaks=_breaks(sg, new, touched, pins),
        pins_overridden=overridden,
        front_conflicts=conflicts,
        ratio_before=max_min_ratio(np.array(list(before.values()))),
        ratio_after=max_min_ratio(np.array(list(after.values()))),
        loads_after=after,
    )


@dataclass(frozen=True)
class Repair:
    """Extra moves that make every district contiguous again after a manual move."""

    moves: tuple[tuple[str, str, str], ...]  # (segment_id, from person, to person)
    assignment: Mapping[str, str]
    ratio: float

    @property
    def size(self) -> int:
        """How many extra segments change owner."""
        return len(self.moves)


def smallest_repair(
    check: MoveCheck | Mapping[str, str],
    gdf_segments: gpd.GeoDataFrame,
    *,
    workload: WorkloadParams | pd.Series | Mapping[str, float] | None = None,
    cases: pd.DataFrame | None = None,
    pins: Mapping[str, str] | None = None,
    keep: Iterable[str] = (),
) -> Repair:
    """The fewest extra moves that make every district one piece, keeping the user's move.

    For every stray piece of a district two repairs are priced and the cheaper is taken:
    hand the piece to a neighbouring district (as many moves as the piece has segments;
    not allowed for pinned or just-moved segments), or join it to its main piece along the
    shortest walking path through other districts' segments (as many moves as the path has
    segments; only through segments whose owners stay in one piece). Pieces are repaired
    greedily one at a time, smallest first.

    Raises
    ------
    InfeasibleError
        When a stray piece can neither be handed over nor joined.
    """
    if isinstance(check, MoveCheck):
        assignment = dict(check.assignment)
        keep = set(keep) | set(check.moved)
    else:
        assignment = dict(check)
        keep = set(keep)
    current, sg, people = _edit_context(assignment, gdf_segments, workload, cases)
    pins = dict(pins or {})
    pos = {p: i for i, p in enumerate(people)}
    owner = np.array([pos[current[s]] for s in sg.ids], dtype=int)
    frozen = np.array([s in keep or s in pins for s in sg.ids], dtype=bool)
    state = PartitionState(sg, len(people), owner, frozen)
    moves: list[tuple[str, str, str]] = []
    for _round in range(4 * sg.n):
        brk = _breaks(sg, {s: people[state.owner[i]] for i, s in enumerate(sg.ids)}, people, pins)
        if not brk:
            break
        # smallest stray piece anywhere first
        cand = []
        for b in brk:
            for pc in b.pieces[1:]:
                cand.append((len(pc), b.person_id, pc, b.pieces[0]))
        cand.sort(key=lambda c: (c[0], c[1], c[2]))
        _, person, piece, main = cand[0]
        d = pos[person]
        pidx = [sg.index[s] for s in piece]
        midx = {sg.index[s] for s in main}
        options: list[tuple[int, int, list[tuple[int, int]]]] = []
        # (a) hand the piece to a neighbouring district
        if not frozen[pidx].any():
            nbr = sorted(
                {
                    int(state.owner[t])
                    for s in pidx
                    for t in sg.nbrs[s]
                    if state.owner[t] != d and state.owner[t] >= 0
                }
            )
            if nbr:
                to = min(nbr, key=lambda x: (state.load[x], x))
                options.append((len(pidx), 0, [(s, to) for s in pidx]))
        # (b) join the piece to the main piece through other districts' segments
        blocked = {i for i in range(sg.n) if frozen[i] and state.owner[i] != d}
        path = _shortest_path_to_set(sg, set(pidx), midx, blocked, state, d)
        if path is not None:
            options.append((len(path), 1, [(s, d) for s in path]))
        else:
            loose = _shortest_path_to_set(sg, set(pidx), midx, blocked, state, d, strict=False)
            if loose is not None:
                options.append((len(loose), 2, [(s, d) for s in loose]))
        applied = False
        ordered = sorted(options, key=lambda o: (o[0], o[1]))
        for _cost, _kind, plan in ordered:
            undo = []
            good = True
            for s, to in plan:
                if state.owner[s] != to and state.owner[s] != d and not state.can_remove(s):
                    good = False
                    break
                undo.append((s, int(state.owner[s])))
                state.move(s, to)
            if good:
                for s, frm in undo:
                    moves.append((sg.ids[s], people[frm], people[state.owner[s]]))
                    frozen[s] = True
                applied = True
                break
            for s, frm in reversed(undo):
                state.move(s, frm)
        viable = [o for o in ordered if _keeps_everyone(state, o[2])]
        if not applied and viable:
            # Every repair cuts another district: take the cheapest and mend that one next.
            for s, to in viable[0][2]:
                moves.append((sg.ids[s], people[state.owner[s]], people[to]))
                state.move(s, to)
                frozen[s] = True
            applied = True
        if not applied:
            raise InfeasibleError(
                f"{person}'s stray piece ({', '.join(piece[:5])}) can neither be handed to a "
                "neighbour nor joined to the rest of the district without breaking another"
            )
    else:
        raise InfeasibleError("no repair found: districts keep falling apart; undo the move")
    final = {s: people[state.owner[i]] for i, s in enumerate(sg.ids)}
    # Collapse repeated moves of one segment into its net move.
    net: dict[str, tuple[str, str]] = {}
    for sid, frm_p, to_p in moves:
        first = net[sid][0] if sid in net else frm_p
        net[sid] = (first, to_p)
    out = tuple((sid, f, t) for sid, (f, t) in sorted(net.items()) if f != t)
    return Repair(moves=out, assignment=final, ratio=max_min_ratio(state.load))


def _keeps_everyone(state: PartitionState, plan: Sequence[tuple[int, int]]) -> bool:
    """True when carrying out ``plan`` leaves every district at least one segment."""
    taken: dict[int, int] = {}
    for s, to in plan:
        frm = int(state.owner[s])
        if frm != to:
            taken[frm] = taken.get(frm, 0) + 1
    return all(len(state.members[d]) > n for d, n in taken.items())


def _shortest_path_to_set(
    sg: SegmentGraph,
    src: set[int],
    dst: set[int],
    blocked: set[int],
    state: PartitionState,
    d: int,
    strict: bool = True,
) -> list[int] | None:
    """Fewest foreign segments joining ``src`` to ``dst`` (0-1 BFS: own segments are free).

    When ``strict``, foreign segments whose removal would split their own district are not
    passable.
    """
    owner = state.owner
    passable: dict[int, bool] = {}

    def ok(y: int) -> bool:
        if owner[y] == d or not strict:
            return True
        if y not in passable:
            passable[y] = state.can_remove(y)
        return passable[y]

    dist = {s: 0 for s in src}
    prev: dict[int, int] = {s: -1 for s in src}
    dq = deque(sorted(src))
    while dq:
        x = dq.popleft()
        if x in dst:
            path = []
            y = x
            while y != -1:
                if owner[y] != d:
                    path.append(y)
                y = prev[y]
            return path[::-1]
        for y in sg.nbrs[x]:
            if y in blocked or not ok(y):
                continue
            cost = dist[x] + (0 if owner[y] == d else 1)
            if y not in dist or cost < dist[y]:
                dist[y] = cost
                prev[y] = x
                if owner[y] == d:
                    dq.appendleft(y)
                else:
                    dq.append(y)
    return None
