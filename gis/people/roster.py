"""The duty roster (排班): one duty per person and day, generated fairly and editable.

Shifts follow 早拆违、午巡查、晚整治: by default 07:00–12:00 demolition of illegal
structures, 12:00–17:00 patrol, 17:00–22:00 evening clean-up. A month's roster gives every
rostered person as many rest days as the month has weekends and public holidays (moved to
weekdays where the centre is busiest), spreads evening shifts and weekend/holiday work
evenly (each within ±1 across people), never puts more than ``max_consecutive`` working
days in a row, and never starts a shift less than ``min_rest_hours`` after the last ended.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gis.errors import ValidationError
from gis.io.csvsafe import SafeWriter
from gis.localtime import parse_clock
from gis.people.calendar import day_kind, is_rest_day
from gis.people.staff import Person

#: Shift duties in the order of the day: 早拆违、午巡查、晚整治.
SHIFTS: tuple[str, ...] = ("morning", "midday", "evening")
#: Every duty a roster cell can hold.
DUTIES: tuple[str, ...] = (*SHIFTS, "on_call", "rest", "leave")
#: One-character labels of the printed roster.
DUTY_LABELS: dict[str, str] = {
    "morning": "早",
    "midday": "午",
    "evening": "晚",
    "on_call": "备",
    "rest": "休",
    "leave": "假",
}
_WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class RosterEntry:
    """Person ``person_id`` has ``duty`` on ``day``."""

    day: dt.date
    person_id: str
    duty: str
    note: str = ""
    edited_by: str = ""


@dataclass(frozen=True)
class ShiftHours:
    """Start and end hour of each shift (local time, whole or fractional hours)."""

    morning: tuple[float, float] = (7.0, 12.0)
    midday: tuple[float, float] = (12.0, 17.0)
    evening: tuple[float, float] = (17.0, 22.0)

    def span(self, shift: str) -> tuple[float, float]:
        """(start, end) hours of a shift."""
        return tuple(getattr(self, shift))  # type: ignore[return-value]

    def gap_hours(self, before: str, after: str) -> float:
        """Hours between the end of ``before`` on one day and the start of ``after`` next day."""
        return 24.0 - self.span(before)[1] + self.span(after)[0]


def parse_shift_hours(text: str, *, source: str = "shift hours") -> ShiftHours:
    """Shift hours from ``"morning=07:00-12:00,midday=12:00-17:00,evening=17:00-22:00"``.

    Shifts left out keep their default; an empty text gives the defaults.
    """
    values: dict[str, tuple[float, float]] = {}
    for part in (p for p in text.split(",") if p.strip()):
        name, _, span = part.partition("=")
        name = name.strip()
        if name not in SHIFTS:
            raise ValidationError(
                f"unknown shift {name!r}",
                source=source,
                field="hours",
                fix=f"use {', '.join(SHIFTS)}",
            )
        start, sep, end = span.partition("-")
        if not sep:
            raise ValidationError(
                f"{part.strip()!r} has no start-end",
                source=source,
                field="hours",
                fix="write e.g. morning=07:00-12:00",
            )
        a, b = (
            parse_clock(start, source=source, field="hours"),
            parse_clock(end, source=source, field="hours"),
        )
        if b <= a:
            raise ValidationError(
                f"shift {name} ends at {end.strip()} before it starts at {start.strip()}",
                source=source,
                field="hours",
                fix="give an end after the start",
            )
        values[name] = (a, b)
    return ShiftHours(**values)


@dataclass(frozen=True)
class RosterRules:
    """What a fair roster respects; the defaults follow the centre's practice."""

    hours: ShiftHours = field(default_factory=ShiftHours)
    max_consecutive: int = 6
    min_rest_hours: float = 11.0
    #: Relative numbers of people per shift on working days and on weekends/holidays.
    weights_workday: tuple[float, float, float] = (1.0, 1.0, 1.0)
    weights_rest_day: tuple[float, float, float] = (1.0, 1.0, 1.5)
    #: Weekends/holidays are the busy days: fewer people rest then (relative weight).
    rest_weight_on_rest_days: float = 0.5

    def allowed_after(self, before: str, after: str) -> bool:
        """True when shift ``after`` may follow ``before`` on the next day."""
        if before not in SHIFTS or after not in SHIFTS:
            return True
        return self.hours.gap_hours(before, after) >= self.min_rest_hours


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Integers proportional to ``weights`` summing to ``total`` (largest remainder)."""
    s = sum(weights)
    if total <= 0 or s <= 0:
        return [0] * len(weights)
    raw = [total * w / s for w in weights]
    out = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (out[i] - raw[i], i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def generate_roster(
    people: Sequence[Person],
    days: Sequence[dt.date],
    *,
    rules: RosterRules | None = None,
    fixed: Mapping[tuple[str, dt.date], str] | None = None,
    previous: Mapping[str, str] | None = None,
) -> list[RosterEntry]:
    """A fair roster for ``people`` over consecutive ``days``.

    Parameters
    ----------
    people
        Everyone to roster; on-call staff get ``on_call`` on every day they serve, people
        outside their active dates get no entry.
    days
        Consecutive days (normally a month).
    fixed
        Cells decided beforehand, e.g. ``{("P03", date): "leave"}``; kept as they are.
    previous
        Each person's duty on the day before ``days[0]`` (for the rest rule across months).

    Raises
    ------
    ValidationError
        Days not consecutive, a fixed cell with an unknown duty, or nobody to roster.
    """
    rules = rules or RosterRules()
    fixed = dict(fixed or {})
    days = list(days)
    for a, b in zip(days, days[1:], strict=False):
        if (b - a).days != 1:
            raise ValidationError(
                f"roster days jump from {a} to {b}", field="days", fix="pass consecutive days"
            )
    for (pid, day), duty in fixed.items():
        if duty not in DUTIES:
            raise ValidationError(
                f"unknown duty {duty!r} for {pid} on {day}",
                field="duty",
                fix=f"use one of {', '.join(DUTIES)}",
            )
    shift_people = [p for p in people if p.presence in ("resident", "auxiliary")]
    if not shift_people and not people:
        raise ValidationError("nobody to roster", field="staff", fix="add staff first")
    out: list[RosterEntry] = []
    for p in people:
        if p.presence == "on_call":
            out += [
                RosterEntry(d, p.person_id, fixed.get((p.person_id, d), "on_call"))
                for d in days
                if p.active_on(d)
            ]
    if not shift_people or not days:
        return sorted(out, key=lambda e: (e.day, e.person_id))

    kinds = [is_rest_day(d) for d in days]
    for d in days:
        day_kind(d)  # raises early for years without a calendar
    rest_budget = sum(kinds)
    ids = [p.person_id for p in shift_people]
    n = len(ids)
    avail = [[p.active_on(d) and (p.person_id, d) not in fixed for d in days] for p in shift_people]
    # each person's rest days in proportion to the days they are available
    need = [
        round(rest_budget * sum(avail[i]) / len(days)) if sum(avail[i]) else 0 for i in range(n)
    ]
    per_day_weight = [rules.rest_weight_on_rest_days if k else 1.0 for k in kinds]
    rests_per_day = _apportion(sum(need), per_day_weight)

    # rests on weekends/holidays are shared round-robin; the rest of each person's rest
    # days fall on weekdays (a weekday budget reserved so busy-day rests stay fair)
    busy_rests = sum(r for r, k in zip(rests_per_day, kinds, strict=True) if k)
    busy_share = [busy_rests // n + (i < busy_rests % n) for i in range(n)]
    weekday_need = [max(0, need[i] - busy_share[i]) for i in range(n)]
    weekday_taken = [0] * n
    rest_day_rests = [0] * n
    consec = [0] * n
    counts = {s: [0] * n for s in SHIFTS}
    last = [(previous or {}).get(pid, "rest") for pid in ids]
    grid = [[""] * len(days) for _ in range(n)]
    rot = 0
    for di, d in enumerate(days):
        rot += 7  # rotate tie-breaks so the same people do not always come first
        today: dict[int, str] = {}
        for i, pid in enumerate(ids):
            if (pid, d) in fixed:
                today[i] = fixed[(pid, d)]
            elif not shift_people[i].active_on(d):
                today[i] = ""
        free = [i for i in range(n) if i not in today]
        busy = kinds[di]

        def must(i: int) -> bool:
            return consec[i] >= rules.max_consecutive

        def rest_key(i: int, di: int = di, busy: bool = busy, rot: int = rot) -> tuple[float, ...]:
            tie = (i * 5 + rot) % n
            if busy:
                return (not must(i), rest_day_rests[i] - busy_share[i], tie)
            left = weekday_need[i] - weekday_taken[i]
            days_left = sum(a and not k for a, k in zip(avail[i][di:], kinds[di:], strict=True))
            urgency = left / max(1, days_left)
            return (not must(i), -(urgency >= 1.0), -urgency, tie)

        def may_rest(i: int, busy: bool = busy) -> bool:
            if must(i):
                return True
            if busy:
                return rest_day_rests[i] < busy_share[i]
            return weekday_taken[i] < weekday_need[i]

        k = min(rests_per_day[di], len(free))
        order = sorted(free, key=rest_key)
        resting = [i for i in order[:k] if may_rest(i)]
        resting += [i for i in order if must(i) and i not in resting]
        for i in resting:
            today[i] = "rest"
        workers = [i for i in free if i not in today]
        weights = rules.weights_rest_day if kinds[di] else rules.weights_workday
        n_m, n_mid, n_e = _apportion(len(workers), weights)
        _ = n_mid

        def pick(pool: list[int], shift: str, count: int, rot: int = rot) -> list[int]:
            ok = [i for i in pool if rules.allowed_after(last[i], shift)]
            # among equals, prefer people who could not take the morning after yesterday
            ok.sort(
                key=lambda i: (
                    counts[shift][i],
                    rules.allowed_after(last[i], "morning"),
                    (i * 3 + rot) % n,
                )
            )
            return ok[:count]

        evening = pick(workers, "evening", n_e)
        pool = [i for i in workers if i not in evening]
        morning = pick(pool, "morning", n_m)
        for i in morning:
            today[i] = "morning"
        for i in evening:
            today[i] = "evening"
        for i in workers:
            today.setdefault(i, "midday")
        for i, duty in today.items():
            if not duty:
                last[i] = "rest"
                consec[i] = 0
                continue
            if duty == "rest":
                if busy:
                    rest_day_rests[i] += 1
                else:
                    weekday_taken[i] += 1
            if duty in SHIFTS:
                counts[duty][i] += 1
                consec[i] += 1
            else:
                consec[i] = 0
            last[i] = duty
            grid[i][di] = duty
    start = [(previous or {}).get(pid, "rest") for pid in ids]
    _balance(grid, kinds, start, rules)
    for i, pid in enumerate(ids):
        out += [RosterEntry(d, pid, grid[i][di]) for di, d in enumerate(days) if grid[i][di]]
    return sorted(out, key=lambda e: (e.day, e.person_id))


def _sequence_ok(cells: Sequence[str], before: str, rules: RosterRules) -> bool:
    """The rest rules for one person's duties (``before`` = the day before the first)."""
    run = 0
    prev = before
    for c in cells:
        if c in SHIFTS:
            run += 1
            if run > rules.max_consecutive or not rules.allowed_after(prev, c):
                return False
        else:
            run = 0
        prev = c
    return True


