"""Run gold questions through ``QAService.ask`` and score them.

The I/O half (:func:`run_system`, :func:`run_suite`) asks the service and reads the cited
documents; the pure half (:func:`score_answer`, :func:`aggregate`, :func:`fit_threshold`,
:func:`suite_to_dict`) turns answers into typed per-question results and metrics, so it can
be tested on hand-made inputs.

Definitions (all rates are in [0, 1]):

* Retrieval metrics use the answerable items that have evidence. The returned passages
  (``k`` of them) are the ranking; the evidence is one relevant item, found at the rank of
  the first passage that contains all of it (:func:`eval.metrics.first_hit_rank`). Later
  passages that repeat it (chunks overlap by a sentence) do not count again, so nDCG@10 is
  ``1 / log2(rank + 1)`` with an ideal DCG of 1.
* Answers follow SQuAD v2: an abstention is the empty prediction, and every item scores
  exact match and F1 against its golds (an unanswerable item scores 1 for an abstention,
  0 for any answer). ``exact_match``/``f1`` are over the answerable items (SQuAD's
  HasAns), ``no_answer_*`` over the unanswerable ones (NoAns), ``overall_*`` over all.
* Accuracy is strict (:func:`eval.metrics.strict_match`: the answer contains a gold and is
  at most twice its length plus three tokens), over the answerable items; it decides
  ``passed`` and the calibration figures. Lenient accuracy is containment at any length.
* Citation verification: the share of citations whose quote equals the document text at
  their offsets (passages are checked the same way and reported separately). Citation
  precision: the share of all citations that contain the evidence — a citation given on
  an unanswerable item is wrong. Answer inside citation: the share of given answers found
  verbatim in one of their quotes.
* Abstention is the positive class; unanswerable items are the actual positives.
* :func:`breakdown` gives the same metrics per answer type or per document (the document
  holding the gold evidence, else the first cited one).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from itertools import pairwise
from typing import Any

from tqdm import tqdm

from eval import metrics
from eval.answer_types import ANSWER_TYPES
from eval.gold import GoldItem
from qa.errors import InvalidQuestion, LLMBadReply, NotFound
from qa.records import Answer, Citation, ModelCheck, Passage
from qa.service import QAService

SYSTEMS = ("hybrid", "bm25", "dense")  # ours first, then the baselines
CUTOFF = 10  # rank cutoff of MRR and nDCG
CALIBRATION_BINS = 10
MAX_FALSE_ABSTENTION = 0.05


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
    calibration: list[metrics.CalibrationBin]
    # answerer llm only (None otherwise): shares of the questions by what became of the
    # model's answer; a verified answer counts as confidence 1 in ece and the calibration
    llm_verified: float | None = None
    llm_unverified: float | None = None
    llm_abstained: float | None = None
    llm_failed: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the metrics."""
        return asdict(self)


@dataclass(frozen=True)
class SystemRun:
    """One system's per-question results and their metrics."""

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


# -- scoring (pure) ----------------------------------------------------------------------


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

    def verified(doc_id: str, start: int, end: int, text: str) -> bool:
        source = document_text(doc_id)
        return source is not None and source[start:end] == text

    prediction = answer.answer if not answer.abstained and answer.answer is not None else ""
    evidence = item.evidence
    quotes = [c.quote for c in answer.citations]
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
            metrics.first_hit_rank([p.text for p in answer.passages], evidence)
            if evidence
            else None
        ),
        correct=metrics.strict_match(prediction or None, item.answers),
        lenient_correct=metrics.answer_contains(prediction or None, item.answers),
        exact_match=metrics.max_over_golds(metrics.exact_match, prediction, item.answers),
        f1=metrics.max_over_golds(metrics.token_f1, prediction, item.answers),
        answer_type=item.answer_type,
        document=document,
        citations=len(quotes),
        citations_verified=sum(
            verified(c.doc_id, c.start, c.end, c.quote) for c in answer.citations
        ),
        citations_with_evidence=(
            sum(metrics.contains_evidence(q, evidence) for q in quotes) if evidence else 0
        ),
        passages=len(answer.passages),
        passages_verified=sum(verified(p.doc_id, p.start, p.end, p.text) for p in answer.passages),
        answer_in_citation=any(prediction in q for q in quotes) if prediction else None,
        latency_ms=latency_ms,
        cited=source_spans(answer.citations),
        passage_spans=source_spans(answer.passages),
        llm_outcome=answer.llm.outcome if answer.llm is not None else None,
    )


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
        if text is not None and metrics.contains_evidence(text, item.evidence):
            return doc_id
    return None


