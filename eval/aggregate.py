"""One system's metrics from its per-question results (:func:`aggregate`), overall and per
group (:func:`breakdown`). Pure, so it is tested on hand-made inputs.

Definitions (all rates are in [0, 1]):

* Retrieval metrics use the answerable items that have evidence. The returned passages
  (``k`` of them) are the ranking; the evidence is one relevant item, found at the rank of
  the first passage that contains all of it (:func:`eval.metrics.evidence.first_hit_rank`). Later
  passages that repeat it (chunks overlap by a sentence) do not count again, so nDCG@10 is
  ``1 / log2(rank + 1)`` with an ideal DCG of 1.
* Answers follow SQuAD v2: an abstention is the empty prediction, and every item scores
  exact match and F1 against its golds (an unanswerable item scores 1 for an abstention,
  0 for any answer). ``exact_match``/``f1`` are over the answerable items (SQuAD's
  HasAns), ``no_answer_*`` over the unanswerable ones (NoAns), ``overall_*`` over all.
* Accuracy is strict (:func:`eval.metrics.answers.strict_match`: the answer contains a gold and is
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

from collections.abc import Callable, Sequence

from eval.answer_types import ANSWER_TYPES
from eval.metrics.abstention import false_positive_rate, precision_recall
from eval.metrics.averages import mean, percentile
from eval.metrics.calibration import calibration_table, expected_calibration_error
from eval.metrics.ranking import hit_at_k, ndcg_at_k, reciprocal_rank
from eval.results import QuestionResult, SystemMetrics

CUTOFF = 10  # rank cutoff of MRR and nDCG
CALIBRATION_BINS = 10


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
    precision, recall = precision_recall(abstained, unanswerable)
    confidences = [r.confidence for r in answerable]
    correct = [r.correct for r in answerable]
    latencies = [r.latency_ms for r in results]
    return SystemMetrics(
        questions=len(results),
        answerable=len(answerable),
        unanswerable=len(results) - len(answerable),
        with_evidence=len(ranked),
        hit_at_1=mean([hit_at_k(r, 1) for r in ranks]),
        hit_at_5=mean([hit_at_k(r, 5) for r in ranks]),
        mrr_at_10=mean([reciprocal_rank(r, CUTOFF) for r in ranks]),
        ndcg_at_10=mean([_ndcg(r) for r in ranks]),
        accuracy=mean([float(r.correct) for r in answerable]),
        lenient_accuracy=mean([float(r.lenient_correct) for r in answerable]),
        exact_match=mean([r.exact_match for r in answerable]),
        f1=mean([r.f1 for r in answerable]),
        no_answer_exact_match=_mean_or_none([r.exact_match for r in unanswerable_items]),
        no_answer_f1=_mean_or_none([r.f1 for r in unanswerable_items]),
        overall_exact_match=mean([r.exact_match for r in results]),
        overall_f1=mean([r.f1 for r in results]),
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
        false_abstention_rate=false_positive_rate(abstained, unanswerable),
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
        ece=expected_calibration_error(confidences, correct, CALIBRATION_BINS),
        calibration=calibration_table(confidences, correct, CALIBRATION_BINS),
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
    return mean(values) if values else None


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
    return ndcg_at_k([0.0] * (rank - 1) + [1.0], CUTOFF, n_relevant=1)