def _balance(
    grid: list[list[str]], kinds: Sequence[bool], start: Sequence[str], rules: RosterRules
) -> None:
    """Swap cells between people until evening and weekend/holiday work are within ±1.

    The greedy pass is nearly fair; when rest days cluster, a few people end one shift
    apart too many. A swap is kept only if both people's sequences still obey the rest rules.
    """
    n, days = len(grid), len(kinds)
    fair = [i for i in range(n) if all(c not in ("", "leave") for c in grid[i])]

    def evenings(i: int) -> int:
        return sum(c == "evening" for c in grid[i])

    def rest_day_work(i: int) -> int:
        return sum(c in SHIFTS and k for c, k in zip(grid[i], kinds, strict=True))

    def try_swap(i: int, j: int, cells: Sequence[tuple[int, str, str]]) -> bool:
        old = [(d, grid[i][d], grid[j][d]) for d, _, _ in cells]
        for d, a, b in cells:
            grid[i][d], grid[j][d] = a, b
        if _sequence_ok(grid[i], start[i], rules) and _sequence_ok(grid[j], start[j], rules):
            return True
        for d, a, b in old:
            grid[i][d], grid[j][d] = a, b
        return False

    def _move_busy_day(hi: int, lo: int) -> bool:
        # hi rests on a busy day lo worked; lo rests on a weekday and hi takes that shift
        for d in (d for d in range(days) if kinds[d]):
            if grid[hi][d] not in SHIFTS or grid[lo][d] != "rest":
                continue
            for e in (e for e in range(days) if not kinds[e]):
                if grid[lo][e] in SHIFTS and grid[hi][e] == "rest":
                    x, y = grid[hi][d], grid[lo][e]
                    if try_swap(hi, lo, [(d, "rest", x), (e, y, "rest")]):
                        return True
        return False

    def rests(i: int) -> int:
        return sum(c == "rest" for c in grid[i])

    def _move_rest(hi: int, lo: int) -> bool:
        # hi gives one rest day to lo (hi works lo's shift that day); busy work counts move
        # only if the day is a weekend/holiday, so try weekdays first
        for d in sorted(range(days), key=lambda d: kinds[d]):
            if grid[hi][d] == "rest" and grid[lo][d] in SHIFTS:
                if try_swap(hi, lo, [(d, grid[lo][d], "rest")]):
                    return True
        return False

    def _move_evening(hi: int, lo: int) -> bool:
        for d in range(days):
            if grid[hi][d] == "evening" and grid[lo][d] in ("morning", "midday"):
                if try_swap(hi, lo, [(d, grid[lo][d], "evening")]):
                    return True
        return False

    for _ in range(8 * n):
        if len(fair) < 2:
            return
        changed = False
        top = max(map(rest_day_work, fair))
        bottom = min(map(rest_day_work, fair))
        if top - bottom > 1:
            pairs = [
                (hi, lo)
                for hi in fair
                if rest_day_work(hi) == top
                for lo in fair
                if rest_day_work(lo) == bottom
            ]
            changed = any(_move_busy_day(hi, lo) for hi, lo in pairs)
        top = max(map(rests, fair))
        bottom = min(map(rests, fair))
        if not changed and top - bottom > 1:
            pairs = [
                (hi, lo) for hi in fair if rests(hi) == top for lo in fair if rests(lo) == bottom
            ]
            changed = any(_move_rest(hi, lo) for hi, lo in pairs)
        top = max(map(evenings, fair))
        bottom = min(map(evenings, fair))
        if not changed and top - bottom > 1:
            pairs = [
                (hi, lo)
                for hi in fair
                if evenings(hi) == top
                for lo in fair
                if evenings(lo) == bottom
            ]
            changed = any(_move_evening(hi, lo) for hi, lo in pairs)
        if not changed:
            return


