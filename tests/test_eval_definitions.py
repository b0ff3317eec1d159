"""The metric definitions of issue 12, on hand-made answers: strict and lenient accuracy,
SQuAD v2 HasAns/NoAns/overall, whole-evidence matching, citation precision over every
citation, calibration on strict accuracy, and the breakdowns by answer type and document.
"""

from __future__ import annotations

from typing import Any

import pytest

from eval.aggregate import aggregate, by_answer_type, by_document
from eval.gold import GoldItem
from eval.report import markdown_report
from eval.results import QuestionResult, Suite, SystemRun
from eval.scoring import score_answer
from qa.records import Answer, Citation, Passage

TEXT = "Intro. The U.S. Navy visited Yokosuka in 2024. It stayed. The end."
SENTENCE = "The U.S. Navy visited Yokosuka in 2024."
DOCS = {"a.txt": "Other things.", "b.txt": TEXT}


def citation(quote: str, doc_id: str = "b.txt") -> Citation:
    start = DOCS[doc_id].index(quote)
    return Citation(doc_id, "c1", "S", start, start + len(quote), quote, 1.0)


def passage(text: str, doc_id: str = "b.txt") -> Passage:
    start = DOCS[doc_id].index(text)
    return Passage(doc_id, "c1", "S", start, start + len(text), text, 1.0)


def score(item: GoldItem, answer: Answer) -> QuestionResult:
    return score_answer(item, answer, DOCS.get, latency_ms=1.0, documents=sorted(DOCS))


WHEN = GoldItem(
    "w", "When did the Navy visit Yokosuka?", ("2024",), SENTENCE, "test", {"type": "when"}
)
NONE = GoldItem("u", "Who won the 2022 World Cup?", (), None, "test", {"type": "unanswerable"})


def test_a_whole_sentence_is_lenient_but_not_strict() -> None:
    long = score(WHEN, Answer(WHEN.question, SENTENCE, False, 0.9, [citation(SENTENCE)]))
    # "us navy visited yokosuka in 2024": 6 tokens > 2 * 1 + 3
    assert long.lenient_correct and not long.correct and not long.passed
    assert long.exact_match == 0.0 and long.f1 == pytest.approx(2 * (1 / 6) / (1 + 1 / 6))
    short = score(WHEN, Answer(WHEN.question, "in 2024", False, 0.9, [citation(SENTENCE)]))
    assert short.correct and short.lenient_correct and short.passed


def test_unanswerable_items_score_squad_v2_no_answer() -> None:
    abstained = score(NONE, Answer(NONE.question, None, True, 0.1))
    answered = score(NONE, Answer(NONE.question, "Argentina", False, 0.6, [citation("It stayed.")]))
    assert (abstained.exact_match, abstained.f1) == (1.0, 1.0)
    assert (answered.exact_match, answered.f1) == (0.0, 0.0)
    m = aggregate([abstained, answered])
    assert (m.no_answer_exact_match, m.no_answer_f1) == (0.5, 0.5)
    assert (m.overall_exact_match, m.overall_f1) == (0.5, 0.5)
    # The citation given on the unanswerable question is wrong.
    assert m.citations == 1 and m.citation_precision == 0.0


def test_retrieval_needs_the_whole_evidence() -> None:
    fragment = "Navy visited Yokosuka in 2024."  # what a split after "U.S." leaves
    answer = Answer(
        WHEN.question, "2024", False, 0.9, [citation(fragment)], [passage(fragment), passage(TEXT)]
    )
    r = score(WHEN, answer)
    assert r.evidence_rank == 2
    assert r.citations_with_evidence == 0  # the fragment quote is not the evidence


