"""A plain-HTML legend control (no branca colormap: that pulls d3 from a CDN)."""

from __future__ import annotations

import html
import json

import folium
from branca.element import MacroElement, Template


class Legend(MacroElement):
    """A Leaflet control with coloured swatches and labels, placed bottom-right."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var legend = L.control({position: "{{ this.position }}"});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "patrol-legend");
                div.style.background = "rgba(255,255,255,0.92)";
                div.style.padding = "6px 8px";
                div.style.font = "12px/1.4 sans-serif";
                div.style.borderRadius = "4px";
                div.style.boxShadow = "0 1px 4px rgba(0,0,0,0.3)";
                div.innerHTML = {{ this.html_json }};
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self, title: str, items: list[tuple[str, str]], position: str = "bottomright"
    ) -> None:
        super().__init__()
        self._name = "Legend"
        self.position = position
        rows = "".join(
            f'<div><span style="display:inline-block;width:12px;height:12px;margin-right:4px;'
            f'background:{html.escape(colour)};border:1px solid #555"></span>{html.escape(label)}</div>'
            for colour, label in items
        )

        self.html_json = json.dumps(f"<b>{html.escape(title)}</b>{rows}")


def add_legend(m: folium.Map, title: str, items: list[tuple[str, str]]) -> Legend:
    """Attach a legend to a map and return it."""
    legend = Legend(title, items)
    legend.add_to(m)
    return legend
