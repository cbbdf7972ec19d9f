"""The printable, self-contained HTML report and its tables (crowd alerts, forecast scorecard)."""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.analytics.charts import svg_bars, svg_columns
from gis.analytics.density import DensitySurface
from gis.analytics.kpis import Kpis
from gis.analytics.periods import KINDS, Period, en_date, zh_date
from gis.analytics.report_map import hotspot_map_png
from gis.analytics.report_text import TEXTS, fmt_int, fmt_num, fmt_pct, kpi_rows, note_text, t
from gis.analytics.selection import TIMEZONE

_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em;
color:#222;max-width:60em}
h1{font-size:1.5em;border-bottom:2px solid #b22;padding-bottom:.3em}
h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #bbb;padding:.25em .6em;text-align:right}
th{background:#f0f0f0}
td:first-child,th:first-child,td.t{text-align:left}
.kpi td:last-child{font-weight:bold}
.note{color:#8a4b00}
.synthetic{color:#a00;font-weight:bold}
@media print{body{margin:0}h2{page-break-after:avoid}table,svg,img{page-break-inside:avoid}}
"""


def _table_html(df: pd.DataFrame, lang: str) -> str:
    if df.empty:
        return f"<p>{t('none', lang)}</p>"
    head = "".join(f"<th>{html.escape(_col(c, lang))}</th>" for c in df.columns)
    rows = []
    for _, r in df.iterrows():
        cells = []
        for c in df.columns:
            v = r[c]
            text = False
            if isinstance(v, float):
                s = fmt_num(v, 2)
                s = s.rstrip("0").rstrip(".") if "." in s else s
            elif isinstance(v, (int, np.integer)):
                s = fmt_int(int(v))
            else:
                s, text = str(v), True
            cls = ' class="t"' if text else ""
            cells.append(f"<td{cls}>{html.escape(s)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _col(c: str, lang: str) -> str:
    return t(c, lang) if c in TEXTS else c


def map_caption(k: Kpis, surface: DensitySurface, lang: str) -> str:
    """What the map shows: its cases (the period's reported ones) and its kernel radius, and
    how many of the period's cases it leaves out (no location, or outside the map)."""
    shown, left_out = surface.n_cases, max(k.reported - surface.n_cases, 0)
    if lang == "zh":
        text = f"{k.period.label('zh')}新报案件 {fmt_int(shown)} 件；核密度带宽 {surface.bandwidth_m:.0f} 米"
        return text + (f"；另有 {fmt_int(left_out)} 件无位置或在图幅外，未绘入" if left_out else "")
    text = (
        f"{k.period.label('en')}: {fmt_int(shown)} reported cases; "
        f"kernel bandwidth {surface.bandwidth_m:.0f} m"
    )
    return text + (
        f"; {fmt_int(left_out)} more have no location or lie outside the map" if left_out else ""
    )


def render_html(
    k: Kpis,
    *,
    lang: str = "zh",
    surface: DensitySurface | None = None,
    gdf_segments: gpd.GeoDataFrame | None = None,
    names: Mapping[str, Mapping[str, str]] | None = None,
    synthetic: bool = False,
    scorecard: pd.DataFrame | None = None,
    crowd_alerts: pd.DataFrame | None = None,
    attendance: Mapping[str, pd.DataFrame] | None = None,
    coverage: pd.DataFrame | None = None,
    coordination: Mapping[str, pd.DataFrame] | None = None,
) -> str:
    """A self-contained printable HTML report (inline SVG charts, inline PNG map).

    ``crowd_alerts`` (from :func:`crowd_alert_log`) adds the crowd alert log of the period.
    ``attendance`` (``{"team": …, "person": …}`` from
    :func:`gis.people.signin.attendance_summary`) and ``coverage`` (one row per person and
    shift) add the people sections: who signed in, and what was really patrolled.

    ``coordination`` (from :func:`gis.coordination.monthly.coordination_tables`) adds the
    departments' punctuality, consultations and joint actions against their targets,
    inspection findings and reports by source.

    ``scorecard`` (from :func:`forecast_scorecard`) adds how far the hotspot forecast can be
    trusted: its backtested hit rate and PAI next to the best possible in hindsight.

    ``names`` optionally maps table keys to display names, e.g.
    ``{"zone_id": {"110102…": "大金丝社区"}, "category": {"C04": "店外经营"}}``.
    ``synthetic`` puts a warning banner on reports made from demo data.
    """
    lang = "zh" if lang == "zh" else "en"
    names = names or {}
    title = t("title", lang, kind=t(k.period.kind, lang) if k.period.kind in KINDS else "")
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)} {html.escape(k.period.label(lang))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if synthetic:
        msg = (
            "演示数据（合成），非真实案件"
            if lang == "zh"
            else "Demo data (synthetic), not real cases"
        )
        out.append(f'<p class="synthetic">{msg}</p>')
    as_of = zh_date(k.as_of.date()) if lang == "zh" else en_date(k.as_of.date())
    out.append(
        f"<p>{t('period', lang)}: {html.escape(k.period.label(lang))} · "
        f"{t('as_of', lang)}: {as_of} {k.as_of:%H:%M}</p>"
    )
    for n in k.notes:
        out.append(f'<p class="note">{html.escape(note_text(n, lang))}</p>')
    out.append('<table class="kpi">')
    for label, value in kpi_rows(k, lang):
        out.append(f"<tr><td>{html.escape(label)}</td><td>{html.escape(value)}</td></tr>")
    out.append("</table>")
    if len(k.daily) > 1 and (k.daily["reported"].sum() + k.daily["closed"].sum()) > 0:
        out.append(f"<h2>{t('trend', lang)}</h2>")
        out.append(
            svg_columns(
                [f"{d.month}/{d.day}" for d in k.daily["date"]],
                {t("reported", lang): k.daily["reported"], t("closed", lang): k.daily["closed"]},
            )
        )
    out.append(f"<h2>{t('map', lang)}</h2>")
    png = hotspot_map_png(surface, gdf_segments=gdf_segments, lang=lang) if surface else None
    if png and surface is not None:
        b64 = base64.b64encode(png).decode("ascii")
        out.append(f'<img alt="{t("map", lang)}" src="data:image/png;base64,{b64}" width="560">')
        out.append(f"<p>{html.escape(map_caption(k, surface, lang))}</p>")
    else:  # say "no cases" only when there were none
        out.append(f"<p>{t('no_map' if k.reported == 0 else 'no_map_drawn', lang)}</p>")
    out.append(f"<h2>{t('overdue_list', lang)}</h2>")
    late = k.overdue_list.copy()
    for key in ("category", "zone_id", "lead_dept"):
        if key in names and key in late.columns and len(late):
            late[key] = late[key].map(lambda v, m=names[key]: m.get(v, v))
    out.append(_table_html(late, lang))
    if crowd_alerts is not None:
        out.append(f"<h2>{t('crowd_alerts', lang)}</h2>")
        out.append(_table_html(crowd_alerts, lang))
    if scorecard is not None:
        out.append(f"<h2>{t('forecast', lang)}</h2>")
        if len(scorecard):  # the help explains the figures; without figures it says none
            out.append(f"<p>{t('forecast_help', lang)}</p>")
        out.append(_table_html(scorecard, lang))
    for key, table, sec in (
        ("category", k.by_category, "by_category"),
        ("zone_id", k.by_zone, "by_zone"),
        ("lead_dept", k.by_dept, "by_dept"),
        ("person_id", k.by_person, "by_person"),
    ):
        out.append(f"<h2>{t(sec, lang)}</h2>")
        tab = table.copy()
        if key in names and len(tab):
            tab[key] = tab[key].map(lambda v, m=names[key]: m.get(v, v))
        bars = [c for c in ("reported", "closed", "overdue") if c in tab.columns]
        if len(tab) and key != "person_id" and bars and float(tab[bars].to_numpy().sum()) > 0:
            top = tab.head(15)
            out.append(
                svg_bars(
                    list(top[key].astype(str)),
                    {t(c, lang): top[c] for c in ("reported", "closed", "overdue")},
                )
            )
        out.append(_table_html(tab, lang))
    if attendance is not None:
        out.append(f"<h2>{t('attendance', lang)}</h2>")
        for key in ("team", "person"):
            if key in attendance:
                out.append(f"<h3>{t('attendance_' + key, lang)}</h3>")
                tab = attendance[key].rename(columns={"expected": "signins_expected"})
                out.append(_table_html(tab, lang))
    if coverage is not None:
        out.append(f"<h2>{t('patrol_coverage', lang)}</h2>")
        out.append(_table_html(coverage, lang))
    for sec, table in (coordination or {}).items():
        if sec in TEXTS:
            out.append(f"<h2>{t(sec, lang)}</h2>")
            tab = table.copy()
            if "item" in tab.columns:
                tab["item"] = [t(v, lang) if v in TEXTS else v for v in tab["item"]]
            if "met" in tab.columns:
                tab["met"] = ["✓" if m else "✗" for m in tab["met"]]
            tab = tab.rename(columns={"on_time": "on_time_30"})
            out.append(_table_html(tab, lang))
    out.append("</body></html>")
    return "\n".join(out)


_LEVEL_NAMES = {
    "zh": {"blue": "蓝", "yellow": "黄", "orange": "橙", "red": "红"},
    "en": {"blue": "blue", "yellow": "yellow", "orange": "orange", "red": "red"},
}
_ALERT_STATES = {
    "zh": {"open": "待处置", "acknowledged": "已确认", "escalated": "已立案"},
    "en": {"open": "open", "acknowledged": "acknowledged", "escalated": "raised to case"},
}


def crowd_alert_log(
    alerts: Sequence[Any], period: Period, place_names: Mapping[str, str], lang: str = "zh"
) -> pd.DataFrame:
    """The period's crowd alerts (raised, place, level, lead time, state, by whom, case)."""
    lg = "zh" if lang == "zh" else "en"
    rows = [
        {
            "raised_at": pd.Timestamp(a.raised_at).tz_convert(TIMEZONE).strftime("%m-%d %H:%M"),
            "place": place_names.get(a.place_id, a.place_id),
            "level": _LEVEL_NAMES[lg].get(a.level, a.level),
            "lead_min": int(round(float(a.lead_min))),
            "state": _ALERT_STATES[lg].get(a.state, a.state),
            "acted_by": a.acted_by or "",
            "case_id": a.case_id or "",
        }
        for a in sorted(alerts, key=lambda x: x.raised_at)
        if period.start <= pd.Timestamp(a.raised_at) < period.end
    ]
    cols = ["raised_at", "place", "level", "lead_min", "state", "acted_by", "case_id"]
    return pd.DataFrame(rows, columns=cols)


_METHOD_NAMES = {
    "last4": {"zh": "近4周计数", "en": "Last 4 weeks"},
    "kde_decay": {"zh": "时间衰减核密度", "en": "Decaying density"},
    "near_repeat": {"zh": "近重复模型", "en": "Near-repeat"},
    "hindsight": {"zh": "事后最优", "en": "Hindsight (best possible)"},
}


def forecast_scorecard(summary: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """The backtest summary as a small display table (method, coverage, weeks, hit rate, PAI).

    ``summary`` is :attr:`gis.analytics.forecast.Backtest.summary`; hit rate and coverage become
    percentages (strings) so the table prints as is.
    """
    cols = ["method", "coverage", "weeks", "hit_rate", "pai"]
    if summary is None or summary.empty:
        return pd.DataFrame(columns=cols)
    lg = "zh" if lang == "zh" else "en"
    out = summary[cols].copy()
    out["method"] = out["method"].map(lambda m: _METHOD_NAMES.get(m, {}).get(lg, m))
    out["coverage"] = out["coverage"].map(lambda c: f"{100 * c:.0f}%")
    out["hit_rate"] = out["hit_rate"].map(lambda h: fmt_pct(float(h)))
    out["pai"] = out["pai"].astype(float).round(2)
    out["weeks"] = out["weeks"].astype(int)
    return out.reset_index(drop=True)
