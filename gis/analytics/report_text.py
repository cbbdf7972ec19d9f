"""The reports' strings in Chinese and English, number formats and the headline KPI rows."""

from __future__ import annotations

import math

from gis.analytics.kpis import Kpis

TEXTS: dict[str, dict[str, str]] = {
    "title": {"zh": "什刹海综合执法中心 {kind}", "en": "Shichahai enforcement center — {kind}"},
    "daily": {"zh": "日报（日碰头）", "en": "daily report"},
    "weekly": {"zh": "周报（周点评）", "en": "weekly report"},
    "monthly": {"zh": "月报（月通报）", "en": "monthly report"},
    "period": {"zh": "统计期", "en": "Period"},
    "as_of": {"zh": "截至", "en": "As of"},
    "reported": {"zh": "新报案件", "en": "Reported"},
    "open": {"zh": "在办案件", "en": "Open"},
    "overdue": {"zh": "超期案件", "en": "Overdue"},
    "closed": {"zh": "结案", "en": "Closed"},
    "rejected": {"zh": "不予立案/重复", "en": "Rejected/duplicate"},
    "closure_rate": {"zh": "结案率", "en": "Closure rate"},
    "median_close": {"zh": "结案用时中位数", "en": "Median time to close"},
    "within_deadline": {"zh": "按期办结率", "en": "Closed within deadline"},
    "joint": {"zh": "联合执法", "en": "Joint enforcement actions"},
    "consult": {"zh": "会商", "en": "Consultations"},
    "expected": {"zh": "常态约 {x}", "en": "usual ≈ {x}"},
    "not_recorded": {"zh": "未记录", "en": "not recorded"},
    "estimated": {"zh": "（按案件状态估计）", "en": " (estimated from case states)"},
    "by_zone": {"zh": "按责任区", "en": "By zone"},
    "by_dept": {"zh": "按主责单位", "en": "By lead department"},
    "by_category": {"zh": "按问题类别", "en": "By category"},
    "by_person": {"zh": "人员工作量", "en": "Workload per person"},
    "overdue_list": {"zh": "超期案件（超期最久的在前）", "en": "Overdue cases (longest first)"},
    "case_id": {"zh": "案件编号", "en": "Case"},
    "deadline_at": {"zh": "整改期限", "en": "Deadline"},
    "days_overdue": {"zh": "超期天数", "en": "Days overdue"},
    "trend": {"zh": "每日新报与结案", "en": "Reported and closed per day"},
    "map": {"zh": "本期热点（核密度）", "en": "Hot spots of the period (kernel density)"},
    "no_map": {"zh": "本期无案件，无热点图", "en": "No cases in the period: no hot-spot map"},
    "no_map_drawn": {
        "zh": "本期有案件，但未生成热点图",
        "en": "The period has cases, but no hot-spot map was drawn",
    },
    "zone_id": {"zh": "责任区", "en": "Zone"},
    "lead_dept": {"zh": "主责单位", "en": "Lead department"},
    "category": {"zh": "类别", "en": "Category"},
    "person_id": {"zh": "责任人", "en": "Person"},
    "street_km": {"zh": "街巷长度(公里)", "en": "Streets (km)"},
    "reported_per_km": {"zh": "每公里新报", "en": "Reported per km"},
    "load_vs_mean": {"zh": "相对平均负荷", "en": "Load vs mean"},
    "notes": {"zh": "说明", "en": "Notes"},
    "none": {"zh": "无", "en": "none"},
    "crowd_alerts": {"zh": "客流预警记录", "en": "Crowd alert log"},
    "raised_at": {"zh": "预警时间", "en": "Raised"},
    "place": {"zh": "点位", "en": "Place"},
    "level": {"zh": "等级", "en": "Level"},
    "lead_min": {"zh": "提前量(分钟)", "en": "Lead (min)"},
    "state": {"zh": "处置状态", "en": "State"},
    "acted_by": {"zh": "处置人", "en": "By"},
    "hours": {"zh": "{x} 小时", "en": "{x} h"},
    "forecast": {
        "zh": "热点预测可信度（滚动回测）",
        "en": "How far to trust the forecast (backtest)",
    },
    "forecast_help": {
        "zh": "按每周预测的高风险区域（占面积或街巷长度的比例）计算：命中率 = 下周案件落入其中的比例；"
        "PAI = 命中率 ÷ 面积比例（越大越好）；事后最优为已知结果时的上限。",
        "en": "Each week the riskiest share of the area (or street length) is picked: hit rate = "
        "share of next week's cases inside it; PAI = hit rate ÷ area share (higher is better); "
        "hindsight is the ceiling when the outcome is known.",
    },
    "method": {"zh": "方法", "en": "Method"},
    "coverage": {"zh": "覆盖比例", "en": "Coverage"},
    "weeks": {"zh": "周数", "en": "Weeks"},
    "hit_rate": {"zh": "命中率", "en": "Hit rate"},
    "pai": {"zh": "PAI", "en": "PAI"},
    "attendance": {"zh": "出勤（签到）", "en": "Attendance (sign-in)"},
    "attendance_team": {"zh": "按班组", "en": "By team"},
    "attendance_person": {"zh": "按人员", "en": "By person"},
    "team": {"zh": "班组", "en": "Team"},
    "name": {"zh": "姓名", "en": "Name"},
    "signins_expected": {"zh": "应签到", "en": "Expected"},
    "on_time": {"zh": "按时", "en": "On time"},
    "late": {"zh": "迟到", "en": "Late"},
    "absent": {"zh": "缺勤", "en": "Absent"},
    "out_of_fence": {"zh": "范围外", "en": "Out of fence"},
    "rate": {"zh": "出勤率", "en": "Attendance rate"},
    "patrol_coverage": {"zh": "巡查覆盖与在岗", "en": "Patrol coverage and time on post"},
    "day": {"zh": "日期", "en": "Day"},
    "shift": {"zh": "班次", "en": "Shift"},
    "planned_m": {"zh": "计划路线(米)", "en": "Planned (m)"},
    "covered_m": {"zh": "已巡(米)", "en": "Covered (m)"},
    "covered_share": {"zh": "覆盖率", "en": "Covered"},
    "on_post_share": {"zh": "在岗率", "en": "On post"},
    "gaps": {"zh": "超15分钟空档", "en": "Gaps > 15 min"},
    # coordination sections (gis.coordination.monthly)
    "punctuality": {
        "zh": "吹哨报到：各部门到场及时率",
        "en": "Whistle calls: arrivals per department",
    },
    "targets": {
        "zh": "会商与联合执法（对照月度目标）",
        "en": "Consultations and joint actions vs target",
    },
    "inspections": {"zh": "明察暗访发现", "en": "Inspection findings"},
    "sources": {"zh": "按来源的上报", "en": "Reports by source"},
    "dept": {"zh": "部门", "en": "Department"},
    "calls": {"zh": "呼叫次数", "en": "Calls"},
    "arrivals": {"zh": "到场次数", "en": "Arrivals"},
    "on_time_30": {"zh": "30分钟内到场", "en": "Within 30 min"},
    "on_time_rate": {"zh": "及时率", "en": "On-time rate"},
    "median_minutes": {"zh": "到场用时中位数(分钟)", "en": "Median minutes"},
    "item": {"zh": "项目", "en": "Item"},
    "recorded": {"zh": "已记录", "en": "Recorded"},
    "target": {"zh": "目标", "en": "Target"},
    "met": {"zh": "达标", "en": "Met"},
    "joint_actions": {"zh": "联合执法", "en": "Joint actions"},
    "consultations": {"zh": "会商", "en": "Consultations"},
    "target_kind": {"zh": "对象类型", "en": "Checked"},
    "result": {"zh": "结果", "en": "Result"},
    "findings": {"zh": "次数", "en": "Findings"},
    "source": {"zh": "来源", "en": "Source"},
}


