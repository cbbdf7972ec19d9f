"""The people pages in Chromium: a patrol member signs in, gets their day and uploads a track;
the area chief sees today's roster, sign-ins and plans; every claim is checked in the store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from gis.access.users import DEMO_PASSWORDS, SqliteUserRepository, seed_demo_users
from gis.i18n import t
from gis.localtime import LOCAL_TZ as TZ
from gis.people.roster import RosterEntry
from gis.people.tracks import Track, gpx_text
from tests.app.conftest import TEST_ROUNDS

pytestmark = pytest.mark.browser

CLOCK = dt.datetime(2026, 5, 6, 9, 0, tzinfo=TZ)
DAY = CLOCK.date()


@pytest.fixture(scope="module")
def people_app(tmp_path_factory, tiny_geo_dir, tiny_geo):
    """The app on the tiny geography with the demo staff, May's roster, districts and a clock."""
    from gis.people.service import demo_people, make_month_roster, record_districts
    from gis.store.geopackage import GeoPackageStore
    from tests.app.browser import ARTIFACTS, playwright_or_skip, streamlit_server

    playwright_or_skip()
    path = tmp_path_factory.mktemp("people") / "patrol.gpkg"
    seed_demo_users(SqliteUserRepository(path), list(tiny_geo.zones["zone_id"]), rounds=TEST_ROUNDS)
    with GeoPackageStore(path) as store:
        store.people.save_people(demo_people_for_test(demo_people))
        make_month_roster(store, 2026, 5, by="test")
        store.people.set_duty(RosterEntry(DAY, "P01", "midday"))
        store.people.set_duty(RosterEntry(DAY, "P02", "morning"))
        segs = list(tiny_geo.segments["segment_id"])
        record_districts(
            store, {s: ("P01" if i % 2 else "P02") for i, s in enumerate(segs)}, DAY, by="test"
        )
    env = {
        "PATROL_DATA_DIR": str(tiny_geo_dir),
        "PATROL_DATABASE_URL": str(path),
        "PATROL_LANG": "zh",
        "PATROL_BASEMAP": "none",
        "PATROL_CLOCK": CLOCK.isoformat(),
    }
    with streamlit_server(env, log_path=ARTIFACTS / "streamlit-people.log") as url:
        yield {"url": url, "store": path}


def demo_people_for_test(load):
    from gis.settings import Settings

    return load(Settings())


@pytest.fixture
def located_page(chromium, tiny_geo):
    """A page whose browser shares a position 20 m from the enforcement center."""
    from tests.app.browser import Network

    center = tiny_geo.pois.loc[tiny_geo.pois["kind"] == "enforcement_center"].geometry.iloc[0]
    lon, lat = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True).transform(
        center.x + 20, center.y
    )
    context = chromium.new_context(
        viewport={"width": 1400, "height": 1000},
        locale="zh-CN",
        geolocation={"latitude": lat, "longitude": lon},
        permissions=["geolocation"],
    )
    page = context.new_page()
    net = Network()
    page.route("**/*", net.handler)
    page.network = net  # type: ignore[attr-defined]
    yield page
    context.close()


def _log_in(page, url, username):
    page.goto(url)
    page.get_by_label(t("login.username")).fill(username)
    page.get_by_label(t("login.password")).fill(DEMO_PASSWORDS[username])
    page.get_by_role("button", name=t("login.submit")).click()
    page.get_by_role("heading", name=t("overview.title")).wait_for(timeout=60_000)


def _gpx(tiny_geo, tmp_path):
    line = shapely.line_merge(tiny_geo.segments.geometry.iloc[0])
    d = np.arange(0, line.length, 6.0)
    pts = shapely.line_interpolate_point(line, d)
    lon, lat = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True).transform(
        shapely.get_x(pts), shapely.get_y(pts)
    )
    start = CLOCK - dt.timedelta(minutes=50)
    times = tuple(start + dt.timedelta(seconds=5 * i) for i in range(len(d)))
    path = tmp_path / "walk.gpx"
    path.write_text(gpx_text(Track("x", "P01", DAY, times, tuple(lon), tuple(lat))), "utf-8")
    return path, len(d)


