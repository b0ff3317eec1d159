"""The evaluation runner, report and ``qa eval`` command, on hand-made results and a fake service.

The fake service (``make_service``: hashing embedder, three tiny documents) is fast and
deterministic; the real model is exercised by ``test_eval_gate.py``.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

import pytest

from eval.aggregate import aggregate
from eval.cli import run_eval_command
from eval.gold import GoldItem, load_gold
from eval.report import markdown_report, metrics_svg, write_report
from eval.results import QuestionResult, Suite, SystemMetrics, SystemRun
from eval.runner import SYSTEMS, run_suite, uncached
from eval.scoring import score_answer
from eval.threshold import fit_threshold
from qa.cli import _parser, main
from qa.reader.model import load_model
from qa.records import Answer, Citation, Passage
from tests.helpers.results import result

# One paragraph per document, so each is a single chunk and a question's evidence is in
# the one document that shares its words.
DOCS = {
    "bridges.txt": (
        "The Riverton suspension bridge opened to traffic in 1987. "
        "It spans the Clear River and carries four lanes of traffic.\n"
    ),
    "orchards.txt": (
        "The valley orchards grow apples and pears. "
        "Harvest festivals are held every October in Millbrook.\n"
    ),
    "lighthouse.txt": (
        "The harbour lighthouse was built by engineer Clara Hughes. "
        "Its lamp can be seen from twenty miles at sea.\n"
    ),
}
GOLD = [
    {
        "id": "bridge",
        "question": "In what year did the Riverton suspension bridge open?",
        "answers": ["1987"],
        "evidence": "The Riverton suspension bridge opened to traffic in 1987.",
    },
    {
        "id": "fruit",
        "question": "Which fruits do the valley orchards grow?",
        "answers": ["apples and pears"],
        "evidence": "The valley orchards grow apples and pears.",
    },
    {
        "id": "builder",
        "question": "Who built the harbour lighthouse?",
        "answers": ["Clara Hughes"],
        "evidence": "The harbour lighthouse was built by engineer Clara Hughes.",
    },
    {
        "id": "lisbon",
        "question": "What is the population of Lisbon?",
        "answers": [],
        "evidence": None,
    },
]


# -- helpers -----------------------------------------------------------------------------





def suite_of(runs: dict[str, list[QuestionResult]]) -> Suite:
    systems = {mode: SystemRun(mode, tuple(rs), aggregate(rs)) for mode, rs in runs.items()}
    return Suite("gold.jsonl", "dev", 10, 0.5, systems)


def write_gold(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def open_service(make_service: Any, threshold: float) -> Any:
    """The fake service over the three documents with a forced abstention threshold.

    The confidence model is fitted to the real embedder, so with the fake one only the two
    extremes are predictable: 0 never abstains (when passages were found), 1 always does.
    """
    svc = make_service(DOCS, abstain_threshold=threshold)
    svc.open()
    return svc


@pytest.fixture()
def service(make_service: Any) -> Any:
    """The fake service, answering every question it finds passages for."""
    return open_service(make_service, 0.0)


@pytest.fixture()
def gold_file(tmp_path: Path) -> Path:
    return write_gold(tmp_path / "other.jsonl", GOLD)


def eval_args(*argv: str) -> Any:
    return _parser().parse_args(["eval", *argv])


# -- aggregation (pure) --------------------------------------------------------------------


def test_aggregate_matches_hand_computed_metrics() -> None:
    results = [
        result(id="a", confidence=0.9, latency_ms=10.0),
        result(
            id="b",
            answer="wrong",
            confidence=0.8,
            evidence_rank=3,
            correct=False,
            exact_match=0.0,
            f1=0.5,
            citations=2,
            citations_with_evidence=0,
            answer_in_citation=False,
            latency_ms=20.0,
        ),
        result(
            id="c",
            answer=None,
            abstained=True,
            confidence=0.2,
            evidence_rank=None,
            correct=False,
            exact_match=0.0,
            f1=0.0,
            citations=0,
            citations_verified=0,
            citations_with_evidence=0,
            answer_in_citation=None,
            latency_ms=30.0,
        ),
        result(
            id="d",
            golds=(),
            evidence=None,
            answer=None,
            abstained=True,
            confidence=0.1,
            evidence_rank=None,
            correct=False,
            citations=0,
            citations_verified=0,
            citations_with_evidence=0,
            answer_in_citation=None,
            latency_ms=40.0,
        ),
        result(
            id="e",
            golds=(),
            evidence=None,
            answer="made up",
            confidence=0.6,
            evidence_rank=None,
            correct=False,
            citations_with_evidence=0,
            passages_verified=4,
            latency_ms=50.0,
        ),
    ]
    m = aggregate(results)
    assert (m.questions, m.answerable, m.unanswerable, m.with_evidence) == (5, 3, 2, 3)
    # ranks 1, 3, none
    assert m.hit_at_1 == pytest.approx(1 / 3)
    assert m.hit_at_5 == pytest.approx(2 / 3)
    assert m.mrr_at_10 == pytest.approx((1 + 1 / 3) / 3)
    assert m.ndcg_at_10 == pytest.approx((1 + 1 / math.log2(4)) / 3)
    # answers on a, b, c; the abstention on c counts as wrong
    assert m.accuracy == pytest.approx(1 / 3)
    assert m.exact_match == pytest.approx(1 / 3)
    assert m.f1 == pytest.approx(0.5)
    # citations: a 1/1, b 1/2, e 1/1 verified; evidence only on a (b's two miss it, and
    # e's citation on an unanswerable question is wrong)
    assert m.citations == 4
    assert m.citation_verification == pytest.approx(3 / 4)
    assert m.passage_verification == pytest.approx(24 / 25)
    assert m.citation_precision == pytest.approx(1 / 4)
    assert m.answer_in_citation == pytest.approx(2 / 3)
    # abstained c, d; unanswerable d, e
    assert m.abstention_precision == pytest.approx(1 / 2)
    assert m.abstention_recall == pytest.approx(1 / 2)
    assert m.false_abstention_rate == pytest.approx(1 / 3)
    assert m.latency_p50_ms == pytest.approx(30.0)
    assert m.latency_p95_ms == pytest.approx(48.0)
    # confidence 0.9 right, 0.8 wrong, 0.2 wrong: each alone in its bin
    assert m.ece == pytest.approx((0.1 + 0.8 + 0.2) / 3)
    filled = [(b["lo"], b["count"], b["accuracy"]) for b in m.calibration if b["count"]]
    assert filled == [(0.2, 1, 0.0), (0.8, 1, 0.0), (0.9, 1, 1.0)]


def test_aggregate_says_nothing_measured_rather_than_perfect() -> None:
    m = aggregate([result(golds=(), evidence=None, abstained=True, answer=None, citations=0)])
    assert m.citation_verification is None
    assert m.citation_precision is None
    assert m.with_evidence == 0 and m.hit_at_5 == 0.0
    with pytest.raises(ValueError, match="no results"):
        aggregate([])


def test_score_answer_verifies_quotes_against_the_document() -> None:
    text = "Intro. The bridge opened in 1987. The end."
    start = text.index("The bridge")
    good = Citation("d.txt", "c1", "S", start, start + 26, "The bridge opened in 1987.", 1.0)
    misplaced = replace(good, start=start + 1, end=start + 27)  # right quote, wrong offsets
    tail = text.index("The end.")
    other = Citation("d.txt", "c1", "S", tail, tail + 8, "The end.", 0.5)
    passage = Passage("d.txt", "c1", "S", 0, len(text), text, 0.5)
    elsewhere = Passage("other.txt", "c2", "S", 0, 5, "Intro", 0.4)
    answer = Answer("When?", "1987", False, 0.8, [good, misplaced, other], [elsewhere, passage])
    item = GoldItem("q", "When?", ("1987",), "The bridge  opened in 1987.", "dev")

    r = score_answer(item, answer, {"d.txt": text}.get, latency_ms=5.0)

    assert (r.citations, r.citations_verified) == (3, 2)
    assert (r.passages, r.passages_verified) == (2, 1)  # other.txt is not a known document
    assert r.citations_with_evidence == 2
    assert r.evidence_rank == 2
    assert r.correct and r.exact_match == 1.0 and r.f1 == 1.0
    assert r.answer_in_citation is True and r.passed


def test_the_results_say_where_each_citation_and_passage_points_pages_included() -> None:
    text = "Intro. The bridge opened in 1987. The end."
    cited = Citation("d.pdf", "c1", "S", 7, 33, text[7:33], 1.0, 2, 3)
    passage = Passage("d.pdf", "c1", "S", 0, len(text), text, 0.5, 1, 3)
    plain = Passage("e.txt", "c2", "T", 0, 5, "Intro", 0.4)
    answer = Answer("When?", "1987", False, 0.8, [cited], [passage, plain])
    item = GoldItem("q", "When?", ("1987",), "The bridge opened in 1987.", "dev")
    r = score_answer(item, answer, {"d.pdf": text}.get, latency_ms=5.0)
    assert [asdict(c) for c in r.cited] == [
        {"doc_id": "d.pdf", "section": "S", "start": 7, "end": 33, "page_start": 2, "page_end": 3}]
    assert [(p.page_start, p.page_end) for p in r.passage_spans] == [(1, 3), (None, None)]
    assert asdict(r)["cited"][0]["page_start"] == 2  # what results.json and --json print


def test_score_answer_treats_an_abstention_as_an_empty_prediction() -> None:
    answer = Answer("Who?", None, True, 0.1, [], [])
    item = GoldItem("q", "Who?", ("Clara",), "Clara built it.", "dev")
    r = score_answer(item, answer, {}.get, latency_ms=1.0)
    assert not r.correct and r.exact_match == 0.0 and r.f1 == 0.0
    assert r.answer_in_citation is None and r.evidence_rank is None and not r.passed
    unanswerable = GoldItem("u", "Who?", (), None, "dev")
    assert score_answer(unanswerable, answer, {}.get, latency_ms=1.0).passed


# -- threshold fitting (pure) -----------------------------------------------------------


def test_fit_threshold_maximises_recall_within_the_false_abstention_limit() -> None:
    confidences = [0.9, 0.8, 0.7, 0.3, 0.2, 0.5]
    unanswerable = [False, False, False, False, True, True]
    # Withholding any of the 4 answerable ones costs 0.25 > 0.05: only 0.2 can go.
    strict = fit_threshold(confidences, unanswerable, max_false_abstention=0.05)
    assert strict.threshold == pytest.approx(0.25)
    assert (strict.abstention_recall, strict.false_abstention_rate) == (0.5, 0.0)
    assert strict.abstention_precision == 1.0
    # Allowing one: 0.4 and 0.6 both withhold one answerable item; 0.6 also catches 0.5.
    loose = fit_threshold(confidences, unanswerable, max_false_abstention=0.3)
    assert loose.threshold == pytest.approx(0.6)
    assert (loose.abstention_recall, loose.false_abstention_rate) == (1.0, 0.25)


def test_fit_threshold_prefers_the_lower_threshold_on_ties() -> None:
    # 0.45 and 0.55 both catch the one unanswerable item without withholding an answer.
    choice = fit_threshold([0.4, 0.5, 0.6], [True, False, False], max_false_abstention=0.05)
    assert choice.threshold == pytest.approx(0.45)
    with pytest.raises(ValueError, match="no unanswerable"):
        fit_threshold([0.4, 0.9], [False, False])


# -- the runner on the fake service -----------------------------------------------------


def test_runner_scores_the_fake_service(service: Any, gold_file: Path) -> None:
    items = load_gold(gold_file)
    suite = run_suite(service, items, gold=str(gold_file), split="all", k=10)
    assert list(suite.systems) == list(SYSTEMS)
    assert suite.threshold == 0.0
    ours = suite.systems["hybrid"]
    by_id = {r.id: r for r in ours.results}
    assert [by_id[i].evidence_rank for i in ("bridge", "fruit", "builder")] == [1, 1, 1]
    assert by_id["bridge"].answer == "1987" and by_id["bridge"].exact_match == 1.0
    assert all(by_id[i].lenient_correct for i in ("bridge", "fruit", "builder"))
    assert not by_id["lisbon"].abstained and by_id["lisbon"].evidence_rank is None

    m = ours.metrics
    assert (m.questions, m.answerable, m.unanswerable, m.with_evidence) == (4, 3, 1, 3)
    assert m.hit_at_1 == m.hit_at_5 == m.mrr_at_10 == m.ndcg_at_10 == 1.0
    assert m.lenient_accuracy == 1.0  # strict accuracy depends on how short the answers are
    assert m.citations == 4  # one per answer, the made-up Lisbon answer included
    assert m.citation_verification == m.passage_verification == 1.0
    assert m.citation_precision == 3 / 4  # the made-up Lisbon answer's citation is wrong
    assert m.answer_in_citation == 1.0
    # Nothing abstained although one question is unanswerable.
    assert (m.abstention_precision, m.abstention_recall, m.false_abstention_rate) == (0, 0, 0)
    quantiles = [m.latency_p50_ms, m.latency_p95_ms]  # order and sign only, never a time limit
    assert all(v > 0 for v in quantiles) and sorted(quantiles) == quantiles
    for baseline in ("bm25", "dense"):
        other = suite.systems[baseline]
        assert [r.id for r in other.results] == [g["id"] for g in GOLD]
        assert other.metrics.hit_at_1 == 1.0
        assert other.metrics.citation_verification in (None, 1.0)


def test_runner_counts_abstentions(make_service: Any, gold_file: Path) -> None:
    always = open_service(make_service, 1.0)
    suite = run_suite(always, load_gold(gold_file), gold="g", split="all", systems=("hybrid",))
    m = suite.systems["hybrid"].metrics
    assert m.hit_at_5 == 1.0  # retrieval is scored whether or not the system answers
    assert (m.accuracy, m.exact_match, m.f1, m.citations) == (0, 0, 0, 0)
    assert m.citation_verification is None and m.answer_in_citation is None
    assert (m.abstention_precision, m.abstention_recall, m.false_abstention_rate) == (0.25, 1, 1)


def test_evaluation_bypasses_the_answer_cache(make_service: Any) -> None:
    cached = make_service(DOCS)
    cached.open()
    twin = uncached(cached)
    assert cached.settings.cache_size > 0 and twin.settings.cache_size == 0
    assert twin.model is cached.model and twin.embedder is cached.embedder
    assert uncached(twin) is twin


# -- the command ----------------------------------------------------------------------


def test_qa_eval_json_runs_any_gold_file(
    service: Any, gold_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setattr("qa.cli._open_service", lambda args: service)
    assert main(["eval", "--gold", str(gold_file), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"split", "gold", "k", "systems", "abstain_threshold", "questions"} <= set(out)
    assert (out["split"], out["gold"], out["k"]) == ("all", str(gold_file), 10)
    assert out["abstain_threshold"] == 0.0
    metric_names = {f.name for f in fields(SystemMetrics)}
    assert set(out["systems"]) == set(SYSTEMS)
    for metrics in out["systems"].values():
        assert set(metrics) == metric_names
    assert [q["id"] for q in out["questions"]] == [g["id"] for g in GOLD]
    assert set(out["questions"][0]["baselines"]) == {"bm25", "dense"}
    assert out["questions"][0]["passed"] is True


def test_qa_eval_plain_output_is_a_headline_table(
    service: Any, gold_file: Path, capsys: Any
) -> None:
    args = eval_args("--gold", str(gold_file), "--no-baselines")
    assert run_eval_command(args, service) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith("abstain threshold 0")
    header = next(line for line in out.splitlines() if line.startswith("metric"))
    assert header.split() == ["metric", "hybrid"]
    assert any(line.split()[-1] == "1.000" for line in out.splitlines() if "hit@5" in line)


def test_qa_eval_report_writes_markdown_svg_and_json(
    service: Any, gold_file: Path, tmp_path: Path, capsys: Any
) -> None:
    folder = tmp_path / "report"
    assert (
        run_eval_command(eval_args("--gold", str(gold_file), "--report", str(folder)), service) == 0
    )
    svg = ET.parse(folder / "metrics.svg").getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    labels = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")}
    assert set(SYSTEMS) <= labels and "hit@5" in labels
    report = (folder / "report.md").read_text("utf-8")
    assert "![Headline metrics per system](metrics.svg)" in report
    assert all(g["question"] in report for g in GOLD)
    results = json.loads((folder / "results.json").read_text("utf-8"))
    assert set(results["systems"]) == set(SYSTEMS)


def test_report_lists_failures_first_and_draws_one_bar_per_value() -> None:
    suite = suite_of(
        {
            "hybrid": [
                result(id="good", question="Is it fine?"),
                result(id="bad", question="Is it | broken?", answer="no", correct=False),
            ],
            "bm25": [result(id="good"), result(id="bad")],
        }
    )
    report = markdown_report(suite, chart="metrics.svg")
    assert report.index("| **FAIL** | bad |") < report.index("| pass | good |")
    assert "Is it \\| broken?" in report  # pipes escaped inside table cells
    svg = ET.fromstring(metrics_svg(suite))
    bars = [r for r in svg.iter("{http://www.w3.org/2000/svg}rect") if r.find("*") is not None]
    assert len(bars) == 10 * 2  # ten charted metrics, two systems, all measured


def test_write_report_creates_the_folder(tmp_path: Path) -> None:
    written = write_report(suite_of({"hybrid": [result()]}), tmp_path / "new" / "dir")
    assert sorted(p.name for p in written) == ["metrics.svg", "report.md", "results.json"]
    assert all(p.is_file() for p in written)


def test_calibrate_writes_the_fitted_threshold(
    service: Any, gold_file: Path, tmp_path: Path, capsys: Any
) -> None:
    target = tmp_path / "model.json"
    args = eval_args("--gold", str(gold_file), "--no-baselines", "--calibrate", "--json")
    assert run_eval_command(args, service, calibration_file=target) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert "abstention threshold set to" in captured.err
    saved = json.loads(target.read_text("utf-8"))
    threshold = saved["threshold"]
    expected = fit_threshold(
        [q["confidence"] for q in out["questions"]], [not q["golds"] for q in out["questions"]]
    )
    assert threshold == expected.threshold == out["calibration"]["threshold"]
    assert "--calibrate" in saved["fitted"] and "(all)" in saved["fitted"]
    # Only the threshold changes; the fitted models are kept.
    reloaded = load_model(target)
    assert reloaded.threshold == threshold
    assert reloaded.ranker.to_dict() == service.model.ranker.to_dict()
    assert reloaded.confidence.to_dict() == service.model.confidence.to_dict()


def test_missing_or_malformed_gold_is_one_clear_error(
    service: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    with pytest.raises(ValueError, match="gold file not found"):
        run_eval_command(eval_args("--gold", str(tmp_path / "none.jsonl")), service)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "x", "question": "Why?"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.jsonl:1: malformed JSON"):
        run_eval_command(eval_args("--gold", str(broken)), service)
    with pytest.raises(ValueError, match="no gold questions in split 'dev'"):
        run_eval_command(
            eval_args("--gold", str(write_gold(tmp_path / "g.jsonl", GOLD)), "--split", "dev"),
            service,
        )

    monkeypatch.setattr("qa.cli._open_service", lambda args: service)
    assert main(["eval", "--gold", str(broken)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "malformed JSON" in err
