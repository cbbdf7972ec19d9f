"""Colours and line styles of the zoned layers (one place, so the legend matches the map)."""

from __future__ import annotations

#: A qualitative palette (ColorBrewer Set3/Paired-like) readable on a blank background.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
    "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5", "#393b79", "#637939", "#8c6d31", "#843c39",
)  # fmt: skip

WATER = "#7fb8e6"
BOUNDARY = "#b22222"
FRONT_COLOURS = {"scenic": "#f4e3b5", "main_streets": "#e4572e", "gulou_west": "#8e44ad"}
STREET_WEIGHTS = {
    "main_street": 5,
    "street": 4,
    "lakeside": 3,
    "bridge": 4,
    "hutong": 2,
    "path": 1.5,
}
STREET_COLOURS = {
    "main_street": "#555555",
    "street": "#666666",
    "lakeside": "#2a7ab0",
    "bridge": "#000000",
    "hutong": "#8a8a8a",
    "path": "#6b8e23",
}
POI_COLOURS = {
    "enforcement_center": "#c0392b",
    "police_post": "#1f4e99",
    "landmark": "#7d3c98",
    "bar_street": "#e67e22",
    "bridge": "#000000",
}


def colour_for(i: int) -> str:
    """The i-th colour of the palette (cycled)."""
    return PALETTE[i % len(PALETTE)]


#: Case categories in six groups (zh, en, colour, codes): the legend and marker colour.
CATEGORY_GROUPS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "违建与市容",
        "Construction and streetscape",
        "#8c564b",
        ("C01", "C02", "C14", "C22", "C26", "C27", "C28"),
    ),
    ("经营秩序", "Business order", "#ff7f0e", ("C03", "C04", "C05", "C06", "C08", "C16", "C17")),
    ("交通秩序", "Traffic order", "#1f77b4", ("C09", "C11", "C12", "C13")),
    ("环境卫生", "Environment and noise", "#2ca02c", ("C07", "C15", "C21")),
    ("治安与消防", "Public and fire safety", "#d62728", ("C18", "C19", "C20", "C24", "C29")),
    ("景区与水域", "Scenic area and lakes", "#9467bd", ("C10", "C23", "C25")),
)
#: Case states in three classes (zh, en, legend swatch, states): the marker's outline.
STATE_CLASSES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("待处理", "New", "circle", ("reported", "registered")),
    (
        "处置中",
        "In progress",
        "dashed",
        ("notice_served", "rechecking", "joint_enforcement", "handled"),
    ),
    ("已结束", "Finished", "ring", ("closed", "rejected", "duplicate")),
)
