"""The monthly report's 整改前后对比 section: before/after thumbnails of cases closed as 已整改.

Self-contained HTML: every image is a ``data:image/jpeg`` URI of pixels Pillow re-encoded
(:func:`gis.coordination.evidence.thumbnail_uri`); nothing is fetched and every text is
escaped. :func:`insert_section` puts it before the end of a rendered report.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gis.coordination import evidence

#: At most this many cases are shown (each with two ~8 kB thumbnails); the rest are counted.
MAX_CASES = 40
_URI = re.compile(r"data:image/jpeg;base64,[A-Za-z0-9+/]+={0,2}")
_TEXT = {
    "title": (
        "整改前后对比（本月已整改结案）",
        "Before and after (closed as rectified this month)",
    ),
    "case": ("案件", "Case"),
    "category": ("类别", "Category"),
    "closed": ("结案时间", "Closed"),
    "before": ("整改前", "Before"),
    "after": ("整改后", "After"),
    "reason": ("无整改后照片，理由：", "No after photo, reason: "),
    "none": ("本月没有附照片的已整改结案案件。", "No case with photos was closed as rectified."),
    "more": ("另有 {n} 起未列出。", "{n} more not shown."),
}


def _t(key: str, lang: str) -> str:
    return _TEXT[key][0 if lang == "zh" else 1]


@dataclass(frozen=True)
class RectifiedCase:
    """A case closed as 已整改 in the period, with its thumbnails (data: URIs)."""

    case_id: str
    category: str
    closed_at: dt.datetime
    before: str | None
    after: str | None
    note: str


def rectified_cases(store: Any, start: dt.datetime, end: dt.datetime) -> list[RectifiedCase]:
    """Cases with photos whose closing step in ``[start, end)`` was ``close_rectified``."""
    photo_cases = {str(r["case_id"]) for r in store.coord_rows("coord_photos", columns=["case_id"])}
    found: list[RectifiedCase] = []
    for case_id in sorted(photo_cases):
        case = store.get_case(case_id)
        if case.state != "closed" or case.closed_at is None:
            continue
        if not (start <= case.closed_at < end):
            continue
        last = store.audit_trail(case_id)[-1]
        if last.action != "close_rectified":
            continue
        thumbs = evidence.case_thumbnails(store, [case_id]).get(case_id, {})
        found.append(RectifiedCase(case_id, case.category, case.closed_at, thumbs.get("before"),
                                   thumbs.get("after"), last.note))  # fmt: skip
    return sorted(found, key=lambda r: r.closed_at)


def _img(uri: str | None, alt: str) -> str:
    if uri is None or _URI.fullmatch(uri) is None:  # only our own JPEG data: URIs
        return "—"
    return f'<img src="{uri}" alt="{html.escape(alt)}" width="160">'


def section_html(
    cases: list[RectifiedCase], lang: str = "zh", names: Mapping[str, str] | None = None
) -> str:
    """The section: one row per case, before and after side by side."""
    lang = "zh" if lang == "zh" else "en"
    names = names or {}
    out = [f'<h2 id="rectified-photos">{_t("title", lang)}</h2>']
    if not cases:
        out.append(f"<p>{_t('none', lang)}</p>")
        return "\n".join(out)
    head = "".join(f"<th>{_t(k, lang)}</th>" for k in ("case", "category", "closed", "before",
                                                         "after"))  # fmt: skip
    rows = []
    for r in cases[:MAX_CASES]:
        after = _img(r.after, _t("after", lang))
        if r.after is None and r.note.strip():
            after = html.escape(_t("reason", lang) + r.note.strip()[:200])
        rows.append(
            f"<tr><td>{html.escape(r.case_id)}</td>"
            f"<td>{html.escape(names.get(r.category, r.category))}</td>"
            f"<td>{r.closed_at:%Y-%m-%d %H:%M}</td>"
            f"<td>{_img(r.before, _t('before', lang))}</td><td>{after}</td></tr>"
        )
    out.append(f'<table class="photos"><tr>{head}</tr>{"".join(rows)}</table>')
    if len(cases) > MAX_CASES:
        out.append(f"<p>{_t('more', lang).format(n=len(cases) - MAX_CASES)}</p>")
    return "\n".join(out)


def insert_section(report_html: str, section: str) -> str:
    """``report_html`` with ``section`` placed just before its closing ``</body>``."""
    at = report_html.rfind("</body>")
    if at < 0:
        return report_html + section
    return report_html[:at] + section + "\n" + report_html[at:]
