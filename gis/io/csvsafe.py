"""Spreadsheet-safe CSV cells: neutralise formula injection in Excel-friendly exports.

Excel, WPS and LibreOffice run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and,
after a leading tab or carriage return, whatever follows) as a formula. Case descriptions,
reporter names and rejected rows are typed by the public or copied from other systems, so a
text cell such as ``=HYPERLINK(...)`` must reach the sheet as text: it is prefixed with an
apostrophe, which the spreadsheet shows as a text marker. Numbers — negative ones included,
whether as int/float or as a plain numeric string read from a CSV — are left untouched so
they stay numbers.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO, Any

import pandas as pd

#: First characters that make a spreadsheet evaluate a text cell.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """``value`` with an apostrophe in front when it is text a spreadsheet would evaluate.

    Non-strings and plain numeric strings (``"-12.5"``) are returned unchanged.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_PREFIXES):
        return value
    if _NUMBER.fullmatch(value):
        return value
    return "'" + value


def safe_row(row: Iterable[Any]) -> list[Any]:
    """:func:`safe_cell` applied to every cell of a row."""
    return [safe_cell(v) for v in row]


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with text cells made safe (numeric columns are not touched)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(safe_cell)
    return out


class SafeWriter:
    """A :func:`csv.writer` whose rows pass through :func:`safe_row`."""

    def __init__(self, fh: IO[str], **kwargs: Any) -> None:
        self._w = csv.writer(fh, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        """Write one row with its text cells made safe."""
        return self._w.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write several rows with their text cells made safe."""
        for row in rows:
            self.writerow(row)
