"""Extract a short answer from the retrieved passages, cite it, or abstain.

Sentences of the top passages are scored against the question (embedding similarity,
weighted term overlap, section match, passage rank, presence of a span of the expected
answer type). The best sentence is the citation; the answer is the span of the expected
type nearest the question's terms in it, or the sentence itself. A confidence in [0, 1]
combines the signals; below the calibrated threshold the answerer abstains.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.chunker import section_label
from index.lexical import content_words, stem
from index.loader import LoadedIndex
from index.records import Chunk
from qa.query import Query
from qa.records import Answer, Citation, Passage
from qa.retriever import Hit
from qa.spans import Span, find_spans


@dataclass(frozen=True)
class AnswerParams:
    """Weights of the sentence score and of the confidence; tuned on the dev split."""

    passages: int = 4  # how many top passages supply candidate sentences
    w_dense: float = 1.0
    w_lexical: float = 1.0
    w_section: float = 0.2
    w_rank: float = 0.3
    w_type: float = 0.3
    # confidence = sigmoid(c_bias + c_dense * dense + c_cover * coverage + c_type * has_type)
    c_bias: float = -4.0
    c_dense: float = 6.0
    c_cover: float = 3.0
    c_type: float = 1.0
    threshold: float = 0.5


@dataclass(frozen=True)
class Candidate:
    """A scored sentence."""

    chunk: Chunk
    rank: int
    start: int
    end: int
    text: str
    score: float
    dense: float
    coverage: float
    spans: tuple[Span, ...]


class Answerer:
    """Turns retrieved hits into an Answer.

    Args:
        index: the loaded index (chunks, sentence vectors).
        params: scoring weights and the abstention threshold.
    """

    def __init__(self, index: LoadedIndex, params: AnswerParams | None = None) -> None:
        self.index = index
        self.params = params or AnswerParams()
        self._idf = _idf_table(index.chunks)

    def answer(self, query: Query, hits: Sequence[Hit], query_vector: np.ndarray | None) -> Answer:
        """Answer a question from its hits.

        Args:
            query: the analysed question.
            hits: retrieved chunks, best first.
            query_vector: the question's embedding (for sentence similarity).

        Returns:
            The Answer with citations and passages; ``abstained`` when confidence is low.
        """
        passages = [self._passage(h) for h in hits]
        candidates = self._candidates(query, hits, query_vector)
        if not candidates:
            return Answer(query.text, None, True, 0.0, [], passages)
        best = max(candidates, key=lambda c: c.score)
        span = self._pick_span(query, best)
        if span is None and query.answer_type:
            typed = [c for c in candidates if c.spans and c.score >= best.score - 0.15]
            if typed:
                best = max(typed, key=lambda c: c.score)
                span = self._pick_span(query, best)
        confidence = self._confidence(best, span is not None, query.answer_type is not None)
        citation = Citation(
            best.chunk.doc_id,
            best.chunk.chunk_id,
            best.chunk.section_path,
            best.start,
            best.end,
            best.text,
            round(best.score, 4),
        )
        if span is not None:
            text = span.text(best.text)
            a_start = best.start + span.start
        else:
            text, a_start = best.text, best.start
        abstained = confidence < self.params.threshold
        return Answer(
            question=query.text,
            answer=None if abstained else text,
            abstained=abstained,
            confidence=round(confidence, 4),
            citations=[] if abstained else [citation],
            passages=passages,
            answer_start=None if abstained else a_start,
            answer_end=None if abstained else a_start + len(text),
        )

    def _passage(self, hit: Hit) -> Passage:
        c = self.index.chunks[hit.index]
        return Passage(
            c.doc_id, c.chunk_id, c.section_path, c.start, c.end, c.text, round(hit.score, 6)
        )

    def _candidates(
        self, query: Query, hits: Sequence[Hit], query_vector: np.ndarray | None
    ) -> list[Candidate]:
        p = self.params
        weights = {t: self._idf.get(t, self._max_idf) for t in query.terms}
        total = sum(weights.values()) or 1.0
        seen: set[tuple[str, int]] = set()
        out: list[Candidate] = []
        for rank, hit in enumerate(hits[: p.passages]):
            chunk = self.index.chunks[hit.index]
            section_terms = set(stem(content_words(section_label(chunk.section))))
            section_cover = sum(w for t, w in weights.items() if t in section_terms) / total
            for s, e in chunk.sentences:
                if (chunk.doc_id, s) in seen:
                    continue
                seen.add((chunk.doc_id, s))
                text = chunk.text[s - chunk.start : e - chunk.start]
                terms = set(stem(content_words(text)))
                coverage = sum(w for t, w in weights.items() if t in terms) / total
                dense = self._sentence_similarity(chunk.doc_id, s, e, query_vector)
                spans = tuple(self._typed_spans(query, text))
                score = (
                    p.w_dense * dense
                    + p.w_lexical * coverage
                    + p.w_section * section_cover
                    + p.w_rank / (rank + 1)
                    + (p.w_type if spans else 0.0)
                )
                out.append(Candidate(chunk, rank, s, e, text, score, dense, coverage, spans))
        return out

    def _sentence_similarity(
        self, doc_id: str, start: int, end: int, query_vector: np.ndarray | None
    ) -> float:
        if query_vector is None or self.index.sentence_vectors is None:
            return 0.0
        row = self.index.sentence_rows.get((doc_id, start, end))
        if row is None:
            return 0.0
        return float(self.index.sentence_vectors[row] @ query_vector)

    def _typed_spans(self, query: Query, text: str) -> list[Span]:
        if not query.answer_type or query.answer_type == "reason":
            return []
        question_terms = set(query.question_terms) | set(stem(content_words(query.expanded)))
        spans = []
        for span in find_spans(text, query.answer_type):
            span_terms = set(stem(content_words(span.text(text))))
            if span_terms and span_terms <= question_terms:
                continue  # the question already says it
            if not span_terms and span.text(text).lower() in query.text.lower():
                continue
            spans.append(span)
        return spans

    def _pick_span(self, query: Query, candidate: Candidate) -> Span | None:
        """The typed span nearest the question's terms in the sentence."""
        if not candidate.spans:
            return None
        text = candidate.text
        anchors = [m.start() for t in query.terms for m in _word_positions(text, t)]
        if not anchors:
            return max(candidate.spans, key=lambda s: s.end - s.start)

        def distance(span: Span) -> float:
            middle = (span.start + span.end) / 2
            return min(abs(middle - a) for a in anchors) - 0.01 * (span.end - span.start)

        return min(candidate.spans, key=distance)

    def _confidence(self, best: Candidate, found_span: bool, typed: bool) -> float:
        p = self.params
        z = p.c_bias + p.c_dense * best.dense + p.c_cover * best.coverage
        if typed:
            z += p.c_type * (1.0 if found_span else -1.0)
        return 1.0 / (1.0 + math.exp(-z))

    @property
    def _max_idf(self) -> float:
        return max(self._idf.values(), default=1.0)


def _word_positions(text: str, term: str) -> list[re.Match[str]]:
    return [m for m in re.finditer(r"[A-Za-z0-9]+", text) if stem([m.group(0).lower()])[0] == term]


def _idf_table(chunks: Sequence[Chunk]) -> dict[str, float]:
    """Inverse document frequency of stemmed words over the chunks."""
    df: dict[str, int] = {}
    for chunk in chunks:
        for term in set(stem(content_words(f"{' '.join(chunk.section)} {chunk.text}"))):
            df[term] = df.get(term, 0) + 1
    n = max(len(chunks), 1)
    return {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
