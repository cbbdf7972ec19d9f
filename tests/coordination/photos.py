"""Tiny photos for tests: JPEGs with EXIF time and GPS written by Pillow."""

from __future__ import annotations

import datetime as dt
import io

from PIL import Image


def _dms(deg: float) -> tuple[float, float, float]:
    d = int(deg)
    m = int((deg - d) * 60)
    s = round(((deg - d) * 60 - m) * 60, 4)
    return (float(d), float(m), s)


def jpeg(
    *,
    lon: float | None = None,
    lat: float | None = None,
    taken: dt.datetime | None = None,
    size: tuple[int, int] = (64, 48),
    color: tuple[int, int, int] = (200, 30, 30),
    fmt: str = "JPEG",
) -> bytes:
    """An image with optional EXIF DateTimeOriginal and GPS position."""
    img = Image.new("RGB", size, color)
    exif = Image.Exif()
    if taken is not None:
        exif.get_ifd(0x8769)[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    if lon is not None and lat is not None:
        gps = exif.get_ifd(0x8825)
        gps[1] = "N" if lat >= 0 else "S"
        gps[2] = _dms(abs(lat))
        gps[3] = "E" if lon >= 0 else "W"
        gps[4] = _dms(abs(lon))
    out = io.BytesIO()
    img.save(out, format=fmt, exif=exif)
    return out.getvalue()
