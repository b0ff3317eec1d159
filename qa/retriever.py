"""Hybrid retrieval: a dense leg and a BM25 leg, fused by RRF or a weighted sum.

The legs run on the index's backend (``index.search.backend``): FAISS + bm25s in this process,
or Milvus, where RRF fusion runs in the engine itself (one hybrid search).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.encode.base import Embedder
from index.loader import LoadedIndex
from index.search.backend import Ranked, StoredPassage, top_indices
from index.text.lexical import lexical_tokens

__all__ = ["FUSIONS", "MODES", "Hit", "Retriever", "top_indices"]

MODES = ("hybrid", "dense", "bm25")
FUSIONS = ("rrf", "weighted")


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with the evidence behind its rank."""

    index: int  # position in LoadedIndex.chunks
    score: float  # the fused score used for ranking
    dense: float  # cosine similarity (0 when the dense leg did not return it)
    lexical: float  # BM25 score (0 when the lexical leg did not return it)
    stored: StoredPassage | None = None  # the passage as a remote engine returned it


def _best_first(item: tuple[int, float]) -> tuple[float, int]:
    """Sort key: higher score first, ties by position -- the same rule on every backend,
    so an engine's own tie order does not change the ranking."""
    return -item[1], item[0]


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
        backend = self.index.backend
        depth = max(k, self.candidates)
        tokens = lexical_tokens(text) if mode != "dense" else []
        qv = None if mode == "bm25" else (self.embed_query(text) if vector is None else vector)
        if mode == "hybrid" and self.fusion == "rrf" and qv is not None:
            fused = backend.hybrid(qv, tokens, k, depth, self.rrf_k)
            if fused is not None:
                return self._hits(fused, {}, {})
        dense = dict(backend.dense(qv, depth)) if qv is not None else {}
        lexical = dict(backend.lexical(tokens, depth)) if tokens else {}
        if mode == "dense":
            return self._hits(sorted(dense.items(), key=_best_first)[:k], dense, lexical)
        if mode == "bm25":
            return self._hits(list(lexical.items())[:k], dense, lexical)
        fused = sorted(self._fuse(dense, lexical).items(), key=_best_first)[:k]
        return self._hits(fused, dense, lexical)

    def _hits(self, ranked: Ranked, dense: dict[int, float],
              lexical: dict[int, float]) -> list[Hit]:
        """Hits of ranked positions; a remote backend's copy of each passage rides along."""
        backend = self.index.backend
        remote = backend.name != "faiss"
        stored = {p.position: p for p in backend.fetch([i for i, _ in ranked])} if remote else {}
        return [Hit(i, s, dense.get(i, 0.0), lexical.get(i, 0.0), stored.get(i))
                for i, s in ranked]

    def _fuse(self, dense: dict[int, float], lexical: dict[int, float]) -> dict[int, float]:
        if self.fusion == "rrf":
            fused: dict[int, float] = {}
            for rank, (i, _) in enumerate(sorted(dense.items(), key=_best_first), start=1):
                fused[i] = fused.get(i, 0.0) + 1.0 / (self.rrf_k + rank)
            for rank, i in enumerate(lexical, start=1):
                fused[i] = fused.get(i, 0.0) + 1.0 / (self.rrf_k + rank)
            return fused
        # Weighted: BM25 scores of the lexical leg's top ``depth`` only (a remote engine
        # returns no more), min-max normalised dense scores.
        top_lex = max(lexical.values(), default=0.0)
        d_values = list(dense.values()) or [0.0]
        d_lo, d_hi = min(d_values), max(d_values)
        span = (d_hi - d_lo) or 1.0
        return {
            i: self.dense_weight * ((dense[i] - d_lo) / span if i in dense else 0.0)
            + (1 - self.dense_weight) * (lexical.get(i, 0.0) / top_lex if top_lex > 0 else 0.0)
            for i in set(dense) | set(lexical)
        }
