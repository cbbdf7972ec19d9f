"""The report as Excel-friendly CSV, and atomic writing of report files."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from gis.analytics.kpis import Kpis
from gis.analytics.report_text import t
from gis.io.csvsafe import SafeWriter

_CSV_ZH = {
    "kpi": "指标汇总",
    "daily": "每日",
    "start": "开始",
    "end": "结束",
    "reported": "新报案件",
    "open": "在办案件",
    "overdue": "超期案件",
    "closed": "结案",
    "rejected": "不予立案/重复",
    "closure_rate": "结案率",
    "median_hours_to_close": "结案用时中位数(小时)",
    "within_deadline_rate": "按期办结率",
    "joint_actions": "联合执法",
    "joint_actions_expected": "联合执法常态值",
    "consultations": "会商",
    "consultations_expected": "会商常态值",
    "zone_id": "责任区",
    "lead_dept": "主责单位",
    "category": "类别",
    "person_id": "责任人",
    "street_km": "街巷长度(公里)",
    "reported_per_km": "每公里新报",
    "load_vs_mean": "相对平均负荷",
}


def report_csv(
    k: Kpis, lang: str = "zh", names: Mapping[str, Mapping[str, str]] | None = None
) -> str:
    """Excel-friendly CSV text (write it with ``encoding="utf-8-sig"`` for the BOM).

    Long format: section, key, metric, value — one row per figure, so every table of the
    report is in one sheet. Labels are Chinese in the zh version; keys (zone ids, category
    codes) stay as they are, with ``names`` appended when given (``C04 店外经营``).
    Rates are fractions (0.9567), not percentages, so Excel can compute with them.
    """
    zh = lang == "zh"
    names = names or {}

    def lab(key: str) -> str:
        return _CSV_ZH.get(key, key) if zh else key

    def keyname(section: str, key: object) -> str:
        text = str(key)
        shown = names.get(section, {}).get(text)
        return (
            f"{text} {shown}"
            if shown and shown != text and not shown.startswith(text)
            else (shown or text)
        )

    buf = io.StringIO()
    w = SafeWriter(buf, lineterminator="\r\n")
    w.writerow(["部分", "项", "指标", "数值"] if zh else ["section", "key", "metric", "value"])
    head = t("period", lang)
    last = k.period.end - pd.Timedelta(days=1)
    w.writerow([head, k.period.label(lang), lab("start"), k.period.start.strftime("%Y-%m-%d")])
    w.writerow([head, k.period.label(lang), lab("end"), last.strftime("%Y-%m-%d")])
    raw = {
        "reported": k.reported,
        "open": k.open,
        "overdue": k.overdue,
        "closed": k.closed,
        "rejected": k.rejected,
        "closure_rate": "" if k.closure_rate is None else round(k.closure_rate, 4),
        "median_hours_to_close": ""
        if k.median_hours_to_close is None
        else round(k.median_hours_to_close, 2),
        "within_deadline_rate": ""
        if k.within_deadline_rate is None
        else round(k.within_deadline_rate, 4),
        "joint_actions": "" if k.joint_actions is None else k.joint_actions,
        "joint_actions_expected": round(k.expected_joint_actions, 2),
        "consultations": "" if k.consultations is None else k.consultations,
        "consultations_expected": round(k.expected_consultations, 2),
    }
    for m, v in raw.items():
        w.writerow([lab("kpi"), "", lab(m), v])
    for section, table in (
        ("zone_id", k.by_zone),
        ("lead_dept", k.by_dept),
        ("category", k.by_category),
        ("person_id", k.by_person),
    ):
        for _, row in table.iterrows():
            for col in table.columns:
                if col == section:
                    continue
                v = row[col]
                value = round(float(v), 4) if isinstance(v, float) else v
                w.writerow([lab(section), keyname(section, row[section]), lab(col), value])
    for _, row in k.daily.iterrows():
        day = row["date"].isoformat()
        w.writerow([lab("daily"), day, lab("reported"), row["reported"]])
        w.writerow([lab("daily"), day, lab("closed"), row["closed"]])
    return buf.getvalue()


def write_text_atomic(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to a temporary file beside ``path``, then move it into place.

    A failure (an unencodable character, a full disk, an interrupted run) leaves the
    previous file untouched and no partial file behind: a truncated report that looks
    complete is worse than none.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as fh:
            fh.write(text)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_html(text: str, path: str | Path) -> Path:
    """Write a rendered report (:func:`render_html`) atomically as UTF-8."""
    return write_text_atomic(path, text, "utf-8")


def write_csv(
    k: Kpis, path: str, lang: str = "zh", names: Mapping[str, Mapping[str, str]] | None = None
) -> None:
    """Write :func:`report_csv` as UTF-8 with a BOM so Excel opens Chinese text correctly.

    Written atomically (:func:`write_text_atomic`).
    """
    write_text_atomic(path, report_csv(k, lang, names), "utf-8-sig")
