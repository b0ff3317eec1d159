"""The span reader behind ``Reader.read``: the trained model reads the question with each
retrieved passage and copies the best span out of one of them, or abstains.

The answer is the passage text at the span's offsets, so it is the document's own text at
``answer_start:answer_end``; the citation is the sentence that holds it.

One question is answered without the model: "What does ACR stand for?" about an acronym the
documents define (the table built from them at index time) gets the long form written before
``(ACR)`` in a read passage. The model learnt few such questions, and the document gives
the answer in a form a pattern reads exactly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.loader import LoadedIndex
from index.records import Chunk
from qa.query import Query
from qa.reader.rules.definitions import definition_span
from qa.reader.span_model import SpanModel
from qa.records import Answer, Citation, Passage
from qa.retriever import Hit

#: The confidence of a long form read off ``Long Form (ACR)``: the pattern is exact, so high,
#: but not 1.0 (a document can define one acronym two ways).
DEFINITION_CONFIDENCE = 0.95


@dataclass(frozen=True)
class SpanParams:
    """How many retrieved passages the model reads (the service retrieves at least these)."""

    passages: int = 5


class SpanReader:
    """Answers with the trained span model.

    Args:
        index: the loaded index (chunks, documents).
        model: the span model with its abstention margin and calibration.
        params: how many passages it reads.
        threshold: abstain below this confidence instead of below the model's margin
            (``QA_ABSTAIN_THRESHOLD``; None: the margin chosen on dev).
    """

    def __init__(self, index: LoadedIndex, model: SpanModel,
                 params: SpanParams | None = None, threshold: float | None = None) -> None:
        self.index = index
        self.model = model
        self.params = params or SpanParams(model.passages)
        self.threshold = threshold  # QA_ABSTAIN_THRESHOLD: abstain below this confidence

    def read(self, query: Query, hits: Sequence[Hit], query_vector: np.ndarray | None,
             sentence_search: bool = True) -> Answer:
        """The best span of the best passages; abstains below the dev-chosen margin."""
        passages = [self.passage(h) for h in hits]
        read = passages[: self.params.passages]
        defined = self._definition(query, read, passages)
        if defined is not None:
            return defined
        chunks = [self._chunk(p) for p in read]
        breaks = [[s - p.start for s, _ in c.sentences] if c is not None else []
                  for p, c in zip(read, chunks, strict=True)]
        reading = self.model.read(query.text, [p.text for p in read], breaks)
        if reading is None:
            return Answer(query.text, None, True, 0.0, [], passages)
        confidence = round(self.model.confidence(reading.margin), 4)
        features = (reading.margin,)
        declined = (confidence < self.threshold if self.threshold is not None
                    else reading.margin < self.model.margin)
        if declined or reading.end <= reading.start:
            return Answer(query.text, None, True, confidence, [], passages, features=features)
        p = read[reading.passage]
        span = _trim_date(query, p.text, reading.start, reading.end)
        return self._answer(query, p, chunks[reading.passage], passages, span,
                            confidence, features)

    def _answer(self, query: Query, p: Passage, chunk: Chunk | None,
                passages: Sequence[Passage], span: tuple[int, int], confidence: float,
                features: tuple[float, ...]) -> Answer:
        """The answer at ``span`` (offsets in ``p.text``), cited by its sentence."""
        start, end = p.start + span[0], p.start + span[1]
        s_start, s_end = _sentence_around(chunk, p, start, end)
        quote = p.text[s_start - p.start:s_end - p.start]
        citation = Citation(p.doc_id, p.chunk_id, p.section, s_start, s_end, quote, p.score,
                            *self.index.page_span(p.doc_id, s_start, s_end))
        order = [p, *(q for q in passages if q is not p)]
        return Answer(query.text, p.text[span[0]:span[1]], False, confidence,
                      [citation], order, answer_start=start, answer_end=end,
                      features=features)

    def _definition(self, query: Query, read: Sequence[Passage],
                    passages: Sequence[Passage]) -> Answer | None:
        """The long form of the acronym a definition question asks about, where a read
        passage writes ``Long Form (ACR)``; None for any other question."""
        acronym = query.defines
        long_form = self.index.acronyms.get(acronym) if acronym else None
        if acronym is None or long_form is None:
            return None
        for p in read:
            found = definition_span(p.text, acronym, long_form)
            if found is not None:
                return self._answer(query, p, self._chunk(p), passages,
                                    (found.start, found.end), DEFINITION_CONFIDENCE, ())
        return None

    def passage(self, hit: Hit) -> Passage:
        """The Passage record of a hit: as the engine returned it when it is remote."""
        p = hit.stored
        if p is not None:
            return Passage(p.doc_id, p.chunk_id, p.section, p.start, p.end, p.text,
                           round(hit.score, 6), *self.index.page_span(p.doc_id, p.start, p.end))
        c = self.index.chunks[hit.index]
        return Passage(c.doc_id, c.chunk_id, c.section_path, c.start, c.end, c.text,
                       round(hit.score, 6), *self.index.page_span(c.doc_id, c.start, c.end))

    def _chunk(self, p: Passage) -> Chunk | None:
        position = self.index.by_id.get(p.chunk_id)
        return self.index.chunks[position] if position is not None else None


_DATE_PREPOSITION = re.compile(r"(?:in|on|during)\s+(?=\d|[A-Z])")


def _trim_date(query: Query, text: str, start: int, end: int) -> tuple[int, int]:
    """A date's span without the preposition before it ("in 2010" -> "2010") when the
    question asks when: the second training stage taught the model to keep a leading
    "to"/"by", and it carried the habit over to dates."""
    if query.answer_type != "date":
        return start, end
    found = _DATE_PREPOSITION.match(text, start, end)
    return (found.end(), end) if found and found.end() < end else (start, end)


def _sentence_around(chunk: Chunk | None, p: Passage, start: int, end: int) -> tuple[int, int]:
    """The sentence(s) of the chunk covering [start, end); the passage when unknown."""
    if chunk is None or not chunk.sentences:
        return p.start, p.end
    covering = [(s, e) for s, e in chunk.sentences if s < end and start < e]
    if not covering:
        return p.start, p.end
    return min(s for s, _ in covering), max(e for _, e in covering)
