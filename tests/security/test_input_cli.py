"""Hostile input through the ``patrol`` command: intake, batch import, lists and reports.

Every attempt must end in exit 0 (stored as inert text) or a one-line message (exit 2):
never a traceback or exit 3, never a server file read, never half a batch stored. Runs on
the GeoPackage and the PostGIS store.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from gis.cli import main
from tests.security import input_payloads as P
from tests.security.conftest import snapshot

LON, LAT = "116.38", "39.935"
SECRET = "root:x:0:0:SECRET-CONTENT-7f3a:/root:/bin/bash\n"


def new(*extra: str, by: str = "p1") -> list[str]:
    return ["cases", "new", "--category", "C07", "--lon", LON, "--lat", LAT, f"--by={by}", *extra]


def run(argv: list[str], capsys) -> tuple[int, str]:
    """Exit code and stderr of one command; argparse refusals count as exit 2."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


@pytest.fixture
def secret(tmp_path) -> Path:
    """A server file that no entry point may read (its content must never appear)."""
    p = tmp_path / "secret" / "shadow"
    p.parent.mkdir()
    p.write_text(SECRET, encoding="utf-8")
    return p


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    import csv

    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def _row(i: int, **extra: str) -> dict[str, str]:
    return {
        "report_id": f"H{i:03d}",
        "category": "C07",
        "lon": f"{116.38 + i * 1e-5:.6f}",
        "lat": LAT,
        "reported_at": f"2026-05-01 10:{i % 60:02d}",
        **extra,
    }


def test_inert_text_is_stored_verbatim(cli_store, capsys) -> None:
    for i, text in enumerate(P.INERT_TEXT):
        code, err = run(new(f"--description={text}", f"--id=T{i}"), capsys)
        assert code == 0, err
    with cli_store() as store:
        stored = {c.case_id: c.description for c in store.query_cases()}
    assert stored == {f"T{i}": text for i, text in enumerate(P.INERT_TEXT)}


@pytest.mark.parametrize("bad", P.CONTROL[:2] + ("x" * 200,))
def test_control_bytes_in_ids_and_names_are_refused(cli_store, capsys, bad) -> None:
    """Why 4: a NUL byte in an id raised a bare ValueError on PostGIS."""
    for argv in (new(f"--id={bad}"), new(by=bad), new(f"--description={bad}\x00")):
        code, err = run(argv, capsys)
        assert code == 2 and "error:" in err
    for argv in (
        ["cases", "show", "--", bad],
        ["cases", "advance", "--by=x", "--", bad, "register"],
    ):
        code, err = run(argv, capsys)
        assert code == 2 and "error:" in err
    with cli_store() as store:
        assert store.count_cases() == 0


@pytest.mark.parametrize("number", P.NUMBERS)
def test_bad_numbers_are_refused(cli_store, capsys, number) -> None:
    code, err = run(["cases", "new", "--category", "C07", f"--lon={number}", "--lat", LAT,
                     "--by", "p1"], capsys)  # fmt: skip
    assert code == 2
    code, err = run(new("--attr", f"db={number}"), capsys)
    assert code == 2 and "db" in err
    with cli_store() as store:
        assert store.count_cases() == 0


@pytest.mark.parametrize("date", P.DATES)
def test_bad_dates_are_refused(cli_store, capsys, date) -> None:
    code, err = run(new(f"--at={date}"), capsys)
    assert code == 2 and "--at" in err


def test_photo_paths_are_never_read(cli_store, capsys, secret, tmp_path) -> None:
    """Why 3: photo=/etc/shadow or ../../etc/passwd was read and hashed."""
    rows = [_row(i, photo=p.format(secret=secret)) for i, p in enumerate(P.PATHS)]
    rows += [_row(100 + i, photo=link) for i, link in enumerate(P.PHOTO_LINKS)]
    batch = _csv(tmp_path / "photos.csv", rows)
    code, err = run(["import", str(batch)], capsys)
    assert code == 2 and f"{len(P.PATHS)} bad row(s), nothing stored" in err
    assert "SECRET-CONTENT" not in err
    with cli_store() as store:
        assert store.count_cases() == 0
    rejects = tmp_path / "rejects.csv"
    code, err = run(["import", str(batch), "--keep-good", "--rejects", str(rejects)], capsys)
    assert code == 0, err
    secret_hash = hashlib.sha256(secret.read_bytes()).hexdigest()
    with cli_store() as store:
        cases = store.query_cases()
    assert sorted(c.case_id for c in cases) == ["H100", "H101"]
    assert all(c.photo_sha256 != secret_hash for c in cases)
    assert {c.attributes["photo_url"] for c in cases} == set(P.PHOTO_LINKS)
    assert "SECRET-CONTENT" not in rejects.read_text(encoding="utf-8-sig")
    # a missing path and an existing one get the same answer: no probing for files
    problems = rejects.read_text(encoding="utf-8-sig")
    assert "not found" not in problems


