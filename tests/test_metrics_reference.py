"""The evaluation's metrics checked against references, on random and edge cases.

* Exact match and F1 against an independent implementation of the official SQuAD v2
  evaluation rules, written here from their definition: normalise (lowercase, delete
  ASCII punctuation, delete the whole words a/an/the, collapse whitespace), drop the golds
  that normalise to nothing (a question left without golds has the single gold ""),
  score the best gold, and split the means into HasAns (the question lists answers) and
  NoAns. The project's path is the one ``qa eval`` takes: ``score_answer`` then
  ``aggregate``.
* hit@k, MRR@k and nDCG@k against ranx, on rankings with ties, duplicates of the relevant
  passage, no relevant passage, empty rankings and rankings shorter than k.
"""

from __future__ import annotations

import random
import string
from collections.abc import Sequence
from typing import Any

import pytest

from eval.aggregate import CUTOFF, aggregate
from eval.gold import GoldItem
from eval.metrics.answers import exact_match, max_over_golds, token_f1
from eval.metrics.evidence import first_hit_rank
from eval.metrics.ranking import hit_at_k, ndcg_at_k, reciprocal_rank
from eval.results import QuestionResult
from eval.scoring import score_answer
from qa.records import Answer
from tests.helpers.results import result

# ---------------------------------------------------------------------------------------
# SQuAD v2, re-implemented from its definition
# ---------------------------------------------------------------------------------------

_ARTICLES = ("a", "an", "the")


def _is_word_char(ch: str) -> bool:
    # A regex word character: a letter, a digit or a number of any script, or "_".
    return ch.isalnum() or ch == "_"


def ref_normalize(text: str) -> str:
    """Lowercase, delete ASCII punctuation, drop article words, collapse whitespace."""
    lowered = text.lower()
    kept = "".join(ch for ch in lowered if ch not in string.punctuation)
    # Articles are whole runs of word characters ("the" in "the—cat" is one, in
    # "théâtre" or "the2" it is not); they become a space.
    pieces: list[str] = []
    run = ""
    for ch in kept + "\0":  # "\0" flushes the last run
        if _is_word_char(ch):
            run += ch
            continue
        if run:
            pieces.append(" " if run in _ARTICLES else run)
            run = ""
        pieces.append(ch)
    return " ".join("".join(pieces[:-1]).split())


def ref_exact(prediction: str, gold: str) -> int:
    return int(ref_normalize(prediction) == ref_normalize(gold))


def ref_f1(prediction: str, gold: str) -> float:
    pred = sorted(ref_normalize(prediction).split())
    true = sorted(ref_normalize(gold).split())
    if not pred or not true:
        return float(pred == true)
    # Tokens in common, counted with multiplicity: walk the two sorted lists.
    common = i = j = 0
    while i < len(pred) and j < len(true):
        if pred[i] == true[j]:
            common, i, j = common + 1, i + 1, j + 1
        elif pred[i] < true[j]:
            i += 1
        else:
            j += 1
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(true)
    return 2 * precision * recall / (precision + recall)


def ref_scores(prediction: str, answers: Sequence[str]) -> tuple[int, float]:
    golds = [a for a in answers if ref_normalize(a)] or [""]
    return max(ref_exact(prediction, g) for g in golds), max(ref_f1(prediction, g) for g in golds)


def ref_squad_v2(predictions: dict[str, str], answers: dict[str, list[str]]) -> dict[str, Any]:
    """The official script's figures (as fractions, not percentages)."""
    exact = {q: ref_scores(predictions[q], answers[q])[0] for q in answers}
    f1 = {q: ref_scores(predictions[q], answers[q])[1] for q in answers}
    has = [q for q in answers if answers[q]]
    no = [q for q in answers if not answers[q]]

    def avg(scores: dict[str, Any], ids: list[str]) -> float | None:
        return sum(scores[q] for q in ids) / len(ids) if ids else None

    return {
        "exact": avg(exact, list(answers)),
        "f1": avg(f1, list(answers)),
        "HasAns_exact": avg(exact, has),
        "HasAns_f1": avg(f1, has),
        "NoAns_exact": avg(exact, no),
        "NoAns_f1": avg(f1, no),
    }


