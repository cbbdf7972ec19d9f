"""Acceptance: each role's day in Chromium at a desk (1366×900) and on a phone (390×844).

After every action the page must show no exception box and no error unless the step expects
one, and what it shows must equal what the store holds. Each step is photographed to
``artifacts/app/journeys/<size>/``. One app server (its own store, seeded here) serves the
whole module.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gis.access.users import DEMO_PASSWORDS, SqliteUserRepository, seed_demo_users
from gis.i18n import format_datetime, format_number, t
from gis.settings import Settings
from tests.app.browser import ARTIFACTS, MAP_FRAME, Network, nav_link_name, settle

pytestmark = pytest.mark.browser

for _name in (
    "gis.cases.intake",
    "gis.cases.workflow",
    "gis.store",
    "gis.planning.routing",
    "gis.planning.partition",
):
    pytest.importorskip(_name, reason=f"{_name} is not part of this build")

SIZES = {"desk": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
ERROR = '[data-testid="stAlertContentError"]'
EXCEPTION = '[data-testid="stException"]'


def _open_store(path: Path) -> Any:
    from gis.store import open_store

    return open_store(Settings(database_url=str(path)))


def _seed(store_path: Path, tiny_geo: Any) -> None:
    """Twenty cases over the last 50 days in the chief's west zone; one 城管 case called to
    joint enforcement (the liaison records arrival on it); one registered as 重大, so that
    leadership and the chief walk every page with its banner (a warning, not an error)."""
    from gis.cases.intake import validate_record
    from gis.cases.snapping import locate_reports
    from tests.app.test_app_cases import WEST

    now = dt.datetime.now(dt.UTC)
    with _open_store(store_path) as s:
        raw = [
            validate_record(
                {
                    "report_id": f"J{i:02d}",
                    "category": ("C01", "C04", "C07", "C12")[i % 4],
                    "lon": WEST[0] + 0.00015 * (i % 6),
                    "lat": WEST[1],
                    "reported_at": (now - dt.timedelta(days=2.5 * i, hours=3)).isoformat(),
                    "description": f"演示问题 {i}",
                },
                refs=s.refs,
                now=now,
            )
            for i in range(20)
        ]
        reports = locate_reports(raw, tiny_geo.segments, gdf_zones=tiny_geo.zones)
        s.add_reports(reports, received_by="seed", at=now)
        case = s.get_case("J00")  # C01 违法建设: 城管 leads
        for action, params in (("register", {}), ("call_joint", {})):
            case = s.apply_transition(
                case.case_id,
                action,
                who="seed",
                expected_version=case.version,
                at=now,
                params=params,
            )
        from gis.access.users import User
        from gis.coordination import handling

        handling.register_case(s, "J05", User("seed", "leadership"), tier="major", at=now)


@pytest.fixture(scope="module")
def journey_app(tmp_path_factory, tiny_geo_dir, tiny_geo) -> Iterator[dict[str, Any]]:
    """A running app on the tiny geography with the demo accounts and seeded cases."""
    from tests.app.browser import playwright_or_skip, streamlit_server
    from tests.app.conftest import TEST_ROUNDS

    playwright_or_skip()
    store = tmp_path_factory.mktemp("journeys") / "patrol.gpkg"
    seed_demo_users(
        SqliteUserRepository(store), list(tiny_geo.zones["zone_id"]), rounds=TEST_ROUNDS
    )
    _seed(store, tiny_geo)
    env = {
        "PATROL_DATA_DIR": str(tiny_geo_dir),
        "PATROL_DATABASE_URL": str(store),
        "PATROL_LANG": "zh",
        "PATROL_BASEMAP": "none",
    }
    with streamlit_server(env, log_path=ARTIFACTS / "journeys-streamlit.log") as url:
        yield {"url": url, "store": store}


class Journey:
    """One person's session: act, then check the page (and photograph it)."""

    def __init__(self, page: Any, app: dict[str, Any], role: str, size: str) -> None:
        self.page, self.app, self.role, self.size = page, app, role, size
        self.steps: list[str] = []
        self.folder = ARTIFACTS / "journeys" / size
        self.folder.mkdir(parents=True, exist_ok=True)

    @property
    def phone(self) -> bool:
        return self.size == "phone"

    def check(self, step: str, *, expect_error: bool = False) -> None:
        """After an action: the rerun finished, no exception box, no unexpected error."""
        settle(self.page)
        exc = self.page.locator(EXCEPTION)
        assert exc.count() == 0, (step, exc.all_inner_texts())
        errors = self.page.locator(ERROR)
        if not expect_error:
            assert errors.count() == 0, (step, errors.all_inner_texts())
        self.steps.append(step)
        name = f"{self.role}-{len(self.steps):02d}-{step}.png"
        self.page.screenshot(path=str(self.folder / name), full_page=not self.phone)

    def text(self) -> str:
        return self.page.locator('[data-testid="stMain"]').inner_text()

    def log_in(self, username: str) -> None:
        p = self.page
        p.goto(self.app["url"])
        p.get_by_label(t("login.username")).fill(username)
        p.get_by_label(t("login.password")).fill(DEMO_PASSWORDS[username])
        p.get_by_role("button", name=t("login.submit")).click()
        p.get_by_role("button", name=t("app.logout")).wait_for(state="attached", timeout=60_000)
        self.check("login")
        self.sidebar_closed_on_phone("login")

    def sidebar_closed_on_phone(self, step: str) -> None:
        if not self.phone:
            return
        self.page.wait_for_timeout(400)  # the sidebar slides
        box = self.page.locator('[data-testid="stSidebar"]').bounding_box()
        closed = box is None or box["x"] + box["width"] <= 1
        assert closed, f"the sidebar covers the page after {step}: {box}"

    def open(self, page_name: str, heading_key: str) -> None:
        """Go to a page through the navigation, as a person does."""
        p = self.page
        if self.phone:
            p.locator('[data-testid="stExpandSidebarButton"]').click()
        side = p.locator('[data-testid="stSidebar"]')
        side.get_by_role("link", name=nav_link_name(t(f"page.{page_name}"))).click()
        p.get_by_role("heading", name=t(heading_key)).wait_for(timeout=60_000)
        self.check(f"open-{page_name}")
        self.sidebar_closed_on_phone(page_name)

    def button(self, label: str) -> None:
        self.page.get_by_role("button", name=label).first.click()

    def choose(self, label: str, option: str, *, typed: str | None = None) -> None:
        """Pick an option of the Streamlit select box labelled ``label`` (typing ``typed``
        first to filter a long list, as a person does)."""
        box = self.page.get_by_role("combobox", name=label, exact=True).first
        box.click()
        if typed:
            box.fill(typed)
        opt = self.page.get_by_role("option", name=option, exact=typed is None).first
        opt.wait_for(timeout=30_000)
        opt.click()
        settle(self.page)

    def map_on_top(self) -> None:
        """On a phone the map is the first thing under the heading (not 900 px down)."""
        frame = self.page.locator(MAP_FRAME).first
        frame.wait_for(timeout=60_000)
        settle(self.page)
        box = frame.bounding_box()
        assert box is not None and box["y"] < 300, box


