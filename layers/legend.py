"""Map legends built by the page script from JSON (text set with textContent, never HTML)."""

from __future__ import annotations

from collections.abc import Sequence

import folium

from layers.safe import PageCall, clean_text, safe_colour

#: Swatch shapes the page script draws: case markers are circles, points of interest
#: diamonds, areas squares, routes and streets lines.
SHAPES = ("square", "circle", "ring", "dashed", "diamond", "line")


def _item(item: Sequence[str], shape: str) -> list[str]:
    colour, label = item[0], item[1]
    small = item[3] if len(item) > 3 else ""
    own = item[2] if len(item) > 2 and item[2] in SHAPES else shape
    return [safe_colour(colour), clean_text(label, limit=120), own, clean_text(small, limit=40)]


class Legend(PageCall):
    """A Leaflet control with titled sections of swatches and labels (bottom-right).

    ``items`` are ``(colour, label)`` pairs, optionally ``(colour, label, shape, small)``;
    ``sections`` adds further titled groups ``(title, items, shape)``. A ``folded`` legend
    (and any legend on a map narrower than 520 px) shows its title until clicked.
    """

    def __init__(
        self,
        title: str,
        items: Sequence[Sequence[str]],
        position: str = "bottomright",
        *,
        shape: str = "square",
        sections: Sequence[tuple[str, Sequence[Sequence[str]], str]] = (),
        folded: bool = False,
    ) -> None:
        groups = [("", items, shape), *sections] if items else list(sections)
        spec = {
            "title": clean_text(title, limit=160),
            "position": position
            if position in ("topleft", "topright", "bottomleft", "bottomright")
            else "bottomright",
            "folded": bool(folded),
            "sections": [
                {
                    "title": clean_text(t, limit=80),
                    "shape": s if s in SHAPES else "square",
                    "items": [_item(i, s) for i in its],
                }
                for t, its, s in groups
            ],
        }
        super().__init__("legend", spec)
        self._name = "Legend"
        self.spec = spec


def add_legend(
    m: folium.Map | folium.FeatureGroup,
    title: str,
    items: Sequence[Sequence[str]],
    *,
    shape: str = "square",
    sections: Sequence[tuple[str, Sequence[Sequence[str]], str]] = (),
    position: str = "bottomright",
    folded: bool = False,
) -> Legend:
    """Attach a legend to a map, or to a layer group (shown while the group is on the map),
    and return it (``folded``: only its title until clicked)."""
    legend = Legend(title, items, position, shape=shape, sections=sections, folded=folded)
    legend.add_to(m)
    return legend
