"""Leaflet served from an installed package, never from a CDN, so maps render offline."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import xstatic.pkg.leaflet as xleaflet

#: Version of the Leaflet shipped by the xstatic-leaflet package.
LEAFLET_VERSION = xleaflet.VERSION


def leaflet_dir() -> Path:
    """Folder holding leaflet.js, leaflet.css and images/ from the installed package."""
    return Path(xleaflet.BASE_DIR)


@lru_cache(maxsize=1)
def leaflet_js() -> str:
    """The minified Leaflet JavaScript (read once per process)."""
    return (leaflet_dir() / "leaflet.js").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def leaflet_css() -> str:
    """The Leaflet stylesheet (read once per process)."""
    return (leaflet_dir() / "leaflet.css").read_text(encoding="utf-8")


@dataclass(frozen=True)
class AssetMode:
    """How a map gets Leaflet: inlined into the HTML, or from a local URL prefix.

    ``inline`` suits standalone files (``patrol map``); ``url_prefix`` suits a web app that
    serves the package folder itself (Streamlit static serving, e.g. ``app/static/leaflet``).
    """

    inline: bool = True
    url_prefix: str = ""

    @classmethod
    def served_at(cls, prefix: str) -> AssetMode:
        """Assets fetched from ``{prefix}/leaflet.js`` and ``{prefix}/leaflet.css``."""
        return cls(inline=False, url_prefix=prefix.rstrip("/"))
