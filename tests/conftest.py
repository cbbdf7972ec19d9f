"""Fixtures every test area shares: the tiny geography, one browser and one PostGIS cluster.

They are defined here, once, and not imported into the areas' conftest files: an imported
session fixture is a second fixture with its own instance, which would start a second
cluster, and a second Playwright while the first is open (Playwright's sync API refuses).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from gis.geography.layers import Geography, load_geography
from gis.store.testing import PgCluster, missing_reason
from tests.tiny_geography import build_tiny_geography


@pytest.fixture(scope="session")
def tiny_geo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny synthetic geography folder, built once per session: read it, never write it
    (``tiny_dir`` in tests/foundation gives a copy to corrupt)."""
    return build_tiny_geography(tmp_path_factory.mktemp("geo") / "tiny")


@pytest.fixture(scope="session")
def tiny_geo(tiny_geo_dir: Path) -> Geography:
    """The tiny geography, loaded once per session."""
    return load_geography(tiny_geo_dir)


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    from tests.app.browser import CHROMIUM, CHROMIUM_ARGS, playwright_or_skip

    sync_api = playwright_or_skip()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def offline_page(chromium):
    """A fresh browser page whose non-localhost requests are all aborted (and recorded)."""
    from tests.app.browser import Network

    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    net = Network()
    page.route("**/*", net.handler)
    page.network = net  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.fixture(scope="session")
def refs():
    """The bundled category and department tables."""
    from gis.cases.categories import load_references

    return load_references()


@pytest.fixture
def pg_url(pg_cluster):
    """A fresh PostGIS database per test."""
    return pg_cluster.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostGIS cluster for the session (skips, or fails under CI, when absent)."""
    reason = missing_reason()
    if reason:
        if os.environ.get("PATROL_REQUIRE_POSTGIS") == "1":
            pytest.fail(f"PATROL_REQUIRE_POSTGIS=1 but {reason}")
        pytest.skip(f"PostGIS not available: {reason}")
    cluster = PgCluster().start()
    yield cluster
    cluster.stop()


_REQUIRED = {"postgis": "PATROL_REQUIRE_POSTGIS", "browser": "PATROL_REQUIRE_BROWSER"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """A test that uses the PostGIS cluster is a ``postgis`` test whether or not it says so:
    the quick set leaves it out and CI requires it. (A fixture that asks for the cluster only
    at run time marks its PostGIS parameter itself.)"""
    for item in items:
        if "pg_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgis)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under PATROL_REQUIRE_POSTGIS=1 / PATROL_REQUIRE_BROWSER=1 (CI), a skipped test marked
    ``postgis`` / ``browser`` is a failure, whatever skipped it."""
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    for marker, env in _REQUIRED.items():
        if item.get_closest_marker(marker) and os.environ.get(env) == "1":
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
            report.outcome = "failed"
            report.longrepr = f"{env}=1 but this {marker} test was skipped: {reason}"
            return
