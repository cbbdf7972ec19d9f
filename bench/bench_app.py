"""App benchmark: in Chromium, time from login to a rendered overview map, and its payload.

Runs ``streamlit run app.py`` on the bundled Shichahai data with a store holding 0 (baseline),
1k, 10k and 100k cases, logs in as leadership with the network blocked, and measures

* seconds from pressing 登录 until the map shows every catalogue layer (Leaflet drawn);
* bytes the browser received for that page (HTTP bodies + websocket frames);
* websocket messages sent by panning and zooming (0 = no rerun).

Run: ``python -m bench.bench_app [--runs 3] [--sizes 1000,10000,100000]``.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from gis.access.users import DEMO_PASSWORDS, SqliteUserRepository, seed_demo_users  # noqa: E402
from gis.geography.layers import load_bundled_geography  # noqa: E402
from gis.settings import Settings  # noqa: E402
from tests.app.browser import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    MAP_FRAME,
    Network,
    map_stats,
    streamlit_server,
)

CATALOGUE_LAYERS = 7
#: Generated case stores are kept here between runs (var/ is not committed).
CACHE_DIR = REPO_ROOT / "var" / "bench-app"


def populate_cases(store: Path, n: int, geo: Any) -> int:
    """Write about ``n`` synthetic demo cases (a scaled demo year) into the store file."""
    # imported by name: the case store and its demo history arrive with the cases work
    generate_demo_history = importlib.import_module("gis.cases.demo_history").generate_demo_history
    open_store = importlib.import_module("gis.store").open_store
    history = generate_demo_history(geo.segments, geo.pois, scale=max(n / 5000.0, 0.05) * 1.2)
    # the newest n cases: a store's recent history, with its open cases
    cases = sorted(history.cases, key=lambda c: c.reported_at)[-n:]
    ids = {c.case_id for c in cases}
    audit = [a for a in history.audit if a.case_id in ids]
    with open_store(Settings(database_url=str(store))) as s:
        s.add_cases(cases, audit)
        return s.count_cases()


def measure_once(browser: Any, url: str) -> dict[str, float]:
    """One cold page load (new browser context): seconds, bytes, pan/zoom messages."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    net = Network()
    page.route("**/*", net.handler)
    received = {"http": 0, "ws": 0}
    sent: list[int] = []
    # bytes on the wire as Chromium counts them (compressed, headers included)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")

    def on_finished(event: dict[str, Any]) -> None:
        received["http"] += int(event.get("encodedDataLength", 0))

    def on_ws(ws: Any) -> None:
        ws.on("framereceived", lambda f: received.__setitem__("ws", received["ws"] + len(f)))
        ws.on("framesent", lambda f: sent.append(len(f)))

    cdp.on("Network.loadingFinished", on_finished)
    page.on("websocket", on_ws)
    page.goto(url)
    page.get_by_label("用户名").fill("leader")
    page.get_by_label("密码").fill(DEMO_PASSWORDS["leader"])
    t0 = time.perf_counter()
    page.get_by_role("button", name="登录").click()
    frame_loc = page.frame_locator(MAP_FRAME).first
    frame_loc.locator(".leaflet-overlay-pane canvas").first.wait_for(timeout=120_000)
    frame = page.locator(MAP_FRAME).first.element_handle().content_frame()
    while True:
        stats = map_stats(frame)
        if stats["overlays"] >= CATALOGUE_LAYERS and stats["vectors"] > 0:
            break
        if time.perf_counter() - t0 > 120:
            raise RuntimeError(f"map never completed: {stats}")
        page.wait_for_timeout(20)
    seconds = time.perf_counter() - t0
    page.wait_for_timeout(1000)  # let late frames arrive before counting bytes
    before = len(sent)
    frame.evaluate("() => { window.map_div.setZoom(window.map_div.getZoom() + 1); }")
    frame.evaluate("() => { window.map_div.panBy([150, 90]); }")
    page.wait_for_timeout(1500)
    out = {
        "seconds": seconds,
        "mb": (received["http"] + received["ws"]) / 1e6,
        "ws_mb": received["ws"] / 1e6,
        "http_mb": received["http"] / 1e6,
        "layers": float(stats["layers"]),
        "markers": float(stats["markers"]),
        "pan_zoom_messages": float(len(sent) - before),
        "blocked": float(len(net.blocked)),
    }
    context.close()
    return out


def run(sizes: list[int], runs: int) -> list[dict[str, Any]]:
    """Measure the baseline and each case count; returns one row per scenario."""
    from playwright.sync_api import sync_playwright

    settings = Settings.from_env()
    geo = load_bundled_geography(settings)
    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for n in [0, *sizes]:
            store = Path(tmp) / f"bench-{n}.gpkg"
            label = "baseline: no cases" if n == 0 else f"{n:,} cases"
            if n:
                cached = CACHE_DIR / f"cases-{n}.gpkg"
                try:
                    if not cached.exists():  # generating 100k cases takes minutes: keep them
                        CACHE_DIR.mkdir(parents=True, exist_ok=True)
                        partial = cached.with_name(f"partial-{n}.gpkg")
                        partial.unlink(missing_ok=True)
                        populate_cases(partial, n, geo)
                        partial.rename(cached)
                except (ImportError, AttributeError) as exc:  # no case store in this build
                    rows.append({"label": label, "missing": str(exc)})
                    continue
                shutil.copyfile(cached, store)
            seed_demo_users(SqliteUserRepository(store), list(geo.zones["zone_id"]), rounds=4)
            env = {"PATROL_DATABASE_URL": str(store), "PATROL_BASEMAP": "none"}
            with streamlit_server(env, log_path=Path(tmp) / f"streamlit-{n}.log") as url:
                measure_once(browser, url)  # warm-up: server caches, Python imports
                results = [measure_once(browser, url) for _ in range(runs)]
            row: dict[str, Any] = {"label": label}
            for key in results[0]:
                row[key] = statistics.median(r[key] for r in results)
            rows.append(row)
            print(_format(row, rows[0]), flush=True)
        browser.close()
    return rows


def _format(row: dict[str, Any], base: dict[str, Any]) -> str:
    if "missing" in row:
        return f"{row['label']:22s} not measured: {row['missing']}"
    ratio = row["seconds"] / base["seconds"] if base.get("seconds") else float("nan")
    return (
        f"{row['label']:22s} {row['seconds']:7.2f} s  ×{ratio:4.2f}  {row['mb']:6.2f} MB "
        f"(http {row['http_mb']:4.2f}, ws {row['ws_mb']:4.2f})  layers {row['layers']:5.0f}  markers {row['markers']:5.0f}  "
        f"pan/zoom msgs {row['pan_zoom_messages']:.0f}  blocked {row['blocked']:.0f}"
    )


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    print(f"Chromium {CHROMIUM}; median of {args.runs} cold loads after one warm-up")
    rows = run(sizes, args.runs)
    print()
    for row in rows:
        print(_format(row, rows[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
