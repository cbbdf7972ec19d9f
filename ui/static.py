"""Copy Leaflet from the installed package into the folder Streamlit serves as app/static."""

from __future__ import annotations

import shutil
from pathlib import Path

from layers.assets import LEAFLET_VERSION, leaflet_dir

#: Where the browser fetches Leaflet from (Streamlit serves ./static at /app/static).
LEAFLET_URL_PREFIX = "/app/static/leaflet"
_MARKER = ".version"


def ensure_leaflet_static(static_root: Path) -> Path:
    """Make ``static_root/leaflet`` a copy of the installed Leaflet and return it.

    Copies (not links: Streamlit refuses files whose real path leaves the static folder)
    only when the folder is missing or holds another Leaflet version.
    """
    target = Path(static_root) / "leaflet"
    marker = target / _MARKER
    if marker.exists() and marker.read_text(encoding="utf-8").strip() == LEAFLET_VERSION:
        return target
    tmp = Path(static_root) / f".leaflet-{LEAFLET_VERSION}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(leaflet_dir(), tmp, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (tmp / _MARKER).write_text(LEAFLET_VERSION, encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    try:
        tmp.rename(target)
    except OSError:  # another session copied it first
        shutil.rmtree(tmp, ignore_errors=True)
    return target
