"""Unit tests for eval.metrics (one module per thing measured), on hand-computed cases (arithmetic in comments).

tests/test_metrics_reference.py checks the same functions against an independent
implementation of the SQuAD v2 rules and against ranx.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

# Make the repository root importable when pytest is run from another cwd.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from eval.metrics.abstention import false_positive_rate, precision_recall  # noqa: E402
from eval.metrics.answers import (  # noqa: E402
    answer_contains,
    exact_match,
    max_over_golds,
    normalize_answer,
    strict_match,
    token_f1,
    usable_golds,
)
from eval.metrics.averages import mean, percentile  # noqa: E402
from eval.metrics.calibration import (  # noqa: E402
    calibration_table,
    expected_calibration_error,
)
from eval.metrics.evidence import (  # noqa: E402
    contains_evidence,
    first_hit_rank,
    normalize_evidence,
)
from eval.metrics.ranking import hit_at_k, ndcg_at_k, reciprocal_rank  # noqa: E402

LOG2_3 = math.log2(3)  # 1.5849625...
LOG2_5 = math.log2(5)  # 2.3219281...
LOG2_6 = math.log2(6)  # 2.5849625...
LOG2_7 = math.log2(7)  # 2.8073549...


# ---------------------------------------------------------------------------
# normalize_answer
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # lower -> "the  cat's, hat!"; remove punc -> "the  cats hat";
        # remove "the" -> "   cats hat"; collapse -> "cats hat"
        ("The  Cat's, hat!", "cats hat"),
        # "an" and "a" are articles; "day" stays
        ("An apple a day", "apple day"),
        # article regex needs word boundaries: "theater", "anchor" untouched
        ("The theater anchor", "theater anchor"),
        # punctuation is removed BEFORE articles: "the-cat" -> "thecat",
        # which is one word, so nothing is removed afterwards
        ("the-cat", "thecat"),
        # "U.S." -> "us"
        ("U.S. Navy", "us navy"),
        ("  \t\n ", ""),
        ("", ""),
        ("the a an", ""),
    ],
)
def test_normalize_answer(raw: str, expected: str) -> None:
    assert normalize_answer(raw) == expected


# ---------------------------------------------------------------------------
# exact_match / token_f1 / max_over_golds
# ---------------------------------------------------------------------------


def test_exact_match() -> None:
    # "The Cat" -> "cat" == "cat"
    assert exact_match("The Cat", "cat") == 1.0
    # "cat" != "cats"
    assert exact_match("cat", "cats") == 0.0
    # "Tokyo, Japan." -> "tokyo japan" == "tokyo  japan" -> "tokyo japan"
    assert exact_match("Tokyo, Japan.", "tokyo  japan") == 1.0
    # both normalize to "" -> equal
    assert exact_match("", "a") == 1.0
    assert exact_match("", "cat") == 0.0


def test_token_f1_squad_example() -> None:
    # pred tokens [cat, sat]; gold tokens [cat, sat, down]; common = 2
    # P = 2/2 = 1, R = 2/3, F1 = 2 * 1 * 2/3 / (1 + 2/3) = (4/3) / (5/3) = 0.8
    assert token_f1("the cat sat", "a cat sat down") == pytest.approx(0.8)


def test_token_f1_counter_intersection() -> None:
    # pred [cat, cat], gold [cat]: Counter intersection = {cat: 1} -> common 1
    # P = 1/2, R = 1/1, F1 = 2 * 0.5 * 1 / 1.5 = 2/3
    assert token_f1("cat cat", "cat") == pytest.approx(2 / 3)


def test_token_f1_partial() -> None:
    # pred [barack, obama]; gold [president, barack, obama, jr]; common 2
    # P = 1, R = 2/4 = 0.5, F1 = 2 * 0.5 / 1.5 = 2/3
    assert token_f1("Barack Obama", "President Barack Obama Jr.") == pytest.approx(2 / 3)
    # pred [1951]; gold [september, 8, 1951]; P = 1, R = 1/3
    # F1 = 2 * 1/3 / (4/3) = 0.5
    assert token_f1("1951", "September 8, 1951") == pytest.approx(0.5)


def test_token_f1_no_overlap_and_empty() -> None:
    assert token_f1("dog", "cat") == 0.0
    # both normalize to no tokens -> 1.0 (documented convention)
    assert token_f1("the", "!!") == 1.0
    assert token_f1("", "") == 1.0
    # exactly one side empty -> 0.0
    assert token_f1("the", "cat") == 0.0
    assert token_f1("cat", "") == 0.0


def test_max_over_golds() -> None:
    # F1("cat sat", "dog") = 0; F1("cat sat", "cat") = 2*(1/2)*1/(3/2) = 2/3
    assert max_over_golds(token_f1, "cat sat", ["dog", "cat"]) == pytest.approx(2 / 3)
    # an exact gold gives 1.0
    assert max_over_golds(token_f1, "cat sat", ["dog", "cat", "The cat sat."]) == 1.0
    assert max_over_golds(exact_match, "Cat", ["dog", "the cat"]) == 1.0
    assert max_over_golds(exact_match, "Cat", ["dog", "cats"]) == 0.0
    assert max_over_golds(token_f1, "cat", []) == 0.0


def test_usable_golds_drop_answers_that_normalize_to_nothing() -> None:
    assert usable_golds(["The", "Paris", "!", " "]) == ["Paris"]
    # nothing usable, or no gold at all: the question has no answer -> [""]
    assert usable_golds(["a", "..."]) == [""]
    assert usable_golds([]) == [""]


def test_max_over_golds_follows_squad_v2_for_empty_golds() -> None:
    # An abstention against ["The", "Paris"]: "The" is dropped, "" vs "paris" -> 0.
    # (Scoring "The" would have given EM = F1 = 1.0 for saying nothing.)
    assert max_over_golds(exact_match, "", ["The", "Paris"]) == 0.0
    assert max_over_golds(token_f1, "", ["The", "Paris"]) == 0.0
    assert max_over_golds(exact_match, "Paris", ["The", "Paris"]) == 1.0
    # No usable gold: abstaining is right (1), any answer wrong (0), like SQuAD v2 NoAns.
    assert max_over_golds(exact_match, "", []) == 1.0
    assert max_over_golds(token_f1, "", ["the"]) == 1.0
    assert max_over_golds(token_f1, "Paris", []) == 0.0


# ---------------------------------------------------------------------------
# strict_match
# ---------------------------------------------------------------------------


def test_strict_match_bounds_the_length() -> None:
    # gold "2010": 1 token, limit 2 * 1 + 3 = 5 tokens
    assert strict_match("2010", ["2010"])
    assert strict_match("in the year 2010", ["2010"])  # "in year 2010": 3 tokens
    assert strict_match("it began in late 2010", ["2010"])  # 5 tokens: the limit
    assert not strict_match("it began in late may 2010", ["2010"])  # 6 tokens
    sentence = "The dialogue " + "was held again " * 20 + "in 2010."  # 64 tokens
    assert not strict_match(sentence, ["2010"])
    # the length rule is checked against the gold that is contained: a long gold
    # that is not in the answer does not widen the limit
    assert not strict_match("one two three four five 2010", ["2010", "a b c d e f g h"])
    # gold "Treaty of San Francisco": 4 tokens, limit 11
    answer = "It was signed as the Treaty of San Francisco in September 1951"
    assert len(normalize_answer(answer).split()) == 11  # "the" is dropped
    assert strict_match(answer, ["Treaty of San Francisco"])
    assert not strict_match(answer + " by Japan", ["Treaty of San Francisco"])  # 13 tokens


def test_strict_match_edge_cases() -> None:
    assert not strict_match(None, ["2010"])
    assert not strict_match("", ["2010"])
    assert not strict_match("2010", [])
    assert not strict_match("the", ["the", "!"])  # no usable gold
    # token boundaries as in answer_contains
    assert not strict_match("2010", ["20"])
    # a lenient match that is not strict
    long_answer = "a b c d e f 2010"
    assert answer_contains(long_answer, ["2010"]) and not strict_match(long_answer, ["2010"])


# ---------------------------------------------------------------------------
# answer_contains
# ---------------------------------------------------------------------------


def test_answer_contains_token_boundaries() -> None:
    # " 20 " is not in " it was in 2010 "
    assert answer_contains("It was in 2010.", ["20"]) is False
    # " 20 " is in " about 20 ships "
    assert answer_contains("About 20 ships.", ["20"]) is True
    # "20-year" -> "20year" (punctuation deleted, not spaced): no match
    assert answer_contains("a 20-year lease", ["20"]) is False


def test_answer_contains_normalization() -> None:
    # pred -> "it was treaty of san francisco"; gold -> "treaty of san francisco"
    assert answer_contains("It was the Treaty of San Francisco.", ["treaty of San Francisco"])
    # second gold matches
    assert answer_contains("In Tokyo.", ["Kyoto", "tokyo"]) is True


def test_answer_contains_edge_cases() -> None:
    assert answer_contains(None, ["anything"]) is False
    assert answer_contains("cat", []) is False
    # golds that normalize to "" are ignored (would match everything)
    assert answer_contains("cat", ["", "the", "!"]) is False
    # empty prediction never contains a non-empty gold
    assert answer_contains("", ["cat"]) is False


# ---------------------------------------------------------------------------
# normalize_evidence / contains_evidence / first_hit_rank
# ---------------------------------------------------------------------------


def test_normalize_evidence() -> None:
    assert normalize_evidence("  He  said\n\u201cNo\u201d. ") == 'He said "No".'
    assert normalize_evidence("Japan\u2019s  ALLIANCE") == "Japan's ALLIANCE"
    # case, punctuation and articles are kept (verbatim quotation)
    assert normalize_evidence("The U.S.-Japan") == "The U.S.-Japan"
    assert normalize_evidence("") == ""


def test_contains_evidence_full_containment() -> None:
    passage = "The treaty was signed in 1960.  It was revised\nlater."
    # whitespace differences are normalized away
    assert contains_evidence(passage, "The treaty  was signed in 1960. It was revised later.")
    # curly vs straight quotes
    assert contains_evidence("He said \u201cno\u201d to it.", '"no" to it')
    assert contains_evidence("Japan's role", "Japan\u2019s role")
    assert not contains_evidence(passage, "The treaty was signed in 1961.")
    # the quotation is verbatim: case is not folded
    assert not contains_evidence(passage, "the treaty was SIGNED in 1960.")


def test_contains_evidence_needs_all_of_the_evidence() -> None:
    evidence = "The alliance was formed in 1951 after long talks. It changed."
    # A passage with only the longer sentence (the old rule accepted one sentence
    # covering half of the evidence) does not contain the evidence.
    assert not contains_evidence("Background. The alliance was formed in 1951 after long talks.", evidence)
    assert not contains_evidence("It changed. Much later, more happened.", evidence)
    assert contains_evidence("Background. " + evidence + " Later.", evidence)
    # A fragment after an abbreviation is not the evidence either.
    assert not contains_evidence("Navy visited Yokosuka.", "The U.S. Navy visited Yokosuka.")
    assert not contains_evidence("The alliance was formed", "The alliance was formed in 1951.")
    # Evidence that is empty after normalization never matches.
    assert not contains_evidence("anything", "")
    assert not contains_evidence("anything", "  \n ")


def test_first_hit_rank() -> None:
    passages = ["foo bar", "the Baz qux", "baz"]
    # passage 2 has "Baz", not "baz" (evidence is verbatim) -> rank 3
    assert first_hit_rank(passages, "baz") == 3
    assert first_hit_rank(passages, "Baz") == 2
    assert first_hit_rank(passages, "foo") == 1
    assert first_hit_rank(passages, "absent") is None
    assert first_hit_rank([], "baz") is None


# ---------------------------------------------------------------------------
# hit_at_k / reciprocal_rank
# ---------------------------------------------------------------------------


def test_hit_at_k() -> None:
    assert hit_at_k(3, 5) == 1.0
    assert hit_at_k(5, 5) == 1.0  # boundary is inclusive
    assert hit_at_k(6, 5) == 0.0
    assert hit_at_k(None, 5) == 0.0
    with pytest.raises(ValueError):
        hit_at_k(1, 0)
    with pytest.raises(ValueError):
        hit_at_k(0, 5)


def test_reciprocal_rank() -> None:
    assert reciprocal_rank(1) == 1.0
    assert reciprocal_rank(4) == pytest.approx(0.25)  # 1/4
    assert reciprocal_rank(10) == pytest.approx(0.1)  # 1/10, at the default k
    assert reciprocal_rank(11) == 0.0  # beyond default k=10
    assert reciprocal_rank(3, k=2) == 0.0
    assert reciprocal_rank(None) == 0.0
    with pytest.raises(ValueError):
        reciprocal_rank(1, k=0)
    with pytest.raises(ValueError):
        reciprocal_rank(-1)


def test_mrr_over_queries() -> None:
    # ranks 1, 2, None, 4 -> RR 1, 0.5, 0, 0.25 -> MRR = 1.75 / 4 = 0.4375
    rrs = [reciprocal_rank(r) for r in (1, 2, None, 4)]
    assert mean(rrs) == pytest.approx(0.4375)


# ---------------------------------------------------------------------------
# ndcg_at_k
# ---------------------------------------------------------------------------


def test_ndcg_brief_example() -> None:
    # DCG = 0/log2(2) + 1/log2(3) + 0/log2(4) + 1/log2(5)
    #     = 0.63093 + 0.43068 = 1.06161
    # IDCG (2 relevant) = 1/log2(2) + 1/log2(3) = 1 + 0.63093 = 1.63093
    # nDCG = 1.06161 / 1.63093 = 0.65092
    assert ndcg_at_k([0, 1, 0, 1], k=4, n_relevant=2) == pytest.approx(0.65092, abs=1e-5)
    expected = (1 / LOG2_3 + 1 / LOG2_5) / (1 + 1 / LOG2_3)
    assert ndcg_at_k([0, 1, 0, 1], k=4, n_relevant=2) == pytest.approx(expected)
    # Without n_relevant, ideal = sorted [1, 1, 0, 0] -> same IDCG here
    assert ndcg_at_k([0, 1, 0, 1], k=4) == pytest.approx(expected)


def test_ndcg_n_relevant_penalizes_missed_items() -> None:
    # Retrieved [0, 1, 0, 1] but 3 relevant items exist:
    # IDCG = 1 + 1/log2(3) + 1/log2(4) = 1 + 0.63093 + 0.5 = 2.13093
    # nDCG = 1.06161 / 2.13093 = 0.49819
    assert ndcg_at_k([0, 1, 0, 1], k=4, n_relevant=3) == pytest.approx(0.49819, abs=1e-5)
    # The classic bug: IDCG from the retrieved list only makes [1, 0, 0] look
    # perfect (1/1 = 1.0) even though 3 relevant items exist.
    assert ndcg_at_k([1, 0, 0], k=3) == 1.0
    # Correct: IDCG = 1 + 0.63093 + 0.5 = 2.13093 -> nDCG = 1 / 2.13093 = 0.46928
    assert ndcg_at_k([1, 0, 0], k=3, n_relevant=3) == pytest.approx(0.46928, abs=1e-5)
    # 2 relevant: IDCG = 1.63093 -> nDCG = 0.61315
    assert ndcg_at_k([1, 0, 0], k=3, n_relevant=2) == pytest.approx(0.61315, abs=1e-5)
    # None retrieved of 2 relevant -> DCG 0 -> 0.0
    assert ndcg_at_k([0, 0, 0], k=3, n_relevant=2) == 0.0


def test_ndcg_graded_wikipedia_example() -> None:
    # rels [3, 2, 3, 0, 1, 2]:
    # DCG = 3/1 + 2/1.58496 + 3/2 + 0/2.32193 + 1/2.58496 + 2/2.80735
    #     = 3 + 1.26186 + 1.5 + 0 + 0.38685 + 0.71241 = 6.86112
    # ideal [3, 3, 2, 2, 1, 0]:
    # IDCG = 3 + 3/1.58496 + 2/2 + 2/2.32193 + 1/2.58496 + 0
    #      = 3 + 1.89279 + 1 + 0.86135 + 0.38685 = 7.14099
    # nDCG = 6.86112 / 7.14099 = 0.96081
    rels = [3.0, 2.0, 3.0, 0.0, 1.0, 2.0]
    dcg = 3 + 2 / LOG2_3 + 3 / 2 + 0 + 1 / LOG2_6 + 2 / LOG2_7
    idcg = 3 + 3 / LOG2_3 + 2 / 2 + 2 / LOG2_5 + 1 / LOG2_6
    assert dcg == pytest.approx(6.86112, abs=1e-5)
    assert idcg == pytest.approx(7.14099, abs=1e-5)
    assert ndcg_at_k(rels, k=6) == pytest.approx(0.96081, abs=1e-5)


def test_ndcg_cutoff() -> None:
    # k=2 truncates [0, 0, 1] to [0, 0] -> DCG 0;
    # ideal sorted [1, 0, 0][:2] = [1, 0] -> IDCG 1 -> nDCG 0
    assert ndcg_at_k([0, 0, 1], k=2) == 0.0
    # k=3: DCG = 1/log2(4) = 0.5; IDCG = 1 -> 0.5
    assert ndcg_at_k([0, 0, 1], k=3) == pytest.approx(0.5)
    # n_relevant larger than k: ideal has min(5, 2) = 2 ones -> perfect
    assert ndcg_at_k([1, 1, 0], k=2, n_relevant=5) == pytest.approx(1.0)
    # default k=10 with a list shorter than k
    assert ndcg_at_k([1]) == 1.0


def test_ndcg_zero_idcg_and_empty() -> None:
    assert ndcg_at_k([0, 0], k=2) == 0.0
    assert ndcg_at_k([], k=5) == 0.0
    assert ndcg_at_k([], k=5, n_relevant=0) == 0.0
    # nothing retrieved, 1 relevant exists -> 0
    assert ndcg_at_k([], k=5, n_relevant=1) == 0.0


def test_ndcg_errors() -> None:
    with pytest.raises(ValueError):
        ndcg_at_k([1], k=0)
    with pytest.raises(ValueError):
        ndcg_at_k([-1.0], k=1)
    with pytest.raises(ValueError):
        ndcg_at_k([1], k=1, n_relevant=-1)
    # two retrieved items marked relevant but only one relevant item exists
    # (e.g. two chunks holding the same evidence) -> would exceed 1.0
    with pytest.raises(ValueError):
        ndcg_at_k([1, 1], k=2, n_relevant=1)
    # graded relevances are not allowed with n_relevant
    with pytest.raises(ValueError):
        ndcg_at_k([2], k=1, n_relevant=1)


# ---------------------------------------------------------------------------
# precision_recall / false_positive_rate
# ---------------------------------------------------------------------------


def test_precision_recall_basic() -> None:
    predicted = [True, True, False, False, True]
    actual = [True, False, True, False, True]
    # TP: idx 0, 4 -> 2; FP: idx 1 -> 1; FN: idx 2 -> 1; TN: idx 3 -> 1
    # P = 2/3, R = 2/3
    p, r = precision_recall(predicted, actual)
    assert p == pytest.approx(2 / 3)
    assert r == pytest.approx(2 / 3)
    # TP 1, FP 0, FN 2 -> P = 1/1 = 1, R = 1/3
    p, r = precision_recall([True, False, False, False], [True, True, True, False])
    assert p == 1.0
    assert r == pytest.approx(1 / 3)


def test_precision_recall_conventions() -> None:
    # no predicted positives, no actual positives -> (1.0, 1.0)
    assert precision_recall([False, False], [False, False]) == (1.0, 1.0)
    # no predicted positives, one actual positive -> P 0.0, R 0/1 = 0.0
    assert precision_recall([False, False], [True, False]) == (0.0, 0.0)
    # one false alarm, no actual positives -> P 0/1 = 0.0, R 1.0
    assert precision_recall([True, False], [False, False]) == (0.0, 1.0)
    assert precision_recall([], []) == (1.0, 1.0)
    with pytest.raises(ValueError):
        precision_recall([True], [True, False])


def test_false_positive_rate() -> None:
    predicted = [True, True, False, False, True]
    actual = [True, False, True, False, True]
    # actual negatives: idx 1, 3 -> 2; FP among them: idx 1 -> 1; FPR = 1/2
    assert false_positive_rate(predicted, actual) == pytest.approx(0.5)
    # negatives idx 1, 2, 3 -> 3; FP: idx 1, 2 -> 2; FPR = 2/3
    assert false_positive_rate(
        [False, True, True, False], [True, False, False, False]
    ) == pytest.approx(2 / 3)
    # no actual negatives -> 0.0
    assert false_positive_rate([True, False], [True, True]) == 0.0
    assert false_positive_rate([], []) == 0.0
    with pytest.raises(ValueError):
        false_positive_rate([True], [])


# ---------------------------------------------------------------------------
# mean / percentile
# ---------------------------------------------------------------------------


def test_mean() -> None:
    assert mean([1.0, 2.0, 3.0, 4.0]) == 2.5  # 10 / 4
    assert mean([0.1] * 10) == pytest.approx(0.1)  # fsum = 1.0, / 10
    assert mean([-1.0, 1.0]) == 0.0
    assert mean([]) == 0.0


def test_percentile() -> None:
    xs = [1.0, 2.0, 3.0, 4.0]
    # h = (4-1) * 0.50 = 1.5 -> x[1] + 0.5 * (x[2] - x[1]) = 2 + 0.5 = 2.5
    assert percentile(xs, 50) == pytest.approx(2.5)
    # h = 3 * 0.95 = 2.85 -> x[2] + 0.85 * (x[3] - x[2]) = 3 + 0.85 = 3.85
    assert percentile(xs, 95) == pytest.approx(3.85)
    assert percentile(xs, 0) == 1.0
    assert percentile(xs, 100) == 4.0
    # unsorted input: sorted [0, 5, 10]; q=25 -> h = 2 * 0.25 = 0.5 -> 0 + 0.5 * 5
    assert percentile([10.0, 0.0, 5.0], 25) == pytest.approx(2.5)
    # q=90 on [0, 5, 10]: h = 1.8 -> 5 + 0.8 * 5 = 9.0
    assert percentile([10.0, 0.0, 5.0], 90) == pytest.approx(9.0)
    assert percentile([7.0], 33) == 7.0


def test_percentile_errors() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)
    with pytest.raises(ValueError):
        percentile([1.0], -0.1)


# ---------------------------------------------------------------------------
# calibration_table / expected_calibration_error
# ---------------------------------------------------------------------------

CONF = [0.1, 0.3, 0.35, 0.9, 1.0, 0.0]
CORRECT = [False, True, False, True, True, False]


def test_calibration_table_hand_computed() -> None:
    table = calibration_table(CONF, CORRECT, bins=5)
    assert [(row["lo"], row["hi"]) for row in table] == [
        (0.0, 0.2),
        (0.2, 0.4),
        (0.4, 0.6),
        (0.6, 0.8),
        (0.8, 1.0),
    ]
    # bin [0, 0.2): 0.1 (F), 0.0 (F) -> count 2, acc 0/2 = 0, conf 0.1/2 = 0.05
    assert table[0]["count"] == 2
    assert table[0]["accuracy"] == 0.0
    assert table[0]["mean_confidence"] == pytest.approx(0.05)
    # bin [0.2, 0.4): 0.3 (T), 0.35 (F) -> acc 1/2, conf 0.65/2 = 0.325
    assert table[1]["count"] == 2
    assert table[1]["accuracy"] == 0.5
    assert table[1]["mean_confidence"] == pytest.approx(0.325)
    # empty bins
    for row in table[2:4]:
        assert row["count"] == 0
        assert row["accuracy"] is None
        assert row["mean_confidence"] is None
    # last bin [0.8, 1.0] includes 1.0: 0.9 (T), 1.0 (T) -> acc 1, conf 0.95
    assert table[4]["count"] == 2
    assert table[4]["accuracy"] == 1.0
    assert table[4]["mean_confidence"] == pytest.approx(0.95)


def test_calibration_table_bin_edges() -> None:
    # Edges are lower-inclusive: 0.6 with 5 bins -> bin [0.6, 0.8) (index 3),
    # 0.2 -> index 1; 0.7 with 10 bins -> index 7 (0.7 * 10 = 7.000000000000001
    # in floats, but edge comparison is exact anyway).
    t5 = calibration_table([0.6, 0.2], [True, True], bins=5)
    assert [row["count"] for row in t5] == [0, 1, 0, 1, 0]
    t10 = calibration_table([0.7, 0.3, 1.0, 0.0], [True] * 4, bins=10)
    assert [row["count"] for row in t10] == [1, 0, 0, 1, 0, 0, 0, 1, 0, 1]
    # a single bin holds everything
    t1 = calibration_table([0.0, 0.5, 1.0], [True, False, True], bins=1)
    assert t1[0]["count"] == 3
    assert t1[0]["accuracy"] == pytest.approx(2 / 3)
    assert t1[0]["mean_confidence"] == pytest.approx(0.5)


def test_calibration_table_empty_and_errors() -> None:
    table = calibration_table([], [], bins=2)
    assert len(table) == 2
    assert all(row["count"] == 0 and row["accuracy"] is None for row in table)
    with pytest.raises(ValueError):
        calibration_table([0.5], [True, False])
    with pytest.raises(ValueError):
        calibration_table([1.5], [True])
    with pytest.raises(ValueError):
        calibration_table([-0.1], [True])
    with pytest.raises(ValueError):
        calibration_table([float("nan")], [True])
    with pytest.raises(ValueError):
        calibration_table([0.5], [True], bins=0)


def test_expected_calibration_error() -> None:
    # With the table above (bins=5, n=6):
    # (2/6)*|0 - 0.05| + (2/6)*|0.5 - 0.325| + (2/6)*|1 - 0.95|
    # = (1/3) * (0.05 + 0.175 + 0.05) = 0.275 / 3 = 0.0916667
    assert expected_calibration_error(CONF, CORRECT, bins=5) == pytest.approx(0.275 / 3)
    # default 10 bins: 0.95, 0.95 -> bin 9, acc 1/2, conf 0.95 -> gap 0.45
    #                  0.55, 0.55 -> bin 5, acc 2/2, conf 0.55 -> gap 0.45
    # ECE = (2/4)*0.45 + (2/4)*0.45 = 0.45
    assert expected_calibration_error(
        [0.95, 0.95, 0.55, 0.55], [True, False, True, True]
    ) == pytest.approx(0.45)
    # perfectly calibrated extremes -> 0
    assert expected_calibration_error([1.0, 0.0], [True, False]) == 0.0
    assert expected_calibration_error([], []) == 0.0


# ---------------------------------------------------------------------------
# Property tests (only when hypothesis is installed)
# ---------------------------------------------------------------------------

try:
    from hypothesis import given
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - optional dependency
    pass
else:
    _WORDS = ["a", "the", "An", "cat", "Cat", "sat", "dog", "1951", "x,y", "!", " "]
    _answers = st.one_of(
        st.lists(st.sampled_from(_WORDS), max_size=6).map(" ".join),
        st.text(max_size=20),
    )

    @given(_answers, _answers)
    def test_property_f1_symmetric_bounded_and_above_em(pred: str, gold: str) -> None:
        f1 = token_f1(pred, gold)
        assert f1 == token_f1(gold, pred)
        assert 0.0 <= f1 <= 1.0
        assert exact_match(pred, gold) <= f1

    @given(_answers)
    def test_property_self_match(text: str) -> None:
        assert exact_match(text, text) == 1.0
        assert token_f1(text, text) == 1.0
        assert answer_contains(text, [text]) == bool(normalize_answer(text))
        assert strict_match(text, [text]) == bool(normalize_answer(text))

    @given(_answers, st.lists(_answers, max_size=3))
    def test_property_strict_implies_lenient(pred: str, golds: list[str]) -> None:
        if strict_match(pred, golds):
            assert answer_contains(pred, golds)

    @given(
        st.lists(st.floats(min_value=0.0, max_value=3.0), max_size=12),
        st.integers(min_value=1, max_value=15),
    )
    def test_property_ndcg_bounded(rels: list[float], k: int) -> None:
        assert 0.0 <= ndcg_at_k(rels, k=k) <= 1.0 + 1e-12

    @given(
        st.lists(st.booleans(), max_size=12),
        st.integers(min_value=1, max_value=15),
        st.integers(min_value=0, max_value=5),
    )
    def test_property_ndcg_n_relevant_bounded(hits: list[bool], k: int, extra: int) -> None:
        rels = [1.0 if h else 0.0 for h in hits]
        n_relevant = sum(hits) + extra
        value = ndcg_at_k(rels, k=k, n_relevant=n_relevant)
        assert 0.0 <= value <= 1.0 + 1e-12
        # knowing about more relevant items can only lower the score
        assert value <= ndcg_at_k(rels, k=k) + 1e-12

    @given(
        st.lists(
            st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
            min_size=1,
            max_size=20,
        ),
        st.floats(min_value=0.0, max_value=100.0),
    )
    def test_property_percentile_within_range(values: list[float], q: float) -> None:
        result = percentile(values, q)
        assert min(values) <= result <= max(values)

    @given(
        st.lists(
            st.tuples(st.floats(min_value=0.0, max_value=1.0), st.booleans()),
            max_size=30,
        ),
        st.integers(min_value=1, max_value=12),
    )
    def test_property_calibration_counts(pairs: list[tuple[float, bool]], bins: int) -> None:
        confs = [c for c, _ in pairs]
        oks = [o for _, o in pairs]
        table = calibration_table(confs, oks, bins=bins)
        assert len(table) == bins
        assert sum(row["count"] for row in table) == len(pairs)
        for row in table:
            conf_mean = row["mean_confidence"]
            if conf_mean is not None:
                assert row["lo"] - 1e-12 <= conf_mean <= row["hi"] + 1e-12
        assert 0.0 <= expected_calibration_error(confs, oks, bins=bins) <= 1.0


# Optional cross-check of percentile against numpy (the reference behaviour).
try:
    import numpy as np
except ImportError:  # pragma: no cover - optional dependency
    np = None  # type: ignore[assignment]


@pytest.mark.skipif(np is None, reason="numpy not installed")
@pytest.mark.parametrize("q", [0.0, 10.0, 25.0, 50.0, 62.5, 95.0, 99.0, 100.0])
def test_percentile_matches_numpy(q: float) -> None:
    values = [3.0, -1.0, 7.5, 2.0, 2.0, 10.0, 0.25]
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
