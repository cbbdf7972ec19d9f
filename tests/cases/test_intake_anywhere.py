"""Intake measures true anywhere: reports are snapped and checked in the geography's own CRS.

Small synthetic geographies (a 3 × 3 street grid in a square boundary, the fixture of the
measurement tests) at other longitudes and in the southern hemisphere: a report 10 m from a
street snaps to it with a distance within 0.5 % of the geodesic, and one 200 m outside the
boundary is refused with the true distance in the message and nothing stored.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pyproj import Geod

from gis.cases.intake import validate_record
from gis.cases.snapping import locate_reports
from gis.errors import ValidationError
from gis.geography.crs import WGS84
from gis.geography.layers import load_geography
from gis.services import take_in_report
from gis.store.geopackage import GeoPackageStore
from tests.foundation.test_measure_anywhere import _write_geography

from .conftest import NOW

GEOD = Geod(ellps="WGS84")

#: (label, lon, lat of the south-west corner, expected CRS)
PLACES = [
    ("san_francisco", -122.42, 37.77, "EPSG:32610"),
    ("sydney", 151.20, -33.87, "EPSG:32756"),
    ("buenos_aires", -58.38, -34.60, "EPSG:32721"),
    ("shichahai", 116.38, 39.93, "EPSG:32650"),
]


def _street_point(geo, street_id: str) -> tuple[float, float]:
    """WGS 84 of a point of a street, away from its crossings (an east-west line)."""
    line = geo.streets.loc[geo.streets["street_id"] == street_id].to_crs(WGS84).geometry.iloc[0]
    p = line.interpolate(0.3, normalized=True)
    return float(p.x), float(p.y)


@pytest.fixture(params=PLACES, ids=[p[0] for p in PLACES])
def place(request, tmp_path: Path):
    label, lon, lat, crs = request.param
    geo = load_geography(_write_geography(tmp_path / label, lon, lat))
    assert geo.crs == crs
    return geo


def test_a_report_10_m_from_a_street_snaps_with_the_geodesic_distance(place, refs, tmp_path):
    geo = place
    lon0, lat0 = _street_point(geo, "E1")
    lon, lat, _ = GEOD.fwd(lon0, lat0, 0.0, 10.0)  # 10 m due north of the street
    with GeoPackageStore(tmp_path / "s.gpkg", refs=refs) as store:
        got = take_in_report(
            geo,
            store,
            {"category": "C04", "lon": lon, "lat": lat, "reported_at": "2026-05-01 17:20"},
            refs=refs,
            now=NOW,
            received_by="duty-01",
            assignment={},
        )
        assert got.added
        stored = store.get_case(got.case_id)
    seg = geo.segments.set_index("segment_id").loc[got.report.segment_id]
    assert seg["street_id"] == "E1"
    assert stored.segment_id == got.report.segment_id
    assert got.report.zone_id == "110102012000001"
    assert got.report.snap_distance_m == pytest.approx(10.0, rel=0.005)
    # the library call the batch import uses, on the geography's own frames
    rep = validate_record(
        {"category": "C04", "lon": lon, "lat": lat, "reported_at": "2026-05-01 17:20"},
        refs=refs,
        now=NOW,
        area=geo.boundary.union_all(),
        gdf_segments=geo.segments,
    )
    located = locate_reports([rep], geo.segments, gdf_zones=geo.zones)[0]
    assert located.segment_id == got.report.segment_id
    assert located.snap_distance_m == pytest.approx(10.0, rel=0.005)


def test_a_report_200_m_outside_the_boundary_is_refused_with_the_true_distance(
    place, refs, tmp_path
):
    geo = place
    south = geo.boundary.to_crs(WGS84).geometry.iloc[0].bounds[1]
    lon0 = _street_point(geo, "E1")[0]
    lon, lat, _ = GEOD.fwd(lon0, south, 180.0, 200.0)  # 200 m south of the boundary
    with GeoPackageStore(tmp_path / "s.gpkg", refs=refs) as store:
        with pytest.raises(ValidationError, match=r"lies \d+ m outside 测试街道") as info:
            take_in_report(
                geo,
                store,
                {"category": "C04", "lon": lon, "lat": lat, "reported_at": "2026-05-01 17:20"},
                refs=refs,
                now=NOW,
                received_by="duty-01",
                source="report form",
                assignment={},
            )
        assert store.count_cases() == 0
    err = info.value
    assert err.field == "lon/lat" and err.source == "report form" and err.fix
    metres = int(re.search(r"lies (\d+) m outside", err.problem).group(1))
    assert abs(metres - 200) <= 1  # within 0.5 % of the geodesic 200 m
