"""Grouped bar and column charts as inline SVG for the printable reports."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import numpy as np


def svg_bars(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    colors: Sequence[str] = ("#4575b4", "#d73027", "#fdae61", "#1a9850"),
    width: int = 640,
    bar_h: int = 14,
) -> str:
    """A horizontal grouped bar chart as inline SVG (no fonts or scripts to fetch)."""
    n = len(labels)
    names = list(series)
    if n == 0:
        return ""
    vmax = max([max(v) if len(v) else 0 for v in series.values()] + [1])
    left, right = 150, 50
    group_h = bar_h * len(names) + 6
    height = n * group_h + 30
    scale = (width - left - right) / vmax
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-size="11" font-family="sans-serif">'
    ]
    for i, lab in enumerate(labels):
        y0 = i * group_h
        parts.append(
            f'<text x="{left - 6}" y="{y0 + group_h / 2 + 4:.0f}" text-anchor="end">'
            f"{html.escape(str(lab))}</text>"
        )
        for j, name in enumerate(names):
            v = float(series[name][i])
            y = y0 + j * bar_h
            parts.append(
                f'<rect x="{left}" y="{y}" width="{v * scale:.1f}" height="{bar_h - 2}" '
                f'fill="{colors[j % len(colors)]}"><title>{html.escape(name)}: {v:g}</title></rect>'
                f'<text x="{left + v * scale + 3:.1f}" y="{y + bar_h - 4}">{v:g}</text>'
            )
    ly = n * group_h + 18
    for j, name in enumerate(names):
        x = left + j * 120
        parts.append(
            f'<rect x="{x}" y="{ly - 9}" width="10" height="10" fill="{colors[j % len(colors)]}"/>'
            f'<text x="{x + 14}" y="{ly}">{html.escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def svg_columns(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    colors: Sequence[str] = ("#4575b4", "#d73027"),
    width: int = 680,
    height: int = 180,
) -> str:
    """A vertical grouped column chart (one group per day) as inline SVG."""
    n = len(labels)
    names = list(series)
    if n == 0:
        return ""
    vmax = max([max(v) if len(v) else 0 for v in series.values()] + [1])
    left, bottom, top = 30, 34, 12
    plot_h = height - bottom - top
    group_w = (width - left - 10) / n
    bar_w = max(1.0, (group_w - 2) / len(names))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-size="10" font-family="sans-serif">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" '
        'stroke="#888"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{vmax:g}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    step = max(1, int(np.ceil(n / 16)))
    for i, lab in enumerate(labels):
        x0 = left + i * group_w + 1
        for j, name in enumerate(names):
            v = float(series[name][i])
            h = plot_h * v / vmax
            parts.append(
                f'<rect x="{x0 + j * bar_w:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{colors[j % len(colors)]}">'
                f"<title>{html.escape(str(lab))} {html.escape(name)}: {v:g}</title></rect>"
            )
        if i % step == 0:
            parts.append(
                f'<text x="{x0 + group_w / 2:.1f}" y="{top + plot_h + 12}" '
                f'text-anchor="middle">{html.escape(str(lab))}</text>'
            )
    for j, name in enumerate(names):
        x = left + j * 120
        parts.append(
            f'<rect x="{x}" y="{height - 12}" width="10" height="10" '
            f'fill="{colors[j % len(colors)]}"/>'
            f'<text x="{x + 14}" y="{height - 3}">{html.escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
