"""Photo evidence (整改前后对比): validated images in the store, EXIF checked against the case.

A photo is refused unless Pillow reads it as a JPEG, PNG or WebP within the size and pixel
limits. Its SHA-256 identifies it (the same photo twice on a case is stored once). EXIF
time and GPS position are read and compared with the case: a position more than
:data:`FAR_M` from the case is refused unless a person confirms it (then it is stored
flagged ``far``); a photo taken long before the report is flagged ``early``. Every photo
gets a JPEG thumbnail for popups and reports.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import logging
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from gis.access.users import User
from gis.cases.workflow import Case
from gis.errors import ValidationError
from gis.localtime import LOCAL_TZ as TZ

TABLE = "coord_photos"
KINDS: tuple[str, ...] = ("before", "after")
#: Every flag a photo may carry (stored ';'-separated in ``flags``).
FLAGS: tuple[str, ...] = ("far", "no_position", "early", "after_predates_report")
#: Largest photo accepted (bytes): a phone's full-size JPEG is 2–8 MB.
MAX_BYTES = 15_000_000
#: Largest image accepted (pixels): 50 megapixels; larger ones are decompression bombs.
MAX_PIXELS = 50_000_000
#: Image formats accepted (what Pillow reports) and their MIME types.
FORMATS: Mapping[str, str] = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
#: An EXIF position farther than this from the case is refused unless confirmed (metres).
FAR_M = 1000.0
#: A photo taken more than this before the report is flagged ``early``.
EARLY = dt.timedelta(days=2)
THUMB_PX = 256
#: Longer side of the thumbnails shown in map popups and in the monthly report (pixels).
POPUP_PX = 160
#: The MIME types a thumbnail data: URI may carry (what :func:`thumbnail_uri` writes).
URI_MIMES: tuple[str, ...] = ("image/jpeg", "image/png")

log = logging.getLogger(__name__)


def _exif_degrees(value: Any, ref: Any) -> float | None:
    try:
        d, m, s = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    deg = d + m / 60.0 + s / 3600.0
    if str(ref).upper().startswith(("S", "W")):
        deg = -deg
    return deg if np.isfinite(deg) else None


def read_image(data: bytes, *, name: str = "photo") -> dict[str, Any]:
    """Check ``data`` is an accepted image and read its size, EXIF time and position.

    Raises
    ------
    ValidationError
        Too large, not an image, a format other than JPEG/PNG/WebP, too many pixels, or
        damaged.
    """
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_BYTES:
        raise ValidationError(
            f"is {len(data) / 1e6:.1f} MB; the limit is {MAX_BYTES / 1e6:.0f} MB",
            source=name,
            field="photo",
            fix="send the phone's normal photo size, not a raw or panorama file; nothing stored",
        )
    if not data:
        raise ValidationError("is empty", source=name, field="photo")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                fmt = img.format
                width, height = img.size
                if width * height > MAX_PIXELS:
                    raise ValidationError(
                        f"has {width}×{height} pixels; the limit is {MAX_PIXELS / 1e6:.0f} MP",
                        source=name,
                        field="photo",
                    )
                exif = img.getexif()
                img.verify()
    except ValidationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            "is not an image Pillow can read",
            source=name,
            field="photo",
            fix="give a JPEG, PNG or WebP photo; nothing stored",
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(
            f"is a damaged image ({type(exc).__name__})", source=name, field="photo",
            fix="take or export the photo again; nothing stored",
        ) from None  # fmt: skip
    if fmt is None or fmt not in FORMATS:
        raise ValidationError(
            f"is a {fmt} image", source=name, field="photo", fix="give a JPEG, PNG or WebP photo"
        )
    taken = None
    raw_time = exif.get_ifd(0x8769).get(0x9003) or exif.get(0x0132)  # DateTimeOriginal/DateTime
    if raw_time:
        try:
            taken = dt.datetime.strptime(str(raw_time).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
            taken = taken.replace(tzinfo=TZ)  # cameras keep local (Beijing) time
        except ValueError:
            taken = None
    gps = exif.get_ifd(0x8825)
    lat = _exif_degrees(gps.get(2), gps.get(1)) if gps else None
    lon = _exif_degrees(gps.get(4), gps.get(3)) if gps else None
    if lat is not None and not (-90 <= lat <= 90) or lon is not None and not (-180 <= lon <= 180):
        lat = lon = None
    return {
        "format": fmt,
        "mime": FORMATS[fmt],
        "width": width,
        "height": height,
        "taken_at": taken,
        "lon": lon,
        "lat": lat,
    }


def thumbnail(data: bytes, px: int = THUMB_PX) -> bytes:
    """A JPEG thumbnail at most ``px`` pixels on its longer side: pixels only.

    A new image is built from the pixels, so nothing of the file's metadata (EXIF, ICC,
    comments, which Pillow would otherwise carry into the output) survives.
    """
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as src:
        img = ImageOps.exif_transpose(src)
        img.thumbnail((px, px))
        rgb = img.convert("RGB")
        clean = Image.frombytes("RGB", rgb.size, rgb.tobytes())
        out = io.BytesIO()
        clean.save(out, format="JPEG", quality=80)
    return out.getvalue()


@lru_cache(maxsize=1024)
def thumbnail_uri(data: bytes, px: int = POPUP_PX) -> str:
    """A ``data:image/jpeg;base64,…`` URI of a small thumbnail of ``data``.

    ``data`` is validated by :func:`read_image` (Pillow, JPEG/PNG/WebP, size and pixel
    limits) and re-encoded at most ``px`` pixels on its longer side: the URI carries only
    pixels Pillow wrote, never a byte of what was uploaded (a payload appended to a JPEG,
    an SVG, HTML). Cached by content: the map redraws on every rerun.

    Raises
    ------
    ValidationError
        ``data`` is not an accepted image.
    """
    read_image(bytes(data), name="thumbnail")
    return "data:image/jpeg;base64," + base64.b64encode(thumbnail(bytes(data), px)).decode("ascii")


class _UriCache:
    """Thumbnail URIs by photo content (SHA-256) and size: bounded, shared by sessions.

    Keyed by content, so a session finds only the photos its own store query named.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, int], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int]) -> str | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
            return self._items.get(key)

    def put(self, key: tuple[str, int], uri: str) -> None:
        with self._lock:
            self._items[key] = uri
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_URIS = _UriCache(4096)
#: Columns stored before the photo bytes: reading them never walks a photo's pages.
_HEAD = ["photo_id", "case_id", "kind", "sha256"]