def project_squad_v2(predictions: dict[str, str], answers: dict[str, list[str]]) -> dict[str, Any]:
    """The same figures the way ``qa eval`` computes them: score_answer, then aggregate.

    An empty prediction is an abstention; anything else is an answer as given.
    """
    results: list[QuestionResult] = []
    for qid, golds in answers.items():
        item = GoldItem(qid, "Question?", tuple(golds), None, "test")
        text = predictions[qid]
        answer = Answer("Question?", text or None, not text, 0.5)
        results.append(score_answer(item, answer, {}.get, latency_ms=1.0))
    m = aggregate(results)
    return {
        "exact": m.overall_exact_match,
        "f1": m.overall_f1,
        "HasAns_exact": m.exact_match if m.answerable else None,
        "HasAns_f1": m.f1 if m.answerable else None,
        "NoAns_exact": m.no_answer_exact_match,
        "NoAns_f1": m.no_answer_f1,
    }


def assert_same_figures(ours: dict[str, Any], ref: dict[str, Any]) -> None:
    assert ours.keys() == ref.keys()
    for name, value in ref.items():
        if value is None:
            assert ours[name] is None, name
        else:
            assert ours[name] == pytest.approx(value, abs=1e-12), name


# Words that stress the normalisation: articles, case, ASCII and non-ASCII punctuation,
# underscores, digits, accents, no-break spaces, and articles glued to other characters.
_VOCAB = [
    "the",
    "The",
    "THE",
    "a",
    "A",
    "an",
    "An",
    "theater",
    "anchor",
    "cat",
    "Cat",
    "cats",
    "sat",
    "2010",
    "20",
    "U.S.",
    "u.s",
    "Japan's",
    "japan’s",
    "—",
    "–",
    "“quoted”",
    '"quoted"',
    "!",
    "?!",
    "...",
    "-",
    "_",
    "the_cat",
    "the-cat",
    "the—cat",
    "éthe",
    "théâtre",
    "the2",
    "a1",
    "9,000",
    "9000",
    "¥211",
    "Tokyo,",
    "tokyo",
    "\u00a0",
    "\t",
    "Ω",
    "ß",
    "İ",
    "½",
    "",
]


def random_text(rng: random.Random, max_words: int = 6) -> str:
    words = rng.choices(_VOCAB, k=rng.randint(0, max_words))
    separators = [rng.choice([" ", "  ", "", "\n", "\u00a0"]) for _ in words]
    return "".join(w + s for w, s in zip(words, separators, strict=True))


@pytest.mark.parametrize(
    ("prediction", "gold"),
    [
        ("", ""),
        ("", "cat"),
        ("cat", ""),
        ("!!!", "?"),  # punctuation only: both empty
        ("the a an", "The"),  # articles only: both empty
        ("the cat the cat", "cat"),  # repeated tokens
        ("cat cat", "cat cat cat"),
        ("The—cat", "cat"),  # an em dash is not ASCII punctuation: "the" stays a word
        ("the_cat", "thecat"),  # "_" is punctuation
        ("théâtre", "théâtre"),
        ("U.S. Navy", "us navy"),
        ("9,000 Marines", "9000"),
        ("İstanbul", "i̇stanbul"),  # lowercasing can change the length
        ("½ of it", "½"),
    ],
)
def test_single_pair_em_and_f1_match_the_reference(prediction: str, gold: str) -> None:
    assert exact_match(prediction, gold) == ref_exact(prediction, gold)
    assert token_f1(prediction, gold) == pytest.approx(ref_f1(prediction, gold), abs=1e-12)


@pytest.mark.parametrize(
    ("prediction", "golds"),
    [
        ("", ["The", "Paris"]),  # today's bug: "The" scored the abstention 1.0
        ("", ["the", "!"]),  # no usable gold: an abstention is right
        ("Paris", ["the", "!"]),
        ("", []),
        ("anything", []),
        ("The", []),  # an answer that normalises to nothing is an abstention
        ("Paris", ["Paris", "paris", "PARIS."]),  # duplicate golds
        ("in Paris, France", ["Paris", "France", "Paris France"]),
    ],
)
def test_scores_over_golds_match_the_reference(prediction: str, golds: list[str]) -> None:
    ref_em, ref_f = ref_scores(prediction, golds)
    assert max_over_golds(exact_match, prediction, golds) == ref_em
    assert max_over_golds(token_f1, prediction, golds) == pytest.approx(ref_f, abs=1e-12)


def test_abstention_against_an_article_gold_is_wrong_in_the_pipeline() -> None:
    answers = {"q1": ["The", "Paris"], "q2": []}
    predictions = {"q1": "", "q2": ""}
    ours = project_squad_v2(predictions, answers)
    assert ours == ref_squad_v2(predictions, answers)
    assert (ours["HasAns_exact"], ours["NoAns_exact"], ours["exact"]) == (0.0, 1.0, 0.5)


@pytest.mark.parametrize("seed", range(6))
def test_random_question_sets_match_the_reference(seed: int) -> None:
    rng = random.Random(seed)
    answers: dict[str, list[str]] = {}
    predictions: dict[str, str] = {}
    for n in range(120):
        qid = f"q{n:03d}"
        golds = [random_text(rng) for _ in range(rng.choice([0, 0, 1, 1, 2, 3]))]
        if golds and rng.random() < 0.2:
            golds.append(golds[0])  # a duplicate gold
        answers[qid] = golds
        roll = rng.random()
        if roll < 0.2:
            predictions[qid] = ""  # abstain
        elif roll < 0.5 and golds:
            # a gold with words added around it
            predictions[qid] = f"{random_text(rng, 3)} {rng.choice(golds)} {random_text(rng, 3)}"
        else:
            predictions[qid] = random_text(rng, 8)
    assert_same_figures(project_squad_v2(predictions, answers), ref_squad_v2(predictions, answers))


# ---------------------------------------------------------------------------------------
# Ranking metrics against ranx
# ---------------------------------------------------------------------------------------

ranx = pytest.importorskip("ranx")


def ranx_scores(
    qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]], metrics: list[str]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """ranx's per-query scores, and each query's ranking in the order ranx resolved ties."""
    ranx_run = ranx.Run(run)
    ranx_run.sort()
    order = {q: list(ranx_run.run[q].keys()) if run[q] else [] for q in run}
    scores = ranx.evaluate(ranx.Qrels(qrels), ranx_run, metrics, return_mean=False)
    return scores, order


def random_ranking(rng: random.Random, n_docs: int) -> dict[str, float]:
    """Scores for up to ``n_docs`` documents, with many ties (few distinct values)."""
    size = rng.randint(0, n_docs)
    return {
        f"d{i}": float(rng.choice([0.1, 0.5, 0.5, 0.9, 1.0])) for i in rng.sample(range(40), size)
    }


@pytest.mark.parametrize("k", [1, 3, 5, 10, 25])
def test_multi_relevant_rankings_match_ranx(k: int) -> None:
    rng = random.Random(k)
    qrels: dict[str, dict[str, int]] = {}
    run: dict[str, dict[str, float]] = {}
    for n in range(150):
        qid = f"q{n:03d}"
        run[qid] = random_ranking(rng, 15)  # often shorter than k = 25
        relevant = rng.sample(range(40), rng.randint(1, 4))  # often not retrieved at all
        qrels[qid] = {f"d{i}": 1 for i in relevant}
    names = [f"hit_rate@{k}", f"mrr@{k}", f"ndcg@{k}"]
    scores, order = ranx_scores(qrels, run, names)
    for n, qid in enumerate(qrels):
        gains = [1.0 if doc in qrels[qid] else 0.0 for doc in order[qid]]
        rank = next((i for i, g in enumerate(gains, start=1) if g), None)
        assert hit_at_k(rank, k) == scores[names[0]][n], qid
        assert reciprocal_rank(rank, k) == pytest.approx(scores[names[1]][n], abs=1e-12), qid
        ours = ndcg_at_k(gains, k, n_relevant=len(qrels[qid]))
        assert ours == pytest.approx(scores[names[2]][n], abs=1e-12), qid


def test_graded_ndcg_matches_ranx_when_every_relevant_item_is_ranked() -> None:
    rng = random.Random(7)
    qrels: dict[str, dict[str, int]] = {}
    run: dict[str, dict[str, float]] = {}
    for n in range(100):
        qid = f"q{n:03d}"
        run[qid] = random_ranking(rng, 12) or {"d0": 1.0}
        docs = list(run[qid])
        qrels[qid] = {d: rng.randint(1, 3) for d in rng.sample(docs, rng.randint(1, len(docs)))}
    scores, order = ranx_scores(qrels, run, ["ndcg@5", "ndcg@20"])
    for n, qid in enumerate(qrels):
        gains = [float(qrels[qid].get(doc, 0)) for doc in order[qid]]
        assert ndcg_at_k(gains, 5) == pytest.approx(scores["ndcg@5"][n], abs=1e-12)
        assert ndcg_at_k(gains, 20) == pytest.approx(scores["ndcg@20"][n], abs=1e-12)


