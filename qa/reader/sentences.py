"""Candidate sentences: every sentence of the top passages, plus the sentences nearest
the question in embedding space, each scored against the question.

The score (embedding similarity, IDF-weighted coverage of the question's concepts, the
section heading's share of them) orders the sentences; the span ranker reads it as one
feature among others.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from index.loader import LoadedIndex
from index.records import Chunk
from index.text.chunker import section_label
from index.text.lexical import content_words, stem
from qa.query import Concept, Query
from qa.retriever import Hit


@dataclass(frozen=True)
class SentenceParams:
    """How many sentences are read and how their score is made."""

    passages: int = 6  # top passages that supply candidate sentences
    sentence_hits: int = 8  # extra candidates from sentence-level embedding search
    w_dense: float = 0.5
    w_lexical: float = 1.5
    w_section: float = 0.4


@dataclass(frozen=True)
class ScoredSentence:
    """A sentence of a chunk with its score; ``start``/``end`` are document offsets."""

    chunk: Chunk
    position: int  # index of the chunk in LoadedIndex.chunks
    rank: int  # rank of its passage among the hits (len(hits) when found by sentence search)
    start: int
    end: int
    text: str
    score: float
    dense: float
    coverage: float

    @property
    def key(self) -> tuple[str, int, int]:
        """The sentence key of the index: ``(doc_id, start, end)``."""
        return (self.chunk.doc_id, self.start, self.end)


class SentenceScorer:
    """Scores the sentences that may hold the answer.

    Args:
        index: the loaded index (chunks, sentence vectors).
        params: pool sizes and score weights.
    """

    def __init__(self, index: LoadedIndex, params: SentenceParams | None = None) -> None:
        self.index = index
        self.params = params or SentenceParams()
        self.idf = idf_table(index.chunks)
        self.max_idf = max(self.idf.values(), default=1.0)
        self._keys = sorted(index.sentence_rows, key=lambda k: index.sentence_rows[k])
        self._owner = _chunk_of_sentence(index)

    def weight(self, concept: Concept) -> float:
        """The IDF weight of a question concept (its rarest word)."""
        return max((self.idf.get(t, self.max_idf) for t in concept.words), default=0.0)

    def score(
        self, query: Query, hits: Sequence[Hit], query_vector: np.ndarray | None,
        sentence_search: bool = True,
    ) -> list[ScoredSentence]:
        """Every candidate sentence, best first."""
        p = self.params
        weights = [self.weight(c) for c in query.concepts]
        total = sum(weights) or 1.0
        rank_of = {h.index: r for r, h in enumerate(hits)}
        pool: dict[tuple[str, int, int], int] = {}
        for hit in hits[: p.passages]:
            chunk = self.index.chunks[hit.index]
            for s, e in chunk.sentences:
                pool.setdefault((chunk.doc_id, s, e), hit.index)
        for key in self._nearest(query_vector, p.sentence_hits if sentence_search else 0):
            pool.setdefault(key, self._owner[key])
        section_share: dict[int, float] = {}
        out: list[ScoredSentence] = []
        for (_, s, e), position in pool.items():
            chunk = self.index.chunks[position]
            text = chunk.text[s - chunk.start : e - chunk.start]
            terms = stems_of(text)
            coverage = sum(w for c, w in zip(query.concepts, weights, strict=True)
                           if c.matched_by(terms)) / total
            if position not in section_share:
                heading = set(stem(content_words(section_label(chunk.section))))
                section_share[position] = sum(w for c, w in zip(query.concepts, weights, strict=True)
                                              if c.matched_by(heading)) / total
            dense = self._similarity((chunk.doc_id, s, e), query_vector)
            score = p.w_dense * dense + p.w_lexical * coverage + p.w_section * section_share[position]
            out.append(ScoredSentence(chunk, position, rank_of.get(position, len(hits)), s, e, text,
                                      score, dense, coverage))
        out.sort(key=lambda c: -c.score)
        return out

    def _nearest(self, query_vector: np.ndarray | None, n: int) -> list[tuple[str, int, int]]:
        vectors = self.index.sentence_vectors
        if query_vector is None or vectors is None or n <= 0 or not len(vectors):
            return []
        top = np.argsort(-(vectors @ query_vector))[:n]
        return [self._keys[int(i)] for i in top]

    def _similarity(self, key: tuple[str, int, int], query_vector: np.ndarray | None) -> float:
        row = self.index.sentence_rows.get(key)
        if query_vector is None or self.index.sentence_vectors is None or row is None:
            return 0.0
        return float(self.index.sentence_vectors[row] @ query_vector)


@lru_cache(maxsize=8192)
def stems_of(text: str) -> frozenset[str]:
    """Stemmed content words of a text (cached: the same sentences come back often)."""
    return frozenset(stem(content_words(text)))


def _chunk_of_sentence(index: LoadedIndex) -> dict[tuple[str, int, int], int]:
    """The first chunk holding each sentence."""
    owner: dict[tuple[str, int, int], int] = {}
    for position, chunk in enumerate(index.chunks):
        for s, e in chunk.sentences:
            owner.setdefault((chunk.doc_id, s, e), position)
    return owner


def idf_table(chunks: Sequence[Chunk]) -> dict[str, float]:
    """Inverse document frequency of stemmed words over the chunks."""
    df: dict[str, int] = {}
    for chunk in chunks:
        for term in set(stem(content_words(f"{' '.join(chunk.section)} {chunk.text}"))):
            df[term] = df.get(term, 0) + 1
    n = max(len(chunks), 1)
    return {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
