"""A second real geography beside Shichahai in one store, each under its own subdistrict.

The second one is imported from a real OpenStreetMap extract bundled with the tests
(Helsinki city centre, tests/osm/fixtures). Each subdistrict's layers, cases, zone queries,
districts and patrol routes stay its own.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from pyproj import Transformer

from gis.cli import main
from gis.geography.layers import load_bundled_geography, load_geography
from gis.planning.partition import districts_for_people
from gis.planning.postman import plan_postman_route

EXTRACT = Path(__file__).resolve().parents[1] / "osm" / "fixtures" / "helsinki_small.osm.bz2"
A, H = "shichahai", "helsinki_centre"


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hk") / "geo"
    assert main(["import-osm", str(EXTRACT), "--out", str(out), "--allow-outside-china"]) == 0
    return out


def _reports_at(reports, geo, prefix: str):
    """The reports moved onto ``geo``'s zone centres (WGS 84), with new ids."""
    zones = geo.zones.to_crs("EPSG:4326")
    pts = zones.geometry.representative_point()
    out = []
    for i, r in enumerate(reports):
        p = pts.iloc[i % len(pts)]
        out.append(
            dataclasses.replace(
                r, report_id=f"{prefix}{i}", lon=p.x, lat=p.y, content_hash="", zone_id=None
            )
        )
    return out


@pytest.mark.postgis
def test_two_geographies_in_one_postgis_work_independently(
    pg_url, refs, ten_reports, helsinki, capsys
):
    from gis.store.pg_spatial import PostGISSpatial
    from gis.store.postgis import PostGISStore

    assert main(["db", "load-geography", "--url", pg_url]) == 0
    args = ["--data-dir", str(helsinki), "--subdistrict", H]
    assert main(["db", "load-geography", "--url", pg_url, *args]) == 0
    assert f"of subdistrict {H}" in capsys.readouterr().out
    # loading one again replaces its layers only
    assert main(["db", "load-geography", "--url", pg_url, *args]) == 0
    sch, hel = load_bundled_geography(), load_geography(helsinki)
    with PostGISStore(pg_url, refs=refs) as a:
        h = a.scoped(H)
        sa, sh = PostGISSpatial(a), PostGISSpatial(h)
        assert sa.srid() == 32650 and f"EPSG:{sh.srid()}" == hel.crs != sch.crs
        # the network, zones and boundary each subdistrict reads back are its own
        geo_a, geo_h = sa.read_geography(), sh.read_geography()
        assert sorted(geo_a.segments["segment_id"]) == sorted(sch.segments["segment_id"])
        assert sorted(geo_h.segments["segment_id"]) == sorted(hel.segments["segment_id"])
        assert geo_h.crs == hel.crs
        assert geo_h.G.number_of_edges() == hel.G.number_of_edges()
        assert abs(geo_h.segments.length.sum() - hel.segments.length.sum()) < 1e-3
        # zone lookups: each finds its own zones and nothing of the other's
        ha = hel.zones.geometry.representative_point()
        zh = sh.zones_at(ha.x, ha.y)
        assert zh == list(hel.zones["zone_id"])
        assert sa.zones_at(ha.x, ha.y) == [None] * len(ha)
        sa_pts = sch.zones.geometry.representative_point()
        assert sa.zones_at(sa_pts.x, sa_pts.y) == list(sch.zones["zone_id"])
        assert sh.zones_at(sa_pts.x, sa_pts.y) == [None] * len(sa_pts)
        # cases taken into each land in their own subdistrict, zoned by its own layers
        to_h = Transformer.from_crs("EPSG:4326", hel.crs, always_xy=True)
        mine = _reports_at(ten_reports[:4], hel, "H")
        xs, ys = to_h.transform([r.lon for r in mine], [r.lat for r in mine])
        zoned = [
            dataclasses.replace(r, zone_id=z)
            for r, z in zip(mine, sh.zones_at(xs, ys), strict=True)
        ]
        assert all(r.zone_id in set(hel.zones["zone_id"]) for r in zoned)
        assert h.add_reports(zoned, received_by="desk_h").added == ("H0", "H1", "H2", "H3")
        a.add_reports(ten_reports[:6], received_by="desk_a")
        assert a.count_cases() == 6 and h.count_cases() == 4
        hz = zoned[0].zone_id
        assert {c.case_id for c in h.query_cases(zone_id=hz)} == {
            r.report_id for r in zoned if r.zone_id == hz
        }
        assert a.query_cases(zone_id=hz) == []
        # per-segment counts: each subdistrict's cases on its own segments
        counts_h = sh.segment_counts()
        assert sum(counts_h.values()) == 4
        assert set(counts_h) <= set(hel.segments["segment_id"])
        assert set(sa.segment_counts()) <= set(sch.segments["segment_id"])
        # districts and a patrol route on each stored network
        for geo, store, n in ((geo_a, a, 3), (geo_h, h, 2)):
            plan = districts_for_people(geo.segments, n, seed=1, allow_front_crossing=True)
            assert set(plan.assignment) == set(geo.segments["segment_id"])
            store.set_meta("districts.assignment", str(len(plan.assignment)))
            first = [s for s, p in plan.assignment.items() if p == plan.people[0]]
            node = next(u for u, _, d in geo.G.edges(data=True) if d["segment_id"] in first)
            route = plan_postman_route(geo.G, first, node)
            walked = {e.segment_id for e in route.edges}
            assert set(first) <= walked <= set(geo.segments["segment_id"])
        assert a.get_meta("districts.assignment") == str(len(sch.segments))
        assert h.get_meta("districts.assignment") == str(len(hel.segments))


def test_two_geographies_in_one_geopackage(store_factory, ten_reports, helsinki):
    """The GeoPackage keys cases the same way (its layers stay in the geography folders)."""
    hel = load_geography(helsinki)
    a = store_factory()
    h = a.scoped(H)
    try:
        zones = hel.zones.to_crs("EPSG:4326")
        mine = [
            dataclasses.replace(r, zone_id=str(z))
            for r, z in zip(_reports_at(ten_reports[:3], hel, "H"), zones["zone_id"], strict=False)
        ]
        h.add_reports(mine, received_by="desk_h")
        a.add_reports(ten_reports[:5], received_by="desk_a")
        assert {c.case_id for c in h.query_cases()} == {"H0", "H1", "H2"}
        assert a.query_cases(zone_id=mine[0].zone_id) == []
        assert [c.case_id for c in h.query_cases(zone_id=mine[0].zone_id)] == ["H0"]
        assert a.count_cases() == 5
    finally:
        h.close()