EVIDENCE = "The U.S. Navy visited Yokosuka in 2024."
_OTHER = ["Navy visited Yokosuka in 2024.", "The U.S. Navy visited.", "Unrelated text."]


def _passages(rng: random.Random) -> list[str]:
    """Up to 12 passages; several may hold the evidence (overlapping chunks), or none."""
    passages = []
    for n in range(rng.randint(0, 12)):
        if rng.random() < 0.25:
            passages.append(f"Passage {n}. {EVIDENCE} More.")
        else:
            passages.append(f"Passage {n}. {rng.choice(_OTHER)}")
    return passages


def test_evaluation_ranks_match_ranx() -> None:
    """The runner's figures (first passage holding the evidence, aggregated) equal ranx's.

    The evidence is one relevant item: a later passage that repeats it is a duplicate,
    which ranx sees as a different, non-relevant document.
    """
    rng = random.Random(11)
    qrels: dict[str, dict[str, int]] = {}
    run: dict[str, dict[str, float]] = {}
    results = []
    for n in range(200):
        qid = f"q{n:03d}"
        passages = _passages(rng)
        rank = first_hit_rank(passages, EVIDENCE)
        qrels[qid] = {"evidence": 1}
        run[qid] = {
            ("evidence" if i == rank else f"p{i}"): float(len(passages) - i)
            for i in range(1, len(passages) + 1)
        }
        results.append(_ranked_result(qid, rank))
    names = ["hit_rate@1", "hit_rate@5", f"mrr@{CUTOFF}", f"ndcg@{CUTOFF}"]
    expected = ranx.evaluate(ranx.Qrels(qrels), ranx.Run(run), names)
    m = aggregate(results)
    ours = [m.hit_at_1, m.hit_at_5, m.mrr_at_10, m.ndcg_at_10]
    assert ours == pytest.approx([expected[name] for name in names], abs=1e-12)
    # The sample covers the edge cases.
    ranks = [r.evidence_rank for r in results]
    assert None in ranks and any(r is not None and r > 5 for r in ranks)
    assert any(not run[q] for q in run)


def _ranked_result(qid: str, rank: int | None) -> QuestionResult:
    return result(id=qid, evidence=EVIDENCE, confidence=0.5, evidence_rank=rank, citations=0,
                  citations_verified=0, citations_with_evidence=0, passages=0,
                  passages_verified=0, latency_ms=1.0)


@pytest.mark.parametrize(
    ("gains", "k"),
    [
        ([], 10),  # nothing retrieved
        ([0.0, 0.0, 0.0], 10),  # relevant item absent, list shorter than k
        ([0.0] * 12 + [1.0], 10),  # relevant beyond the cutoff
        ([0.0, 1.0], 10),  # k beyond the list
        ([1.0], 1),
    ],
)
def test_single_relevant_edge_cases_match_ranx(gains: list[float], k: int) -> None:
    docs = ["rel" if g else f"d{i}" for i, g in enumerate(gains)]
    # ranx cannot build a run whose only query is empty: a second query keeps it company.
    run = {"q": {d: float(len(docs) - i) for i, d in enumerate(docs)}, "z": {"x": 1.0}}
    qrels = {"q": {"rel": 1}, "z": {"x": 1}}
    names = [f"hit_rate@{k}", f"mrr@{k}", f"ndcg@{k}"]
    scores = ranx.evaluate(ranx.Qrels(qrels), ranx.Run(run), names, return_mean=False)
    expected = [scores[name][0] for name in names]  # "q" sorts first
    rank = docs.index("rel") + 1 if "rel" in docs else None
    assert hit_at_k(rank, k) == expected[0]
    assert reciprocal_rank(rank, k) == pytest.approx(expected[1], abs=1e-12)
    assert ndcg_at_k(gains, k, n_relevant=1) == pytest.approx(expected[2], abs=1e-12)
