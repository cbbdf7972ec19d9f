"""The printable day plan: one A4 page per person, every text escaped.

Names, streets and notes come from files and users, so none of them is ever markup.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from html import escape

from gis.cases.categories import load_references
from gis.i18n import MESSAGES, t
from gis.localtime import LOCAL_TZ as TZ
from gis.people.dayplan import PersonPlan

_STYLE = """
@page { size: A4; margin: 1.5cm; }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", sans-serif; font-size: 11pt; }
section.person { page-break-after: always; break-after: page; }
section.person:last-child { page-break-after: auto; break-after: auto; }
h1 { font-size: 16pt; margin: 0 0 4pt; }
table { border-collapse: collapse; width: 100%; margin-top: 6pt; }
td, th { border: 1px solid #999; padding: 2pt 4pt; text-align: left; font-size: 10pt; }
.meta { color: #333; }
small.code { color: #777; font-size: 7pt; }
.note { color: #8a4b00; }
"""


def _hhmm(t: dt.datetime) -> str:
    return t.astimezone(TZ).strftime("%H:%M")


def _name(key: str, code: str, lang: str) -> str:
    """The catalogue name of a code (``duty.morning`` → 早班 拆违), the code if unknown."""
    return t(key, lang) if key in MESSAGES else code


def person_section(
    plan: PersonPlan, *, lang: str = "zh", categories: Mapping[str, str] | None = None
) -> str:
    """One person's page (escaped HTML) in ``lang``.

    Categories and states are printed by name; their codes follow in small print only, for
    looking a case up.
    """
    e = escape
    cats = category_names(lang) if categories is None else categories
    duty = _name(f"duty.{plan.shift}", plan.shift, lang)  # shift and its job: 早班 拆违
    kind = _name(f"daysheet.kind.{plan.kind}", plan.kind, lang)
    length = t(
        "daysheet.length", lang, km=f"{plan.route_m / 1000:.1f}", minutes=f"{plan.minutes:.0f}"
    )
    head = (
        f"<h1>{e(plan.name)} {e(plan.person_id)} · {e(duty)}</h1>"
        f'<p class="meta">{e(plan.team)} · {e(plan.phone)} · '
        f"{_hhmm(plan.start)}–{_hhmm(plan.end)} · {e(kind)} · {e(length)}</p>"
    )
    parts = [head]
    if plan.stops:
        rows = "".join(
            f"<tr><td>{i}</td><td>{e(s.case_id)}</td>"
            f"<td>{e(cats.get(s.category, s.category))} {_code(s.category)}</td>"
            f"<td>{e(_name(f'cases.state.{s.state}', s.state, lang))} {_code(s.state)}</td>"
            f"<td>{e(_due(s.deadline_at))}</td><td>{e(s.street)}</td></tr>"
            for i, s in enumerate(plan.stops, start=1)
        )
        heads = "".join(
            f"<th>{e(t(f'daysheet.{k}', lang))}</th>"
            for k in ("case", "category", "state", "due", "street")
        )
        parts.append(f"<table><tr><th>#</th>{heads}</tr>{rows}</table>")
    if plan.streets:
        parts.append(
            f"<p><b>{e(t('daysheet.route', lang))}:</b> "
            + " → ".join(e(s) for s in plan.streets[:60])
            + "</p>"
        )
    for n in plan.notes:
        parts.append(f'<p class="note">{e(n)}</p>')
    return '<section class="person">' + "".join(parts) + "</section>"


def _code(code: str) -> str:
    return f'<small class="code">{escape(code)}</small>' if code else ""


def _due(at: dt.datetime | None) -> str:
    return at.astimezone(TZ).strftime("%m-%d %H:%M") if at else ""


def category_names(lang: str = "zh") -> dict[str, str]:
    """Category code → name from the bundled reference table (``C04`` → its Chinese name)."""
    refs = load_references()
    return {k: (v.name_en if lang == "en" else v.name_zh) for k, v in refs.categories.items()}


def day_sheet_html(
    day: dt.date,
    plans: Sequence[PersonPlan],
    *,
    lang: str = "zh",
    categories: Mapping[str, str] | None = None,
) -> str:
    """The whole day's plan: a page per person, print-ready, in ``lang`` (Chinese first).

    ``categories`` (code → name) defaults to the bundled reference table's names.
    """
    cats = category_names(lang) if categories is None else categories
    body = "".join(person_section(p, lang=lang, categories=cats) for p in plans)
    body = body or f"<p>{escape(t('daysheet.nobody', lang))}</p>"
    title = escape(t("daysheet.title", lang, day=day.isoformat()))
    return (
        f'<!DOCTYPE html><html lang="{"en" if lang == "en" else "zh"}"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )
