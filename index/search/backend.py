"""The retrieval interface: one protocol, two backends (in-process FAISS + bm25s, Milvus).

Positions are rows of the index version's ``chunks.jsonl`` (the reader's view of the
corpus); every backend answers in positions, best first, so the retriever and the reader
do not know which engine answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from index.records import Chunk
from index.search.bm25 import bm25_scores
from index.search.vectors import search_vectors

BACKENDS = ("faiss", "milvus")

# (position, score) pairs, best first.
Ranked = list[tuple[int, float]]


@dataclass(frozen=True)
class StoredPassage:
    """A passage as a backend holds it (fetched by id or returned with a hit).

    Attributes:
        position: the row in the index version's chunk list.
        chunk_id: the chunk's stable id.
        doc_id: the document it comes from.
        section: the section path joined for display.
        start: offset of the first character in the document text.
        end: offset one past the last; ``text == document[start:end]`` when intact.
        text: the passage text as the engine returned it.
        page_start: first page (paged sources), None otherwise.
        page_end: last page, None otherwise.
    """

    position: int
    chunk_id: str
    doc_id: str
    section: str
    start: int
    end: int
    text: str
    page_start: int | None = None
    page_end: int | None = None


class SearchBackend(Protocol):
    """Dense search, lexical search, fusion in the engine (optional) and fetch by position."""

    name: str

    def count(self) -> int:
        """How many passages the engine holds."""

    def dense(self, vector: np.ndarray, k: int) -> Ranked:
        """Top-k passages by inner product with a unit query vector."""

    def lexical(self, tokens: list[str], k: int) -> Ranked:
        """Top-k passages by BM25 over the lexical tokens (only scores above zero)."""

    def hybrid(self, vector: np.ndarray, tokens: list[str], k: int, depth: int,
               rrf_k: int) -> Ranked | None:
        """RRF of both legs (each ``depth`` deep) done by the engine; None when the
        backend has no such search and the caller fuses."""

    def fetch(self, positions: list[int]) -> list[StoredPassage]:
        """The stored passages at these positions, in the same order (missing ones left out)."""


class FaissBackend:
    """The default: a FAISS index and a bm25s index, both in this process.

    Args:
        vectors: the FAISS index (row i is position i).
        bm25: the bm25s index (document i is position i).
        passages: the chunk records, for ``fetch``.
    """

    name = "faiss"

    def __init__(self, vectors: Any, bm25: Any, passages: list[StoredPassage]) -> None:
        self.vectors = vectors
        self.bm25 = bm25
        self._passages = passages

    def count(self) -> int:
        return int(self.vectors.ntotal)

    def dense(self, vector: np.ndarray, k: int) -> Ranked:
        scores, ids = search_vectors(self.vectors, vector, k)
        return best_first([(int(i), float(s)) for s, i in zip(scores, ids, strict=True)])

    def lexical(self, tokens: list[str], k: int) -> Ranked:
        scores = bm25_scores(self.bm25, tokens, len(self._passages))
        return [(int(i), float(scores[i])) for i in top_indices(scores, k) if scores[i] > 0]

    def hybrid(self, vector: np.ndarray, tokens: list[str], k: int, depth: int,
               rrf_k: int) -> Ranked | None:
        return None  # fused by the retriever, in this process as well

    def fetch(self, positions: list[int]) -> list[StoredPassage]:
        return [self._passages[p] for p in positions if 0 <= p < len(self._passages)]


def best_first(ranked: Ranked) -> Ranked:
    """Higher score first, ties by position: one order whatever the engine's tie order."""
    return sorted(ranked, key=lambda pair: (-pair[1], pair[0]))


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


def stored_passage(position: int, chunk: Chunk) -> StoredPassage:
    """The StoredPassage of a chunk record (pages when the chunk has them)."""
    return StoredPassage(
        position, chunk.chunk_id, chunk.doc_id, chunk.section_path, chunk.start, chunk.end,
        chunk.text, getattr(chunk, "page_start", None), getattr(chunk, "page_end", None),
    )