def case_thumbnails(
    store: Any, case_ids: Iterable[str], *, px: int = POPUP_PX
) -> dict[str, dict[str, str]]:
    """Thumbnail data: URIs per case: ``{case_id: {"before": uri, "after": uri}}``.

    The first before photo and the latest after photo of each case (cases without photos
    are left out). A stored thumbnail Pillow refuses is skipped and logged. Only the
    columns stored before the photo bytes are read for every photo (the upload time only
    where a case has several photos of a kind, the thumbnail only when its URI is not
    cached yet): a row's later columns sit behind the full-size photo.
    """
    ids = list(dict.fromkeys(str(c) for c in case_ids))
    heads: list[dict[str, Any]] = []
    for i in range(0, len(ids), 500):  # IN lists stay well below SQLite's parameter limit
        heads += store.coord_rows(TABLE, {"case_id": ids[i : i + 500]}, columns=_HEAD)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in heads:
        groups.setdefault((str(r["case_id"]), str(r["kind"])), []).append(r)
    several = [r["photo_id"] for g in groups.values() if len(g) > 1 for r in g]
    when: dict[str, Any] = {}
    for i in range(0, len(several), 500):
        rows = store.coord_rows(TABLE, {"photo_id": several[i : i + 500]},
                                columns=["photo_id", "uploaded_at"])  # fmt: skip
        when.update((r["photo_id"], r["uploaded_at"]) for r in rows)
    chosen: dict[tuple[str, str], dict[str, Any]] = {}
    for (case_id, kind), group in groups.items():
        group = sorted(group, key=lambda r: (when.get(r["photo_id"]) is None,
                                             when.get(r["photo_id"]), r["photo_id"]))  # fmt: skip
        chosen[(case_id, kind)] = group[0] if kind == "before" else group[-1]
    missing = [r["photo_id"] for r in chosen.values() if _URIS.get((r["sha256"], px)) is None]
    for i in range(0, len(missing), 500):
        rows = store.coord_rows(TABLE, {"photo_id": missing[i : i + 500]},
                                columns=["photo_id", "sha256", "thumb_data"])  # fmt: skip
        for r in rows:
            if not r["thumb_data"]:
                continue
            try:
                _URIS.put((r["sha256"], px), thumbnail_uri(bytes(r["thumb_data"]), px))
            except ValidationError:
                log.warning("photo %s: its stored thumbnail is not an image", r["photo_id"])
    out: dict[str, dict[str, str]] = {}
    for (case_id, kind), r in chosen.items():
        uri = _URIS.get((r["sha256"], px))
        if uri is not None:
            out.setdefault(case_id, {})[kind] = uri
    return out


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (short distances: photo vs case)."""
    r = 6_371_008.8
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return float(2 * r * np.arcsin(np.sqrt(a)))


def add_photo(
    store: Any,
    case_id: str,
    data: bytes,
    user: User,
    *,
    kind: str = "before",
    name: str = "photo",
    confirm_far: bool = False,
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Validate and store one photo of a case; returns its row (without the bytes).

    Raises
    ------
    ValidationError
        Unknown kind, a bad image (see :func:`read_image`), or an EXIF position more than
        :data:`FAR_M` from the case without ``confirm_far``. Nothing is stored then.
    """
    if kind not in KINDS:
        raise ValidationError(f"unknown photo kind {kind!r}", field="kind", fix=f"use {KINDS}")
    case: Case = store.get_case(case_id)
    info = read_image(bytes(data), name=name)
    flags: list[str] = []
    dist = None
    if info["lon"] is not None and info["lat"] is not None:
        dist = distance_m(case.lon, case.lat, info["lon"], info["lat"])
        if dist > FAR_M:
            if not confirm_far:
                raise ValidationError(
                    f"was taken {dist / 1000:.1f} km from case {case_id} (EXIF position "
                    f"{info['lon']:.5f}, {info['lat']:.5f})",
                    source=name,
                    field="photo",
                    fix="check it is the right case and photo; confirm it to store it flagged "
                    "(--confirm-far); nothing stored",
                )
            flags.append("far")
    else:
        flags.append("no_position")
    if info["taken_at"] is not None and info["taken_at"] < case.reported_at - EARLY:
        flags.append("early")
    if kind == "after" and info["taken_at"] is not None and info["taken_at"] < case.reported_at:
        flags.append("after_predates_report")
    digest = hashlib.sha256(data).hexdigest()
    existing = store.coord_rows(TABLE, {"case_id": case_id, "sha256": digest}, columns=["photo_id"])
    if existing:
        raise ValidationError(
            f"this photo is already on case {case_id} ({existing[0]['photo_id']})",
            source=name,
            field="photo",
        )
    row = {
        "photo_id": f"{case_id}:{digest[:16]}",
        "case_id": case_id,
        "kind": kind,
        "sha256": digest,
        "mime": info["mime"],
        "size_bytes": len(data),
        "width": info["width"],
        "height": info["height"],
        "taken_at": info["taken_at"],
        "exif_lon": info["lon"],
        "exif_lat": info["lat"],
        "distance_m": dist,
        "flags": ";".join(flags),
        "photo_data": bytes(data),
        "thumb_data": thumbnail(data),
        "uploaded_by": user.username,
        "uploaded_at": at or dt.datetime.now(TZ),
    }
    store.coord_insert(TABLE, [row])
    return {k: v for k, v in row.items() if not k.endswith("_data")}