def test_photo_option_reads_only_a_regular_image(cli_store, capsys, secret, tmp_path) -> None:
    code, err = run(new("--photo", str(secret)), capsys)
    assert code == 2 and "is not a photo" in err and "SECRET" not in err
    image = tmp_path / "p.jpg"
    image.write_bytes(b"\xff\xd8\xff\xe0fake jpeg")
    link = tmp_path / "link.jpg"
    link.symlink_to(image)
    code, err = run(new("--photo", str(link)), capsys)
    assert code == 2 and "symbolic link" in err
    code, err = run(new("--photo", "/dev/zero"), capsys)
    assert code == 2 and "not a regular file" in err
    code, err = run(new("--attr", f"photo={secret}"), capsys)
    assert code == 2 and "--attr" in err
    code, err = run(new("--photo", str(image), "--id", "OK1"), capsys)
    assert code == 0, err
    with cli_store() as store:
        assert [c.case_id for c in store.query_cases()] == ["OK1"]


@pytest.mark.parametrize("suffix", [".csv", ".geojson", ".gpkg"])
def test_symlinked_batch_is_not_followed_nor_echoed(cli_store, capsys, secret, tmp_path, suffix):
    """Why 3: a symlinked input echoed the first line of its target in the error."""
    link = tmp_path / f"batch{suffix}"
    link.symlink_to(secret)
    code, err = run(["import", str(link)], capsys)
    assert code == 2 and "symbolic link" in err
    assert "SECRET" not in err and "root:x" not in err


def test_header_of_a_server_file_is_not_echoed(cli_store, capsys, secret, tmp_path) -> None:
    copy = tmp_path / "passwd.csv"
    copy.write_text(SECRET, encoding="utf-8")
    code, err = run(["import", str(copy)], capsys)
    assert code == 2 and "lacks columns" in err
    assert "SECRET" not in err and "root:x" not in err


def test_size_is_capped_before_reading(cli_store, capsys, tmp_path, monkeypatch) -> None:
    """Why 3: a 2 GB file cost 2 GB of memory. A sparse file bigger than the cap is refused
    without the file ever being opened."""
    big = tmp_path / "huge.csv"
    with open(big, "wb") as fh:
        fh.truncate(2 * 1024**3)  # 2 GB, sparse: costs no disk
    import gis.io.uploads

    real_open = os.open

    def guarded(path, *a, **k):
        assert Path(path) != big, "the oversized file was opened"
        return real_open(path, *a, **k)

    monkeypatch.setattr(gis.io.uploads.os, "open", guarded)
    code, err = run(["import", str(big), "--max-mb", "1"], capsys)
    assert code == 2 and "more than the 1.0 MB limit" in err
    code, err = run(["import", str(big)], capsys)  # the default limit (20 MB)
    assert code == 2 and "limit" in err
    monkeypatch.setenv("PATROL_MAX_UPLOAD_MB", "0.5")
    small = _csv(tmp_path / "small.csv", [_row(i, description="x" * 2000) for i in range(400)])
    code, err = run(["import", str(small)], capsys)
    assert code == 2 and "0.5 MB limit" in err
    for bad in ("0", "-1", "nan", "inf"):
        code, err = run(["import", str(small), "--max-mb", bad], capsys)
        assert code == 2 and "--max-mb" in err
    with cli_store() as store:
        assert store.count_cases() == 0


@pytest.mark.parametrize("path", ["/etc", "/dev/zero", "/dev/zero.csv", "nothere.csv"])
def test_non_files_are_refused(cli_store, capsys, path) -> None:
    code, err = run(["import", path], capsys)
    assert code == 2 and "error:" in err


def _geojson(tmp_path: Path, geometry, name: str = "g.geojson", **props) -> Path:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"category": "C01", "reported_at": "2026-05-01 10:00", **props},
                "geometry": geometry,
            }
        ],
    }
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("geometry", P.GEOMETRIES, ids=lambda g: json.dumps(g)[:40])
def test_malformed_geometries_get_a_message(cli_store, capsys, tmp_path, geometry) -> None:
    """Why 4: {"type":"Point","coordinates":[]} raised a GEOSException."""
    before = None
    with cli_store() as store:
        before = snapshot(store)
    code, err = run(["import", str(_geojson(tmp_path, geometry))], capsys)
    assert code == 2 and "bad row(s), nothing stored" in err
    with cli_store() as store:
        assert snapshot(store) == before


def test_bare_geometry_and_deep_nesting_get_a_message(cli_store, capsys, tmp_path) -> None:
    """Why 4: 100,000 nested '[' raised a RecursionError."""
    bare = tmp_path / "bare.geojson"
    bare.write_text('{"type":"Point","coordinates":[]}', encoding="utf-8")
    code, err = run(["import", str(bare)], capsys)
    assert code == 2 and "features" in err
    deep = tmp_path / "deep.geojson"
    deep.write_text(P.deep_json(), encoding="utf-8")
    code, err = run(["import", str(deep)], capsys)
    assert code == 2 and "nested too deeply" in err


def test_bowtie_footprint_is_refused(cli_store, capsys, tmp_path) -> None:
    """Why 6: an invalid (bow-tie) polygon was accepted."""
    path = _geojson(tmp_path, P.bowtie(116.38, 39.935))
    code, err = run(["import", str(path)], capsys)
    assert code == 2 and "footprint polygon is invalid" in err
    with cli_store() as store:
        assert store.count_cases() == 0


def test_geopackage_batch_payloads(cli_store, capsys, tmp_path) -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    texts = list(P.TEMPLATE[:3] + P.SCRIPT[:2])
    gdf = gpd.GeoDataFrame(
        {
            "report_id": [f"G{i}" for i in range(len(texts))],
            "category": ["C07"] * len(texts),
            "reported_at": ["2026-05-01 10:00"] * len(texts),
            "description": texts,
        },
        geometry=[Point(116.38 + i * 1e-5, 39.935) for i in range(len(texts))],
        crs="EPSG:4326",
    )
    path = tmp_path / "batch.gpkg"
    gdf.to_file(path, layer="reports", driver="GPKG")
    code, err = run(["import", str(path)], capsys)
    assert code == 0, err
    with cli_store() as store:
        assert sorted(c.description for c in store.query_cases()) == sorted(texts)
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    code, err = run(["import", str(junk)], capsys)
    assert code == 2 and "GeoPackage" in err


def test_rejects_csv_escapes_formula_header(cli_store, capsys, tmp_path) -> None:
    """Why 6: the rejects CSV header was not protected against formulas."""
    path = tmp_path / "f.csv"
    path.write_text(
        f"=cmd|' /C calc'!A0,category,lon,lat,reported_at\n=1+1,C99,{LON},{LAT},2026-05-01 10:00\n",
        encoding="utf-8",
    )
    rejects = tmp_path / "rej.csv"
    code, err = run(["import", str(path), "--keep-good", "--rejects", str(rejects)], capsys)
    assert code == 0, err
    header, row = rejects.read_text(encoding="utf-8-sig").splitlines()[:2]
    assert "'=cmd" in header and not header.split(",")[4].startswith("=")
    assert ",'=1+1" in row


def test_list_limit_must_be_positive(cli_store, capsys) -> None:
    """Why 6: ``cases list --limit -1`` returned everything on GeoPackage."""
    from gis.errors import ValidationError

    for bad in ("-1", "0", "x"):
        code, err = run(["cases", "list", "--limit", bad], capsys)
        assert code == 2 and "--limit" in err
    with cli_store() as store:
        for bad in (-1, 0):
            with pytest.raises(ValidationError, match="limit"):
                store.query_cases(limit=bad)
            with pytest.raises(ValidationError, match="limit"):
                store.cases_frame(limit=bad)


@pytest.mark.parametrize("argv", [
    ["report", "daily", "--date", "9999-12-31"],
    ["report", "monthly", "--date", "0001-01-01"],
    ["hotspots", "--date", "9999-12-31"],
    ["hotspots", "--days", "1000000000"],
    ["hotspots", "--cell", "1e308"],
    ["hotspots", "--bandwidth", "nan"],
    ["hotspots", "--hour", "99"],
    ["hotspots", "--holiday", "9999-12-31"],
    ["demo-history", "--days", "-1", "--synthetic-grid"],
    ["demo-history", "--scale", "nan", "--synthetic-grid"],
    ["route", "--budget-min", "1e308"],
    ["route", "--dwell-min", "nan", "--budget-min", "30"],
    ["cases", "advance", "X", "serve_notice", "--by", "x", "--hours", "1e308"],
])  # fmt: skip
def test_out_of_range_options_get_a_message(cli_store, capsys, argv) -> None:
    """Why 4: ``report --date 9999-12-31`` raised a ValueError, ``--hours 1e308`` an
    OverflowError."""
    code, err = run(argv, capsys)
    assert code == 2, err


def test_unexpected_errors_become_a_message(cli_store, capsys, monkeypatch) -> None:
    """The last line of defence: a bug shows one line and exit 3, not a traceback."""
    import gis.cli.cases

    def boom(*a, **k):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(gis.cli.cases, "open_store", boom)
    code, err = run(["cases", "list"], capsys)
    assert code == 3 and "unexpected RecursionError" in err


def test_report_assignment_file_is_opened_like_an_upload(cli_store, capsys, secret, tmp_path):
    link = tmp_path / "assignment.csv"
    link.symlink_to(secret)
    base = ["report", "daily", "--date", "2026-05-01", "--assignment"]
    code, err = run([*base, str(link)], capsys)
    assert code == 2 and "symbolic link" in err and "SECRET" not in err
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\x00\xff\xfe garbage")
    code, err = run([*base, str(binary)], capsys)
    assert code == 2 and "UTF-8" in err
