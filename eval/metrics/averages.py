"""Aggregation: :func:`mean`, :func:`percentile`.

Standard-library only and side-effect free, so it imports cheaply.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean (computed with ``math.fsum``).

    Args:
        values: The numbers to average.

    Returns:
        The mean, or 0.0 for an empty sequence.
    """
    if not values:
        return 0.0
    return math.fsum(values) / len(values)


def percentile(values: Sequence[float], q: float) -> float:
    """Percentile with linear interpolation, like ``numpy.percentile``'s default.

    With the sorted values ``x[0..n-1]``, ``h = (n - 1) * q / 100``,
    ``lo = floor(h)``; the result is ``x[lo] + (h - lo) * (x[lo + 1] - x[lo])``.

    Args:
        values: The sample (any order).
        q: Percentile in ``[0, 100]``.

    Returns:
        The interpolated percentile.

    Raises:
        ValueError: If ``values`` is empty or ``q`` is outside ``[0, 100]``.
    """
    if not values:
        raise ValueError("percentile of an empty sequence")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"q must be in [0, 100], got {q}")
    xs = sorted(values)
    h = (len(xs) - 1) * q / 100.0
    lo = math.floor(h)
    if lo >= len(xs) - 1:
        return float(xs[-1])
    frac = h - lo
    return float(xs[lo] + frac * (xs[lo + 1] - xs[lo]))
