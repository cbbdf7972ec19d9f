"""Photo evidence on both stores: limits, Pillow validation, EXIF checks, closing needs proof."""

from __future__ import annotations

import datetime as dt

import pytest

from gis.access.users import User
from gis.coordination import evidence
from gis.errors import TransitionError, ValidationError

from .conftest import NOW
from .photos import jpeg

USER = User(username="p1", role="patrol", person_id="P01")


def _rows(store):
    return store.coord_rows("coord_photos", columns=["photo_id"])


def test_good_photo_stored_with_hash_thumbnail_and_exif(loaded):
    case = loaded.get_case("T01")
    taken = case.reported_at + dt.timedelta(minutes=3)
    data = jpeg(lon=case.lon + 0.001, lat=case.lat, taken=taken, size=(800, 600))
    row = evidence.add_photo(loaded, "T01", data, USER, kind="before", at=NOW)
    assert row["mime"] == "image/jpeg" and (row["width"], row["height"]) == (800, 600)
    assert row["taken_at"] == taken
    assert 50 < row["distance_m"] < 120 and row["flags"] == ""
    table = evidence.photos(loaded, "T01", thumbs=True)
    assert list(table.kind) == ["before"]
    import io

    from PIL import Image

    with Image.open(io.BytesIO(table.thumb_data.iloc[0])) as th:
        assert max(th.size) == 256
    assert evidence.photo_bytes(loaded, row["photo_id"]) == data
    with pytest.raises(ValidationError, match="already on case T01"):
        evidence.add_photo(loaded, "T01", data, USER)


def test_not_an_image_is_refused(loaded):
    with pytest.raises(ValidationError, match="not an image Pillow can read"):
        evidence.add_photo(loaded, "T01", b"%PDF-1.4 not a photo" * 10, USER, name="x.jpg")
    # a JPEG header on garbage is caught too
    with pytest.raises(ValidationError, match="damaged|not an image"):
        evidence.add_photo(loaded, "T01", jpeg()[:200], USER)
    assert _rows(loaded) == []


def test_a_50_mb_photo_is_refused_before_decoding(loaded):
    big = jpeg() + b"\0" * (50 * 1024 * 1024)
    with pytest.raises(ValidationError, match=r"is 52\.4 MB; the limit is 15 MB"):
        evidence.add_photo(loaded, "T01", big, USER, name="huge.jpg")
    assert _rows(loaded) == []


def test_gif_and_pixel_bombs_refused(loaded):
    with pytest.raises(ValidationError, match="GIF image"):
        evidence.add_photo(loaded, "T01", jpeg(fmt="GIF"), USER)
    bomb = jpeg(size=(8000, 7000), color=(0, 0, 0))
    with pytest.raises(ValidationError, match="pixels|not an image"):
        evidence.add_photo(loaded, "T01", bomb, USER)
    assert _rows(loaded) == []


def test_exif_position_2_km_away(loaded):
    case = loaded.get_case("T01")
    far = jpeg(lon=case.lon + 0.0235, lat=case.lat)  # about 2 km east
    with pytest.raises(ValidationError, match=r"taken 2\.0 km from case T01.*--confirm-far"):
        evidence.add_photo(loaded, "T01", far, USER, name="far.jpg")
    assert _rows(loaded) == []
    row = evidence.add_photo(loaded, "T01", far, USER, confirm_far=True)
    assert row["flags"] == "far"


def test_closing_as_rectified_needs_an_after_photo_or_a_reason(loaded):
    t = NOW - dt.timedelta(days=1)
    case = loaded.get_case("T05")
    for i, action in enumerate(("register", "serve_notice", "recheck")):
        case = loaded.apply_transition("T05", action, who="p1", expected_version=case.version,
                                       at=t + dt.timedelta(minutes=i))  # fmt: skip
    with pytest.raises(TransitionError, match="needs an after photo"):
        loaded.apply_transition("T05", "close_rectified", who="p1",
                                expected_version=case.version, at=t + dt.timedelta(minutes=9))  # fmt: skip
    assert loaded.get_case("T05").state == "rechecking"
    evidence.add_photo(loaded, "T05", jpeg(color=(0, 200, 0)), USER, kind="after")
    closed = loaded.apply_transition("T05", "close_rectified", who="p1",
                                     expected_version=case.version, at=t + dt.timedelta(minutes=9))  # fmt: skip
    assert closed.state == "closed"
    assert list(evidence.photos(loaded, "T05").kind) == ["after"]
