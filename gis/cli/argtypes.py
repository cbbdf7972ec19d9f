"""argparse types that refuse out-of-range numbers with a message instead of a traceback later."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def int_range(low: int, high: int) -> Callable[[str], int]:
    """A whole number between ``low`` and ``high`` (inclusive)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} must be between {low} and {high}")
        return value

    parse.__name__ = "whole number"
    return parse


def float_range(low: float, high: float, *, low_open: bool = False) -> Callable[[str], float]:
    """A finite number between ``low`` and ``high`` (``low`` excluded when ``low_open``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        too_low = value <= low if low_open else value < low
        if not math.isfinite(value) or too_low or value > high:
            bound = f"more than {low:g}" if low_open else f"at least {low:g}"
            raise argparse.ArgumentTypeError(f"{text} must be {bound} and at most {high:g}")
        return value

    parse.__name__ = "number"
    return parse


#: A count of 1 or more (limits, versions), at most a billion.
positive_int = int_range(1, 10**9)
#: A file size limit in MB.
size_mb = float_range(0.0, 1e6, low_open=True)
