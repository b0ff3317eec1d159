"""Calibration of the confidence: :func:`calibration_table`,
:func:`expected_calibration_error`.

Standard-library only and side-effect free, so it imports cheaply.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import TypedDict

from eval.metrics.averages import mean


class CalibrationBin(TypedDict):
    """One row of :func:`calibration_table`."""

    lo: float
    hi: float
    count: int
    accuracy: float | None
    mean_confidence: float | None


def calibration_table(
    confidences: Sequence[float],
    correct: Sequence[bool],
    bins: int = 5,
) -> list[CalibrationBin]:
    """Reliability table over equal-width confidence bins on ``[0, 1]``.

    Bin ``i`` covers ``[i / bins, (i + 1) / bins)``; the last bin also
    includes 1.0. Edges are computed as ``i / bins`` and compared directly
    (not via ``int(c * bins)``), so a confidence such as 0.6 with 5 bins
    lands in the bin starting at 0.6 despite floating-point rounding.

    Args:
        confidences: Per-item confidence in ``[0, 1]``.
        correct: Per-item correctness, same length as ``confidences``.
        bins: Number of bins, at least 1.

    Returns:
        ``bins`` dicts in increasing order, each with ``lo``, ``hi``,
        ``count``, ``accuracy`` (fraction correct) and ``mean_confidence``;
        the last two are None for an empty bin.

    Raises:
        ValueError: If ``bins < 1``, the lengths differ, or a confidence is
            outside ``[0, 1]`` (or NaN).
    """
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    if len(confidences) != len(correct):
        raise ValueError(
            f"confidences and correct differ in length: {len(confidences)} != {len(correct)}"
        )
    edges = [i / bins for i in range(bins + 1)]
    members: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for conf, ok in zip(confidences, correct, strict=True):
        if not 0.0 <= conf <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {conf}")
        idx = min(bisect.bisect_right(edges, conf) - 1, bins - 1)
        members[idx].append((conf, bool(ok)))
    table: list[CalibrationBin] = []
    for i, items in enumerate(members):
        count = len(items)
        table.append(
            CalibrationBin(
                lo=edges[i],
                hi=edges[i + 1],
                count=count,
                accuracy=(sum(ok for _, ok in items) / count) if count else None,
                mean_confidence=mean([c for c, _ in items]) if count else None,
            )
        )
    return table


def expected_calibration_error(
    confidences: Sequence[float],
    correct: Sequence[bool],
    bins: int = 10,
) -> float:
    """Expected calibration error over equal-width bins.

    ``ECE = sum_b (count_b / n) * |accuracy_b - mean_confidence_b|`` over the
    non-empty bins of :func:`calibration_table`.

    Args:
        confidences: Per-item confidence in ``[0, 1]``.
        correct: Per-item correctness, same length as ``confidences``.
        bins: Number of bins, at least 1.

    Returns:
        The ECE in ``[0, 1]``, or 0.0 for empty input.

    Raises:
        ValueError: As for :func:`calibration_table`.
    """
    table = calibration_table(confidences, correct, bins)
    n = len(confidences)
    if n == 0:
        return 0.0
    return math.fsum(
        (row["count"] / n) * abs(row["accuracy"] - row["mean_confidence"])
        for row in table
        if row["accuracy"] is not None and row["mean_confidence"] is not None
    )
