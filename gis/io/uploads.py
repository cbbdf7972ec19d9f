"""Opening files a user names or uploads: regular files only, never through a link, size first.

Every reader of a user-supplied file (batch imports, photos, staff tables) opens it here,
so a symbolic link to a server file, a device such as ``/dev/zero`` or an oversized file
is refused before a byte is read, and no error quotes the file's content.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from gis.errors import ValidationError


def open_upload(path: Path, max_bytes: int) -> BinaryIO:
    """Open a batch file for reading: a regular file, not a link, at most ``max_bytes``.

    The size is checked before a byte is read. A symbolic link is refused rather than
    followed (``O_NOFOLLOW``), so a link to a server file can neither be read nor have its
    first line echoed in an error; devices, pipes and folders are refused too.
    """
    p = Path(path)
    try:
        st = os.lstat(p)
    except (FileNotFoundError, NotADirectoryError):
        raise ValidationError("does not exist", source=str(p), fix="check the path") from None
    except OSError as exc:
        raise ValidationError(
            f"cannot be opened ({exc.strerror})", source=str(p), fix="check the path"
        ) from None
    if stat.S_ISLNK(st.st_mode):
        raise ValidationError(
            "is a symbolic link; links are not followed",
            source=str(p),
            fix="give the file itself (copy it), not a link to it",
        )
    if not stat.S_ISREG(st.st_mode):
        raise ValidationError(
            "is not a regular file (a folder, device or pipe)",
            source=str(p),
            fix="give a .csv, .geojson or .gpkg file",
        )
    check_size(p, st.st_size, max_bytes)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(p, flags)
    except OSError as exc:
        raise ValidationError(
            f"cannot be opened ({exc.strerror})", source=str(p), fix="check the path"
        ) from None
    fst = os.fstat(fd)
    if not stat.S_ISREG(fst.st_mode) or (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino):
        os.close(fd)
        raise ValidationError(
            "changed while being opened", source=str(p), fix="give a file that is not replaced"
        )
    return os.fdopen(fd, "rb")


def check_size(p: Path, size: int, max_bytes: int) -> None:
    """Refuse a file of ``size`` bytes above ``max_bytes`` (named in the message)."""
    if size > max_bytes:
        raise ValidationError(
            f"is {size / 1e6:.1f} MB, more than the {max_bytes / 1e6:.1f} MB limit",
            source=p.name,
            fix="split it into smaller files or raise the limit (--max-mb, PATROL_MAX_UPLOAD_MB)",
        )


def read_upload(path: Path, max_bytes: int) -> bytes:
    """The bytes of a batch file (see :func:`_open_upload`), never more than ``max_bytes``."""
    with open_upload(path, max_bytes) as fh:
        data = fh.read(max_bytes + 1)
    check_size(Path(path), len(data), max_bytes)  # grew after the check
    return data