_NOTES_ZH = {
    "the period lies in the future: no cases yet": "统计期尚未开始，暂无案件",
    "no cases were reported in this period": "本期无新报案件",
    "joint actions estimated from current case states; consultations need the audit trail": (
        "联合执法次数按案件当前状态估计；会商次数需要办案流程记录"
    ),
}


def note_text(note: str, lang: str) -> str:
    """A KPI note in ``lang`` (the notes are kept in English in :class:`Kpis`)."""
    if lang != "zh":
        return note
    if note.startswith("the period is still running: figures as of "):
        return "统计期尚未结束，数据截至 " + note.rsplit("as of ", 1)[1]
    return _NOTES_ZH.get(note, note)


def t(key: str, lang: str, **kw: object) -> str:
    """A report string in ``lang`` (zh or en)."""
    s = TEXTS[key]["zh" if lang == "zh" else "en"]
    return s.format(**kw) if kw else s


def fmt_int(n: int | float | None, lang: str = "zh") -> str:
    """Thousands separators (both conventions use the comma in tables)."""
    return "—" if n is None else f"{int(n):,}"


def fmt_pct(x: float | None, lang: str = "zh") -> str:
    """Percent with one decimal: 85.0%."""
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def fmt_num(x: float | None, digits: int = 1) -> str:
    """A number with ``digits`` decimals, or a dash."""
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.{digits}f}"


def _paren(a: str, b: str, lang: str) -> str:
    return f"{a}（{b}）" if lang == "zh" else f"{a} ({b})"


def kpi_rows(k: Kpis, lang: str = "zh") -> list[tuple[str, str]]:
    """(label, value) of the headline figures, formatted for ``lang``."""
    joint = fmt_int(k.joint_actions) + (t("estimated", lang) if k.joint_source == "states" else "")
    consult = fmt_int(k.consultations) if k.consultations is not None else t("not_recorded", lang)
    med = (
        t("hours", lang, x=fmt_num(k.median_hours_to_close))
        if k.median_hours_to_close is not None
        else "—"
    )
    exp_j = fmt_num(k.expected_joint_actions)
    exp_c = fmt_num(k.expected_consultations)
    return [
        (t("reported", lang), fmt_int(k.reported)),
        (t("open", lang), fmt_int(k.open)),
        (t("overdue", lang), fmt_int(k.overdue)),
        (t("closed", lang), fmt_int(k.closed)),
        (t("rejected", lang), fmt_int(k.rejected)),
        (t("closure_rate", lang), fmt_pct(k.closure_rate)),
        (t("median_close", lang), med),
        (t("within_deadline", lang), fmt_pct(k.within_deadline_rate)),
        (t("joint", lang), _paren(joint, t("expected", lang, x=exp_j), lang)),
        (t("consult", lang), _paren(consult, t("expected", lang, x=exp_c), lang)),
    ]
