"""A real Streamlit server and Debian's Chromium (Playwright) with every non-local request blocked."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.app.conftest import REPO_ROOT

CHROMIUM = Path(os.environ.get("PATROL_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO_ROOT / "artifacts" / "app"
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
LOCAL_PREFIXES = ("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "ws://localhost")


def playwright_or_skip() -> Any:
    """The sync Playwright API, or skip (fail when PATROL_REQUIRE_BROWSER=1)."""
    reason = None
    sync_api = None
    try:
        from playwright import sync_api
    except ImportError:
        reason = "Python playwright is not installed"
    if reason is None and not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM} (apt install chromium)"
    if reason is not None:
        if os.environ.get("PATROL_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests are required but {reason}")
        pytest.skip(reason)
    return sync_api


def free_port() -> int:
    """A free localhost TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process(proc: subprocess.Popen) -> None:
    """Stop a server a test started: terminate, then kill if it has not ended in 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def streamlit_server(
    env: Mapping[str, str], *, log_path: Path, root: Path | None = None
) -> Iterator[str]:
    """Run ``streamlit run serve.py`` (the app with its session-cookie routes; ``app.py`` in
    an older checkout) on a free port; yield its base URL; stop it afterwards.

    ``root`` is the checkout to run (default: this one; benchmarks pass an older export).
    """
    root = Path(root) if root is not None else REPO_ROOT
    entry = root / "serve.py" if (root / "serve.py").is_file() else root / "app.py"
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(entry),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
    ]
    full_env = {**os.environ, **env, "PYTHONPATH": str(root)}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=root, env=full_env, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"streamlit exited: {log_path.read_text()[-2000:]}")
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start: {log_path.read_text()[-2000:]}")
                time.sleep(0.3)
            yield url
        finally:
            stop_process(proc)


@dataclass
class Network:
    """Requests the page made: local ones served, every other one aborted and remembered."""

    blocked: list[str] = field(default_factory=list)
    local: list[str] = field(default_factory=list)

    def handler(self, route: Any) -> None:
        """Playwright route handler: let localhost through, abort the rest."""
        url = route.request.url
        if url.startswith(LOCAL_PREFIXES) or url.startswith(("data:", "blob:", "about:")):
            self.local.append(url)
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("internetdisconnected")


def map_frame(page: Any, *, index: int = 0, timeout_s: float = 60.0) -> Any:
    """The Frame of the index-th folium map once Leaflet has drawn into it."""
    locator = page.frame_locator(MAP_FRAME).nth(index)
    locator.locator(".leaflet-overlay-pane canvas, .leaflet-overlay-pane svg").first.wait_for(
        timeout=timeout_s * 1000
    )
    return page.locator(MAP_FRAME).nth(index).element_handle().content_frame()


def nav_link_name(link: str) -> Any:
    """A sidebar link's name, with or without the count of open alerts (协同（2）)."""
    import re

    return re.compile(rf"^{re.escape(link)}(（\d+）| \(\d+\))?$")


def open_page(page: Any, link: str, heading: str) -> None:
    """Go to a page through its sidebar link (a typed URL starts a new, logged-out session)."""
    side = page.locator('[data-testid="stSidebar"]')
    side.get_by_role("link", name=nav_link_name(link)).click()
    page.get_by_role("heading", name=heading).wait_for(timeout=60_000)


def map_stats(frame: Any) -> dict[str, int]:
    """Leaflet layers on the map, overlay entries in the layer control, vector canvases."""
    return frame.evaluate(
        """() => {
            const m = window.map_div;
            let layers = 0, vectors = 0;
            if (m) { m.eachLayer(l => { layers++; if (l instanceof L.Path) vectors++; }); }
            return {
                leaflet: typeof L === "object" ? 1 : 0,
                layers: layers,
                vectors: vectors,
                overlays: document.querySelectorAll(".leaflet-control-layers-overlays label").length,
                canvases: document.querySelectorAll(".leaflet-overlay-pane canvas").length,
                markers: document.querySelectorAll(".leaflet-marker-icon").length,
            };
        }"""
    )


def wait_for_map(page: Any, ok: Any, *, timeout_s: float = 30.0) -> dict[str, int]:
    """Map statistics once ``ok(stats)`` holds (the map redraws after the page reruns)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            stats = map_stats(map_frame(page))
        except Exception:  # the iframe is being replaced
            stats = {}
        if stats and ok(stats):
            return stats
        if time.monotonic() > deadline:
            raise AssertionError(f"map never reached the expected state: {stats}")
        page.wait_for_timeout(250)


def shot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under artifacts/app/ and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def settle(page: Any, *, timeout_s: float = 60.0, maps: bool = True) -> None:
    """Wait until the rerun a click started has finished (Streamlit marks the app with
    ``data-test-script-state``) and every map on the page has drawn."""
    t0 = time.monotonic()
    app = page.locator('[data-testid="stApp"]')
    while time.monotonic() < t0 + 1.0:  # the click reaches the server, or it reruns nothing
        if app.get_attribute("data-test-script-state") == "running":
            break
        page.wait_for_timeout(15)
    while app.get_attribute("data-test-script-state") == "running":
        if time.monotonic() > t0 + timeout_s:
            raise AssertionError("the page never finished its rerun")
        page.wait_for_timeout(15)
    if not maps:
        return
    for i in range(page.locator(MAP_FRAME).count()):
        page.frame_locator(MAP_FRAME).nth(i).locator(
            ".leaflet-overlay-pane canvas, .leaflet-overlay-pane svg"
        ).first.wait_for(timeout=timeout_s * 1000)