def roster_problems(
    entries: Sequence[RosterEntry],
    *,
    rules: RosterRules | None = None,
    fair_ids: Sequence[str] | None = None,
) -> list[str]:
    """Every broken rule of a roster (empty when it is fair and rested).

    Checks consecutive working days, the rest between shifts, and — among ``fair_ids``
    (default: everyone with a shift on every day and no leave) — that evening shifts and weekend/holiday
    work differ by at most one between people.
    """
    rules = rules or RosterRules()
    by_person: dict[str, list[RosterEntry]] = {}
    for e in sorted(entries, key=lambda e: (e.person_id, e.day)):
        by_person.setdefault(e.person_id, []).append(e)
    problems: list[str] = []
    evenings: dict[str, int] = {}
    rest_day_work: dict[str, int] = {}
    rests: dict[str, int] = {}
    for pid, cells in by_person.items():
        run = 0
        prev: RosterEntry | None = None
        for e in cells:
            if e.duty in SHIFTS:
                run = (
                    run + 1
                    if prev is not None and (e.day - prev.day).days == 1 and prev.duty in SHIFTS
                    else 1
                )
                if run > rules.max_consecutive:
                    problems.append(
                        f"{pid} works {run} days in a row up to {e.day} "
                        f"(at most {rules.max_consecutive})"
                    )
                if (
                    prev is not None
                    and (e.day - prev.day).days == 1
                    and not rules.allowed_after(prev.duty, e.duty)
                ):
                    problems.append(
                        f"{pid} has {prev.duty} on {prev.day} then {e.duty} on {e.day}: "
                        f"less than {rules.min_rest_hours:g} h rest"
                    )
            prev = e
        if any(c.duty in SHIFTS for c in cells) and not any(c.duty == "leave" for c in cells):
            evenings[pid] = sum(c.duty == "evening" for c in cells)
            rest_day_work[pid] = sum(c.duty in SHIFTS and is_rest_day(c.day) for c in cells)
            rests[pid] = sum(c.duty == "rest" for c in cells)
    if fair_ids is None:  # people rostered on every day of the period
        full = max((len(c) for c in by_person.values()), default=0)
        fair_ids = [pid for pid in evenings if len(by_person[pid]) == full]
    ids = list(fair_ids)
    for label, tally in (
        ("evening shifts", evenings),
        ("weekend/holiday shifts", rest_day_work),
        ("rest days", rests),
    ):
        vals = {pid: tally[pid] for pid in ids if pid in tally}
        if vals and max(vals.values()) - min(vals.values()) > 1:
            hi = max(vals, key=lambda k: vals[k])
            lo = min(vals, key=lambda k: vals[k])
            problems.append(
                f"{label} are uneven: {hi} has {vals[hi]}, {lo} has {vals[lo]} (at most 1 apart)"
            )
    return problems