def test_aggregate_of_strict_lenient_and_v2_figures() -> None:
    results = [
        score(WHEN, Answer(WHEN.question, "2024", False, 0.9, [citation(SENTENCE)])),
        score(WHEN, Answer(WHEN.question, SENTENCE, False, 0.8, [citation(SENTENCE)])),
        score(WHEN, Answer(WHEN.question, None, True, 0.2)),
        score(NONE, Answer(NONE.question, None, True, 0.1)),
    ]
    m = aggregate(results)
    assert m.accuracy == pytest.approx(1 / 3) and m.lenient_accuracy == pytest.approx(2 / 3)
    f1_long = 2 / 7  # P = 1/6, R = 1: 2 * (1/6) / (7/6)
    assert m.exact_match == pytest.approx(1 / 3)
    assert m.f1 == pytest.approx((1 + f1_long) / 3)
    assert m.no_answer_exact_match == 1.0
    assert m.overall_exact_match == pytest.approx(2 / 4)
    assert m.overall_f1 == pytest.approx((1 + f1_long + 0 + 1) / 4)
    # Calibration uses strict accuracy: 0.8 (a lenient-only answer) counts as wrong.
    filled = [(b["lo"], b["accuracy"]) for b in m.calibration if b["count"]]
    assert filled == [(0.2, 0.0), (0.8, 0.0), (0.9, 1.0)]
    assert m.ece == pytest.approx((0.2 + 0.8 + 0.1) / 3)


def test_document_is_where_the_evidence_is_else_the_cited_one() -> None:
    assert score(WHEN, Answer(WHEN.question, None, True, 0.1)).document == "b.txt"
    cited = Answer(NONE.question, "x", False, 0.6, [citation("Other things.", "a.txt")])
    assert score(NONE, cited).document == "a.txt"
    assert score(NONE, Answer(NONE.question, None, True, 0.1)).document is None
    declared = GoldItem("d", "Q?", ("2024",), SENTENCE, "test", {"doc_id": "c.txt"})
    assert score(declared, Answer("Q?", None, True, 0.1)).document == "c.txt"


def test_breakdowns_group_every_metric() -> None:
    who = GoldItem("p", "Who visited Yokosuka?", ("U.S. Navy",), SENTENCE, "test", {"type": "who"})
    results = [
        score(NONE, Answer(NONE.question, None, True, 0.1)),
        score(who, Answer(who.question, "The U.S. Navy", False, 0.9, [citation(SENTENCE)])),
        score(WHEN, Answer(WHEN.question, SENTENCE, False, 0.8, [citation(SENTENCE)])),
    ]
    types = by_answer_type(results)
    # in ANSWER_TYPES order; the Navy is an organisation, the World Cup winner a person
    assert list(types) == ["date", "person", "organisation"]
    assert types["organisation"].accuracy == 1.0 and types["date"].accuracy == 0.0
    assert types["person"].unanswerable == 1 and types["person"].abstention_recall == 1.0
    documents = by_document(results)
    assert list(documents) == ["(none)", "b.txt"]
    assert documents["b.txt"].answerable == 2 and documents["(none)"].unanswerable == 1

    suite = Suite(
        "gold.jsonl",
        "test",
        10,
        0.5,
        {"hybrid": SystemRun("hybrid", tuple(results), aggregate(results))},
    )
    report = markdown_report(suite, chart="metrics.svg")
    assert "## By answer type (hybrid)" in report and "## By document (hybrid)" in report
    type_table = _section(report, "## By answer type")
    assert type_table[0] == "| metric | date | person | organisation |"
    # A group without unanswerable questions has no abstention recall, one without
    # answerable questions no accuracy.
    assert _row(type_table, "abstention recall") == ["n/a", "1.000", "n/a"]
    assert _row(type_table, "strict accuracy") == ["0.000", "n/a", "1.000"]
    # No passages were returned here, so b.txt has hit@1 0; "(none)" has no evidence.
    assert _row(_section(report, "## By document"), "hit@1") == ["n/a", "0.000"]


def _section(report: str, heading: str) -> list[str]:
    lines = report.split(heading, 1)[1].splitlines()
    return [line for line in lines[1:] if line.startswith("|")][:30]


def _row(table: list[str], label: str) -> list[Any]:
    row = next(line for line in table if line.startswith(f"| {label} |"))
    return [cell.strip() for cell in row.strip("|").split("|")[1:]]
