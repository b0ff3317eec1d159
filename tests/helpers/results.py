"""A per-question evaluation result with sensible defaults, for tests of the metrics."""

from __future__ import annotations

from typing import Any

from eval.results import QuestionResult


def result(**overrides: Any) -> QuestionResult:
    """A per-question result: answerable, retrieved first, answered right, one good citation."""
    base: dict[str, Any] = dict(
        id="q", question="q?", golds=("gold",), evidence="evidence", answer="gold",
        abstained=False, confidence=0.9, evidence_rank=1, correct=True, lenient_correct=True,
        exact_match=1.0, f1=1.0, answer_type="other", document="d.txt", citations=1,
        citations_verified=1, citations_with_evidence=1, passages=5, passages_verified=5,
        answer_in_citation=True, latency_ms=10.0,
    )
    base.update(overrides)
    return QuestionResult(**base)
