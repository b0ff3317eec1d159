"""Where the gold evidence is: :func:`normalize_evidence`, :func:`contains_evidence` and
:func:`first_hit_rank` (the rank of the first retrieved passage or citation that holds it).

Standard-library only and side-effect free, so it imports cheaply.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

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


