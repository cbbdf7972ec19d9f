"""The app serves each logged-in user the subdistrict of their account (AppTest)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from gis.access.users import DEMO_PASSWORDS
from gis.cli import main
from gis.geography.layers import load_bundled_geography, load_geography
from gis.settings import BUNDLED_DATA_DIR, Settings
from gis.store import open_store
from tests.app.apptest_helpers import goto, log_in, new_app, texts
from tests.app.test_app_cases import WEST, report

B = "xinjiekou"


def _cases(app_env, subdistrict: str) -> list[str]:
    settings = Settings(database_url=app_env["PATROL_DATABASE_URL"])
    with open_store(settings, subdistrict=subdistrict) as s:
        return [c.case_id for c in s.query_cases()]


def test_a_users_reports_land_in_their_subdistrict_and_others_stay_hidden(
    app_env, demo_repo
) -> None:
    chief, _ = demo_repo.get("chief")
    demo_repo.update(dataclasses.replace(chief, subdistrict=B))
    assert demo_repo.get("chief")[0].subdistrict == B
    # its geography: the same layers as the default's (the report point lies in them)
    url = app_env["PATROL_DATABASE_URL"]
    load = ["db", "load-geography", "--url", url, "--data-dir", app_env["PATROL_DATA_DIR"]]
    assert main([*load, "--subdistrict", B]) == 0
    at = goto(log_in(new_app(), "chief", DEMO_PASSWORDS["chief"]), "cases")
    at = report(at, *WEST)
    assert not at.exception
    assert at.success[0].value.startswith("已上报案件 ")
    mine = _cases(app_env, B)
    assert len(mine) == 1
    assert _cases(app_env, "shichahai") == []  # not in the default subdistrict
    # a user of the default subdistrict does not see it on the same page
    other = goto(log_in(new_app(), "leader", DEMO_PASSWORDS["leader"]), "cases")
    assert not other.exception
    shown = " ".join(str(e.value) for e in other.markdown) + str(
        [df.value for df in other.dataframe]
    )
    assert mine[0] not in shown
    # and the chief's own page lists it
    again = goto(log_in(new_app(), "chief", DEMO_PASSWORDS["chief"]), "cases")
    shown = " ".join(str(e.value) for e in again.markdown) + str(
        [df.value for df in again.dataframe]
    )
    assert mine[0] in shown


H = "helsinki_centre"
EXTRACT = Path(__file__).resolve().parents[1] / "osm" / "fixtures" / "helsinki_small.osm.bz2"


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second real geography: the Helsinki centre extract imported from OpenStreetMap."""
    out = tmp_path_factory.mktemp("hk") / "geo"
    assert main(["import-osm", str(EXTRACT), "--out", str(out), "--allow-outside-china"]) == 0
    return out


def _map_html(at) -> str:
    """The HTML of every map the page rendered (the folium component's arguments)."""
    found = []
    for node in at.get("component_instance"):
        args = json.loads(node.proto.json_args)  # (its text escapes every non-ASCII letter)
        found += [str(args.get(k, "")) for k in ("script", "html", "header")]
    assert found, "the page drew no map"
    return " ".join(found)


def _drawn(name: str, html: str) -> bool:
    """True when the map's script holds ``name`` (as text or JSON-escaped, as folium
    writes the GeoJSON of its layers)."""
    return str(name) in html or json.dumps(str(name))[1:-1] in html


@pytest.fixture(params=["geopackage", pytest.param("postgis", marks=pytest.mark.postgis)])
def one_store(request, app_env, demo_repo, monkeypatch, tiny_geo):
    """(store URL, its users): the app's GeoPackage, or a PostGIS database with the same
    demo accounts."""
    if request.param == "geopackage":
        return app_env["PATROL_DATABASE_URL"], demo_repo
    from gis.access.users import StoreUserRepository, access_db, seed_demo_users
    from tests.app.conftest import TEST_ROUNDS

    url = request.getfixturevalue("pg_url")
    repo = StoreUserRepository(access_db(Settings(database_url=url)))
    seed_demo_users(repo, list(tiny_geo.zones["zone_id"]), rounds=TEST_ROUNDS)
    monkeypatch.setenv("PATROL_DATABASE_URL", url)
    return url, repo


def test_a_user_of_a_second_subdistrict_sees_its_own_geography(
    one_store, helsinki, monkeypatch
) -> None:
    # the deployment's own subdistrict is the bundled Shichahai; Helsinki is loaded beside it
    monkeypatch.setenv("PATROL_DATA_DIR", str(BUNDLED_DATA_DIR))
    db, demo_repo = one_store
    args = ["db", "load-geography", "--url", db, "--data-dir", str(helsinki), "--subdistrict", H]
    assert main(args) == 0
    hel, sch = load_geography(helsinki), load_bundled_geography()
    mine = list(hel.zones["zone_id"])[:2]
    chief, _ = demo_repo.get("chief")
    demo_repo.update(dataclasses.replace(chief, subdistrict=H, zones=tuple(mine)))
    at = goto(log_in(new_app(), "chief", DEMO_PASSWORDS["chief"]), "overview")
    assert not at.exception and not at.error, texts(at)
    shown = texts(at)
    names = dict(zip(hel.zones["zone_id"], hel.zones["name"], strict=True))
    for zone in mine:  # the chief's zones, by the names of their own geography
        assert names[zone] in shown
    assert f"{len(hel.segments):,}" in shown and f"{len(hel.zones):,}" in shown
    for name in sch.zones["name"]:
        assert name not in shown
    drawn = _map_html(at)
    assert _drawn(hel.boundary["name"].iloc[0], drawn)
    assert all(_drawn(n, drawn) for n in hel.zones["name"])
    assert not _drawn(sch.boundary["name"].iloc[0], drawn)
    assert not any(_drawn(n, drawn) for n in sch.zones["name"])
    # every map page of the chief draws Helsinki and nothing of Shichahai
    for page in ("districts", "patrol", "cases", "hotspots", "crowd"):
        at = goto(at, page)
        assert not at.exception, (page, at.exception)
        drawn = _map_html(at)
        assert _drawn(hel.boundary["name"].iloc[0], drawn), page
        assert not any(_drawn(n, drawn) for n in sch.zones["name"]), page
        assert not _drawn(sch.boundary["name"].iloc[0], drawn), page
    # the crowd page has no places of Helsinki, and never takes Shichahai's
    said = [str(w.value) for w in at.warning]
    assert any("没有客流监测点位" in w and H.replace("_", "\\_") in w for w in said), said
    with open_store(Settings(database_url=db), subdistrict=H) as s:
        assert len(s.load_places()) == 0 and s.people.list_people() == []
    with open_store(Settings(database_url=db)) as s:
        assert s.geography_subdistricts() == [H]
    # a user of Shichahai still sees Shichahai, stored from the data folder at first use
    leader = goto(log_in(new_app(), "leader", DEMO_PASSWORDS["leader"]), "overview")
    assert not leader.exception and not leader.error
    assert f"{len(sch.segments):,}" in texts(leader)
    other = _map_html(leader)
    assert _drawn(sch.boundary["name"].iloc[0], other)
    assert all(_drawn(n, other) for n in sch.zones["name"])
    assert not _drawn(hel.boundary["name"].iloc[0], other)
    assert not any(_drawn(n, other) for n in hel.zones["name"])
    with open_store(Settings(database_url=db)) as s:
        assert s.geography_subdistricts() == sorted([H, "shichahai"])
        assert s.read_geography().crs == sch.crs
        assert list(s.read_geography().zones["name"]) == list(sch.zones["name"])