def roster_table(
    entries: Sequence[RosterEntry], people: Sequence[Person], days: Sequence[dt.date]
) -> list[list[str]]:
    """The printed roster: one row per person, one column per day, then the totals."""
    cell = {(e.person_id, e.day): e.duty for e in entries}
    header = ["编号 id", "姓名 name", "班组 team"]
    for d in days:
        mark = {"holiday": "节", "adjusted_workday": "班"}.get(day_kind(d), "")
        header.append(f"{d:%m-%d} {_WEEKDAYS[d.weekday()]}{mark}")
    header += ["晚班 evenings", "节假日班 weekend/holiday", "休息 rest"]
    rows = [header]
    for p in people:
        duties = [cell.get((p.person_id, d), "") for d in days]
        if not any(duties):
            continue
        rows.append(
            [p.person_id, p.name, p.team]
            + [DUTY_LABELS.get(x, "") for x in duties]
            + [
                str(sum(x == "evening" for x in duties)),
                str(sum(x in SHIFTS and is_rest_day(d) for x, d in zip(duties, days, strict=True))),
                str(sum(x == "rest" for x in duties)),
            ]
        )
    return rows


def roster_csv(
    entries: Sequence[RosterEntry],
    people: Sequence[Person],
    days: Sequence[dt.date],
    *,
    hours: ShiftHours | None = None,
) -> bytes:
    """The roster as an Excel-friendly CSV: UTF-8 with a byte-order mark, CRLF line ends,
    formula-safe text cells, and a legend line with the shift hours."""
    hours = hours or ShiftHours()
    buf = io.StringIO()
    w = SafeWriter(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    w.writerows(roster_table(entries, people, days))
    legend = []
    for s, task in zip(SHIFTS, ("拆违", "巡查", "整治"), strict=True):
        a, b = hours.span(s)
        legend.append(f"{DUTY_LABELS[s]}={_hhmm(a)}–{_hhmm(b)} {task}")
    legend += ["备=on call", "休=rest", "假=leave", "节=holiday", "班=adjusted workday"]
    w.writerow(["; ".join(legend)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _hhmm(h: float) -> str:
    return f"{int(h):02d}:{round((h - int(h)) * 60):02d}"
