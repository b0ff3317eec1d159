"""Score one answer against its gold item: the answer (SQuAD v2 exact match and F1, strict
and lenient accuracy), its citations (verified against the document text, holding the
evidence, holding the answer) and where the evidence ranked among the passages.

Pure: the documents' texts come in as a function, so it is tested on hand-made inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from eval.gold import GoldItem
from eval.metrics.answers import (
    answer_contains,
    exact_match,
    max_over_golds,
    strict_match,
    token_f1,
)
from eval.metrics.evidence import contains_evidence, first_hit_rank
from eval.results import QuestionResult, source_spans
from qa.records import Answer


def score_answer(
    item: GoldItem,
    answer: Answer,
    document_text: Callable[[str], str | None],
    latency_ms: float,
    documents: Iterable[str] = (),
) -> QuestionResult:
    """Score one answer against its gold item.

    Args:
        item: the gold question.
        answer: what the system returned.
        document_text: the text of a document by id (None if there is no such document).
        latency_ms: how long the question took.
        documents: the corpus's document ids, searched for the one holding the evidence.

    Returns:
        The per-question result.
    """
    prediction = answer.answer if not answer.abstained and answer.answer is not None else ""
    evidence = item.evidence
    document = _evidence_document(item, documents, document_text) or next(
        (c.doc_id for c in answer.citations), None
    )
    return QuestionResult(
        id=item.id,
        question=item.question,
        golds=item.answers,
        evidence=evidence,
        answer=None if answer.abstained else answer.answer,
        abstained=answer.abstained,
        confidence=_confidence(answer),
        evidence_rank=(
            first_hit_rank([p.text for p in answer.passages], evidence)
            if evidence
            else None
        ),
        **_answer_scores(prediction, item.answers),
        answer_type=item.answer_type,
        document=document,
        **_citation_scores(answer, evidence, prediction, document_text),
        latency_ms=latency_ms,
        cited=source_spans(answer.citations),
        passage_spans=source_spans(answer.passages),
        llm_outcome=answer.llm.outcome if answer.llm is not None else None,
    )


def _answer_scores(prediction: str, golds: tuple[str, ...]) -> dict[str, Any]:
    """Strict and lenient accuracy, SQuAD exact match and F1 of a prediction ("" for an
    abstention)."""
    return {
        "correct": strict_match(prediction or None, golds),
        "lenient_correct": answer_contains(prediction or None, golds),
        "exact_match": max_over_golds(exact_match, prediction, golds),
        "f1": max_over_golds(token_f1, prediction, golds),
    }


def _citation_scores(
    answer: Answer,
    evidence: str | None,
    prediction: str,
    document_text: Callable[[str], str | None],
) -> dict[str, Any]:
    """Counts of the citations and passages, of those whose text is the document's text at
    their offsets, of the citations holding the evidence, and whether one holds the answer."""

    def verified(doc_id: str, start: int, end: int, text: str) -> bool:
        source = document_text(doc_id)
        return source is not None and source[start:end] == text

    quotes = [c.quote for c in answer.citations]
    return {
        "citations": len(quotes),
        "citations_verified": sum(
            verified(c.doc_id, c.start, c.end, c.quote) for c in answer.citations
        ),
        "citations_with_evidence": (
            sum(contains_evidence(q, evidence) for q in quotes) if evidence else 0
        ),
        "passages": len(answer.passages),
        "passages_verified": sum(
            verified(p.doc_id, p.start, p.end, p.text) for p in answer.passages
        ),
        "answer_in_citation": any(prediction in q for q in quotes) if prediction else None,
    }


def _confidence(answer: Answer) -> float:
    """The reader's calibrated confidence; a model's answer has none: 1 when it was shown
    (verified), 0 when the model abstained."""
    if answer.confidence is not None:
        return answer.confidence
    return 0.0 if answer.abstained else 1.0


def _evidence_document(
    item: GoldItem, documents: Iterable[str], document_text: Callable[[str], str | None]
) -> str | None:
    """The gold item's ``doc_id`` field, else the first document holding its evidence."""
    declared = item.extra.get("doc_id")
    if isinstance(declared, str):
        return declared
    if not item.evidence:
        return None
    for doc_id in documents:
        text = document_text(doc_id)
        if text is not None and contains_evidence(text, item.evidence):
            return doc_id
    return None