@pytest.fixture(params=list(SIZES))
def journey(request, chromium, journey_app) -> Iterator[Any]:
    """A fresh browser context at one size, every non-local request blocked."""

    def start(role: str) -> Journey:
        size = request.param
        context = chromium.new_context(
            viewport=SIZES[size],
            locale="zh-CN",
            is_mobile=size == "phone",
            has_touch=size == "phone",
            accept_downloads=True,
        )
        page = context.new_page()
        net = Network()
        page.route("**/*", net.handler)
        j = Journey(page, journey_app, role, size)
        j.context, j.net = context, net  # type: ignore[attr-defined]
        started.append(j)
        return j

    started: list[Journey] = []
    yield start
    for j in started:
        assert j.net.blocked == [], j.net.blocked  # type: ignore[attr-defined]
        JOURNEYS[f"{j.role}@{j.size}"] = list(j.steps)
        j.context.close()  # type: ignore[attr-defined]


#: role@size → the steps walked (printed at the end of the module run).
JOURNEYS: dict[str, list[str]] = {}


@pytest.fixture(scope="module", autouse=True)
def _journey_summary() -> Iterator[None]:
    yield
    if JOURNEYS:
        (ARTIFACTS / "journeys").mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "journeys" / "steps.json").write_text(
            json.dumps(JOURNEYS, ensure_ascii=False, indent=1), encoding="utf-8"
        )


