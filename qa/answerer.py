"""Extract a short answer from the retrieved passages, cite it, or abstain.

Candidate sentences come from the top passages and from a sentence-level embedding
search. Each is scored against the question (embedding similarity, IDF-weighted
coverage of the question's concepts, section match, passage rank, presence of a span of
the expected answer type). The best sentence is the citation; the answer is the span of
the expected type nearest the question's words in it, or the sentence itself. A
confidence in [0, 1] combines the signals; below the calibrated threshold the answerer
abstains and only lists the nearest passages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from index.chunker import section_label
from index.lexical import content_words, stem
from index.loader import LoadedIndex
from index.records import Chunk
from qa.phrases import definition_span, head_phrase, open_answer, subject_phrase, term_definition
from qa.query import Concept, Query
from qa.records import Answer, Citation, Passage
from qa.retriever import Hit
from qa.spans import TITLES, Span, find_spans


@dataclass(frozen=True)
class AnswerParams:
    """Weights of the sentence score and of the confidence; tuned on the dev split."""

    passages: int = 6  # top passages that supply candidate sentences
    sentence_hits: int = 8  # extra candidates from sentence-level embedding search
    w_dense: float = 0.5
    w_lexical: float = 1.5
    w_section: float = 0.4
    w_rank: float = 0.0
    w_type: float = 0.15
    type_margin: float = 0.15  # how far below the best a typed sentence may score
    # confidence = sigmoid(weights . features), features named in CONFIDENCE_FEATURES;
    # fitted on the dev split by ``python -m eval.confidence``.
    confidence_weights: tuple[float, ...] = (-4.0, 6.0, 3.0, -2.0, 1.0, -1.0, 0.0, 0.0, 1.0)
    threshold: float = 0.0


ORGANIZATION_WORDS = frozenset(stem(
    "ministry department agency office command committee council commission bureau "
    "activity organization organisation institute university association force forces "
    "government administration authority headquarters".split()))

# Types whose span may be the noun phrase of the asked-for noun when the recogniser
# finds none ("which students" -> "junior and senior high school students").
_HEAD_TYPED = frozenset({"person", "place", "organization", "name"})

CONFIDENCE_FEATURES = (
    "bias",  # always 1
    "dense",  # embedding similarity of the best sentence to the question
    "coverage",  # IDF-weighted share of the question's concepts in the best sentence
    "missing",  # IDF share of the question's concepts absent from the best passage
    "typed_found",  # 1 when a span of the expected type was found
    "typed_missing",  # 1 when the question wants a typed span and none was found
    "passage_dense",  # embedding similarity of the best passage
    "margin",  # score gap between the best and the second-best sentence
    "span_support",  # IDF share of the question's concepts right around the answer span
)


@dataclass(frozen=True)
class Candidate:
    """A scored sentence."""

    chunk: Chunk
    rank: int  # rank of its passage among the hits (len(hits) when found by sentence search)
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
        self._max_idf = max(self._idf.values(), default=1.0)
        self._sentence_keys = sorted(index.sentence_rows, key=lambda k: index.sentence_rows[k])
        self._chunk_of_sentence = _chunk_of_sentence(index)

    def answer(
        self, query: Query, hits: Sequence[Hit], query_vector: np.ndarray | None,
        sentence_search: bool = True,
    ) -> Answer:
        """Answer a question from its hits.

        Args:
            query: the analysed question.
            hits: retrieved chunks, best first.
            query_vector: the question's embedding (for sentence similarity).
            sentence_search: also take candidates from a sentence-level embedding search
                (off for the retrieval baselines, so they show what retrieval alone gives).

        Returns:
            The Answer with citations and passages; ``abstained`` when confidence is low.
        """
        candidates = self.candidates(query, hits, query_vector, sentence_search)
        if not candidates:
            return Answer(query.text, None, True, 0.0, [], [self.passage(h) for h in hits])
        best = max(candidates, key=lambda c: c.score)
        definition = self._definition(query, candidates)
        if definition is not None:
            best = definition
        elif query.answer_type and query.answer_type != "reason" and not best.spans:
            margin = self.params.type_margin
            typed = [c for c in candidates if c.spans and c.score >= best.score - margin]
            if typed:
                best = max(typed, key=lambda c: c.score)
        passages = self.rerank(hits, candidates, best)
        span = self.pick_span(query, best)
        features = self.features(query, best, candidates, hits, span)
        confidence = round(self.confidence(features), 4)
        if confidence < self.params.threshold:
            return Answer(query.text, None, True, confidence, [], passages, features=tuple(features))
        citation = Citation(best.chunk.doc_id, best.chunk.chunk_id, best.chunk.section_path,
                            best.start, best.end, best.text, round(best.score, 4))
        if span is None:
            span = self.phrase(query, best)
        if span is not None:
            text, start = span.text(best.text), best.start + span.start
        else:
            text, start = best.text, best.start
        return Answer(query.text, text, False, confidence, [citation], passages,
                      answer_start=start, answer_end=start + len(text), features=tuple(features))

    def phrase(self, query: Query, candidate: Candidate) -> Span | None:
        """The phrase of the sentence that answers an open question: the long form of
        an acronym asked about, or what ``qa.phrases.open_answer`` cuts out."""
        if query.defines or query.term:
            return self._defined_in(query, candidate.chunk, candidate.text)
        return open_answer(query.text, query.answer_type, candidate.text, frozenset(query.terms))

    def _defined_in(self, query: Query, chunk: Chunk, text: str) -> Span | None:
        """The definition the question asks for, if ``text`` (a sentence of ``chunk``) gives it."""
        if query.defines:
            return definition_span(text, query.defines, self.index.acronyms[query.defines])
        if query.term:
            return term_definition(text, query.term, chunk.context)
        return None

    def _definition(self, query: Query, candidates: Sequence[Candidate]) -> Candidate | None:
        """The best candidate sentence that defines the acronym or term asked about."""
        defining = [c for c in candidates if self._defined_in(query, c.chunk, c.text)]
        return max(defining, key=lambda c: c.score) if defining else None

    def rerank(self, hits: Sequence[Hit], candidates: Sequence[Candidate], best: Candidate) -> list[Passage]:
        """Passages ordered by their best sentence: the cited passage first, then the
        others by the score of their best candidate sentence, then by retrieval rank."""
        position = {id(c): i for i, c in enumerate(self.index.chunks)}
        best_score: dict[int, float] = {}
        for c in candidates:
            i = position[id(c.chunk)]
            best_score[i] = max(best_score.get(i, -math.inf), c.score)
        cited = position[id(best.chunk)]
        order = [h for h in hits if h.index != cited]
        order.sort(key=lambda h: -best_score.get(h.index, -math.inf))
        top = next((h for h in hits if h.index == cited), None)
        first = top or Hit(cited, best.score, best.dense, 0.0)
        return [self.passage(h) for h in [first, *order][: len(hits)]]

    def passage(self, hit: Hit) -> Passage:
        """The Passage record of a hit."""
        c = self.index.chunks[hit.index]
        return Passage(c.doc_id, c.chunk_id, c.section_path, c.start, c.end, c.text,
                       round(hit.score, 6))

    def candidates(
        self, query: Query, hits: Sequence[Hit], query_vector: np.ndarray | None,
        sentence_search: bool = True,
    ) -> list[Candidate]:
        """Score every candidate sentence."""
        p = self.params
        weights = [self._weight(c) for c in query.concepts]
        total = sum(weights) or 1.0
        rank_of = {h.index: r for r, h in enumerate(hits)}
        pool: dict[tuple[str, int, int], int] = {}  # sentence key -> chunk position
        for hit in hits[: p.passages]:
            chunk = self.index.chunks[hit.index]
            for s, e in chunk.sentences:
                pool.setdefault((chunk.doc_id, s, e), hit.index)
        for key in self._nearest_sentences(query_vector, p.sentence_hits if sentence_search else 0):
            pool.setdefault(key, self._chunk_of_sentence[key])
        out: list[Candidate] = []
        section_cache: dict[int, float] = {}
        for key, position in pool.items():
            chunk = self.index.chunks[position]
            _, s, e = key
            text = chunk.text[s - chunk.start : e - chunk.start]
            terms = _stems_of(text)
            coverage = sum(w for c, w in zip(query.concepts, weights, strict=True)
                           if c.matched_by(terms)) / total
            if position not in section_cache:
                section_terms = set(stem(content_words(section_label(chunk.section))))
                section_cache[position] = sum(
                    w for c, w in zip(query.concepts, weights, strict=True)
                    if c.matched_by(section_terms)) / total
            dense = self._sentence_similarity(key, query_vector)
            spans = tuple(self._typed_spans(query, text))
            rank = rank_of.get(position, len(hits))
            score = (p.w_dense * dense + p.w_lexical * coverage
                     + p.w_section * section_cache[position] + p.w_rank / (rank + 1)
                     + (p.w_type if spans else 0.0))
            out.append(Candidate(chunk, rank, s, e, text, score, dense, coverage, spans))
        return out

    def _weight(self, concept: Concept) -> float:
        return max((self._idf.get(t, self._max_idf) for t in concept.words), default=0.0)

    def _nearest_sentences(self, query_vector: np.ndarray | None, n: int) -> list[tuple[str, int, int]]:
        vectors = self.index.sentence_vectors
        if query_vector is None or vectors is None or n <= 0 or not len(vectors):
            return []
        scores = vectors @ query_vector
        top = np.argsort(-scores)[:n]
        return [self._sentence_keys[int(i)] for i in top]

    def _sentence_similarity(self, key: tuple[str, int, int], query_vector: np.ndarray | None) -> float:
        if query_vector is None or self.index.sentence_vectors is None:
            return 0.0
        row = self.index.sentence_rows.get(key)
        if row is None:
            return 0.0
        return float(self.index.sentence_vectors[row] @ query_vector)

    def _typed_spans(self, query: Query, text: str) -> list[Span]:
        if not query.answer_type or query.answer_type == "reason":
            return []
        question_terms = set(query.terms)
        question_lower = query.text.lower()
        whole = bool(_FULL_NAME.search(query.text))
        spans = []
        for span in _spans_of(text, query.answer_type):
            span_text = span.text(text)
            span_terms = set(stem(content_words(span_text)))
            if span_terms and span_terms <= question_terms:
                continue  # the question already says it
            if span_text.lower() in question_lower:
                continue
            if query.granularity and not _has_granularity(span_text, query.granularity):
                continue
            if query.counted and not _counts(text, span, query.counted):
                continue  # "how many students" is not answered by "seven locations"
            spans.append(span if whole else _strip_known_words(span, text, question_terms, query.head))
        if not spans and query.answer_type in _HEAD_TYPED:
            known = frozenset(query.terms)
            phrase = head_phrase(query.text, text, known) if query.head else None
            if phrase is None and query.answer_type == "person":
                phrase = subject_phrase(query.text, text, known)  # "who trains" -> "... crews train"
            if phrase is not None:  # "which students" -> "junior and senior high school students"
                spans.append(Span(phrase.start, phrase.end, query.answer_type))
        return spans

    def pick_span(self, query: Query, candidate: Candidate) -> Span | None:
        """The typed span most surrounded by the question's rarer words."""
        if not candidate.spans:
            return None
        return max(candidate.spans, key=lambda span: self.span_pull(query, candidate.text, span))

    def span_pull(self, query: Query, text: str, span: Span, bonus: bool = True) -> float:
        """How strongly the question's words point at a span.

        Each question concept found in the sentence pulls with its IDF, decaying with the
        distance in characters; a span gets the pull of the nearest occurrence of each
        concept. With ``bonus``, a span naming the asked-for noun (``... Prefecture``) and
        a longer span win ties.
        """
        start = span.outer_start
        best: dict[int, float] = {}
        for number, concept in enumerate(query.concepts):
            weight = self._weight(concept)
            for term in concept.words | concept.alternative:
                if len(term) < 2:
                    continue
                for m_start, m_end in _word_positions(text, term):
                    if m_start >= span.end:
                        value = weight * math.exp(-(m_start - span.end) / 40.0)
                    elif m_end <= start:
                        value = weight * math.exp(-(start - m_end) / 40.0)
                    elif span.kind == "person":
                        value = weight  # the title asked about: "Defense Minister KIHARA"
                    else:
                        value = weight * 0.5  # a question word inside the span counts less
                    best[number] = max(best.get(number, 0.0), value)
        pull = sum(best.values())
        if bonus:
            words = stem(content_words(text[span.outer_start : span.end]))
            if query.head and query.head in words:
                pull += self._max_idf
            elif span.kind == "organization" and ORGANIZATION_WORDS & set(words):
                pull += self._max_idf / 2
            if span.kind == "person" and _titled_as_asked(text[span.outer_start : span.end], query):
                pull += self._max_idf  # "Japan's defense minister" -> "Defense Minister KIHARA"
            pull += 0.001 * (span.end - span.start)
        return pull

    def features(
        self, query: Query, best: Candidate, candidates: Sequence[Candidate], hits: Sequence[Hit],
        span: Span | None,
    ) -> list[float]:
        """The confidence features of an answer, in CONFIDENCE_FEATURES order."""
        weights = [self._weight(c) for c in query.concepts]
        total = sum(weights) or 1.0
        passage_terms = set(stem(content_words(
            f"{section_label(best.chunk.section)} {best.chunk.context} {best.chunk.text}")))
        missing = sum(w for c, w in zip(query.concepts, weights, strict=True)
                      if not c.matched_by(passage_terms)) / total
        typed = query.answer_type is not None and query.answer_type != "reason"
        scores = sorted((c.score for c in candidates), reverse=True)
        margin = scores[0] - scores[1] if len(scores) > 1 else scores[0]
        passage_dense = next((h.dense for h in hits if self.index.chunks[h.index] is best.chunk), 0.0)
        support = self.span_pull(query, best.text, span, bonus=False) / total if span else 0.0
        return [1.0, best.dense, best.coverage, missing, float(typed and span is not None),
                float(typed and span is None), passage_dense, margin, support]

    def confidence(self, features: Sequence[float]) -> float:
        """Logistic confidence in [0, 1] from the features."""
        z = sum(w * f for w, f in zip(self.params.confidence_weights, features, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


_MONTH_WORD = re.compile(r"\b(?:January|February|March|April|May|June|July|August|September|"
                         r"October|November|December)\b")


def _counts(text: str, span: Span, counted: frozenset[str]) -> bool:
    """Whether a number span counts the thing asked about: one of its words within the
    span or the four words after it (``approximately 9,000 U.S. Marine Corps personnel``)."""
    after = " ".join(re.findall(r"[A-Za-z'’-]+", text[span.start : span.end + 50])[:8])
    window = set(stem(content_words(after)))
    return bool(counted & window)


def _has_granularity(text: str, granularity: str) -> bool:
    if granularity == "year":
        return bool(re.search(r"(?<!\d)(?:1[89]|20)\d{2}(?!\d)", text))
    if granularity == "month":
        return bool(_MONTH_WORD.search(text))
    return bool(_MONTH_WORD.search(text) and re.search(r"\b\d{1,2}\b", text))


_FULL_NAME = re.compile(r"\b(?:full|complete|official|formal)\s+(?:name|title)\b", re.I)
_TITLE = re.compile(rf"^(?:{TITLES})\b")


def _merge_overlapping(spans: Sequence[Span]) -> list[Span]:
    """One span for each run of overlapping spans of a kind: two patterns that saw
    ``Defense Minister KIHARA`` and ``KIHARA Minoru`` give ``Defense Minister KIHARA Minoru``."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        last = merged[-1] if merged else None
        if last is not None and span.start < last.end and span.kind == last.kind:
            merged[-1] = Span(last.start, max(last.end, span.end), last.kind)
        else:
            merged.append(span)
    return merged


def _titled_as_asked(span_text: str, query: Query) -> bool:
    """Whether a person span opens with a title the question names in full
    (``Defense Minister`` for *Japan's defense minister*, not ``Foreign Minister``)."""
    match = _TITLE.match(span_text)
    if not match:
        return False
    title = set(stem(content_words(match.group(0))))
    return bool(title) and title <= set(query.question_terms)


def _strip_known_words(span: Span, text: str, question_terms: set[str], head: str | None) -> Span:
    """Drop leading words the question already contains (``Defense Minister KIHARA``),
    but not the noun asked for, which names the thing (``which camp`` -> ``Camp Kengun``)."""
    start = span.start
    for match in re.finditer(r"\S+\s*", text[span.start : span.end]):
        word = match.group(0).strip(" ,")
        stems = stem(content_words(word))
        if head in stems:
            break
        if stems and all(s in question_terms for s in stems) and span.start + match.end() < span.end:
            start = span.start + match.end()
            continue
        break
    return Span(start, span.end, span.kind, outer_start=span.start)


def _word_positions(text: str, term: str) -> list[tuple[int, int]]:
    return [(a, b) for a, b, word in _word_stems(text) if word == term]


# Per-sentence work that does not depend on the question, cached across questions (the
# same sentences come back often); bounded, so memory stays flat on a large corpus.
@lru_cache(maxsize=8192)
def _word_stems(text: str) -> tuple[tuple[int, int, str], ...]:
    """Every word of a text with its offsets and stem."""
    found = list(re.finditer(r"[^\W_]+", text))
    stems = stem([m.group(0).lower() for m in found])
    return tuple((m.start(), m.end(), s) for m, s in zip(found, stems, strict=True))


@lru_cache(maxsize=8192)
def _stems_of(text: str) -> frozenset[str]:
    """Stemmed content words of a text."""
    return frozenset(stem(content_words(text)))


@lru_cache(maxsize=8192)
def _spans_of(text: str, kind: str) -> tuple[Span, ...]:
    """The recogniser's spans of one kind in a text, overlapping ones merged."""
    return tuple(_merge_overlapping(find_spans(text, kind)))


def _chunk_of_sentence(index: LoadedIndex) -> dict[tuple[str, int, int], int]:
    """The first chunk holding each sentence."""
    owner: dict[tuple[str, int, int], int] = {}
    for position, chunk in enumerate(index.chunks):
        for s, e in chunk.sentences:
            owner.setdefault((chunk.doc_id, s, e), position)
    return owner


def _idf_table(chunks: Sequence[Chunk]) -> dict[str, float]:
    """Inverse document frequency of stemmed words over the chunks."""
    df: dict[str, int] = {}
    for chunk in chunks:
        for term in set(stem(content_words(f"{' '.join(chunk.section)} {chunk.text}"))):
            df[term] = df.get(term, 0) + 1
    n = max(len(chunks), 1)
    return {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
