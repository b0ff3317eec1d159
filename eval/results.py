"""The records of an evaluation: one question's result, one system's metrics, a run, a suite.

Definitions of the fields are in ``eval.aggregate`` (metrics) and ``eval.scoring`` (one
question).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from eval.metrics.calibration import CalibrationBin
from qa.records import Citation, Passage


@dataclass(frozen=True)
class SourceSpan:
    """Where a citation or passage points: document, section, offsets and PDF pages."""

    doc_id: str
    section: str
    start: int
    end: int
    page_start: int | None  # 1-based, as a PDF viewer counts; None for other documents
    page_end: int | None


def source_spans(items: Iterable[Citation | Passage]) -> tuple[SourceSpan, ...]:
    """The SourceSpan of each citation or passage."""
    return tuple(SourceSpan(i.doc_id, i.section, i.start, i.end, i.page_start, i.page_end)
                 for i in items)


@dataclass(frozen=True)
class QuestionResult:
    """How one system did on one gold question."""

    id: str
    question: str
    golds: tuple[str, ...]
    evidence: str | None
    answer: str | None
    abstained: bool
    confidence: float
    evidence_rank: int | None  # 1-based rank of the first passage holding the evidence
    correct: bool  # strict: contains a gold answer and is at most 2 * its length + 3 tokens
    lenient_correct: bool  # contains a gold answer, at any length
    exact_match: float  # SQuAD v2, so 1.0 for an abstention on an unanswerable item
    f1: float
    answer_type: str  # eval.answer_types.ANSWER_TYPES
    document: str | None  # the document holding the evidence, else the first cited one
    citations: int
    citations_verified: int  # quote == document text at its offsets
    citations_with_evidence: int
    passages: int
    passages_verified: int
    answer_in_citation: bool | None  # None when no answer was given
    latency_ms: float
    cited: tuple[SourceSpan, ...] = ()  # where each citation points (pages for a PDF)
    passage_spans: tuple[SourceSpan, ...] = ()
    # answerer llm: verified, unverified (the reader's answer shown), abstained, or failed
    # (the reply was not the JSON asked for or was cut short: scored as an abstention)
    llm_outcome: str | None = None

    @property
    def answerable(self) -> bool:
        """Whether the gold set says the corpus answers the question."""
        return bool(self.golds)

    @property
    def passed(self) -> bool:
        """Correct answer for answerable items, abstention for unanswerable ones."""
        return self.correct if self.answerable else self.abstained


@dataclass(frozen=True)
class SystemMetrics:
    """Aggregate metrics of one system; rates are None when nothing could be measured."""

    questions: int
    answerable: int
    unanswerable: int
    with_evidence: int
    hit_at_1: float
    hit_at_5: float
    mrr_at_10: float
    ndcg_at_10: float
    accuracy: float  # strict
    lenient_accuracy: float
    exact_match: float  # SQuAD v2 HasAns
    f1: float
    no_answer_exact_match: float | None  # SQuAD v2 NoAns
    no_answer_f1: float | None
    overall_exact_match: float  # SQuAD v2 over all items
    overall_f1: float
    citations: int
    citation_verification: float | None
    passage_verification: float | None
    citation_precision: float | None
    answer_in_citation: float | None
    abstention_precision: float
    abstention_recall: float
    false_abstention_rate: float
    latency_p50_ms: float
    latency_p95_ms: float
    ece: float
    calibration: list[CalibrationBin]
    # answerer llm only (None otherwise): shares of the questions by what became of the
    # model's answer; a verified answer counts as confidence 1 in ece and the calibration
    llm_verified: float | None = None
    llm_unverified: float | None = None
    llm_abstained: float | None = None
    llm_failed: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the """
        return asdict(self)


@dataclass(frozen=True)
class SystemRun:
    """One system's per-question results and their """

    mode: str
    results: tuple[QuestionResult, ...]
    metrics: SystemMetrics


@dataclass(frozen=True)
class Suite:
    """A whole evaluation run: ours and the baselines on the same gold items."""

    gold: str
    split: str
    k: int
    threshold: float
    systems: dict[str, SystemRun]  # in SYSTEMS order, ours first


@dataclass(frozen=True)
class ThresholdChoice:
    """An abstention threshold and the abstention figures it gives."""

    threshold: float
    abstention_precision: float
    abstention_recall: float
    false_abstention_rate: float
    max_false_abstention: float
