"""Abstention as binary classification: :func:`precision_recall`,
:func:`false_positive_rate`.

Standard-library only and side-effect free, so it imports cheaply.
"""

from __future__ import annotations

from collections.abc import Sequence


def _confusion(predicted: Sequence[bool], actual: Sequence[bool]) -> tuple[int, int, int, int]:
    """Return ``(tp, fp, fn, tn)``; raise ValueError on length mismatch."""
    if len(predicted) != len(actual):
        raise ValueError(
            f"predicted and actual differ in length: {len(predicted)} != {len(actual)}"
        )
    tp = fp = fn = tn = 0
    for p, a in zip(predicted, actual, strict=True):
        if p and a:
            tp += 1
        elif p:
            fp += 1
        elif a:
            fn += 1
        else:
            tn += 1
    return tp, fp, fn, tn


def precision_recall(predicted: Sequence[bool], actual: Sequence[bool]) -> tuple[float, float]:
    """Precision and recall of a binary decision (e.g. "abstain").

    Conventions for empty denominators:

    * precision = TP / (TP + FP); when nothing is predicted positive it is
      1.0 if there are also no actual positives (nothing to find, no false
      alarm), else 0.0 (positives were missed entirely).
    * recall = TP / (TP + FN); 1.0 when there are no actual positives.

    Args:
        predicted: Per-item predicted labels (True = positive, e.g. the
            system abstained).
        actual: Per-item true labels (True = positive, e.g. the question is
            unanswerable), same length as ``predicted``.

    Returns:
        ``(precision, recall)``.

    Raises:
        ValueError: If the sequences differ in length.
    """
    tp, fp, fn, _ = _confusion(predicted, actual)
    n_pred_pos = tp + fp
    n_actual_pos = tp + fn
    if n_pred_pos == 0:
        # Nothing flagged: perfect if there was nothing to flag, else useless.
        return (1.0 if n_actual_pos == 0 else 0.0), (1.0 if n_actual_pos == 0 else 0.0)
    recall = 1.0 if n_actual_pos == 0 else tp / n_actual_pos
    return tp / n_pred_pos, recall


def false_positive_rate(predicted: Sequence[bool], actual: Sequence[bool]) -> float:
    """False positive rate: FP / number of actual negatives.

    With "positive = abstain" and "actual = unanswerable", this is the
    false-abstention rate on answerable questions.

    Args:
        predicted: Per-item predicted labels.
        actual: Per-item true labels, same length as ``predicted``.

    Returns:
        ``FP / (FP + TN)``, or 0.0 when there are no actual negatives.

    Raises:
        ValueError: If the sequences differ in length.
    """
    _, fp, _, tn = _confusion(predicted, actual)
    n_actual_neg = fp + tn
    return fp / n_actual_neg if n_actual_neg else 0.0