def test_patrol_member_signs_in_gets_the_day_and_uploads_a_track(
    people_app, located_page, tiny_geo, tmp_path
):
    from gis.store.geopackage import GeoPackageStore
    from tests.app.browser import open_page, shot

    page = located_page
    _log_in(page, people_app["url"], "patrol1")
    open_page(page, t("page.myday"), t("myday.title"))
    page.get_by_text(t("duty.midday")).first.wait_for(timeout=30_000)
    page.get_by_text(t("myday.signin_help")).click()
    page.get_by_text("位置：").wait_for(timeout=30_000)
    page.get_by_role("button", name=t("myday.signin")).click()
    page.get_by_text("已签到：早签到 09:00 09:00").wait_for(timeout=30_000)
    shot(page, "patrol1-myday-signed")
    gpx, points = _gpx(tiny_geo, tmp_path)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(gpx))
    page.get_by_role("button", name=t("myday.upload_button")).click()
    page.get_by_text("轨迹已保存").wait_for(timeout=30_000)
    shot(page, "patrol1-myday-uploaded")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.network.blocked == []
    with GeoPackageStore(people_app["store"]) as store:
        (s,) = store.people.signins(DAY, DAY, person_id="P01")
        assert s.slot == "morning" and not s.late and not s.out_of_fence
        assert s.distance_m == pytest.approx(20.0, abs=1.0) and s.recorded_by == "patrol1"
        (track,) = store.people.tracks(person_id="P01")
        assert len(track.times) == points and track.uploaded_by == "patrol1"
    # a second sign-in is refused and nothing is stored twice
    page.get_by_role("button", name=t("myday.signin")).click()
    page.get_by_text("nothing was stored twice").wait_for(timeout=30_000)
    with GeoPackageStore(people_app["store"]) as store:
        assert len(store.people.signins(DAY, DAY)) == 1


def test_area_chief_sees_roster_sign_ins_and_plans(people_app, offline_page, tiny_geo):
    from gis.access.users import demo_users
    from gis.store.geopackage import GeoPackageStore
    from tests.app.browser import open_page, shot

    page = offline_page
    _log_in(page, people_app["url"], "chief")
    open_page(page, t("page.team"), t("team.title"))
    page.get_by_text(t("team.today")).wait_for(timeout=30_000)
    chief = {u.username: u for u, _ in demo_users(list(tiny_geo.zones["zone_id"]))}["chief"]
    segs = tiny_geo.segments
    mine = set(segs.loc[segs["zone_id"].isin(chief.zones), "segment_id"])
    with GeoPackageStore(people_app["store"]) as store:
        scope = {a.person_id for a in store.people.assignments_on(DAY) if a.segment_id in mine}
        everyone = [
            e for e in store.people.roster(DAY, DAY) if e.duty in ("morning", "midday", "evening")
        ]
        signed_before = {s.person_id for s in store.people.signins(DAY, DAY)}
    # the chief answers for the people whose districts lie in their zones, not for everyone
    on_duty = [e for e in everyone if e.person_id in scope]
    assert on_duty and len(on_duty) < len(everyone)
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for(timeout=30_000)
    page.get_by_role("button", name=t("team.plans")).click()
    page.get_by_role("button", name=t("myday.print")).wait_for(timeout=60_000)
    shot(page, "chief-team")
    assert page.locator('[data-testid="stException"]').count() == 0
    # the printable plan offered on the page has one page per person on duty, by name
    with page.expect_download() as got:
        page.get_by_role("button", name=t("myday.print")).click()
    sheet = Path(got.value.path()).read_text(encoding="utf-8")
    assert sheet.count('<section class="person">') == len(on_duty)
    with GeoPackageStore(people_app["store"]) as store:
        names = {p.person_id: p.name for p in store.people.list_people()}
    assert all(f"{names[e.person_id]} {e.person_id}" in sheet for e in on_duty)
    # record a sign-in for someone on duty and see it in the store
    page.get_by_role("button", name=t("myday.signin")).click()
    page.get_by_text("已为").wait_for(timeout=30_000)
    with GeoPackageStore(people_app["store"]) as store:
        recorded = [s for s in store.people.signins(DAY, DAY) if s.recorded_by == "chief"]
        expected = next(e.person_id for e in on_duty if e.person_id not in signed_before)
        assert len(recorded) == 1 and recorded[0].person_id == expected
    assert page.network.blocked == []


def test_leadership_sees_attendance_and_coverage_of_the_week(people_app, offline_page):
    from gis.people.service import attendance_between
    from gis.store.geopackage import GeoPackageStore
    from tests.app.browser import open_page, shot

    page = offline_page
    _log_in(page, people_app["url"], "leader")
    open_page(page, t("page.team"), t("team.title"))
    page.get_by_text(t("team.week_attendance")).wait_for(timeout=30_000)
    page.get_by_role("button", name=t("team.week_coverage")).click()
    with GeoPackageStore(people_app["store"]) as store:
        has_tracks = bool(store.people.tracks(start=DAY, end=DAY))
        monday = DAY - dt.timedelta(days=DAY.weekday())
        table = attendance_between(store, monday, DAY, now=CLOCK)
    if has_tracks:  # the patrol member's upload (first test) shows as coverage
        page.locator('[data-testid="stDataFrame"]').nth(2).wait_for(timeout=60_000)
    else:
        page.get_by_text(t("team.no_tracks")).wait_for(timeout=60_000)
    shot(page, "leader-team-week")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert (table["status"] != "pending").any()  # earlier days of the week are decided
    assert page.network.blocked == []
