"""The printed day sheet speaks the reader's language: names, not category or state codes."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from gis.i18n import t
from gis.localtime import LOCAL_TZ
from gis.people.dayplan import PersonPlan, Stop
from gis.people.daysheet import day_sheet_html

DAY = dt.date(2026, 5, 6)
SMALL_PRINT = re.compile(r'<small class="code">[^<]*</small>')


def _plan(**stop: str) -> PersonPlan:
    at = dt.datetime(2026, 5, 6, 7, 0, tzinfo=LOCAL_TZ)
    return PersonPlan(
        person_id="P07",
        name="王芳",
        team="一中队",
        phone="13800000000",
        shift="morning",
        start=at,
        end=at + dt.timedelta(hours=5),
        kind="sites",
        streets=("烟袋斜街", "银锭桥"),
        route_m=2400.0,
        minutes=48.0,
        stops=(
            Stop(
                case_id="K-0001",
                category=stop.get("category", "C04"),
                state=stop.get("state", "notice_served"),
                deadline_at=at + dt.timedelta(days=1),
                lon=116.39,
                lat=39.94,
                street="烟袋斜街",
            ),
        ),
    )


def _outside_small_print(html: str) -> str:
    return SMALL_PRINT.sub("", html)


def test_the_sheet_names_category_and_state_in_chinese() -> None:
    html = day_sheet_html(DAY, [_plan()])
    assert "店外经营/外摆" in html  # C04 in data/categories.csv
    assert t("cases.state.notice_served", "zh") in html  # 限期整改
    assert t("duty.morning", "zh") in html and t("daysheet.kind.sites", "zh") in html
    body = _outside_small_print(html)
    assert "C04" not in body and "notice_served" not in body and "sites" not in body
    # the codes are still there, in small print, to look a case up
    assert '<small class="code">C04</small>' in html
    assert '<small class="code">notice_served</small>' in html


def test_the_sheet_in_english() -> None:
    html = day_sheet_html(DAY, [_plan(category="C07", state="rechecking")], lang="en")
    assert "Noise (bars and music)" in html
    assert "Rechecking" in html and "Morning: illegal structures" in html
    body = _outside_small_print(html)
    assert "C07" not in body and "rechecking" not in body
    assert "店外经营" not in html and "限期整改" not in html


def test_an_unknown_code_is_shown_as_it_is_rather_than_dropped() -> None:
    html = day_sheet_html(DAY, [_plan(category="C99", state="mystery")])
    assert "C99" in _outside_small_print(html) and "mystery" in _outside_small_print(html)


def test_a_hostile_category_name_is_escaped() -> None:
    html = day_sheet_html(DAY, [_plan(category="X1")], categories={"X1": "<b>x</b>"})
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_nobody_on_duty(lang: str) -> None:
    html = day_sheet_html(DAY, [], lang=lang)
    assert t("daysheet.nobody", lang) in html
    assert t("daysheet.title", lang, day="2026-05-06") in html
