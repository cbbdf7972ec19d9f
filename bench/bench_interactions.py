"""Interactions in Chromium: seconds from a click until the page has answered (rerun done).

Runs ``streamlit run app.py`` from ``--root`` (default: this repository; pass an exported
older commit to measure "before") on the bundled Shichahai data with about 1k demo cases, logs
in as leadership with the network blocked, and times each step of the leader's and area
chief's day: login → map, open a page, compute districts, plan a route, split a route, plan a
budget route, open the cases page, switch the report to monthly.

Run: ``python -m bench.bench_interactions [--runs 3] [--before DIR]`` where DIR is an older
export of the app (``git archive <commit> | tar -x -C DIR``): both servers run at once and
their sessions alternate, so the ratio holds on a busy machine. Each checkout writes its own
store and demo accounts with its own code (an older one cannot read today's), so any export
since the bundled data, the case store and ``bench/bench_app.py`` exist works (e434d85 and
5a9ff00 were checked). The timing is this file's, for both apps.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.bench_app import CACHE_DIR, populate_cases  # noqa: E402
from gis.access.users import DEMO_PASSWORDS  # noqa: E402
from gis.geography.layers import load_bundled_geography  # noqa: E402
from gis.settings import Settings  # noqa: E402
from tests.app import browser as tb  # noqa: E402

CASES = 1000


#: Installed in the page before a timed click: notes that a rerun started (even one that has
#: already finished by the time the bench looks, which a plain poll of the attribute misses).
WATCH_RUN = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (window.__benchWatch) window.__benchWatch.disconnect();
  const seen = {ran: false};
  window.__benchRun = seen;
  window.__benchWatch = new MutationObserver((records) => {
    for (const r of records) {
      if (r.oldValue === 'running' || app.getAttribute('data-test-script-state') === 'running') {
        seen.ran = true;
      }
    }
  });
  window.__benchWatch.observe(app, {attributes: true, attributeOldValue: true,
                                    attributeFilter: ['data-test-script-state']});
}"""


def _run_seen(page: Any) -> bool:
    """Whether the rerun watched by :data:`WATCH_RUN` has started (True when the page was
    replaced and nothing watches any more: fall back to the attribute)."""
    seen = page.evaluate("() => window.__benchRun ? window.__benchRun.ran : null")
    return seen is None or bool(seen)


def settle(page: Any, t0: float, timeout_s: float = 120.0, watched: bool = False) -> float:
    """Seconds since ``t0`` until the rerun the click started has finished and every map on
    the page has drawn (Streamlit marks the app ``data-test-script-state``).

    ``watched``: :data:`WATCH_RUN` was installed before the click, so a rerun that started
    and finished before this call is seen as done at once. Without it a finished rerun
    looked like "a click that reruns nothing" and the bench waited out that 2 s allowance
    (which is what made splitting into three routes read 2.04 s).
    """
    deadline = t0 + timeout_s
    app = page.locator('[data-testid="stApp"]')
    started = False
    while not started and time.perf_counter() < t0 + 2.0:  # a click that reruns nothing
        started = app.get_attribute("data-test-script-state") == "running" or (
            watched and _run_seen(page)
        )
        if not started:
            page.wait_for_timeout(10)
    while app.get_attribute("data-test-script-state") == "running":
        if time.perf_counter() > deadline:
            raise RuntimeError("the rerun never finished")
        page.wait_for_timeout(10)
    # every page of the timed journey has a map (a login reruns once more before it exists)
    page.locator(tb.MAP_FRAME).first.wait_for(timeout=timeout_s * 1000)
    while app.get_attribute("data-test-script-state") == "running":
        page.wait_for_timeout(10)
    frames = page.locator(tb.MAP_FRAME)
    for i in range(frames.count()):
        page.frame_locator(tb.MAP_FRAME).nth(i).locator(
            ".leaflet-overlay-pane canvas, .leaflet-overlay-pane svg"
        ).first.wait_for(timeout=timeout_s * 1000)
        # a map kept from the last run swaps its overlays when the new arguments arrive:
        # two animation frames inside it and they are drawn
        frames.nth(i).element_handle().content_frame().evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
    return time.perf_counter() - t0


def timed(page: Any, action: Callable[[], None], wait_for: str | None = None) -> float:
    """Run ``action`` (a click) and time until the page settled (and shows ``wait_for``)."""
    page.evaluate(WATCH_RUN)
    t0 = time.perf_counter()
    action()
    if wait_for:
        page.get_by_text(wait_for).first.wait_for(timeout=120_000)
    return settle(page, t0, watched=True)


def journey(browser: Any, url: str) -> dict[str, float]:
    """One leader session through the timed steps; seconds per step."""
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    try:
        return _journey(page, url)
    except Exception:
        tb.ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(tb.ARTIFACTS / "bench-failure.png"), full_page=True)
        raise
    finally:
        ctx.close()


