"""Screenshots of the app per role on the bundled Shichahai data, for docs/app.md.

Starts ``streamlit run app.py`` on the bundled data with 120 days of demo cases up to today,
logs in as each role in Chromium with every non-local request
blocked, and saves one small PNG per role in docs/img/ (palette-quantised to stay small).

Run from the repository root: ``python scripts/app_screenshots.py [--out docs/img]``.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from gis.access.users import (  # noqa: E402
    DEMO_PASSWORDS,
    SqliteUserRepository,
    User,
    hash_password,
    seed_demo_users,
)
from gis.geography.layers import load_bundled_geography  # noqa: E402
from gis.i18n import t  # noqa: E402
from gis.settings import Settings  # noqa: E402
from tests.app import browser as tb  # noqa: E402

DESK = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
REPORTER = ("dama", "reporter-demo-1")
#: Largest PNG kept in the docs (bytes).
MAX_BYTES = 150_000


def _store(tmp: Path) -> Path:
    """A store with the demo history of the last 120 days up to this morning (so the last
    full week and month have cases), the demo accounts and a reporter."""
    import datetime as dt

    from gis.cases.demo_history import generate_demo_history
    from gis.store import open_store

    geo = load_bundled_geography(Settings())
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    history = generate_demo_history(geo.segments, geo.pois, end=today, days=120, scale=0.25)
    store = tmp / "docs.gpkg"
    with open_store(Settings(database_url=str(store))) as s:
        s.add_cases(history.cases, history.audit)
    repo = SqliteUserRepository(store)
    seed_demo_users(repo, list(geo.zones["zone_id"]), rounds=4)
    repo.add(User(REPORTER[0], "reporter", "西城大妈"), hash_password(REPORTER[1], rounds=4))
    return store


def _save_small(png: bytes, path: Path) -> int:
    """Quantise to a palette (fewer colours until it fits MAX_BYTES); returns the size."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    data = png
    for colours in (128, 64, 32):
        buf = io.BytesIO()
        image.quantize(colours, method=Image.Quantize.MEDIANCUT).save(buf, "PNG", optimize=True)
        data = buf.getvalue()
        if len(data) <= MAX_BYTES:
            break
    path.write_bytes(data)
    return len(data)


def _log_in(page: Any, url: str, username: str, password: str) -> None:
    page.goto(url)
    page.get_by_label(t("login.username")).fill(username)
    page.get_by_label(t("login.password")).fill(password)
    page.get_by_role("button", name=t("login.submit")).click()
    page.get_by_role("button", name=t("app.logout")).wait_for(state="attached", timeout=60_000)
    tb.settle(page, maps=False)


def _open(page: Any, name: str, phone: bool) -> None:
    if phone:
        page.locator('[data-testid="stExpandSidebarButton"]').click()
    side = page.locator('[data-testid="stSidebar"]')
    side.get_by_role("link", name=t(f"page.{name}"), exact=True).click()
    tb.settle(page)
    page.wait_for_timeout(800)  # the sidebar slides shut on a phone


def _leader(page: Any) -> None:
    _open(page, "hotspots", False)
    page.get_by_text(t("hotspots.report.monthly"), exact=True).first.click()
    tb.settle(page)


def _chief(page: Any) -> None:
    _open(page, "districts", False)
    page.get_by_role("button", name=t("districts.compute")).first.click()
    tb.settle(page)


def _patrol(page: Any) -> None:
    _open(page, "patrol", True)
    if not page.get_by_text("步行约").count():
        page.get_by_role("button", name=t("patrol.plan")).first.click()
        page.get_by_text("步行约").first.wait_for(timeout=60_000)
        tb.settle(page)


def _liaison(page: Any) -> None:
    _open(page, "cases", True)


def _admin(page: Any) -> None:
    _open(page, "users", False)


def _reporter(page: Any) -> None:
    tb.settle(page, maps=False)


SHOTS: tuple[tuple[str, str, dict[str, int], Callable[[Any], None]], ...] = (
    ("leader", "app-leader.png", DESK, _leader),
    ("chief", "app-chief.png", DESK, _chief),
    ("patrol1", "app-patrol.png", PHONE, _patrol),
    ("liaison", "app-liaison.png", PHONE, _liaison),
    ("admin", "app-admin.png", DESK, _admin),
    (REPORTER[0], "app-reporter.png", PHONE, _reporter),
)


def main(argv: list[str] | None = None) -> int:
    """Take every screenshot; print name and size."""
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "img")
    parser.add_argument("--only", help="one user name")
    parser.add_argument("--whole", action="store_true", help="also the whole page (unshrunk)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        store = _store(Path(tmp))
        env = {"PATROL_DATABASE_URL": str(store), "PATROL_BASEMAP": "none", "PATROL_LANG": "zh"}
        with tb.streamlit_server(env, log_path=Path(tmp) / "streamlit.log") as url:
            browser = p.chromium.launch(executable_path=str(tb.CHROMIUM), args=tb.CHROMIUM_ARGS)
            for user, name, size, act in SHOTS:
                if args.only and user != args.only:
                    continue
                phone = size is PHONE
                ctx = browser.new_context(
                    viewport=size, locale="zh-CN", is_mobile=phone, has_touch=phone
                )
                page = ctx.new_page()
                net = tb.Network()
                page.route("**/*", net.handler)
                password = REPORTER[1] if user == REPORTER[0] else DEMO_PASSWORDS[user]
                _log_in(page, url, user, password)
                act(page)
                page.evaluate(  # the top of the page, as a person opens it
                    """() => { window.scrollTo(0, 0);
                    for (const e of document.querySelectorAll('*')) {
                      if (e.scrollTop > 0) { e.scrollTop = 0; } } }"""
                )
                page.wait_for_timeout(1500)  # labels laid out
                assert page.locator('[data-testid="stException"]').count() == 0, user
                assert not net.blocked, net.blocked
                png = page.screenshot(full_page=not phone)
                print(f"{name}: {_save_small(png, args.out / name) / 1000:.0f} kB")
                if args.whole:  # the whole page: Streamlit scrolls inside, so a tall window
                    page.set_viewport_size({"width": size["width"], "height": 3200})
                    page.wait_for_timeout(1500)
                    page.screenshot(path=str(args.out / f"whole-{name}"))
                ctx.close()
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
