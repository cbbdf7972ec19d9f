"""Copy Leaflet from the installed package into the folder Streamlit serves as app/static."""

from __future__ import annotations

import shutil
from pathlib import Path

from layers.assets import LEAFLET_VERSION, leaflet_dir

#: Where the browser fetches Leaflet from (Streamlit serves ./static at /app/static).
LEAFLET_URL_PREFIX = "/app/static/leaflet"
#: Where the browser fetches the marker-cluster plugin from.
MARKERCLUSTER_URL_PREFIX = "/app/static/markercluster"
_MARKER = ".version"


def _copy_package_dir(source: Path, target: Path, version: str) -> Path:
    """Make ``target`` a copy of ``source`` tagged with ``version`` (skip when up to date).

    Copies (not links: Streamlit refuses files whose real path leaves the static folder).
    """
    marker = target / _MARKER
    if marker.exists() and marker.read_text(encoding="utf-8").strip() == version:
        return target
    tmp = target.parent / f".{target.name}-{version}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(source, tmp, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (tmp / _MARKER).write_text(version, encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    try:
        tmp.rename(target)
    except OSError:  # another session copied it first
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def ensure_leaflet_static(static_root: Path) -> Path:
    """Copy the installed Leaflet (and the marker-cluster plugin, if installed) under
    ``static_root``; returns the Leaflet folder."""
    static_root = Path(static_root)
    static_root.mkdir(parents=True, exist_ok=True)
    target = _copy_package_dir(leaflet_dir(), static_root / "leaflet", LEAFLET_VERSION)
    try:
        import xstatic.pkg.leaflet_markercluster as xmc
    except ImportError:
        return target
    _copy_package_dir(Path(xmc.BASE_DIR), static_root / "markercluster", str(xmc.VERSION))
    return target
