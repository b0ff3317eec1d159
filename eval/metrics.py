"""Pure evaluation metrics for the citation-first question-answering tool.

Everything here is standard-library only and side-effect free, so the module
can be imported cheaply from the evaluation harness and from tests.

Groups of metrics:

* Answer quality (the SQuAD v2 definitions): :func:`normalize_answer`,
  :func:`exact_match`, :func:`token_f1`, :func:`usable_golds`,
  :func:`max_over_golds`; and two accuracies,
  :func:`strict_match` (the headline) and :func:`answer_contains` (lenient).
* Retrieval: :func:`normalize_evidence`, :func:`contains_evidence`,
  :func:`first_hit_rank`, :func:`hit_at_k`, :func:`reciprocal_rank`,
  :func:`ndcg_at_k`.
* Abstention (binary classification): :func:`precision_recall`,
  :func:`false_positive_rate`.
* Aggregation: :func:`mean`, :func:`percentile`.
* Calibration: :func:`calibration_table`, :func:`expected_calibration_error`.
"""

from __future__ import annotations

import bisect
import math
import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TypedDict

__all__ = [
    "STRICT_LENGTH_FACTOR",
    "STRICT_LENGTH_SLACK",
    "CalibrationBin",
    "answer_contains",
    "calibration_table",
    "contains_evidence",
    "exact_match",
    "expected_calibration_error",
    "false_positive_rate",
    "first_hit_rank",
    "hit_at_k",
    "max_over_golds",
    "mean",
    "ndcg_at_k",
    "normalize_answer",
    "normalize_evidence",
    "percentile",
    "precision_recall",
    "reciprocal_rank",
    "strict_match",
    "token_f1",
    "usable_golds",
]

# ---------------------------------------------------------------------------
# Answer quality (SQuAD v2)
# ---------------------------------------------------------------------------

_PUNCTUATION: frozenset[str] = frozenset(string.punctuation)
_ARTICLES_RE: re.Pattern[str] = re.compile(r"\b(a|an|the)\b")