def _shown_case_id(j: Journey) -> str:
    m = re.search(r"编号 (\S+) · 类别代码", j.text())
    assert m, "the case detail names no case"
    return m.group(1)


def _state_line(j: Journey, case: Any) -> str:
    return f"· {t(f'cases.state.{case.state}')}"


def test_leadership_overview_hotspots_monthly_report_audit_trail(journey) -> None:
    j = journey("leader")
    j.log_in("leader")
    # the open 重大 alert: a banner and a count on 协同, and no error box (check() says so)
    j.page.get_by_text(t("coordination.banner", count=1)).wait_for(timeout=30_000)
    if not j.phone:
        side = j.page.locator('[data-testid="stSidebar"]')
        link = t("page.coordination_count", count=1)
        assert side.get_by_role("link", name=link, exact=True).count() == 1
    j.map_on_top()
    j.open("hotspots", "hotspots.title")
    j.page.get_by_text(t("hotspots.report.monthly"), exact=True).click()
    j.check("monthly-report")
    with _open_store(j.app["store"]) as s:
        frame = s.cases_frame()
    import pandas as pd

    from gis.analytics.periods import default_report_day, period_for

    today = pd.Timestamp.now(tz="Asia/Shanghai").date()
    period = period_for("monthly", default_report_day("monthly", today))
    times = frame["reported_at"]
    in_month = int(((times >= period.start) & (times < period.end)).sum())
    body = j.text()
    assert period.label("zh") in body
    assert f"新报案件\n\n{format_number(in_month, 'zh')}" in body.replace("\n\n\n", "\n\n"), body
    with j.page.expect_download() as info:
        j.button(t("hotspots.download"))
    report = Path(info.value.path()).read_text(encoding="utf-8")
    assert ("本期无案件" in report) == (in_month == 0)
    j.check("report-downloaded")
    j.open("cases", "cases.title")
    case_id = _shown_case_id(j)
    with _open_store(j.app["store"]) as s:
        case = s.get_case(case_id)
        trail = s.audit_trail(case_id)
    assert _state_line(j, case) in j.text()
    rows = j.page.locator('[data-testid="stDataFrame"]').last
    assert rows.get_attribute("data-testid") == "stDataFrame"
    for entry in trail:
        assert t(f"cases.state.{entry.to_state}") in j.text()
    j.check("audit-trail")


def test_area_chief_zones_districts_save_route_advance(journey) -> None:
    j = journey("chief")
    j.log_in("chief")
    assert "西片" in j.text()  # my zones, by name
    j.open("districts", "districts.title")
    k = j.page.get_by_label(t("districts.k"))
    k.fill("2")
    k.press("Enter")
    settle(j.page)
    j.button(t("districts.compute"))
    j.check("districts-computed")
    j.button(t("districts.save"))
    j.page.get_by_text(t("districts.saved")).wait_for(timeout=30_000)
    j.check("districts-saved")
    with _open_store(j.app["store"]) as s:
        saved = json.loads(s.get_meta("districts.assignment"))
    people = sorted(set(saved.values()))
    assert len(people) == 2
    j.open("patrol", "patrol.title")
    j.choose(t("patrol.person"), "巡查队员一", typed="巡查队员一")  # P01, by name
    j.button(t("patrol.plan"))
    j.page.get_by_text("步行约").first.wait_for(timeout=60_000)
    j.check("route-of-a-person")
    j.map_on_top()
    ticks = j.page.locator('[data-testid="stCheckbox"]')
    assert ticks.count() >= 2
    j.open("cases", "cases.title")
    case_id = _shown_case_id(j)
    with _open_store(j.app["store"]) as s:
        before = s.get_case(case_id)
    j.button(t("cases.apply"))
    j.page.get_by_text("已转为").wait_for(timeout=30_000)
    j.check("case-advanced")
    with _open_store(j.app["store"]) as s:
        after = s.get_case(case_id)
    assert after.version == before.version + 1
    assert _shown_case_id(j) == case_id
    assert _state_line(j, after) in j.text()  # the header shows the store's state
    if after.deadline_at is not None:
        assert format_datetime(after.deadline_at, "zh") in j.text()


