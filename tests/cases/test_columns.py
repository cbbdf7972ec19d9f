"""The column path of batch intake equals the one-record path, value for value.

Same reports (every field, the content hash and the default id), same errors (file, row,
field) for bad rows, and the same stored cases on both stores.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gis.cases.batch import import_batch
from gis.cases.columns import validate_columns
from gis.cases.intake import validate_records
from gis.errors import ValidationError
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


def _rows_one_by_one(path, encoding=None):
    """The CSV read one row at a time, as the intake read it before it read blocks: a
    ``csv.reader`` row, its first line, a dict per row (the reference for the block reader)."""
    import csv
    import io

    from gis.errors import ValidationError
    from gis.io.intake_files import COLUMN_ALIASES

    text = io.StringIO(path.read_bytes().decode(encoding or "utf-8-sig"), newline="")
    reader = csv.reader(text, strict=True)
    names = [COLUMN_ALIASES.get(h.strip().lower(), h.strip()) for h in next(reader)]
    out = []
    while True:
        line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            fix = "close the quotes; quote fields that contain commas or line breaks"
            out.append((line, ValidationError(f"malformed CSV: {exc}", source=path.name,
                                              row=line, fix=fix)))  # fmt: skip
            break
        if not "".join(fields).strip():
            continue
        if len(fields) != len(names):
            problem = f"has {len(fields)} fields, the header has {len(names)}"
            fix = "quote fields that contain commas; remove stray separators"
            out.append((line, ValidationError(problem, source=path.name, row=line, fix=fix)))
            continue
        out.append((line, dict(zip(names, fields, strict=True))))
    return out


def _hostile_csv(path, encoding="utf-8"):
    """Good rows and bad ones in every field, blank and multi-line rows, a stray field."""
    import csv
    import io

    head = ["编号", "类别", "经度", "纬度", "上报时间", "来源", "上报人", "描述", "坐标系"]
    good_lon, good_lat = lonlat(120, 200)
    rows = []
    for i in range(40):
        lon, lat = lonlat(20 + (i * 37) % 460, 10 + (i * 53) % 480)
        d = ("wgs84", "gcj02", "bd09", "")[i % 4]
        slon, slat = from_wgs84([lon], [lat], d or "wgs84")
        desc = ("=cmd|' /C calc'!A0", "第一行\n第二行", "<script>alert(1)</script>", "占道")[i % 4]
        rows.append([f"H{i:03d}", ("C07", "噪声扰民", "C04")[i % 3], f"{slon[0]:.6f}",
                     f"{slat[0]:.6f}", "2026-05-01 17:20", ("patrol", "12345")[i % 2],
                     ("r1", "@SUM(A1)", "王五")[i % 3], desc, d])  # fmt: skip
    base = [f"{good_lon:.6f}", f"{good_lat:.6f}"]
    bad = [
        ["B01", "C07", "abc", base[1], "2026-05-01 17:20", "patrol", "r", "bad lon", ""],
        ["B02", "C07", base[0], "1e400", "2026-05-01 17:20", "patrol", "r", "inf lat", ""],
        ["B03", "C07", "NaN", base[1], "2026-05-01 17:20", "patrol", "r", "nan lon", ""],
        ["B04", "C07", *base, "2026-13-01 10:00", "patrol", "r", "month 13", ""],
        ["B05", "C07", *base, "yesterday", "patrol", "r", "no date", ""],
        ["B06", "C07", *base, "2026-02-30", "patrol", "r", "no such day", ""],
        ["B07", "C07", "116.200000", "39.900000", "2026-05-01 17:20", "patrol", "r", "far", ""],
        ["B08", "C07", *base, "2026-05-01 17:20", "patrol", "r\x07bell", "ctrl", ""],
        ["B09", "C07", *base, "2026-05-01 17:20", "patrol", "r", "x" * 4001, ""],
        ["B10", '=HYPERLINK("x")', *base, "2026-05-01 17:20", "patrol", "r", "cat", ""],
        ["B11", "C07", *base, "2026-05-01 17:20", "twitter", "r", "source", ""],
        ["B12", "C07", *base, "2026-05-01 17:20", "patrol", "r", "datum", "mars"],
    ]
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(head)
    for i, row in enumerate(rows):
        w.writerow(row)
        if i % 10 == 4:
            w.writerow(bad[(i // 10) * 3])
            buf.write(",,,,,,,,\r\n\r\n")  # blank rows are skipped
        if i % 10 == 7:
            w.writerow(bad[(i // 10) * 3 + 1])
            buf.write('x,"a,b",1\r\n')  # a stray field count
            w.writerow(bad[(i // 10) * 3 + 2])
    path.write_bytes(buf.getvalue().encode(encoding))


@pytest.mark.parametrize(("encoding", "chunk"), [("utf-8", 7), ("gb18030", 20_000)])
def test_block_reader_stores_and_refuses_as_the_row_reader(
    store_factory, refs, tmp_path, monkeypatch, encoding, chunk
):
    """The CSV read in blocks of columns (no dict per row) gives the rows, lines and errors
    of the row-by-row reader, the same stored cases and the same rejects and refusal."""
    import gis.cases.batch as batch
    from gis.io.intake_files import iter_csv_records
    from gis.store.geopackage import GeoPackageStore

    path = tmp_path / "hostile.csv"
    _hostile_csv(path, encoding)
    want = _rows_one_by_one(path, encoding)
    got = list(iter_csv_records(path, encoding=encoding))
    assert [r for r, _ in got] == [r for r, _ in want]
    for (_, a), (_, b) in zip(got, want, strict=True):
        assert type(a) is type(b)
        assert str(a) == str(b) if not isinstance(a, dict) else a == b
    assert sum(not isinstance(r, dict) for _, r in want) == 4
    kw = dict(refs=refs, now=NOW, received_by="desk", encoding=encoding, chunk_rows=chunk)
    with pytest.raises(ValidationError) as blocks_refused:
        import_batch(path, GeoPackageStore(tmp_path / "x.gpkg", refs=refs), **kw)
    a = store_factory()
    done = import_batch(path, a, keep_good=True, rejects_path=tmp_path / "a.csv", **kw)

    def by_rows(p, *, encoding=None, max_bytes=0, size=0):  # the row reader, in lists
        rows = iter(_rows_one_by_one(p, encoding))
        return iter(lambda: list(itertools.islice(rows, size)), [])

    monkeypatch.setattr(batch, "iter_csv_blocks", by_rows)
    with pytest.raises(ValidationError) as rows_refused:
        import_batch(path, GeoPackageStore(tmp_path / "y.gpkg", refs=refs), **kw)
    b = GeoPackageStore(tmp_path / "b.gpkg", refs=refs)
    ref = import_batch(path, b, keep_good=True, rejects_path=tmp_path / "b.csv", **kw)
    assert str(blocks_refused.value) == str(rows_refused.value)
    assert "16 bad row(s)" in str(blocks_refused.value)
    assert (done.added, done.rejected, done.rows) == (ref.added, ref.rejected, ref.rows)
    assert (done.added, done.rejected) == (40, 16)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    for i in range(40):
        assert a.get_case(f"H{i:03d}") == b.get_case(f"H{i:03d}") is not None
        assert a.audit_trail(f"H{i:03d}") == b.audit_trail(f"H{i:03d}")
    b.close()


@pytest.mark.parametrize(
    "body",
    [
        'H1,C07,116.38,39.93,2026-05-01 10:00\n"H2,C07\n',  # a quote never closed
        'H1,C07,116.38,39.93,2026-05-01 10:00\nH2,"C0"7,116.38,39.93,x\nH3,C07,1,2,3\n',
        'H1,"a\r\nb",1,2,3\r\n\r\n,,,,\r\nH2,C07,1,2\r\nH3,C07,1,2,3,4\r\n',
        "",
    ],
)
def test_block_reader_lines_and_malformed_rows(tmp_path, body):
    """Malformed quotes, rows spanning lines, blank and short rows: the block reader
    gives the row reader's rows, lines and messages (at any block size)."""
    from gis.io.intake_files import iter_csv_blocks, iter_csv_records

    path = tmp_path / "odd.csv"
    path.write_bytes(("report_id,category,lon,lat,reported_at\n" + body).encode())
    want = _rows_one_by_one(path)
    assert len(want) == len(list(iter_csv_records(path)))
    for size in (1, 2, 20_000):
        got = [pair for block in iter_csv_blocks(path, size=size) for pair in block]
        assert [r for r, _ in got] == [r for r, _ in want]
        assert [r if isinstance(r, dict) else str(r) for _, r in got] == [
            r if isinstance(r, dict) else str(r) for _, r in want
        ]
