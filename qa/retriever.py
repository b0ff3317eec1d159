"""Hybrid retrieval: FAISS dense leg + BM25 leg, fused by RRF or a weighted sum."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.bm25 import bm25_scores
from index.embedder import Embedder
from index.lexical import lexical_tokens
from index.loader import LoadedIndex
from index.vectors import search_vectors

MODES = ("hybrid", "dense", "bm25")
FUSIONS = ("rrf", "weighted")


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with the evidence behind its rank."""

    index: int  # position in LoadedIndex.chunks
    score: float  # the fused score used for ranking
    dense: float  # cosine similarity (0 when the dense leg did not return it)
    lexical: float  # BM25 score


def top_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest scores, best first, ties by index, without sorting them all.

    A full argsort of 1M BM25 scores costs more than the scoring itself (bench/scale.py).
    """
    k = min(k, int(scores.size))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    order: np.ndarray = part[np.lexsort((part, -scores[part]))]
    return order


class Retriever:
    """Ranks chunks for a query.

    Args:
        index: the loaded index.
        embedder: the model that embedded the chunks.
        fusion: ``rrf`` (reciprocal rank fusion) or ``weighted`` (normalised score sum).
        rrf_k: the RRF constant.
        dense_weight: weight of the dense leg in ``weighted`` fusion (BM25 gets the rest).
        candidates: how deep each leg searches before fusion.
    """

    def __init__(
        self,
        index: LoadedIndex,
        embedder: Embedder,
        fusion: str = "rrf",
        rrf_k: int = 60,
        dense_weight: float = 0.5,
        candidates: int = 30,
    ) -> None:
        if fusion not in FUSIONS:
            raise ValueError(f"unknown fusion {fusion!r}; choose one of {', '.join(FUSIONS)}")
        self.index = index
        self.embedder = embedder
        self.fusion = fusion
        self.rrf_k = rrf_k
        self.dense_weight = dense_weight
        self.candidates = candidates

    def embed_query(self, text: str) -> np.ndarray:
        """The query vector."""
        vector: np.ndarray = self.embedder.embed([text])[0]
        return vector

    def search(
        self, text: str, k: int, mode: str = "hybrid", vector: np.ndarray | None = None
    ) -> list[Hit]:
        """Top-k chunks for a query.

        Args:
            text: the query text (already expanded, if expansion is wanted).
            k: how many hits to return.
            mode: ``hybrid``, ``dense`` or ``bm25``.
            vector: the query vector, when the caller already has it.

        Returns:
            Hits, best first.
        """
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}; choose one of {', '.join(MODES)}")
        count = len(self.index.chunks)
        depth = max(k, self.candidates)
        dense: dict[int, float] = {}
        if mode != "bm25":
            qv = self.embed_query(text) if vector is None else vector
            scores, ids = search_vectors(self.index.vectors, qv, depth)
            dense = {int(i): float(s) for s, i in zip(scores, ids, strict=True)}
        lexical_all = (
            bm25_scores(self.index.bm25, lexical_tokens(text), count)
            if mode != "dense"
            else np.zeros(count, dtype=np.float32)
        )
        lex_order = [int(i) for i in top_indices(lexical_all, depth) if lexical_all[i] > 0]
        if mode == "dense":
            ranked = sorted(dense, key=lambda i: -dense[i])
            return [Hit(i, dense[i], dense[i], 0.0) for i in ranked[:k]]
        if mode == "bm25":
            return [
                Hit(i, float(lexical_all[i]), 0.0, float(lexical_all[i])) for i in lex_order[:k]
            ]
        fused = self._fuse(dense, lex_order, lexical_all)
        ranked = sorted(fused, key=lambda i: -fused[i])[:k]
        return [Hit(i, fused[i], dense.get(i, 0.0), float(lexical_all[i])) for i in ranked]

    def _fuse(
        self, dense: dict[int, float], lex_order: list[int], lexical: np.ndarray
    ) -> dict[int, float]:
        if self.fusion == "rrf":
            fused: dict[int, float] = {}
            for rank, i in enumerate(sorted(dense, key=lambda i: -dense[i]), start=1):
                fused[i] = fused.get(i, 0.0) + 1.0 / (self.rrf_k + rank)
            for rank, i in enumerate(lex_order, start=1):
                fused[i] = fused.get(i, 0.0) + 1.0 / (self.rrf_k + rank)
            return fused
        top_lex = float(lexical.max()) if lexical.size else 0.0
        pool = set(dense) | set(lex_order)
        d_values = [dense[i] for i in dense] or [0.0]
        d_lo, d_hi = min(d_values), max(d_values)
        span = (d_hi - d_lo) or 1.0
        return {
            i: self.dense_weight * ((dense[i] - d_lo) / span if i in dense else 0.0)
            + (1 - self.dense_weight) * (float(lexical[i]) / top_lex if top_lex > 0 else 0.0)
            for i in pool
        }
