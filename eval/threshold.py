"""The abstention threshold: the one with the best abstention recall at a bounded
false-abstention rate, fitted on a dev split."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from eval.metrics.abstention import false_positive_rate, precision_recall
from eval.results import ThresholdChoice

MAX_FALSE_ABSTENTION = 0.05


def fit_threshold(
    confidences: Sequence[float],
    unanswerable: Sequence[bool],
    max_false_abstention: float = MAX_FALSE_ABSTENTION,
) -> ThresholdChoice:
    """The abstention threshold with the best recall at a bounded false-abstention rate.

    The system abstains when ``confidence < threshold``. The candidates are 0 (never
    abstain) and the midpoints between neighbouring distinct confidences, so a rounded
    confidence never sits on the threshold. Among the candidates whose false-abstention rate
    is at most ``max_false_abstention``, the one with the highest abstention recall wins;
    ties go to the lower threshold (fewer answers withheld).

    Args:
        confidences: per-question confidence of our system.
        unanswerable: per-question truth (True: the corpus does not answer it).
        max_false_abstention: the largest acceptable share of answerable items withheld.

    Raises:
        ValueError: when there are no unanswerable questions to calibrate on.
    """
    if not any(unanswerable):
        raise ValueError("cannot calibrate: the split has no unanswerable questions")
    levels = sorted(set(confidences))
    candidates = [0.0] + [round((a + b) / 2, 6) for a, b in pairwise(levels)]
    best: ThresholdChoice | None = None
    for threshold in candidates:
        abstain = [c < threshold for c in confidences]
        false_rate = false_positive_rate(abstain, unanswerable)
        if false_rate > max_false_abstention:
            break  # raising the threshold only withholds more answers
        precision, recall = precision_recall(abstain, unanswerable)
        if best is None or recall > best.abstention_recall:
            best = ThresholdChoice(threshold, precision, recall, false_rate, max_false_abstention)
    assert best is not None  # threshold 0 abstains on nothing, so it always qualifies
    return best
