"""Pure evaluation metrics for the citation-first question-answering tool.

Everything here is standard-library only and side-effect free, so the module
can be imported cheaply from the evaluation harness and from tests.

Groups of metrics:

* Answer quality (SQuAD v1.1 style): :func:`normalize_answer`,
  :func:`exact_match`, :func:`token_f1`, :func:`max_over_golds`,
  :func:`answer_contains`.
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
    "split_sentences",
    "token_f1",
]

# ---------------------------------------------------------------------------
# Answer quality (SQuAD v1.1)
# ---------------------------------------------------------------------------

_PUNCTUATION: frozenset[str] = frozenset(string.punctuation)
_ARTICLES_RE: re.Pattern[str] = re.compile(r"\b(a|an|the)\b")


def normalize_answer(s: str) -> str:
    """Normalize an answer exactly like the official SQuAD v1.1 script.

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
    """SQuAD v1.1 exact match: 1.0 when the normalized strings are equal.

    Args:
        prediction: The predicted answer.
        gold: One gold (reference) answer.

    Returns:
        1.0 if ``normalize_answer(prediction) == normalize_answer(gold)``,
        else 0.0.
    """
    return 1.0 if normalize_answer(prediction) == normalize_answer(gold) else 0.0


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD v1.1 token-level F1 between a prediction and one gold answer.

    Tokens are the whitespace-split words of :func:`normalize_answer`. The
    overlap is the multiset (``Counter``) intersection, so a repeated token
    only counts as often as it occurs in both.

    Empty strings (after normalization): the official v1.1 script would
    return 0.0 for empty-vs-empty (it returns 0 whenever nothing overlaps).
    Here, as in SQuAD v2, two empty token lists score 1.0 (consistent with
    :func:`exact_match`, which also gives 1.0); if exactly one side is empty
    the score is 0.0.

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


def max_over_golds(
    metric: Callable[[str, str], float],
    prediction: str,
    golds: Sequence[str],
) -> float:
    """Best score of ``metric`` over several gold answers (as in SQuAD).

    Args:
        metric: A function ``(prediction, gold) -> score``, e.g.
            :func:`exact_match` or :func:`token_f1`.
        prediction: The predicted answer.
        golds: The acceptable gold answers.

    Returns:
        ``max(metric(prediction, g) for g in golds)``, or 0.0 when ``golds``
        is empty.
    """
    return max((metric(prediction, g) for g in golds), default=0.0)


def answer_contains(prediction: str | None, golds: Sequence[str]) -> bool:
    """Lenient "accuracy": does the prediction contain some gold answer?

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
    if prediction is None:
        return False
    padded_pred = f" {normalize_answer(prediction)} "
    for gold in golds:
        norm_gold = normalize_answer(gold)
        if norm_gold and f" {norm_gold} " in padded_pred:
            return True
    return False


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
# A sentence ends at ".", "!" or "?" (optionally followed by one closing
# quote/bracket) and is followed by whitespace. Two fixed-width look-behinds
# because Python's ``re`` does not allow variable-width ones.
_SENTENCE_SPLIT_RE: re.Pattern[str] = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"')\]])\s+")
_MIN_SENTENCE_SHARE: float = 0.5


def normalize_evidence(text: str) -> str:
    """Normalize text for evidence matching.

    Curly single/double quotes (and primes) become straight quotes,
    whitespace runs become one space, the ends are stripped and the result is
    case-folded. Punctuation and articles are kept (unlike
    :func:`normalize_answer`), since evidence is a verbatim quotation.

    Args:
        text: Passage or evidence text.

    Returns:
        The normalized text.
    """
    text = text.translate(QUOTE_TABLE)
    text = _WHITESPACE_RE.sub(" ", text).strip()
    return text.casefold()


def split_sentences(text: str) -> list[str]:
    """Split text into sentences with a simple punctuation rule.

    A boundary is whitespace preceded by ``.``, ``!`` or ``?`` (optionally
    followed by one closing quote or bracket). Abbreviations such as
    "U.S. Navy" are split too; callers that need precision should not rely
    on this helper.

    Args:
        text: The text to split (normalized or not).

    Returns:
        The non-empty, stripped sentences in order.
    """
    return [s.strip() for s in _SENTENCE_SPLIT_RE.split(text) if s.strip()]


def contains_evidence(passage_text: str, evidence: str) -> bool:
    """Whether a retrieved passage contains a gold evidence quotation.

    Both texts are normalized with :func:`normalize_evidence`. The rule:

    1. True if the whole normalized evidence is a substring of the normalized
       passage.
    2. Otherwise, if the evidence has more than one sentence (per
       :func:`split_sentences`) — it may then straddle a chunk boundary,
       since chunks never cut sentences but may separate them — True if the
       passage contains at least one full evidence sentence whose length is
       at least 50% of the normalized evidence's length (in characters,
       including the spaces between sentences).
    3. False otherwise. An evidence that is empty after normalization never
       matches (it would otherwise be contained in every passage).

    Args:
        passage_text: Text of one retrieved passage/chunk.
        evidence: The gold evidence quotation.

    Returns:
        True if the passage counts as containing the evidence.
    """
    norm_evidence = normalize_evidence(evidence)
    if not norm_evidence:
        return False
    norm_passage = normalize_evidence(passage_text)
    if norm_evidence in norm_passage:
        return True
    sentences = split_sentences(norm_evidence)
    if len(sentences) < 2:
        return False
    min_chars = _MIN_SENTENCE_SHARE * len(norm_evidence)
    return any(len(sentence) >= min_chars and sentence in norm_passage for sentence in sentences)


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
