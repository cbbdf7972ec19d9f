"""Two app instances on one PostGIS: a login on A continues on B (the session is a store row,
the cookie is sent to both), a case advanced on A is seen on B at its next render, and a
concurrent edit from B of the version A already changed is refused with a clear message.
Then the same two behind nginx with deploy/nginx.conf."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from gis.access.db import PostgresAccessDB
from gis.access.session_token import COOKIE_NAME
from gis.access.users import DEMO_PASSWORDS, StoreUserRepository, seed_demo_users
from gis.i18n import t
from gis.settings import Settings
from gis.store import open_store
from tests.app.browser import (
    ARTIFACTS,
    free_port,
    playwright_or_skip,
    settle,
    shot,
    stop_process,
    streamlit_server,
)
from tests.app.conftest import REPO_ROOT, TEST_ROUNDS

pytestmark = [pytest.mark.browser, pytest.mark.postgis]

EXCEPTION = '[data-testid="stException"]'
CASE = "K01"


@pytest.fixture(scope="module")
def two_apps(pg_cluster, tiny_geo_dir, tiny_geo) -> Iterator[dict[str, Any]]:
    """Instances A and B of the app (serve.py) on one throwaway PostGIS database."""
    from gis.cases.intake import validate_record
    from gis.cases.snapping import locate_reports
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


NGINX = Path("/usr/sbin/nginx")
DEPLOY_CONF = REPO_ROOT / "deploy" / "nginx.conf"


def _nginx_conf(tmp: Path, port: int, upstreams: list[str]) -> Path:
    """deploy/nginx.conf as the repository has it, with loopback ports, in a private nginx."""
    site = DEPLOY_CONF.read_text(encoding="utf-8")
    site, n_listen = re.subn(r"(?m)^(\s*)listen 80;", rf"\1listen 127.0.0.1:{port};", site)
    lines = iter(upstreams)
    site, n_up = re.subn(
        r"server 127\.0\.0\.1:850\d", lambda _m: "server " + next(lines).split("//")[1], site
    )
    assert (n_listen, n_up) == (1, 2), "deploy/nginx.conf no longer has the expected shape"
    # the test also wants to know which instance answered
    site = site.replace(
        "add_header Set-Cookie",
        "add_header X-Test-Upstream $upstream_addr always;\n        add_header Set-Cookie",
    )
    for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / d).mkdir(parents=True, exist_ok=True)
        (tmp / d).chmod(0o777)
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
{site}
}}
""",
        encoding="utf-8",
    )
    return conf


@contextmanager
def _nginx(tmp: Path, upstreams: list[str]) -> Iterator[str]:
    port = free_port()
    conf = _nginx_conf(tmp, port, upstreams)
    check = subprocess.run(
        [str(NGINX), "-t", "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen(
        [str(NGINX), "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(conf)]
        + ["-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert proc.poll() is None, (tmp / "error.log").read_text()
            assert time.monotonic() < deadline, "nginx did not answer"
            time.sleep(0.2)
        yield url
    finally:
        stop_process(proc)


def _upstream_for(url: str, node: str) -> str:
    req = urllib.request.Request(f"{url}/_stcore/health", headers={"Cookie": f"patrol_node={node}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return str(r.headers["X-Test-Upstream"])


@pytest.mark.skipif(not NGINX.is_file(), reason="nginx is not installed (apt install nginx-light)")
def test_login_through_nginx_continues_on_the_other_instance(two_apps, chromium, tmp_path) -> None:
    with _nginx(tmp_path / "nginx", [two_apps["a"], two_apps["b"]]) as url:
        first = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        second = chromium.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        try:
            page = first.new_page()
            served = page.goto(url).headers["x-test-upstream"]
            page.locator(".st-key-login_username input").fill("chief")
            page.locator(".st-key-login_password input").fill(DEMO_PASSWORDS["chief"])
            page.get_by_role("button", name=t("login.submit")).click()
            page.get_by_role("heading", name=t("overview.title")).wait_for(timeout=60_000)
            _clean(page)
            deadline = time.monotonic() + 60
            while not any(c["name"] == COOKIE_NAME for c in first.cookies()):
                assert time.monotonic() < deadline, "the session cookie never came through nginx"
                page.wait_for_timeout(100)
            cookies = {c["name"]: c for c in first.cookies()}
            assert cookies[COOKIE_NAME]["httpOnly"] and "patrol_node" in cookies
            # the same browser stays on its instance (Streamlit's download files live there)
            assert page.reload().headers["x-test-upstream"] == served
            page.get_by_role("heading", name=t("overview.title")).wait_for(timeout=60_000)
            _clean(page)
            # another browser with the same session, pinned to the other instance
            other_node = next(
                node for node in (f"k{i}" for i in range(200)) if _upstream_for(url, node) != served
            )
            host = "127.0.0.1"
            second.add_cookies(
                [
                    {**cookies[COOKIE_NAME], "domain": host},
                    {**cookies["patrol_node"], "domain": host, "value": other_node},
                ]
            )
            phone = second.new_page()
            elsewhere = phone.goto(url).headers["x-test-upstream"]
            assert elsewhere != served
            phone.get_by_role("heading", name=t("overview.title")).wait_for(timeout=60_000)
            _clean(phone)
            assert phone.locator(".st-key-login_username").count() == 0
            shot(phone, "through-nginx-other-instance")
        finally:
            first.close()
            second.close()
