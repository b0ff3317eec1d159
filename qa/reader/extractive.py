"""The extractive reader: candidate spans from the best sentences, ranked by a learned
model, with a calibrated confidence and abstention.

``read(query, hits, query_vector) -> Answer`` is all the service sees (compare Haystack's
``ExtractiveReader``); a model-based reader can replace this one behind ``Reader``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from index.loader import LoadedIndex
from index.text.chunker import section_label
from qa.query import Query
from qa.reader.candidates import Candidate, SentenceView, definitions, generate
from qa.reader.features import FEATURES, featurize, matrix
from qa.reader.model import ReaderModel
from qa.reader.sentences import ScoredSentence, SentenceParams, SentenceScorer, stems_of
from qa.reader.syntax import Anchors
from qa.records import Answer, Citation, Passage
from qa.retriever import Hit

CONFIDENCE_FEATURES = ("top_logit", "top_share", "margin", "sent_dense", "sent_coverage",
                       "missing", "type_match")
SENTENCES_READ = 5  # the best sentences whose spans compete


class Reader(Protocol):
    """Turns retrieved passages into a cited answer (or an abstention)."""

    def read(self, query: Query, hits: Sequence[Hit], query_vector: np.ndarray | None,
             sentence_search: bool = True) -> Answer:
        """Answer ``query`` from ``hits``."""
        ...


class Scored:
    """The candidates of one question with their features and ranker logits."""

    def __init__(self, sentences: list[ScoredSentence], candidates: list[Candidate],
                 features: np.ndarray, logits: np.ndarray) -> None:
        self.sentences = sentences
        self.candidates = candidates
        self.features = features
        self.logits = logits


class ExtractiveReader:
    """Ranks candidate spans with the fitted model.

    Args:
        index: the loaded index (chunks, sentence vectors, annotations).
        model: the fitted ranker, confidence model and threshold.
        params: the sentence pool and score.
    """

    def __init__(self, index: LoadedIndex, model: ReaderModel,
                 params: SentenceParams | None = None) -> None:
        self.index = index
        self.model = model
        self.scorer = SentenceScorer(index, params)
        self.params = self.scorer.params
        self._views: dict[tuple[str, int, int], SentenceView] = {}

    def score(self, query: Query, hits: Sequence[Hit], query_vector: np.ndarray | None,
              sentence_search: bool = True) -> Scored:
        """Every candidate of the best sentences, featurised and scored."""
        sentences = self.scorer.score(query, hits, query_vector, sentence_search)
        candidates: list[Candidate] = []
        rows: list[list[float]] = []
        asks_definition = bool(query.defines or query.term)
        for rank, sentence in enumerate(sentences):
            if rank >= SENTENCES_READ and not asks_definition:
                break
            # past the best sentences only a definition of the term asked about competes
            propose = generate if rank < SENTENCES_READ else definitions
            view = self._view(sentence)
            anchors = Anchors(query, view, self.scorer.idf, self.scorer.max_idf, sentence.text)
            for candidate in propose(query, sentence, view, self.index.acronyms):
                candidates.append(candidate)
                rows.append(featurize(query, candidate, view, rank, self.scorer.idf,
                                      self.scorer.max_idf, anchors))
        x = matrix(rows)
        logits = self.model.ranker.logits(x) if len(rows) else np.zeros(0)
        return Scored(sentences, candidates, x, logits)

    def read(self, query: Query, hits: Sequence[Hit], query_vector: np.ndarray | None,
             sentence_search: bool = True) -> Answer:
        """The answer, its citation and the passages; abstains below the threshold."""
        scored = self.score(query, hits, query_vector, sentence_search)
        if not scored.candidates:
            return Answer(query.text, None, True, 0.0, [], [self.passage(h) for h in hits])
        best_index = int(np.argmax(scored.logits))
        best = scored.candidates[best_index]
        passages = self.rerank(hits, scored.sentences, best.sentence)
        features = self.confidence_features(query, scored, best_index)
        confidence = round(float(self.model.confidence.proba(np.asarray([features]))[0]), 4)
        if confidence < self.model.threshold:
            return Answer(query.text, None, True, confidence, [], passages, features=tuple(features))
        s = best.sentence
        citation = Citation(s.chunk.doc_id, s.chunk.chunk_id, s.chunk.section_path, s.start, s.end,
                            s.text, round(s.score, 4),
                            *self.index.page_span(s.chunk.doc_id, s.start, s.end))
        start = s.start + best.start
        return Answer(query.text, best.text, False, confidence, [citation], passages,
                      answer_start=start, answer_end=start + len(best.text),
                      features=tuple(features))

    def confidence_features(self, query: Query, scored: Scored, best: int) -> list[float]:
        """The confidence model's inputs for the top candidate, in CONFIDENCE_FEATURES order."""
        top = scored.candidates[best]
        others = [v for c, v in zip(scored.candidates, scored.logits, strict=True)
                  if c.text.lower() != top.text.lower()]
        logit = float(scored.logits[best])
        margin = logit - max(others) if others else 10.0
        chunk = top.sentence.chunk
        terms = stems_of(f"{section_label(chunk.section)} {chunk.context} {chunk.text}")
        weights = [self.scorer.weight(c) for c in query.concepts]
        total = sum(weights) or 1.0
        missing = sum(w for c, w in zip(query.concepts, weights, strict=True)
                      if not c.matched_by(terms)) / total
        type_match = float(scored.features[best][FEATURES.index("type_match")])
        shifted = np.exp(scored.logits - logit)
        share = 1.0 / float(shifted.sum())  # the top candidate's softmax share
        return [logit, share, float(margin), top.sentence.dense, top.sentence.coverage, missing,
                type_match]

    def rerank(self, hits: Sequence[Hit], sentences: Sequence[ScoredSentence],
               cited: ScoredSentence) -> list[Passage]:
        """Passages ordered by their best sentence: the cited passage first, then the
        others by the score of their best sentence, then by retrieval rank."""
        best_score: dict[int, float] = {}
        for s in sentences:
            best_score[s.position] = max(best_score.get(s.position, -math.inf), s.score)
        order = [h for h in hits if h.index != cited.position]
        order.sort(key=lambda h: -best_score.get(h.index, -math.inf))
        top = next((h for h in hits if h.index == cited.position), None)
        first = top or Hit(cited.position, cited.score, cited.dense, 0.0)
        return [self.passage(h) for h in [first, *order][: len(hits)]]

    def passage(self, hit: Hit) -> Passage:
        """The Passage record of a hit: as the engine returned it when it is remote."""
        p = hit.stored
        if p is not None:
            return Passage(p.doc_id, p.chunk_id, p.section, p.start, p.end, p.text,
                           round(hit.score, 6))
        c = self.index.chunks[hit.index]
        return Passage(c.doc_id, c.chunk_id, c.section_path, c.start, c.end, c.text,
                       round(hit.score, 6), *self.index.page_span(c.doc_id, c.start, c.end))

    def _view(self, sentence: ScoredSentence) -> SentenceView | None:
        view = self._views.get(sentence.key)
        if view is None:
            annotation = self.index.annotations.get(sentence.key)
            if annotation is None:
                return None
            view = self._views.setdefault(sentence.key, SentenceView(annotation))
        return view
