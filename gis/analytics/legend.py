"""Class breaks and labels in real units for the graded hotspot layers."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gis.errors import ValidationError

DENSITY_UNIT = "cases/km²/month"
DENSITY_UNIT_ZH = "件/平方公里/月"
#: Sequential palette (light yellow to dark red) for densities and forecasts.
SEQUENTIAL = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")


@dataclass(frozen=True)
class Legend:
    """Class breaks in real units: class ``k`` covers ``breaks[k] < v <= breaks[k+1]``.

    An *empty* legend (no cases, or an all-zero surface) has no classes and one label that
    says so; renderers must then paint nothing rather than a full-red map.
    """

    breaks: tuple[float, ...]
    colors: tuple[str, ...]
    labels: tuple[str, ...]
    unit: str
    title: str = ""
    empty: bool = False

    def classify(self, values: NDArray[np.float64]) -> NDArray[np.int64]:
        """Class index per value; ``-1`` for zero/no-data (painted transparent)."""
        v = np.asarray(values, dtype=float)
        if self.empty or len(self.breaks) < 2:
            return np.full(v.shape, -1, dtype=np.int64)
        k = np.searchsorted(np.asarray(self.breaks[1:-1]), v, side="left")
        k = np.clip(k, 0, len(self.colors) - 1).astype(np.int64)
        return np.where((v > self.breaks[0]) & np.isfinite(v), k, -1)


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    digits = max(0, 2 - int(math.floor(math.log10(abs(v)))) - 1)
    return f"{v:,.{digits}f}"


def class_breaks(
    values: NDArray[np.float64] | Iterable[float],
    *,
    k: int = 5,
    method: str = "quantile",
    unit: str = DENSITY_UNIT,
    title: str = "",
    palette: tuple[str, ...] = SEQUENTIAL,
    empty_label: str = "no cases in the selection",
) -> Legend:
    """Class breaks over the positive values, with labels in ``unit``.

    ``quantile`` puts equal numbers of non-zero cells in each class (the default: densities
    are very skewed), ``equal`` splits the range evenly. Zero cells are not a class: they are
    painted transparent. With no positive value the legend is empty and says so.
    """
    v = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float)
    pos = v[np.isfinite(v) & (v > 0)]
    if pos.size == 0:
        return Legend((), (), (empty_label,), unit, title, empty=True)
    if k < 1:
        raise ValidationError(f"k={k} classes is not positive", field="k")
    vmax = float(pos.max())
    if method == "quantile":
        inner = np.quantile(pos, np.linspace(0, 1, k + 1)[1:-1])
    elif method == "equal":
        inner = np.linspace(0, vmax, k + 1)[1:-1]
    else:
        raise ValidationError(f"unknown method {method!r}", field="method", fix="quantile or equal")
    uppers = sorted({float(b) for b in inner if 0 < b < vmax} | {vmax})
    breaks = (0.0, *uppers)
    n = len(breaks) - 1
    idx = np.round(np.linspace(0, len(palette) - 1, n)).astype(int) if n > 1 else [len(palette) - 1]
    colors = tuple(palette[i] for i in idx)
    labels = tuple(
        (f"≤ {_fmt(breaks[1])}" if i == 0 else f"{_fmt(breaks[i])} – {_fmt(breaks[i + 1])}")
        + f" {unit}"
        for i in range(n)
    )
    return Legend(breaks, colors, labels, unit, title)
