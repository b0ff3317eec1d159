"""Ranking quality of the retrieved passages, from the rank of the first hit
(:func:`eval.metrics.evidence.first_hit_rank`): :func:`hit_at_k`, :func:`reciprocal_rank`,
:func:`ndcg_at_k`.

Standard-library only and side-effect free, so it imports cheaply.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


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
