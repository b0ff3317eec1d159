"""Answer quality: the SQuAD v2 definitions (:func:`normalize_answer`, :func:`exact_match`,
:func:`token_f1`, :func:`usable_golds`, :func:`max_over_golds`) and two accuracies,
:func:`strict_match` (the headline) and :func:`answer_contains` (lenient).

Standard-library only and side-effect free, so it imports cheaply.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Sequence

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
