"""Two app instances on one PostGIS: a login on A continues on B (the session is a store row,
the cookie is sent to both), a case advanced on A is seen on B at its next render, and a
concurrent edit from B of the version A already changed is refused with a clear message."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from gis.access.auth import DEMO_PASSWORDS
from gis.access.db import PostgresAccessDB
from gis.access.session_token import COOKIE_NAME
from gis.access.users import StoreUserRepository, seed_demo_users
from gis.i18n import t
from gis.settings import Settings
from gis.store import open_store
from tests.app.browser import ARTIFACTS, playwright_or_skip, settle, shot, streamlit_server
from tests.app.conftest import TEST_ROUNDS

pytestmark = [pytest.mark.browser, pytest.mark.postgis]

EXCEPTION = '[data-testid="stException"]'
CASE = "K01"


@pytest.fixture(scope="module")
def two_apps(pg_cluster, tiny_geo_dir, tiny_geo) -> Iterator[dict[str, Any]]:
    """Instances A and B of the app (serve.py) on one throwaway PostGIS database."""
    from gis.cases.intake import locate_reports, validate_record
    from tests.app.test_app_cases import WEST

    playwright_or_skip()
    url = pg_cluster.create_database("two_instances")
    now = dt.datetime.now(dt.UTC)
    with open_store(Settings(database_url=url)) as store:
        raw = validate_record(
            {
                "report_id": CASE,
                "category": "C04",
                "lon": WEST[0],
                "lat": WEST[1],
                "reported_at": (now - dt.timedelta(hours=2)).isoformat(),
                "description": "两个实例",
            },
            refs=store.refs,
            now=now,
        )
        store.add_reports(
            locate_reports([raw], tiny_geo.segments, gdf_zones=tiny_geo.zones),
            received_by="seed",
            at=now,
        )
    db = PostgresAccessDB(url)
    seed_demo_users(StoreUserRepository(db), list(tiny_geo.zones["zone_id"]), rounds=TEST_ROUNDS)
    db.close()
    env = {
        "PATROL_DATA_DIR": str(tiny_geo_dir),
        "PATROL_DATABASE_URL": url,
        "PATROL_LANG": "zh",
        "PATROL_BASEMAP": "none",
    }
    with ExitStack() as stack:
        a = stack.enter_context(streamlit_server(env, log_path=ARTIFACTS / "instance-a.log"))
        b = stack.enter_context(streamlit_server(env, log_path=ARTIFACTS / "instance-b.log"))
        yield {"a": a, "b": b, "url": url}


def _case(url: str) -> Any:
    with open_store(Settings(database_url=url)) as store:
        return store.get_case(CASE), len(store.audit_trail(CASE))


def _clean(page: Any) -> None:
    settle(page)
    assert page.locator(EXCEPTION).count() == 0


def _state_shown(page: Any, state: str) -> None:
    page.get_by_text(f"· {t(f'cases.state.{state}')}").first.wait_for(timeout=60_000)


def test_two_instances_share_sessions_and_cases(two_apps, chromium) -> None:
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    try:
        a = context.new_page()
        a.goto(two_apps["a"])
        a.locator(".st-key-login_username input").fill("leader")
        a.locator(".st-key-login_password input").fill(DEMO_PASSWORDS["leader"])
        a.get_by_role("button", name=t("login.submit")).click()
        a.get_by_role("heading", name=t("overview.title")).wait_for(timeout=60_000)
        _clean(a)
        deadline = time.monotonic() + 60
        while not any(c["name"] == COOKIE_NAME for c in context.cookies()):
            assert time.monotonic() < deadline, "instance A never set the session cookie"
            a.wait_for_timeout(100)
        # B has never seen this person: the cookie names a session that B finds in the store
        b = context.new_page()
        b.goto(f"{two_apps['b']}/cases?case={CASE}")
        b.get_by_role("heading", name=t("cases.title")).wait_for(timeout=60_000)
        _clean(b)
        assert b.locator(".st-key-login_username").count() == 0
        a.goto(f"{two_apps['a']}/cases?case={CASE}")
        a.get_by_role("heading", name=t("cases.title")).wait_for(timeout=60_000)
        _clean(a)
        before, trail = _case(two_apps["url"])
        assert before.state == "reported" and before.version == 1
        for page in (a, b):
            _state_shown(page, "reported")
        # both pages now hold the form of version 1; A applies first
        a.locator(f".st-key-cases_apply_{CASE}_1 button").click()
        a.get_by_text(f"已转为“{t('cases.state.registered')}”").wait_for(timeout=60_000)
        _clean(a)
        after, trail_a = _case(two_apps["url"])
        assert (after.state, after.version, trail_a) == ("registered", 2, trail + 1)
        shot(a, "two-instances-a-advanced")
        # B presses on its stale form: refused in words, and B now shows the store's state
        b.locator(f".st-key-cases_apply_{CASE}_1 button").click()
        stale = t("cases.stale", case_id=CASE, state=t("cases.state.registered"))
        b.get_by_text(stale).wait_for(timeout=60_000)
        _clean(b)
        _state_shown(b, "registered")
        assert b.locator(f".st-key-cases_apply_{CASE}_2").count() == 1  # the current form
        final, trail_b = _case(two_apps["url"])
        assert (final.state, final.version, trail_b) == ("registered", 2, trail_a)
        shot(b, "two-instances-b-refused")
        # logout on B ends the session for A too (one row in the store): even a kept copy
        # of the cookie is refused by A
        kept = [c for c in context.cookies() if c["name"] == COOKIE_NAME]
        b.get_by_role("button", name=t("app.logout")).click()
        b.locator(".st-key-login_username input").wait_for(timeout=60_000)
        _clean(b)
        context.add_cookies(kept)
        a.reload()
        a.locator(".st-key-login_username input").wait_for(timeout=60_000)
        _clean(a)
        assert a.get_by_text(t("login.expired")).count() == 1
    finally:
        context.close()
