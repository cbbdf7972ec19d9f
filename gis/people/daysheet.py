"""The printable day plan: one A4 page per person, every text escaped.

Names, streets and notes come from files and users, so none of them is ever markup.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from gis.cases.workflow import TZ
from gis.people.dayplan import PersonPlan

_SHIFT_ZH = {"morning": "早班", "midday": "午班", "evening": "晚班"}
_KIND_ZH = {
    "sites": "拆违点位路线 illegal-structure sites",
    "postman": "责任区全覆盖巡查 district tour",
    "hotspots": "热点巡查 hotspot route",
    "none": "无路线 no route",
}

_STYLE = """
@page { size: A4; margin: 1.5cm; }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", sans-serif; font-size: 11pt; }
section.person { page-break-after: always; break-after: page; }
section.person:last-child { page-break-after: auto; break-after: auto; }
h1 { font-size: 16pt; margin: 0 0 4pt; }
table { border-collapse: collapse; width: 100%; margin-top: 6pt; }
td, th { border: 1px solid #999; padding: 2pt 4pt; text-align: left; font-size: 10pt; }
.meta { color: #333; }
.note { color: #8a4b00; }
"""


def _hhmm(t: dt.datetime) -> str:
    return t.astimezone(TZ).strftime("%H:%M")


def person_section(plan: PersonPlan) -> str:
    """One person's page (escaped HTML)."""
    e = escape
    shift = _SHIFT_ZH.get(plan.shift, plan.shift)
    head = (
        f"<h1>{e(plan.name)} {e(plan.person_id)} · {e(shift)}{e(plan.task)}</h1>"
        f'<p class="meta">{e(plan.team)} · {e(plan.phone)} · '
        f"{_hhmm(plan.start)}–{_hhmm(plan.end)} · {e(_KIND_ZH.get(plan.kind, plan.kind))} · "
        f"{plan.route_m / 1000:.1f} km, {plan.minutes:.0f} min</p>"
    )
    parts = [head]
    if plan.stops:
        rows = "".join(
            f"<tr><td>{i}</td><td>{e(s.case_id)}</td><td>{e(s.category)}</td>"
            f"<td>{e(s.state)}</td><td>{e(s.deadline_at.astimezone(TZ).strftime('%m-%d %H:%M')) if s.deadline_at else ''}</td>"
            f"<td>{e(s.street)}</td></tr>"
            for i, s in enumerate(plan.stops, start=1)
        )
        parts.append(
            "<table><tr><th>#</th><th>案件 case</th><th>类别</th><th>状态</th>"
            f"<th>期限 due</th><th>街巷 street</th></tr>{rows}</table>"
        )
    if plan.streets:
        parts.append(
            "<p><b>路线 route:</b> " + " → ".join(e(s) for s in plan.streets[:60]) + "</p>"
        )
    for n in plan.notes:
        parts.append(f'<p class="note">{e(n)}</p>')
    return '<section class="person">' + "".join(parts) + "</section>"


def day_sheet_html(day: dt.date, plans: Sequence[PersonPlan]) -> str:
    """The whole day's plan: a page per person, print-ready."""
    body = "".join(person_section(p) for p in plans) or "<p>今日无排班 nobody on duty</p>"
    return (
        '<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8">'
        f"<title>日碰头 {day.isoformat()}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )
