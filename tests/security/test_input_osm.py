"""Hostile OSM inputs: bad coordinates, folders, symbolic links, content in messages, sizes.

Each test names the failure it guards against; all go through ``import_osm`` and the
``patrol import-osm`` command, and must end in a one-line message, never a traceback.
"""

from __future__ import annotations

import bz2
import os
from pathlib import Path

import pytest

from gis.cli import main
from gis.errors import ValidationError
from gis.geography import osm_files, osm_import, osm_online
from gis.geography.osm_import import import_osm

SECRET = "root:x:0:0:secret-line"


def _osm(path: Path, body: str) -> Path:
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n' + body + "\n</osm>\n",
        encoding="utf-8",
    )
    return path


GOOD_BODY = """
  <node id="1" lat="39.930" lon="116.380"/>
  <node id="2" lat="39.931" lon="116.381"/>
  <node id="3" lat="39.932" lon="116.379"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>
"""


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fail the test if anything would geocode or download."""
    calls: list[str] = []

    def refuse(*args: object, **kwargs: object) -> None:
        calls.append(str(args[:1]))
        raise AssertionError(f"online lookup attempted: {args[:1]}")

    monkeypatch.setattr(osm_import, "read_online_place", refuse)
    monkeypatch.setattr(osm_import, "read_online_polygon", refuse)
    monkeypatch.setattr(osm_online, "probe_service", refuse)
    return calls


def _cli_error(capsys: pytest.CaptureFixture, *argv: str) -> str:
    assert main(["import-osm", *argv]) == 2
    err = capsys.readouterr().err  # the progress bar comes first, the message last
    assert "\nerror: " in "\n" + err.replace("\r", "\n") and "Traceback" not in err
    return err[err.rindex("error: ") :]


@pytest.mark.parametrize("lat", ["nan", "NaN", "inf", "-inf", "91", "1e400"])
def test_node_with_unusable_latitude_gets_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture, lat: str
) -> None:
    """Was: lat="nan" → GEOSException (a traceback)."""
    body = GOOD_BODY.replace('lat="39.931"', f'lat="{lat}"')
    path = _osm(tmp_path / "nan.osm", body)
    with pytest.raises(ValidationError, match=r"node 2 has a longitude/latitude"):
        import_osm(path, out_dir=None)
    assert "node 2" in _cli_error(capsys, str(path), "--out", str(tmp_path / "o"))


def test_a_folder_is_refused_not_geocoded(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Was: a folder (no .osm suffix) was taken for a place name and sent to Nominatim."""
    folder = tmp_path / "extracts"
    folder.mkdir()
    _osm(folder / "a.osm", GOOD_BODY)
    with pytest.raises(ValidationError, match="is a folder"):
        import_osm(folder, out_dir=None)
    err = _cli_error(capsys, str(folder), "--out", str(tmp_path / "o"))
    assert "is a folder" in err and "a.osm" not in err.split("Fix:")[0]
    os.chdir(tmp_path)  # a bare relative folder name, too
    assert "is a folder" in _cli_error(capsys, "extracts", "--out", "o")


def test_missing_path_is_not_a_place_name(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    err = _cli_error(capsys, str(tmp_path / "gone" / "x"), "--out", str(tmp_path / "o"))
    assert "not found" in err


@pytest.mark.parametrize("suffix", [".osm", ".osm.bz2", ".osm.pbf", ""])
def test_symbolic_links_are_not_followed(
    tmp_path: Path, capsys: pytest.CaptureFixture, suffix: str
) -> None:
    """A link to a valid extract is refused too: inputs are never followed through links."""
    real = _osm(tmp_path / "real.osm", GOOD_BODY)
    link = tmp_path / f"link{suffix}"
    link.symlink_to(real)
    with pytest.raises(ValidationError, match="symbolic link"):
        import_osm(link, out_dir=None)
    assert "symbolic link" in _cli_error(capsys, str(link), "--out", str(tmp_path / "o"))


def test_boundary_link_is_refused(tmp_path: Path) -> None:
    real = _osm(tmp_path / "real.osm", GOOD_BODY)
    target = tmp_path / "area.geojson"
    target.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    link = tmp_path / "boundary.geojson"
    link.symlink_to(target)
    with pytest.raises(ValidationError, match="symbolic link"):
        import_osm(real, out_dir=None, boundary=link)


@pytest.mark.parametrize(
    "body",
    [
        f'<node id="{SECRET}" lat="39.93" lon="116.38"/>',
        f'<node id="1" lat="{SECRET}" lon="116.38"/>',
        f'<node id="1" lat="39.93" lon="116.38"/><way id="2"><nd ref="{SECRET}"/></way>',
        f"<node id='1' lat='39.93' lon='116.38'>{SECRET}<",
    ],
)
def test_messages_never_echo_file_content(
    tmp_path: Path, capsys: pytest.CaptureFixture, body: str
) -> None:
    """Was: int()/float() messages quoted the attribute (first line of a linked file)."""
    path = _osm(tmp_path / "leak.osm", body)
    with pytest.raises(ValidationError) as info:
        import_osm(path, out_dir=None)
    assert "secret" not in str(info.value)
    assert "secret" not in _cli_error(capsys, str(path), "--out", str(tmp_path / "o"))


def test_non_osm_file_content_is_not_echoed(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "passwd.osm"
    path.write_text(SECRET + "\n" + SECRET + "\n", encoding="utf-8")
    assert "secret" not in _cli_error(capsys, str(path), "--out", str(tmp_path / "o"))
    pbf = tmp_path / "passwd.osm.pbf"
    pbf.write_text(SECRET, encoding="utf-8")
    assert "secret" not in _cli_error(capsys, str(pbf), "--out", str(tmp_path / "o"))


def test_size_is_capped_before_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "huge.osm"
    with big.open("wb") as fh:
        fh.truncate(3 * 2**30)  # sparse: 3 GiB on paper, nothing on disk

    def no_reading(*_a: object, **_k: object) -> None:
        raise AssertionError("the file was opened")

    monkeypatch.setattr(osm_files, "_open_nofollow", no_reading)
    with pytest.raises(ValidationError, match=r"3072 MiB, more than the 1024 MiB allowed"):
        import_osm(big, out_dir=None)
    err = _cli_error(capsys, str(big), "--out", str(tmp_path / "o"), "--max-mb", "10")
    assert "more than the 10 MiB allowed" in err and "--max-mb" in err


def test_decompression_bomb_is_stopped(tmp_path: Path) -> None:
    """A few KiB of bzip2 that expand past the cap stop at the cap, not at memory's end."""
    padding = b" " * (8 * 2**20)
    data = b'<?xml version="1.0"?><osm version="0.6">' + padding + b"</osm>"
    bomb = tmp_path / "bomb.osm.bz2"
    bomb.write_bytes(bz2.compress(data, 9))
    assert bomb.stat().st_size < 64 * 1024
    with pytest.raises(ValidationError, match="more than 2 MiB of OSM XML once decompressed"):
        import_osm(bomb, out_dir=None, max_mb=2)


def test_truncated_compressed_file(tmp_path: Path) -> None:
    whole = bz2.compress(_osm(tmp_path / "a.osm", GOOD_BODY * 50).read_bytes())
    cut = tmp_path / "cut.osm.bz2"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValidationError, match="not a complete bz2 file"):
        import_osm(cut, out_dir=None)


@pytest.mark.parametrize("value", ["nan", "-1", "inf"])
def test_bad_limits_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture, value: str) -> None:
    path = _osm(tmp_path / "a.osm", GOOD_BODY)
    err = _cli_error(capsys, str(path), "--out", str(tmp_path / "o"), "--min-component-m", value)
    assert "min_component_m" in err
