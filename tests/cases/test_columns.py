"""The column path of batch intake equals the one-record path, value for value.

Same reports (every field, the content hash and the default id), same errors (file, row,
field) for bad rows, and the same stored cases on both stores.
"""

from __future__ import annotations

import numpy as np
import pytest

from gis.cases.batch import import_batch
from gis.cases.columns import validate_columns
from gis.cases.intake import validate_records
from gis.geography.crs import from_wgs84

from .conftest import NOW, lonlat


def _records():
    """Rows as a CSV reader gives them: text cells, mixed datums, times, sources, text."""
    rows = []
    times = ["2026-05-01 17:20", "2026/05/02 08:00:05", "2026-05-03", "2026-05-04T22:10",
             "2026-05-05T09:00:00+08:00", "2026-05-06 10:00Z"]  # fmt: skip
    for i in range(60):
        lon, lat = lonlat(20 + (i * 37) % 460, 10 + (i * 53) % 480)
        d = ("wgs84", "gcj02", "bd09", "")[i % 4]
        slon, slat = from_wgs84([lon], [lat], d or "wgs84")
        rec = {
            "report_id": f"K{i:03d}" if i % 3 else "",
            "类别": ("C07", "噪声扰民", "C04", "C01", "C29")[i % 5],
            "经度": f"{slon[0]:.6f}",
            "纬度": f"{slat[0]:.6f}",
            "上报时间": times[i % len(times)],
            "source": ("patrol", "12345", "巡查", "", "西城大妈")[i % 5],
            "reporter": f"r{i % 7}",
            "description": ("tables\tout", "a\\b", "line\nbreak", "普通 text", "")[i % 5],
            "datum": d,
            "tier": ("", "major", "")[i % 3],
            "db": "82.5" if i % 5 == 0 else "",
            "floors": "2" if i % 5 == 3 else "",
            "persons": "40" if i % 5 == 4 else "",
        }
        rows.append((i + 2, rec))
    # bad rows: each check once
    bad = [
        {"类别": "C99"},
        {"经度": "abc"},
        {"纬度": ""},
        {"经度": "39.93", "纬度": "116.38"},
        {"上报时间": "2036-01-01 10:00"},
        {"上报时间": "1999-12-31 10:00"},
        {"上报时间": "2026-02-30 10:00"},
        {"source": "twitter"},
        {"tier": "huge"},
        {"db": "-3"},
        {"类别": "C01", "floors": "2.5"},
        {"reporter": "a\x00b"},
        {"report_id": "   "},
        {"description": "x" * 4001},
        {"datum": "mars"},
        {"经度": "116.2", "纬度": "39.9"},
    ]
    base = dict(rows[1][1])
    for j, change in enumerate(bad):
        rows.append((100 + j, {**base, "report_id": f"BAD{j}", **change}))
    return rows


def _area():
    from gis.cases.intake import default_area

    return default_area().buffer(2000)


def test_columns_equal_the_one_record_path(refs):
    records = _records()
    want = validate_records(records, refs=refs, now=NOW, area=_area(), source="f.csv")
    got, rejects = validate_columns(records, refs=refs, now=NOW, area=_area(), source="f.csv")
    assert got is not None
    assert [(e.row, e.field, e.problem) for e, _ in rejects] == [
        (e.row, e.field, e.problem) for e, _ in want.rejects
    ]
    assert len(rejects) == 16
    assert got.report_id == [r.report_id for r in want.reports]
    assert got.rows == list(range(2, 62))
    for i, rep in enumerate(want.reports):
        assert got.category[i] == rep.category
        assert got.content_hash[i] == rep.content_hash
        assert (got.lon[i], got.lat[i]) == (rep.lon, rep.lat)
        assert (got.src_lon[i], got.src_lat[i]) == (rep.src_lon, rep.src_lat)
        assert got.datum[i] == rep.source_datum
        assert got.reported_at[i] == np.datetime64(rep.reported_at.replace(tzinfo=None) -
                                                   rep.reported_at.utcoffset(), "us")  # fmt: skip
        assert (got.source[i], got.reporter[i], got.description[i], got.tier[i]) == (
            rep.source,
            rep.reporter,
            rep.description,
            rep.tier,
        )
        assert dict(got.attributes[i]) == dict(rep.attributes)
        assert type(got.attributes[i].get("floors", 0)) is type(rep.attributes.get("floors", 0))


@pytest.mark.parametrize("rows", [1, 7])
def test_batch_import_stores_what_the_one_record_path_stores(store_factory, refs, tmp_path, rows):
    """The same CSV through import_batch and through add_reports: equal cases and audit."""
    import csv

    records = _records()[:60]
    path = tmp_path / "r.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(records[0][1]))
        w.writeheader()
        for _, rec in records:
            w.writerow(rec)
    a = store_factory()
    done = import_batch(path, a, refs=refs, now=NOW, received_by="desk", chunk_rows=rows * 9)
    assert (done.added, done.rejected) == (60, 0)
    from gis.cases.batch import read_batch
    from gis.cases.intake import case_from_report
    from gis.store.geopackage import GeoPackageStore

    reports = read_batch(path, refs=refs, now=NOW).reports
    assert len(reports) == 60
    b = GeoPackageStore(tmp_path / "b.gpkg", refs=refs)  # the one-record path's store
    b.add_reports(reports, received_by="desk", at=NOW)
    for r in reports:
        want = case_from_report(r, refs, received_by="desk", at=NOW)
        got = a.get_case(r.report_id)
        assert got == want == b.get_case(r.report_id)
        assert a.audit_trail(r.report_id) == b.audit_trail(r.report_id)
    again = import_batch(path, a, refs=refs, now=NOW, received_by="desk")
    assert (again.added, again.skipped) == (0, 60)
    b.close()