def test_patrol_member_route_steps_downloads_report_here(journey) -> None:
    j = journey("patrol1")
    j.log_in("patrol1")
    j.open("patrol", "patrol.title")
    if not j.page.get_by_text("步行约").count():  # no route yet today
        j.button(t("patrol.plan"))
        j.page.get_by_text("步行约").first.wait_for(timeout=60_000)
    j.check("todays-route")
    j.map_on_top()
    now = j.page.get_by_text(re.compile(r"^当前第 \d+ 步$")).first
    first = int(re.search(r"\d+", now.inner_text()).group())
    j.page.locator('[data-testid="stCheckbox"]').nth(first - 1).locator("label").click()
    j.page.get_by_text(f"当前第 {first + 1} 步").wait_for(timeout=30_000)
    j.check("step-done")
    with j.page.expect_download() as gpx:
        j.button(t("patrol.gpx"))
    assert "<trkpt" in Path(gpx.value.path()).read_text(encoding="utf-8")
    with j.page.expect_download() as sheet:
        j.button(t("patrol.sheet"))
    assert "<svg" in Path(sheet.value.path()).read_text(encoding="utf-8")
    j.check("downloads")
    with _open_store(j.app["store"]) as s:
        count = s.count_cases()
    j.button(t("patrol.report_here"))
    j.page.get_by_role("heading", name=t("cases.title")).wait_for(timeout=60_000)
    j.check("report-here-opens-cases")
    lon = j.page.get_by_label(t("cases.lon"))
    assert lon.input_value() != ""  # where I stand: the current step's start
    # each size reports its own problem: the same text at the same step would be the same
    # report, which the store keeps once
    text = f"巡查发现：店外经营（{j.size}）"
    j.page.get_by_label(t("cases.description")).fill(text)
    j.button(t("cases.submit"))
    j.page.get_by_text("已上报案件").wait_for(timeout=30_000)
    j.check("reported")
    with _open_store(j.app["store"]) as s:
        assert s.count_cases() == count + 1
        newest = max(s.query_cases(), key=lambda c: c.reported_at)
    assert newest.reporter == "patrol1" and newest.description == text
    assert _shown_case_id(j) == newest.case_id


def test_liaison_department_cases_record_arrival(journey) -> None:
    j = journey("liaison")
    j.log_in("liaison")
    j.open("cases", "cases.title")
    with _open_store(j.app["store"]) as s:
        mine = s.cases_frame(dept="chengguan", open_only=True)
    assert f"共 {format_number(len(mine), 'zh')} 件" in j.text()
    j.choose(t("cases.case_select"), "J00", typed="J00")
    assert _shown_case_id(j) == "J00"
    with _open_store(j.app["store"]) as s:
        case = s.get_case("J00")
    arrived = (case.joint.get("chengguan") or {}).get("arrived_at")
    if not arrived:
        j.choose(t("cases.to_state"), t("cases.action.record_arrival"))
        j.button(t("cases.apply"))
        j.page.get_by_text("已于").first.wait_for(timeout=30_000)
    j.check("arrival-recorded")
    with _open_store(j.app["store"]) as s:
        case = s.get_case("J00")
    assert case.joint["chengguan"]["arrived_at"]
    assert "城管：已于" in j.text()


def test_admin_users(journey) -> None:
    j = journey("admin")
    j.log_in("admin")
    j.open("users", "users.title")
    name = f"zhao{j.size}"
    j.page.get_by_label(t("users.username")).first.fill(name)
    j.page.get_by_label(t("users.display_name")).fill("赵六")
    j.page.get_by_label(t("users.password")).first.fill("zhaoliu-pass-1")
    j.page.get_by_role("button", name=t("users.add")).last.click()
    j.page.get_by_text(t("users.added", username=name)).wait_for(timeout=30_000)
    j.check("user-added")
    repo = SqliteUserRepository(j.app["store"])
    assert name in [u.username for u in repo.list_users()]
    assert f"共 {len(repo.list_users())} 个用户" in j.text()
    j.page.get_by_label(t("users.username")).first.fill("x y")
    j.page.get_by_label(t("users.password")).first.fill("zhaoliu-pass-1")
    j.page.get_by_role("button", name=t("users.add")).last.click()
    j.page.get_by_text(t("errors.validation.username")).wait_for(timeout=30_000)
    j.check("bad-user-refused", expect_error=True)
