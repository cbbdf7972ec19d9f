"""Intake: reference tables, datums, batch formats and the bad-input corpus."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Transformer
from shapely.geometry import Point

from gis.cases.batch import enforce_batch_policy, read_batch
from gis.cases.intake import validate_record
from gis.cases.snapping import check_datum, locate_reports
from gis.errors import DatumError, NotFoundError, ValidationError
from gis.geography.crs import from_wgs84, wgs84_to_gcj02

from .conftest import NOW, ZONE_E, ZONE_W, lonlat

CORPUS = Path(__file__).parent / "corpus"
_TO_M = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)


def test_reference_tables(refs):
    assert len(refs.categories) == 29
    assert len(refs.departments) == 23
    assert list(refs.categories)[0] == "C01" and list(refs.categories)[-1] == "C29"
    c01 = refs.categories["C01"]
    assert (c01.name_zh, c01.lead_dept) == ("违法建设", "chengguan")
    assert dict(c01.attributes) == {"floors": "int", "area_m2": "float"}
    assert refs.categories["C07"].attributes == {"db": "float"}
    assert "frontage_m" in refs.categories["C04"].attributes
    assert refs.category("噪声扰民").code == "C07"
    assert refs.department("市场监管").code == "aic"
    assert refs.department("食药监").code == "fda"
    assert refs.department("城管").code == "chengguan"
    with pytest.raises(NotFoundError, match="unknown department '税务'"):
        refs.department("税务")
    for cat in refs.categories.values():
        for d in (cat.lead_dept, *cat.participating):
            assert d in refs.departments


@pytest.mark.parametrize("datum", ["wgs84", "gcj02", "bd09"])
def test_datum_round_trip_within_half_a_metre(refs, datum):
    for dx, dy in [(0, 0), (250, 300), (500, 500)]:
        lon, lat = lonlat(dx, dy)
        slon, slat = from_wgs84([lon], [lat], datum)
        rep = validate_record(
            {"category": "C07", "lon": slon[0], "lat": slat[0], "reported_at": "2026-05-01 22:00"},
            refs=refs,
            now=NOW,
            datum=datum,
        )
        x0, y0 = _TO_M.transform(lon, lat)
        x1, y1 = _TO_M.transform(rep.lon, rep.lat)
        assert np.hypot(x1 - x0, y1 - y0) < 0.5
        assert rep.source_datum == datum
        assert (rep.src_lon, rep.src_lat) == (float(slon[0]), float(slat[0]))


def test_good_csv_and_snapping(refs, segments):
    result = read_batch(CORPUS / "good_utf8.csv", refs=refs, now=NOW, gdf_segments=segments)
    assert result.rejects == []
    assert [r.report_id for r in result.reports] == ["G1", "G2", "G3", "G4", "G5", "G6"]
    g1, g2, g3 = result.reports[:3]
    assert g1.attributes == {"frontage_m": 8.5}
    assert g2.attributes == {"db": 82.0}
    assert g2.source == "hotline_12345"
    assert g3.attributes == {"floors": 2, "area_m2": 35.5}
    assert result.reports[4].description == "垃圾堆放, 有异味"
    assert g1.reported_at == dt.datetime(2026, 5, 1, 17, 20, tzinfo=NOW.tzinfo)
    located = locate_reports(
        result.reports, segments, assignment={"H000-01": "p-01", "V001-02": "p-02"}
    )
    assert [r.segment_id for r in located] == [
        "H000-01",
        "V001-02",
        "H003-03",
        "V004-05",
        "H001-04",
        "V000-03",
    ]
    assert [r.zone_id for r in located] == [ZONE_W, ZONE_W, ZONE_E, ZONE_E, ZONE_E, ZONE_W]
    assert [r.person_id for r in located][:3] == ["p-01", "p-02", None]
    assert all(r.front_id == "scenic" for r in located)
    assert max(r.snap_distance_m for r in located) < 3.5


@pytest.mark.parametrize("name", ["excel_gbk.csv", "excel_utf8_bom.csv"])
def test_excel_csv_encodings(refs, name):
    result = read_batch(CORPUS / name, refs=refs, now=NOW)
    assert result.rejects == []
    k1, k2 = result.reports
    assert (k1.report_id, k1.category, k1.source, k1.reporter) == (
        "K1",
        "C07",
        "hotline_12345",
        "市民王某",
    )
    assert k1.description == "后海酒吧夜间噪声"
    assert (k2.category, k2.source) == ("C06", "patrol")


def test_utf16_is_refused_with_the_fix(refs):
    with pytest.raises(ValidationError, match=r"utf16.csv.*neither UTF-8 nor GBK.*Fix: save it"):
        read_batch(CORPUS / "utf16.csv", refs=refs, now=NOW)


def test_missing_columns(refs):
    with pytest.raises(ValidationError, match=r"row 1: lacks columns \['lat'\]"):
        read_batch(CORPUS / "missing_columns.csv", refs=refs, now=NOW)


def test_malformed_rows_are_named(refs):
    res = read_batch(CORPUS / "malformed_fields.csv", refs=refs, now=NOW)
    assert [r.report_id for r in res.reports] == ["G1", "G3"]
    ((err, _),) = res.rejects
    assert err.row == 3
    assert "has 13 fields, the header has 12" in str(err)
    res = read_batch(CORPUS / "malformed_quotes.csv", refs=refs, now=NOW)
    assert [e.row for e, _ in res.rejects] == [3]
    assert "malformed CSV" in str(res.rejects[0][0]) or "fields" in str(res.rejects[0][0])


def test_bad_rows_each_named_with_row_field_and_fix(refs):
    res = read_batch(CORPUS / "bad_rows.csv", refs=refs, now=NOW)
    got = {e.row: (e.field, e.problem) for e, _ in res.rejects}
    assert {row: f for row, (f, _) in got.items()} == {
        2: "lon",
        3: "lon",
        4: "lon/lat",
        5: "lon/lat",
        6: "category",
        7: "reported_at",
        8: "reported_at",
        9: "reported_at",
        10: "source",
        11: "db",
        13: "report_id",
    }
    assert "look swapped" in got[4][1]
    assert "outside Shichahai" in got[5][1]
    assert "in the future" in got[7][1]
    assert "before 2000-01-01" in got[8][1]
    assert "duplicate report id 'OK1' (first on row 12)" in got[13][1]
    assert all(e.fix for e, _ in res.rejects)
    assert [r.report_id for r in res.reports] == ["OK1"]


def test_batch_policy_all_or_nothing_and_rejects_file(refs, tmp_path):
    res = read_batch(CORPUS / "bad_rows.csv", refs=refs, now=NOW)
    with pytest.raises(ValidationError, match=r"11 bad row\(s\), nothing stored") as info:
        enforce_batch_policy(res, source="bad_rows.csv")
    assert len(info.value.rejects) == 11
    out = tmp_path / "rejects.csv"
    kept = enforce_batch_policy(res, keep_good=True, rejects_path=out)
    assert [r.report_id for r in kept] == ["OK1"]
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens it as UTF-8
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert [int(r["row"]) for r in rows] == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13]
    assert rows[5]["field"] == "reported_at" and rows[5]["fix"]
    assert rows[0]["report_id"] == "B1"


def test_geojson_points_and_structure_polygon(refs):
    res = read_batch(CORPUS / "reports.geojson", refs=refs, now=NOW)
    assert res.rejects == []
    j1, j2, j3 = res.reports
    assert j2.attributes == {"db": 80.0}
    assert j3.attributes == {"floors": 2, "area_m2": 600.0}
    assert j3.footprint_wkb is not None
    import shapely

    poly = shapely.from_wkb(j3.footprint_wkb)
    assert poly.geom_type == "Polygon"
    assert poly.contains(Point(j3.lon, j3.lat))
    bad = read_batch(CORPUS / "bad_geometry.geojson", refs=refs, now=NOW)
    assert [(e.row, e.field) for e, _ in bad.rejects] == [(2, "geometry")]


def test_geojson_feature_that_is_not_an_object_or_has_list_properties(refs):
    res = read_batch(CORPUS / "bad_feature_shapes.geojson", refs=refs, now=NOW)
    assert [r.report_id for r in res.reports] == ["J1"]
    got = [(e.source, e.row, e.field) for e, _ in res.rejects]
    assert got == [
        ("bad_feature_shapes.geojson", 2, "feature"),
        ("bad_feature_shapes.geojson", 3, "properties"),
    ]
    assert "not a GeoJSON Feature object (got int)" in str(res.rejects[0][0])
    assert "properties is a list" in str(res.rejects[1][0])


def test_corrupt_geopackage_is_a_validation_error(refs):
    with pytest.raises(
        ValidationError, match=r"corrupt.gpkg: cannot be read as a GeoPackage"
    ) as ei:
        read_batch(CORPUS / "corrupt.gpkg", refs=refs, now=NOW)
    assert ei.value.fix and "export it again" in ei.value.fix


def test_geopackage_batch(refs, tmp_path):
    lon, lat = lonlat(100, 150)
    gdf = gpd.GeoDataFrame(
        {
            "report_id": ["P1", "P2"],
            "category": ["C07", "C99"],
            "reported_at": ["2026-05-01 23:00", "2026-05-01 23:05"],
            "db": [81.0, None],
        },
        geometry=[Point(lon, lat), Point(lon, lat)],
        crs="EPSG:4326",
    )
    path = tmp_path / "batch.gpkg"
    gdf.to_file(path, layer="reports", driver="GPKG")
    res = read_batch(path, refs=refs, now=NOW)
    assert [r.report_id for r in res.reports] == ["P1"]
    assert [(e.row, e.field) for e, _ in res.rejects] == [(2, "category")]


def test_oversized_file_is_refused_before_reading(refs, tmp_path):
    big = tmp_path / "big.csv"
    line = "x" * 1023 + "\n"
    big.write_text("report_id,category,lon,lat,reported_at\n" + line * 2048, encoding="utf-8")
    with pytest.raises(ValidationError, match=r"big.csv: is 2.1 MB, more than the 1.0 MB limit"):
        read_batch(big, refs=refs, now=NOW, max_bytes=1_000_000)


def _gcj_batch(tmp_path, n=12):
    rng = np.random.default_rng(7)
    rows = ["report_id,category,lon,lat,reported_at"]
    for i in range(n):
        # points on streets: along horizontal lines at random x
        dx = float(rng.uniform(10, 490))
        dy = float(100 * rng.integers(0, 6))
        lon, lat = lonlat(dx, dy)
        glon, glat = wgs84_to_gcj02(lon, lat)
        rows.append(f"D{i},C07,{float(glon):.7f},{float(glat):.7f},2026-05-01 22:00")
    path = tmp_path / "amap_export.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_gcj02_declared_as_wgs84_is_detected(refs, segments, tmp_path):
    # a wide street grid: GCJ-02 shifts points ~530 m east and ~150 m north, off the streets
    from gis.geography.network import grid_segments

    from .conftest import ORIGIN

    sparse = grid_segments(2, 2, 500.0, origin=(ORIGIN[0] - 500, ORIGIN[1] - 500))
    path = _gcj_batch(tmp_path)
    with pytest.raises(DatumError, match=r"field 'datum'.*read as GCJ02.*--datum gcj02"):
        read_batch(path, refs=refs, now=NOW, gdf_segments=sparse, area=_big_area())
    ok = read_batch(path, refs=refs, now=NOW, datum="gcj02", gdf_segments=sparse)
    assert ok.rejects == [] and len(ok.reports) == 12
    assert check_datum(ok.reports, sparse) == {}  # declared GCJ-02: nothing to second-guess


def _big_area():
    from gis.cases.intake import default_area

    return default_area().buffer(2000)


def test_wgs84_on_streets_passes_the_datum_check(refs, segments):
    res = read_batch(CORPUS / "good_utf8.csv", refs=refs, now=NOW, gdf_segments=segments)
    medians = check_datum(res.reports, segments)
    assert medians["wgs84"] < 5 and medians["gcj02"] > medians["wgs84"]


def test_single_report_validation(refs):
    lon, lat = lonlat(0, 0)
    rep = validate_record(
        {
            "category": "C01",
            "lon": str(lon),
            "lat": str(lat),
            "reported_at": "2026-05-01T09:00:00Z",
            "floors": "3",
            "photo": b"\x89PNG fake",
            "source": "投诉",
        },
        refs=refs,
        now=NOW,
    )
    assert rep.reported_at == dt.datetime(2026, 5, 1, 17, 0, tzinfo=NOW.tzinfo)
    assert rep.attributes == {"floors": 3}
    assert rep.source == "complaint"
    assert len(rep.photo_sha256) == 64
    assert rep.report_id == "R" + rep.content_hash[:16]
    with pytest.raises(ValidationError, match=r"field 'floors': '2.5' is not a valid int"):
        validate_record(
            {
                "category": "C01",
                "lon": lon,
                "lat": lat,
                "reported_at": "2026-05-01",
                "floors": "2.5",
            },
            refs=refs,
            now=NOW,
        )
    with pytest.raises(ValidationError, match=r"field 'datum': unknown datum 'utm'"):
        validate_record(
            {"category": "C01", "lon": lon, "lat": lat, "reported_at": "2026-05-01"},
            refs=refs,
            now=NOW,
            datum="utm",
        )


def test_photo_is_an_upload_or_a_link_never_a_server_path(refs, tmp_path):
    """A photo file beside the batch is NOT read: only uploaded files and links count."""
    (tmp_path / "p1.jpg").write_bytes(b"jpeg bytes")
    lon, lat = lonlat(0, 0)
    path = tmp_path / "with_photo.csv"
    path.write_text(
        f"category,lon,lat,reported_at,photo\nC21,{lon},{lat},2026-05-01 08:00,p1.jpg\n"
        f"C21,{lon},{lat},2026-05-01 08:05,https://example.org/p2.jpg\n"
        f"C21,{lon},{lat},2026-05-01 08:10,missing.jpg\n",
        encoding="utf-8",
    )
    import hashlib

    res = read_batch(path, refs=refs, now=NOW, photos={"p1.jpg": b"uploaded bytes"})
    assert res.reports[0].photo_sha256 == hashlib.sha256(b"uploaded bytes").hexdigest()
    assert res.reports[1].photo_sha256 is None
    assert res.reports[1].attributes["photo_url"] == "https://example.org/p2.jpg"
    assert [(e.row, e.field) for e, _ in res.rejects] == [(4, "photo")]
    # without the upload the file beside the batch is refused, not hashed
    res = read_batch(path, refs=refs, now=NOW)
    assert [(e.row, e.field) for e, _ in res.rejects] == [(2, "photo"), (4, "photo")]


def test_rejects_json_attribute_column(refs):
    lon, lat = lonlat(0, 0)
    rep = validate_record(
        {
            "category": "C07",
            "lon": lon,
            "lat": lat,
            "reported_at": "2026-05-01 23:00",
            "attributes": json.dumps({"db": 77}),
        },
        refs=refs,
        now=NOW,
    )
    assert rep.attributes == {"db": 77.0}


def test_geopackage_batch_with_empty_cells_and_row_datum(refs, tmp_path):
    lon, lat = lonlat(100, 150)
    glon, glat = wgs84_to_gcj02(lon, lat)
    gdf = gpd.GeoDataFrame(
        {
            "report_id": ["Q1", "Q2"],
            "category": ["C21", "C21"],
            "reported_at": ["2026-05-01 08:00", "2026-05-01 08:05"],
            "description": [None, "有描述"],
            "datum": [None, "gcj02"],
        },
        geometry=[Point(lon, lat), Point(float(glon), float(glat))],
        crs="EPSG:4326",
    )
    path = tmp_path / "mixed.gpkg"
    gdf.to_file(path, driver="GPKG")
    res = read_batch(path, refs=refs, now=NOW)
    assert res.rejects == []
    q1, q2 = res.reports
    assert q1.description == "" and q1.source_datum == "wgs84"
    assert q2.source_datum == "gcj02"
    x1, y1 = _TO_M.transform(q1.lon, q1.lat)
    x2, y2 = _TO_M.transform(q2.lon, q2.lat)
    assert np.hypot(x2 - x1, y2 - y1) < 0.5
