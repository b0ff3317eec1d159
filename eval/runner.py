"""Run gold questions through ``QAService.ask`` and score them.

This is the I/O half of the evaluation: :func:`run_system` and :func:`run_suite` ask the
service and read the cited documents. The pure half turns answers into typed results and
metrics, so it can be tested on hand-made inputs: ``eval.scoring`` (one question),
``eval.aggregate`` (one system, with the definitions of every metric), ``eval.threshold``
(the abstention threshold); the records are in ``eval.results``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import replace

from tqdm import tqdm

from eval.aggregate import aggregate
from eval.gold import GoldItem
from eval.results import Suite, SystemRun
from eval.scoring import score_answer
from qa.errors import InvalidQuestion, LLMBadReply, NotFound
from qa.records import Answer, ModelCheck
from qa.service import QAService

SYSTEMS = ("hybrid", "bm25", "dense")  # ours first, then the baselines


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