def _journey(page: Any, url: str) -> dict[str, float]:
    net = tb.Network()
    page.route("**/*", net.handler)
    page.goto(url)
    page.get_by_label("用户名").fill("leader")
    page.get_by_label("密码").fill(DEMO_PASSWORDS["leader"])
    out: dict[str, float] = {}
    out["login → map"] = timed(page, lambda: page.get_by_role("button", name="登录").click())

    def nav(name: str) -> Callable[[], None]:
        side = page.locator('[data-testid="stSidebar"]')
        return lambda: side.get_by_role("link", name=name, exact=True).click()

    def button(name: str) -> Callable[[], None]:
        return lambda: page.get_by_role("button", name=name).first.click()

    def radio(name: str) -> Callable[[], None]:
        return lambda: page.get_by_text(name, exact=True).first.click()

    def settings_open() -> None:
        """The route settings are on the page (under the steps in the newer page)."""
        page.get_by_text("多人分组", exact=True).first.wait_for(timeout=30_000)

    out["open districts"] = timed(page, nav("责任区"))
    out["compute districts"] = timed(page, button("划分责任区"), "工作量最多")
    out["open patrol"] = timed(page, nav("巡查路线"))
    settle(page, time.perf_counter())
    settings_open()  # today's route of an earlier session is back: open its settings
    out["plan a route"] = timed(page, button("生成路线"), "步行约")
    settings_open()
    timed(page, radio("多人分组"))
    out["split routes (k=3)"] = timed(page, button("生成路线"), "第 3 组路线")
    settings_open()
    timed(page, radio("限时热点优先"))
    out["budget route"] = timed(page, button("生成路线"), "步行约")
    out["open cases"] = timed(page, nav("案件"))
    out["open hotspots"] = timed(page, nav("热点"))
    out["monthly report"] = timed(page, radio("月报"))
    out["blocked requests"] = float(len(net.blocked))
    return out


#: Run with the measured checkout's own code: its store with the demo cases and its demo
#: accounts. The store schema and where users live changed over time (a user table beside the
#: cases in ``gis.access.auth``, then versioned user rows of the store in
#: ``gis.access.users``), so an older export refuses a store written by today's code ("schema
#: version 9, newer than this code knows") and cannot see today's accounts: it makes its own.
SETUP_STORE = """
import importlib, sys
from pathlib import Path
root = Path.cwd().resolve()
for name in ("gis.access.users", "gis.access.auth", "gis.auth"):
    try:
        users = importlib.import_module(name)
    except ModuleNotFoundError:
        continue
    # an installed copy of the project may answer for a module this checkout lacks
    if Path(users.__file__).resolve().is_relative_to(root):
        break
else:
    raise SystemExit("no user module in this checkout")
from bench.bench_app import populate_cases
try:
    from gis.geography.layers import load_bundled_geography
except ModuleNotFoundError:  # before gis/ was in subpackages
    from gis.geography import load_bundled_geography
from gis.settings import Settings
store, cases = Path(sys.argv[1]), int(sys.argv[2])
geo = load_bundled_geography(Settings())
if cases:
    populate_cases(store, cases, geo)
users.seed_demo_users(users.SqliteUserRepository(store), list(geo.zones["zone_id"]), rounds=4)
"""


def setup_store(root: Path, store: Path, cases: int) -> None:
    """Demo cases (unless ``cases`` is 0: the store is already there) and the demo accounts in
    ``store``, written by the code of the checkout at ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    cmd = [sys.executable, "-c", SETUP_STORE, str(store), str(cases)]
    subprocess.run(cmd, cwd=root, env=env, check=True)


def run(roots: list[Path], runs: int) -> list[dict[str, float]]:
    """Median seconds per step for each app root over ``runs`` sessions after one warm-up;
    the roots' sessions alternate, so a busy machine slows them alike."""
    from contextlib import ExitStack

    from playwright.sync_api import sync_playwright

    geo = load_bundled_geography(Settings())
    cached = CACHE_DIR / f"cases-{CASES}.gpkg"
    if not cached.exists():
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"partial-{CASES}.gpkg")
        partial.unlink(missing_ok=True)
        populate_cases(partial, CASES, geo)
        partial.rename(cached)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p, ExitStack() as stack:
        urls = []
        for i, root in enumerate(roots):
            store = Path(tmp) / f"bench-{i}.gpkg"
            if root == REPO_ROOT:  # today's store, cached
                shutil.copyfile(cached, store)
                setup_store(root, store, 0)
            else:  # an older export writes its own (the same demo generator, seeded)
                setup_store(root, store, CASES)
            env = {"PATROL_DATABASE_URL": str(store), "PATROL_BASEMAP": "none"}
            log = Path(tmp) / f"streamlit-{i}.log"
            urls.append(stack.enter_context(tb.streamlit_server(env, log_path=log, root=root)))
        browser = p.chromium.launch(executable_path=str(tb.CHROMIUM), args=tb.CHROMIUM_ARGS)
        for url in urls:
            journey(browser, url)  # warm-up: imports and process caches
        results: list[list[dict[str, float]]] = [[] for _ in roots]
        for _ in range(runs):
            for i, url in enumerate(urls):
                results[i].append(journey(browser, url))
        browser.close()
    return [{k: statistics.median(r[k] for r in res) for k in res[0]} for res in results]


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print one line per step."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="the app to measure")
    parser.add_argument(
        "--before", type=Path, help="an older export of the app, measured alongside (baseline)"
    )
    args = parser.parse_args(argv)
    roots = [args.root.resolve()] + ([args.before.resolve()] if args.before else [])
    rows = run(roots, args.runs)
    print(f"median of {args.runs} alternating sessions after one warm-up each; {CASES} cases")
    head = f"{'step':22s} {'after':>8s}" + (f" {'before':>8s} {'ratio':>6s}" if args.before else "")
    print(head)
    for k, v in rows[0].items():
        unit = "" if k == "blocked requests" else " s"
        line = f"{k:22s} {v:6.2f}{unit}"
        if args.before:
            b = rows[1][k]
            line += f" {b:6.2f}{unit}" + (f" ×{v / b:4.2f}" if b and unit else "")
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