_LIST_COLUMNS = [
    "photo_id", "case_id", "kind", "sha256", "mime", "size_bytes", "width", "height",
    "taken_at", "exif_lon", "exif_lat", "distance_m", "flags", "uploaded_by", "uploaded_at",
]  # fmt: skip


def photos(store: Any, case_id: str, *, thumbs: bool = False) -> pd.DataFrame:
    """The photos of a case (before first), with thumbnails when asked."""
    store.get_case(case_id)
    cols = [*_LIST_COLUMNS, "thumb_data"] if thumbs else _LIST_COLUMNS
    rows = store.coord_rows(TABLE, {"case_id": case_id}, columns=cols, order="uploaded_at")
    df = pd.DataFrame(rows, columns=cols)
    return df.sort_values("kind", kind="stable", key=lambda s: s != "before").reset_index(drop=True)


def photo_bytes(store: Any, photo_id: str) -> bytes:
    """The stored bytes of one photo."""
    return bytes(store.coord_get(TABLE, photo_id)["photo_data"])


def has_after_photo(store: Any, case_id: str) -> bool:
    """True when the case has at least one after (整改后) photo."""
    rows = store.coord_rows(TABLE, {"case_id": case_id, "kind": "after"}, columns=["photo_id"])
    return bool(rows)