def _share(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def aggregate(results: Sequence[QuestionResult]) -> SystemMetrics:
    """Metrics of one system from its per-question results (see the module docstring).

    Args:
        results: one result per gold item; at least one.

    Raises:
        ValueError: when ``results`` is empty.
    """
    if not results:
        raise ValueError("no results to aggregate")
    answerable = [r for r in results if r.answerable]
    unanswerable_items = [r for r in results if not r.answerable]
    ranked = [r for r in answerable if r.evidence]
    ranks = [r.evidence_rank for r in ranked]
    answered = [r for r in results if r.answer_in_citation is not None]
    abstained = [r.abstained for r in results]
    unanswerable = [not r.answerable for r in results]
    precision, recall = metrics.precision_recall(abstained, unanswerable)
    confidences = [r.confidence for r in answerable]
    correct = [r.correct for r in answerable]
    latencies = [r.latency_ms for r in results]
    return SystemMetrics(
        questions=len(results),
        answerable=len(answerable),
        unanswerable=len(results) - len(answerable),
        with_evidence=len(ranked),
        hit_at_1=metrics.mean([metrics.hit_at_k(r, 1) for r in ranks]),
        hit_at_5=metrics.mean([metrics.hit_at_k(r, 5) for r in ranks]),
        mrr_at_10=metrics.mean([metrics.reciprocal_rank(r, CUTOFF) for r in ranks]),
        ndcg_at_10=metrics.mean([_ndcg(r) for r in ranks]),
        accuracy=metrics.mean([float(r.correct) for r in answerable]),
        lenient_accuracy=metrics.mean([float(r.lenient_correct) for r in answerable]),
        exact_match=metrics.mean([r.exact_match for r in answerable]),
        f1=metrics.mean([r.f1 for r in answerable]),
        no_answer_exact_match=_mean_or_none([r.exact_match for r in unanswerable_items]),
        no_answer_f1=_mean_or_none([r.f1 for r in unanswerable_items]),
        overall_exact_match=metrics.mean([r.exact_match for r in results]),
        overall_f1=metrics.mean([r.f1 for r in results]),
        citations=sum(r.citations for r in results),
        citation_verification=_share(
            sum(r.citations_verified for r in results), sum(r.citations for r in results)
        ),
        passage_verification=_share(
            sum(r.passages_verified for r in results), sum(r.passages for r in results)
        ),
        citation_precision=_share(
            sum(r.citations_with_evidence for r in results), sum(r.citations for r in results)
        ),
        answer_in_citation=_share(sum(bool(r.answer_in_citation) for r in answered), len(answered)),
        abstention_precision=precision,
        abstention_recall=recall,
        false_abstention_rate=metrics.false_positive_rate(abstained, unanswerable),
        latency_p50_ms=metrics.percentile(latencies, 50),
        latency_p95_ms=metrics.percentile(latencies, 95),
        ece=metrics.expected_calibration_error(confidences, correct, CALIBRATION_BINS),
        calibration=metrics.calibration_table(confidences, correct, CALIBRATION_BINS),
        **_llm_shares(results),
    )


def _llm_shares(results: Sequence[QuestionResult]) -> dict[str, float | None]:
    """The share of each model outcome (all None when the model was not asked)."""
    outcomes = [r.llm_outcome for r in results]
    if all(o is None for o in outcomes):
        return {}
    return {f"llm_{name}": outcomes.count(name) / len(outcomes)
            for name in ("verified", "unverified", "abstained", "failed")}


def _mean_or_none(values: Sequence[float]) -> float | None:
    return metrics.mean(values) if values else None


def breakdown(
    results: Sequence[QuestionResult], key: Callable[[QuestionResult], str | None]
) -> dict[str, SystemMetrics]:
    """The metrics of each group of results, e.g. per answer type or per document.

    Args:
        results: per-question results of one system.
        key: the group of a result; None groups under ``"(none)"``.

    Returns:
        The groups' metrics, groups in order of first appearance.
    """
    groups: dict[str, list[QuestionResult]] = {}
    for result in results:
        groups.setdefault(key(result) or "(none)", []).append(result)
    return {name: aggregate(members) for name, members in groups.items()}


def by_answer_type(results: Sequence[QuestionResult]) -> dict[str, SystemMetrics]:
    """:func:`breakdown` by answer type, types in the order of ``ANSWER_TYPES``."""
    groups = breakdown(results, lambda r: r.answer_type)
    return {name: groups[name] for name in ANSWER_TYPES if name in groups}


def by_document(results: Sequence[QuestionResult]) -> dict[str, SystemMetrics]:
    """:func:`breakdown` by document, documents sorted by id (``"(none)"``: no document)."""
    groups = breakdown(results, lambda r: r.document)
    return dict(sorted(groups.items()))


def _ndcg(rank: int | None) -> float:
    if rank is None or rank > CUTOFF:
        return 0.0
    return metrics.ndcg_at_k([0.0] * (rank - 1) + [1.0], CUTOFF, n_relevant=1)


def fit_threshold(
    confidences: Sequence[float],
    unanswerable: Sequence[bool],
    max_false_abstention: float = MAX_FALSE_ABSTENTION,
) -> ThresholdChoice:
    """The abstention threshold with the best recall at a bounded false-abstention rate.

    The system abstains when ``confidence < threshold``. The candidates are 0 (never
    abstain) and the midpoints between neighbouring distinct confidences, so a rounded
    confidence never sits on the threshold. Among the candidates whose false-abstention rate
    is at most ``max_false_abstention``, the one with the highest abstention recall wins;
    ties go to the lower threshold (fewer answers withheld).

    Args:
        confidences: per-question confidence of our system.
        unanswerable: per-question truth (True: the corpus does not answer it).
        max_false_abstention: the largest acceptable share of answerable items withheld.

    Raises:
        ValueError: when there are no unanswerable questions to calibrate on.
    """
    if not any(unanswerable):
        raise ValueError("cannot calibrate: the split has no unanswerable questions")
    levels = sorted(set(confidences))
    candidates = [0.0] + [round((a + b) / 2, 6) for a, b in pairwise(levels)]
    best: ThresholdChoice | None = None
    for threshold in candidates:
        abstain = [c < threshold for c in confidences]
        false_rate = metrics.false_positive_rate(abstain, unanswerable)
        if false_rate > max_false_abstention:
            break  # raising the threshold only withholds more answers
        precision, recall = metrics.precision_recall(abstain, unanswerable)
        if best is None or recall > best.abstention_recall:
            best = ThresholdChoice(threshold, precision, recall, false_rate, max_false_abstention)
    assert best is not None  # threshold 0 abstains on nothing, so it always qualifies
    return best


def suite_to_dict(suite: Suite) -> dict[str, Any]:
    """The ``--json`` object: metrics per system and our per-question results."""
    main, *baselines = suite.systems.values()
    questions = []
    for n, result in enumerate(main.results):
        row = asdict(result)
        row["passed"] = result.passed
        row["baselines"] = {
            run.mode: {
                "answer": run.results[n].answer,
                "abstained": run.results[n].abstained,
                "confidence": run.results[n].confidence,
                "evidence_rank": run.results[n].evidence_rank,
                "correct": run.results[n].correct,
                "lenient_correct": run.results[n].lenient_correct,
                "passed": run.results[n].passed,
            }
            for run in baselines
        }
        questions.append(row)
    return {
        "split": suite.split,
        "gold": suite.gold,
        "k": suite.k,
        "systems": {mode: run.metrics.to_dict() for mode, run in suite.systems.items()},
        "breakdown": {
            mode: {
                "answer_type": {
                    name: m.to_dict() for name, m in by_answer_type(run.results).items()
                },
                "document": {name: m.to_dict() for name, m in by_document(run.results).items()},
            }
            for mode, run in suite.systems.items()
        },
        "abstain_threshold": suite.threshold,
        "questions": questions,
    }


# -- running (I/O) -----------------------------------------------------------------------


def uncached(service: QAService) -> QAService:
    """A service over the same index, model and parameters whose answers are never cached.

    Cached answers would make the latency figures meaningless.
    """
    if service.settings.cache_size == 0:
        return service
    settings = service.settings.model_copy(update={"cache_size": 0})
    twin = QAService(settings, embedder=service.embedder, model=service.model,
                     span_model=service.span_model)
    twin.open(rebuild=False)
    return twin


def run_system(
    service: QAService,
    items: Sequence[GoldItem],
    mode: str = "hybrid",
    k: int = 10,
    progress: bool = False,
    answerer: str = "extractive",
) -> SystemRun:
    """Ask every gold question with one retrieval mode and score the answers.

    Args:
        service: an opened service; pass one from :func:`uncached` for true latencies.
        items: the gold questions (at least one).
        mode: ``hybrid`` (ours), ``bm25`` or ``dense``.
        k: passages returned per question (the ranking that is scored).
        progress: show a progress bar on stderr.
        answerer: ``extractive`` or ``llm`` (see ``QAService.ask``).
    """
    if not items:
        raise ValueError("no gold questions to evaluate")
    texts: dict[str, str | None] = {}

    def document_text(doc_id: str) -> str | None:
        if doc_id not in texts:
            try:
                texts[doc_id] = service.document(doc_id)
            except NotFound:
                texts[doc_id] = None
        return texts[doc_id]

    for item in items:
        try:
            service.validate_question(item.question)
        except InvalidQuestion as exc:
            raise InvalidQuestion(f"gold item {item.id!r}: {exc}") from exc
    service.ask(items[0].question, k=k, mode=mode)  # warm-up: one-time loading is not timed
    documents = service.documents()
    results = []
    for item in tqdm(items, desc=mode, unit="q", file=sys.stderr, disable=not progress):
        started = time.perf_counter()
        answer = _ask(service, item.question, k, mode, answerer)
        latency_ms = (time.perf_counter() - started) * 1000
        results.append(score_answer(item, answer, document_text, latency_ms, documents))
    return SystemRun(mode, tuple(results), aggregate(results))


def _ask(service: QAService, question: str, k: int, mode: str, answerer: str) -> Answer:
    """The service's answer; a model reply that cannot be read is counted, not fatal."""
    try:
        return service.ask(question, k=k, mode=mode, answerer=answerer)
    except LLMBadReply as exc:
        answer = service.ask(question, k=k, mode=mode)  # for the passages
        model = service.settings.llm_model or ""
        return replace(answer, answer=None, abstained=True, confidence=None, citations=[],
                       answerer="llm", llm=ModelCheck(model, "failed", str(exc)))


def run_suite(
    service: QAService,
    items: Sequence[GoldItem],
    *,
    gold: str,
    split: str,
    k: int = 10,
    systems: Sequence[str] = SYSTEMS,
    progress: bool = False,
    answerer: str = "extractive",
) -> Suite:
    """Run ours and the baselines on the same gold items, uncached.

    Args:
        service: an opened service.
        items: the gold questions.
        gold: the gold file's name, for the record.
        split: the split the items come from, for the record.
        k: passages returned per question.
        systems: retrieval modes to run; the first one is ours.
        progress: show progress bars on stderr.
        answerer: ``extractive`` or ``llm``, for every system.
    """
    evaluator = uncached(service)
    runs = {mode: run_system(evaluator, items, mode, k, progress, answerer) for mode in systems}
    return Suite(gold, split, k, evaluator.model.threshold, runs)
