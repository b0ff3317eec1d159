"""Fit the answer confidence and the abstention threshold on a gold split (use dev).

    python -m eval.confidence [--gold FILE] [--split dev] [--max-false-abstention 0.03]
                              [--l2 1.0] [--drop passage_dense,margin]

The confidence is a logistic model over the answerer's features (``CONFIDENCE_FEATURES``),
trained to tell answerable questions from unanswerable ones; the threshold is chosen by
``eval.runner.fit_threshold`` (best abstention recall whose false-abstention rate stays
within the limit), the rule ``qa eval --calibrate`` uses. Both are written to
``qa/calibration.json`` with the figures that justified them. ``--drop`` fixes the weights
of the named features at 0 (features that do not help in cross-validation on dev).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from eval.gold import GoldItem, default_gold_path, load_gold
from eval.runner import fit_threshold
from qa.answerer import CONFIDENCE_FEATURES, AnswerParams
from qa.params import save_params
from qa.service import QAService
from qa.settings import Settings


def collect(service: QAService, items: list[GoldItem]) -> tuple[np.ndarray, np.ndarray]:
    """Confidence features and labels (1 = answerable) for every gold item."""
    rows, labels = [], []
    for item in items:
        answer = service.ask(item.question, k=10)
        rows.append(answer.features)
        labels.append(1.0 if item.answerable else 0.0)
    return np.asarray(rows, dtype=np.float64), np.asarray(labels)


def fit_weights(features: np.ndarray, labels: np.ndarray, l2: float = 1.0,
                steps: int = 5000, rate: float = 0.1, keep: np.ndarray | None = None) -> np.ndarray:
    """L2-regularised logistic regression by gradient descent, classes weighted equally.

    The first feature is the constant 1 (its weight, the bias, is not regularised).
    ``keep`` (booleans per feature) leaves the other weights at 0.
    """
    if keep is not None:
        weights = np.zeros(features.shape[1])
        weights[keep] = fit_weights(features[:, keep], labels, l2, steps, rate)
        return weights
    weights = np.zeros(features.shape[1])
    positives = labels.sum()
    negatives = len(labels) - positives
    sample = np.where(labels > 0, len(labels) / (2 * max(positives, 1)),
                      len(labels) / (2 * max(negatives, 1)))
    penalty = np.full(features.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(steps):
        z = np.clip(features @ weights, -50, 50)
        p = 1.0 / (1.0 + np.exp(-z))
        gradient = features.T @ (sample * (p - labels)) / len(labels) + penalty * weights / len(labels)
        weights -= rate * gradient
    return weights


def main(argv: list[str] | None = None) -> int:
    """Fit and save the confidence model and threshold."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(prog="python -m eval.confidence", description=__doc__)
    parser.add_argument("--gold", type=Path, default=None)
    parser.add_argument("--split", default="dev", choices=("dev", "test", "all"))
    parser.add_argument("--max-false-abstention", type=float, default=0.03)
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--drop", default="", help="comma-separated features whose weight stays 0")
    args = parser.parse_args(argv)
    dropped = {name for name in args.drop.split(",") if name}
    unknown = dropped - set(CONFIDENCE_FEATURES) | ({"bias"} & dropped)
    if unknown:
        parser.error(f"cannot drop {', '.join(sorted(unknown))}; features: {', '.join(CONFIDENCE_FEATURES[1:])}")
    keep = np.array([name not in dropped for name in CONFIDENCE_FEATURES])
    items = load_gold(args.gold or default_gold_path(), args.split)
    settings = Settings.model_validate({"cache_size": 0})
    base = AnswerParams()
    service = QAService(settings, params=replace(base, threshold=0.0))
    service.open()
    features, labels = collect(service, items)
    weights = tuple(round(float(w), 4) for w in fit_weights(features, labels, l2=args.l2, keep=keep))
    # The threshold is fitted on the confidences exactly as the service computes them
    # (rounded weights, rounded confidence), by the same rule as ``qa eval --calibrate``.
    scorer = QAService(settings, params=replace(base, confidence_weights=weights, threshold=0.0))
    scorer.open(rebuild=False)
    confidences = [scorer.loaded.answerer.confidence(row) for row in features]
    confidences = [round(c, 4) for c in confidences]
    choice = fit_threshold(confidences, [label == 0 for label in labels], args.max_false_abstention)
    report = {
        "split": args.split,
        "items": len(items),
        "features": list(CONFIDENCE_FEATURES),
        "l2": args.l2,
        "dropped": sorted(dropped),
        "max_false_abstention": args.max_false_abstention,
        "abstention_recall": choice.abstention_recall,
        "abstention_precision": choice.abstention_precision,
        "false_abstention": choice.false_abstention_rate,
    }
    params = replace(base, confidence_weights=weights, threshold=choice.threshold)
    path = save_params(params, report)
    print(f"weights: {dict(zip(CONFIDENCE_FEATURES, params.confidence_weights, strict=True))}")
    print(f"threshold {params.threshold}: {report}")
    print(f"saved to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
