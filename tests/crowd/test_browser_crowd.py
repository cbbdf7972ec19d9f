"""Holiday replay in Chromium: counts rise at 银锭桥, a 黄 then 橙 alert appears with its lead
time and nearest staff, a leader raises it to a case, and the daily report lists it."""

from __future__ import annotations

import re
import time

import pytest

from gis.access.users import DEMO_PASSWORDS, SqliteUserRepository, seed_demo_users
from gis.geography.layers import load_geography
from gis.i18n import t
from gis.store.geopackage import GeoPackageStore
from tests.app.browser import ARTIFACTS, map_frame, map_stats, open_page, shot, streamlit_server
from tests.app.conftest import TEST_ROUNDS

from .conftest import DATA

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def crowd_app(tmp_path_factory):
    from tests.app.browser import playwright_or_skip

    playwright_or_skip()
    store = tmp_path_factory.mktemp("crowd") / "patrol.gpkg"
    zones = list(load_geography(DATA / "shichahai").zones["zone_id"])
    seed_demo_users(SqliteUserRepository(store), zones, rounds=TEST_ROUNDS)
    env = {
        "PATROL_DATABASE_URL": str(store),
        "PATROL_LANG": "zh",
        "PATROL_BASEMAP": "none",
        # a fixed today: the demo replays the last holiday before it (2026-10-07 for any day
        # from 2026-10-08 to the next holiday; the real date would move it)
        "PATROL_CLOCK": "2026-12-01T09:00",
    }
    with streamlit_server(env, log_path=ARTIFACTS / "streamlit-crowd.log") as url:
        yield {"url": url, "store": store}


def _one(page, selector: str, timeout_s: float = 120.0):
    """The element once the rerun is over (a running page keeps a stale copy until then)."""
    loc = page.locator(selector)
    deadline = time.monotonic() + timeout_s
    while loc.count() != 1:
        if time.monotonic() > deadline:
            raise AssertionError(f"{selector}: {loc.count()} elements")
        page.wait_for_timeout(250)
    return loc


def _no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


def test_holiday_replay_alert_to_case_to_daily_report(crowd_app, offline_page, tmp_path):
    page = offline_page
    page.goto(crowd_app["url"])
    page.get_by_label(t("login.username")).fill("leader")
    page.get_by_label(t("login.password")).fill(DEMO_PASSWORDS["leader"])
    page.get_by_role("button", name=t("login.submit")).click()
    page.get_by_role("heading", name=t("overview.title")).wait_for(timeout=60_000)
    open_page(page, t("page.crowd"), t("crowd.title"))
    page.get_by_role("button", name=t("crowd.seed")).click()
    page.get_by_text("已载入合成客流数据").wait_for(timeout=120_000)
    _no_exception(page)
    shot(page, "crowd-seeded")
    _one(page, ".st-key-crowd_step_60 button").click()
    page.get_by_text(re.compile(r"回放到 2026年10月7日 11:00")).wait_for(timeout=120_000)
    yellow = page.get_by_text(
        re.compile(r"银锭桥 · 黄色预警 · 预计 \d\d:\d\d 达到（提前 \d+ 分钟）")
    )
    yellow.wait_for(timeout=30_000)
    assert page.get_by_text(re.compile(r"银锭桥 · 橙色预警")).count() == 0
    _one(page, ".st-key-crowd_step_60 button").click()
    page.get_by_text(re.compile(r"回放到 2026年10月7日 12:00")).wait_for(timeout=120_000)
    orange = page.get_by_text(
        re.compile(r"银锭桥 · 橙色预警 · 预计 \d\d:\d\d 达到（提前 \d+ 分钟）")
    )
    orange.wait_for(timeout=30_000)
    lead = int(re.search(r"提前 (\d+) 分钟", orange.inner_text()).group(1))
    assert lead >= 30
    card = _one(page, ".st-key-alert_CW-YDQ-202610071150-orange")
    assert card.get_by_text(t("crowd.nearest")).count() == 1
    # the places are drawn on the map, coloured by level
    stats = map_stats(map_frame(page))
    assert stats["vectors"] >= 6
    shot(page, "crowd-alerts")
    _no_exception(page)

    card.get_by_role("button", name=t("crowd.raise_major")).click()
    case_id = "C29-CW-YDQ-202610071150-orange"
    page.get_by_text(f"已立案：{case_id}（人群聚集风险，重大）").wait_for(timeout=60_000)
    _no_exception(page)
    # the store holds what the page shows
    with GeoPackageStore(crowd_app["store"]) as store:
        case = store.get_case(case_id)
        assert (case.category, case.tier, case.owner) == ("C29", "major", "leader")
        assert store.get_alert("CW-YDQ-202610071150-orange").state == "escalated"
    log = page.locator('[data-testid="stTable"]')
    row = log.locator("tr", has_text=case_id)
    row.wait_for(timeout=30_000)
    assert "银锭桥" in row.inner_text() and "已立案" in row.inner_text()
    with page.expect_download() as dl:
        _one(page, ".st-key-crowd_download button").click()
    path = tmp_path / "daily.html"
    dl.value.save_as(path)
    html = path.read_text(encoding="utf-8")
    assert "客流预警记录" in html and case_id in html
    shot(page, "crowd-case-raised")
    assert page.network.blocked == []