def normalize_answer(s: str) -> str:
    """Normalize an answer exactly like the official SQuAD scripts (v1.1 and v2.0).

    The steps, applied in the script's order, are
    ``white_space_fix(remove_articles(remove_punc(lower(s))))``:

    1. lowercase (``str.lower``);
    2. delete every character in ``string.punctuation``;
    3. replace the articles ``a``/``an``/``the`` (regex ``\\b(a|an|the)\\b``)
       with a space;
    4. collapse whitespace runs to single spaces and strip the ends.

    Args:
        s: The raw answer text.

    Returns:
        The normalized answer (possibly the empty string).
    """
    text = s.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES_RE.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> float:
    """SQuAD exact match: 1.0 when the normalized strings are equal.

    Args:
        prediction: The predicted answer.
        gold: One gold (reference) answer.

    Returns:
        1.0 if ``normalize_answer(prediction) == normalize_answer(gold)``,
        else 0.0.
    """
    return 1.0 if normalize_answer(prediction) == normalize_answer(gold) else 0.0


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD v2 token-level F1 between a prediction and one gold answer.

    Tokens are the whitespace-split words of :func:`normalize_answer`. The
    overlap is the multiset (``Counter``) intersection, so a repeated token
    only counts as often as it occurs in both.

    Empty strings (after normalization), as in SQuAD v2: two empty token
    lists score 1.0 (an abstention on a question without answer), and if
    exactly one side is empty the score is 0.0. (The v1.1 script gave 0.0 to
    empty-vs-empty.)

    Args:
        prediction: The predicted answer.
        gold: One gold (reference) answer.

    Returns:
        F1 in ``[0, 1]``: ``2 * P * R / (P + R)`` with
        ``P = common / len(prediction_tokens)`` and
        ``R = common / len(gold_tokens)``; 0.0 when no token is shared.
    """
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if not pred_tokens and not gold_tokens:
        return 1.0
    if not pred_tokens or not gold_tokens:
        return 0.0
    common = Counter(pred_tokens) & Counter(gold_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(pred_tokens)
    recall = num_same / len(gold_tokens)
    return (2 * precision * recall) / (precision + recall)


def usable_golds(golds: Sequence[str]) -> list[str]:
    """The gold answers SQuAD v2 scores against.

    Golds that normalize to the empty string (``"The"``, ``"!"``) are dropped;
    when none is left — an unanswerable question — the only gold is ``""``,
    so an empty prediction (an abstention) scores 1 and any other scores 0.

    Args:
        golds: The gold answers as written.

    Returns:
        The golds that normalize to a non-empty string, or ``[""]``.
    """
    return [g for g in golds if normalize_answer(g)] or [""]


def max_over_golds(
    metric: Callable[[str, str], float],
    prediction: str,
    golds: Sequence[str],
) -> float:
    """Best score of ``metric`` over the usable gold answers (SQuAD v2).

    Args:
        metric: A function ``(prediction, gold) -> score``, e.g.
            :func:`exact_match` or :func:`token_f1`.
        prediction: The predicted answer; ``""`` for an abstention.
        golds: The gold answers; empty for an unanswerable question.

    Returns:
        ``max(metric(prediction, g) for g in usable_golds(golds))``: an
        abstention scores 0 against gold ``["The", "Paris"]`` and 1 against
        ``[]``.
    """
    return max(metric(prediction, g) for g in usable_golds(golds))


#: Strict accuracy: the answer may be at most this many times as long as the
#: gold it contains (in normalized tokens), plus :data:`STRICT_LENGTH_SLACK`.
STRICT_LENGTH_FACTOR: int = 2
STRICT_LENGTH_SLACK: int = 3


def strict_match(prediction: str | None, golds: Sequence[str]) -> bool:
    """Strict accuracy: the answer contains a gold answer and is not much longer.

    True when, for some gold ``g`` that normalizes to a non-empty string,
    ``g`` occurs in the prediction as :func:`answer_contains` checks it (on
    token boundaries after :func:`normalize_answer`) and the prediction has
    at most ``2 * len(g) + 3`` normalized tokens. Against gold "2010" (limit
    2 * 1 + 3 = 5 tokens), "in 2010" matches and a 73-token sentence
    containing "2010" does not; a short list such as "1990, 2000 or 2010"
    (4 tokens) still does — the rule bounds length, not hedging.

    Args:
        prediction: The predicted answer, or ``None`` for no answer.
        golds: The acceptable gold answers.

    Returns:
        Whether the prediction strictly matches some gold; always False for
        ``None`` or when no gold is usable.
    """
    if prediction is None:
        return False
    limit = len(normalize_answer(prediction).split()) - STRICT_LENGTH_SLACK
    return any(
        STRICT_LENGTH_FACTOR * n >= limit for n in _contained_gold_lengths(prediction, golds)
    )


def answer_contains(prediction: str | None, golds: Sequence[str]) -> bool:
    """Lenient accuracy: does the prediction contain some gold answer, at any length?

    Both sides go through :func:`normalize_answer`. Golds that normalize to
    the empty string are ignored (they would match anything). Matching is
    token-boundary aware: both strings are padded with one space, so gold
    ``"20"`` does not match inside prediction ``"2010"`` (the check is
    ``f" {g} " in f" {p} "``).

    Args:
        prediction: The predicted answer, or ``None`` when the system
            produced no answer (e.g. it abstained).
        golds: The acceptable gold answers.

    Returns:
        True if some non-empty normalized gold occurs, on token boundaries,
        in the normalized prediction; False otherwise (always False for a
        ``None`` prediction or when no usable gold exists).
    """
    return prediction is not None and any(_contained_gold_lengths(prediction, golds))


def _contained_gold_lengths(prediction: str, golds: Sequence[str]) -> list[int]:
    """Token counts of the usable golds found, on token boundaries, in the prediction."""
    padded_pred = f" {normalize_answer(prediction)} "
    lengths = []
    for gold in golds:
        norm_gold = normalize_answer(gold)
        if norm_gold and f" {norm_gold} " in padded_pred:
            lengths.append(len(norm_gold.split()))
    return lengths


# ---------------------------------------------------------------------------
# Retrieval
# ---------------------------------------------------------------------------

QUOTE_TABLE: dict[int, str] = str.maketrans(
    {
        "\u2018": "'",  # LEFT SINGLE QUOTATION MARK
        "\u2019": "'",  # RIGHT SINGLE QUOTATION MARK
        "\u201a": "'",  # SINGLE LOW-9 QUOTATION MARK
        "\u201b": "'",  # SINGLE HIGH-REVERSED-9 QUOTATION MARK
        "\u2032": "'",  # PRIME
        "\u201c": '"',  # LEFT DOUBLE QUOTATION MARK
        "\u201d": '"',  # RIGHT DOUBLE QUOTATION MARK
        "\u201e": '"',  # DOUBLE LOW-9 QUOTATION MARK
        "\u201f": '"',  # DOUBLE HIGH-REVERSED-9 QUOTATION MARK
        "\u2033": '"',  # DOUBLE PRIME
    }
)
_WHITESPACE_RE: re.Pattern[str] = re.compile(r"\s+")


def normalize_evidence(text: str) -> str:
    """Normalize text for evidence matching: quotes and whitespace only.

    Curly single/double quotes (and primes) become straight quotes,
    whitespace runs become one space and the ends are stripped. Case,
    punctuation and articles are kept (unlike :func:`normalize_answer`), since
    evidence is a verbatim quotation.

    Args:
        text: Passage or evidence text.

    Returns:
        The normalized text.
    """
    return _WHITESPACE_RE.sub(" ", text.translate(QUOTE_TABLE)).strip()


def contains_evidence(passage_text: str, evidence: str) -> bool:
    """Whether a passage contains the whole gold evidence quotation.

    Both texts go through :func:`normalize_evidence`; the evidence must then
    be a substring of the passage. A passage holding only part of the
    evidence (one of its sentences, say) does not count. An evidence that is
    empty after normalization never matches (it would be in every passage).

    Args:
        passage_text: Text of one retrieved passage or citation quote.
        evidence: The gold evidence quotation.

    Returns:
        True if the passage contains the evidence.
    """
    norm_evidence = normalize_evidence(evidence)
    return bool(norm_evidence) and norm_evidence in normalize_evidence(passage_text)


def first_hit_rank(passage_texts: Sequence[str], evidence: str) -> int | None:
    """1-based rank of the first passage that contains the evidence.

    Args:
        passage_texts: Retrieved passage texts, best first.
        evidence: The gold evidence quotation (see :func:`contains_evidence`).

    Returns:
        The 1-based rank of the first passage for which
        :func:`contains_evidence` is True, or None if there is none.
    """
    for rank, text in enumerate(passage_texts, start=1):
        if contains_evidence(text, evidence):
            return rank
    return None


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")


def hit_at_k(rank: int | None, k: int) -> float:
    """Hit@k (a.k.a. recall@k for a single relevant item).

    Args:
        rank: 1-based rank of the first relevant passage, or None if none was
            retrieved.
        k: Cutoff, at least 1.

    Returns:
        1.0 if ``rank`` is not None and ``rank <= k``, else 0.0.

    Raises:
        ValueError: If ``k < 1`` or ``rank < 1``.
    """
    _check_k(k)
    if rank is None:
        return 0.0
    if rank < 1:
        raise ValueError(f"rank must be >= 1, got {rank}")
    return 1.0 if rank <= k else 0.0


def reciprocal_rank(rank: int | None, k: int = 10) -> float:
    """Reciprocal rank with a cutoff (the per-query term of MRR@k).

    Args:
        rank: 1-based rank of the first relevant passage, or None.
        k: Cutoff, at least 1; ranks beyond it score 0.

    Returns:
        ``1 / rank`` if ``rank`` is not None and ``rank <= k``, else 0.0.

    Raises:
        ValueError: If ``k < 1`` or ``rank < 1``.
    """
    _check_k(k)
    if rank is None:
        return 0.0
    if rank < 1:
        raise ValueError(f"rank must be >= 1, got {rank}")
    return 1.0 / rank if rank <= k else 0.0


def _dcg(gains: Sequence[float]) -> float:
    """Sum of ``gain_i / log2(i + 1)`` for 1-based positions ``i``."""
    return math.fsum(g / math.log2(i + 1) for i, g in enumerate(gains, start=1))


def ndcg_at_k(
    relevances: Sequence[float],
    k: int = 10,
    n_relevant: int | None = None,
) -> float:
    """Normalized discounted cumulative gain at ``k`` (linear gains).

    ``DCG@k = sum_{i=1..k} rel_i / log2(i + 1)`` over the retrieved list.

    The ideal DCG is computed in one of two ways:

    * ``n_relevant is None``: from the ideal reordering of the *given*
      relevances (sorted descending, truncated to ``k``). This only measures
      ordering quality: a list that retrieved few of the relevant items but
      ranked them first still scores 1.0.
    * ``n_relevant`` given: from ``min(n_relevant, k)`` items of gain 1 at
      the top, i.e. from all relevant items in the collection, not just the
      retrieved ones (the classic bug is computing IDCG from the retrieved
      list only, which lets a system that misses relevant items look
      perfect). Use binary relevances in this mode.

    Args:
        relevances: Relevance of each retrieved item, best-ranked first
            (binary 0/1 or graded, non-negative).
        k: Cutoff, at least 1.
        n_relevant: Total number of relevant items for the query, if known.

    Returns:
        ``DCG@k / IDCG@k`` in ``[0, 1]``, or 0.0 when the IDCG is 0 (no
        relevant items).

    Raises:
        ValueError: If ``k < 1``, a relevance is negative, ``n_relevant`` is
            negative, or — with ``n_relevant`` — a relevance exceeds 1 or
            more items are marked relevant than ``n_relevant`` (usually the
            same relevant item counted twice, e.g. two chunks containing the
            same evidence; that would push nDCG above 1).
    """
    _check_k(k)
    if any(r < 0 for r in relevances):
        raise ValueError("relevances must be non-negative")
    if n_relevant is None:
        ideal: list[float] = sorted(relevances, reverse=True)[:k]
    else:
        if n_relevant < 0:
            raise ValueError(f"n_relevant must be >= 0, got {n_relevant}")
        if any(r > 1 for r in relevances):
            raise ValueError("with n_relevant, relevances must be binary (<= 1)")
        n_marked = sum(1 for r in relevances if r > 0)
        if n_marked > n_relevant:
            raise ValueError(f"{n_marked} retrieved items are relevant but n_relevant={n_relevant}")
        ideal = [1.0] * min(n_relevant, k)
    idcg = _dcg(ideal)
    if idcg == 0.0:
        return 0.0
    return _dcg(relevances[:k]) / idcg


# ---------------------------------------------------------------------------
# Abstention (binary classification)
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Aggregation
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Calibration
# ---------------------------------------------------------------------------


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
