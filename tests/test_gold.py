"""Validation of the evaluation gold set (eval/gold.jsonl) and of its loader."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

# Make the repository root importable when pytest is run from another cwd.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from eval.answer_types import ANSWER_TYPES, answer_type, question_kind  # noqa: E402
from eval.gold import (  # noqa: E402
    GoldItem,
    default_gold_path,
    load_gold,
    normalize_for_match,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS_FILE = "diplomatic-bluebook-2025-ch3-japan-us-security.txt"
CORPUS_PATH = REPO_ROOT / "corpus" / CORPUS_FILE

VALID_TYPES = {
    "who",
    "when",
    "where",
    "how_many",
    "how_much",
    "what",
    "which",
    "why",
    "how",
    "unanswerable",
}
# Every part of the chapter must be covered by at least 3 questions.
REQUIRED_SECTIONS = (
    "(1) Overview of Japan-U.S. Security Relationship",
    "A An Overview of Japan-U.S. Security and Defense Cooperation",
    "footnote",
    "B Missile Defense",
    "C Cyberspace",
    "D Space",
    "E Information Security",
    "(3) Realignment of U.S. Forces in Japan",
    "Realignment of USFJ – An Overview",
    "(4) Host Nation Support (HNS)",
    "(5) Various Issues Related to the Presence of the U.S. Forces in Japan",
    "Sowing the “SEED” for the Future of Japan and the U.S. ─ "
    "Japan-U.S. Exchange Programs through English (SEED/TOFU)",
    "(6) The United Nations Forces and U.S. Forces in Japan",
)


@pytest.fixture(scope="module")
def gold() -> list[GoldItem]:
    """The default gold set, all splits."""
    return load_gold(default_gold_path())


@pytest.fixture(scope="module")
def corpus_text() -> str:
    """The corpus document the gold set was written against."""
    assert CORPUS_PATH.is_file(), (
        f"corpus file missing: {CORPUS_PATH} (copy it into the repository's corpus/ folder)"
    )
    return CORPUS_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def paragraphs(corpus_text: str) -> list[str]:
    """Normalized blank-line separated blocks of the corpus."""
    blocks = re.split(r"\n[ \t]*\n", corpus_text)
    return [normalize_for_match(b) for b in blocks if b.strip()]


# --------------------------------------------------------------------------- gold set


def test_default_path_points_next_to_module() -> None:
    path = default_gold_path()
    assert path.name == "gold.jsonl"
    assert path.parent.name == "eval"
    assert path.is_file()


def test_counts(gold: list[GoldItem]) -> None:
    answerable = [g for g in gold if g.answerable]
    unanswerable = [g for g in gold if not g.answerable]
    assert len(answerable) >= 100
    assert len(unanswerable) >= 25


def test_splits(gold: list[GoldItem]) -> None:
    dev = load_gold(default_gold_path(), split="dev")
    test = load_gold(default_gold_path(), split="test")
    assert dev and test
    assert len(dev) + len(test) == len(gold), "every item must be in dev or test"
    assert {g.id for g in dev}.isdisjoint({g.id for g in test})
    for items in (dev, test):
        assert sum(not g.answerable for g in items) >= 12
        assert sum(g.answerable for g in items) >= 40


def test_ids_unique(gold: list[GoldItem]) -> None:
    counts = Counter(g.id for g in gold)
    assert not [i for i, n in counts.items() if n > 1]


def test_questions_unique(gold: list[GoldItem]) -> None:
    counts = Counter(normalize_for_match(g.question) for g in gold)
    assert not [q for q, n in counts.items() if n > 1]


def test_unanswerable_items_have_no_evidence(gold: list[GoldItem]) -> None:
    for g in gold:
        if not g.answerable:
            assert g.evidence is None, g.id
            assert g.extra.get("type") == "unanswerable", g.id
        else:
            assert g.evidence, g.id
            assert g.extra.get("type") != "unanswerable", g.id


def test_types_and_sections(gold: list[GoldItem]) -> None:
    for g in gold:
        assert g.extra.get("type") in VALID_TYPES, g.id
        section = g.extra.get("section")
        assert isinstance(section, str) and section.strip(), g.id
    sections = Counter(g.extra["section"] for g in gold if g.answerable)
    for name in REQUIRED_SECTIONS:
        assert sections[name] >= 3, f"section {name!r} has {sections[name]} questions"


def test_splits_are_stratified(gold: list[GoldItem]) -> None:
    for key in ("section", "type"):
        groups: dict[str, set[str | None]] = {}
        for g in gold:
            groups.setdefault(g.extra[key], set()).add(g.split)
        sizes = Counter(g.extra[key] for g in gold)
        for name, splits in groups.items():
            if sizes[name] >= 2:
                assert splits == {"dev", "test"}, f"{key} {name!r} only in {splits}"


def test_evidence_in_corpus(gold: list[GoldItem], paragraphs: list[str]) -> None:
    missing = []
    for g in gold:
        if g.evidence is None:
            continue
        ev = normalize_for_match(g.evidence)
        # Evidence never spans two paragraphs, so it must sit inside one block.
        if not any(ev in p for p in paragraphs):
            missing.append(g.id)
    assert not missing, f"evidence not found verbatim in one corpus paragraph: {missing}"


def test_answers_in_evidence_or_its_paragraph(gold: list[GoldItem], paragraphs: list[str]) -> None:
    problems = []
    for g in gold:
        if g.evidence is None:
            continue
        ev = normalize_for_match(g.evidence)
        contexts = [ev, *(p for p in paragraphs if ev in p)]
        for answer in g.answers:
            a = normalize_for_match(answer)
            if not any(a in c for c in contexts):
                problems.append((g.id, answer))
    assert not problems, f"answers not supported by evidence/paragraph: {problems}"


def test_answers_are_short_and_distinct(gold: list[GoldItem]) -> None:
    for g in gold:
        norm = [normalize_for_match(a) for a in g.answers]
        assert len(set(norm)) == len(norm), g.id
        for a in norm:
            assert len(a.split()) <= 30, (g.id, a)


# --------------------------------------------------------------------------- loader


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n",
        encoding="utf-8",
    )
    return path


def _row(item_id: str, **kw: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": item_id,
        "question": f"question {item_id}?",
        "answers": ["x"],
        "evidence": "x",
        "split": "dev",
    }
    row.update(kw)
    return row


def test_load_gold_extra_fields_and_splits(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "g.jsonl",
        [
            _row("a", type="when", section="S", weird={"n": 1}),
            "",
            _row("b", answers=[], evidence=None, split="test"),
            {"id": "c", "question": "q?", "answers": ["y"]},
        ],
    )
    items = load_gold(path)
    assert [i.id for i in items] == ["a", "b", "c"]
    a, b, c = items
    assert a.answers == ("x",) and a.answerable and a.split == "dev"
    assert a.extra == {"type": "when", "section": "S", "weird": {"n": 1}}
    assert not b.answerable and b.evidence is None and b.split == "test"
    assert c.split is None and c.evidence is None and c.extra == {}
    assert [i.id for i in load_gold(path, split="dev")] == ["a"]
    assert [i.id for i in load_gold(path, split="test")] == ["b"]
    hash(a)  # frozen items stay hashable despite the extra dict


def test_load_gold_malformed_json(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.jsonl", [_row("a"), '{"id": "b", "question": '])
    with pytest.raises(ValueError, match=r"bad\.jsonl:2.*malformed JSON"):
        load_gold(path)


def test_load_gold_duplicate_id(tmp_path: Path) -> None:
    path = _write(tmp_path / "dup.jsonl", [_row("a"), _row("b"), _row("a")])
    with pytest.raises(ValueError, match=r"dup\.jsonl:3.*duplicate id 'a'"):
        load_gold(path)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"question": "q?", "answers": []}, "missing required field 'id'"),
        ({"id": "a", "answers": []}, "missing required field 'question'"),
        ({"id": "a", "question": "q?"}, "missing required field 'answers'"),
        (_row("a", id=3), "'id' must be"),
        (_row("a", answers="x"), "'answers' must be"),
        (_row("a", answers=["x", 2]), "'answers' must be"),
        (_row("a", answers=["Paris", "The"]), "answer 'The' is empty once normalized"),
        (_row("a", answers=["..."]), "answer '...' is empty once normalized"),
        (_row("a", answer_type="colour"), "'answer_type' must be one of date, number"),
        (_row("a", evidence=5), "'evidence' must be"),
        (_row("a", split="train"), "'split' must be one of dev, test"),
        (["not", "an", "object"], "expected a JSON object"),
    ],
)
def test_load_gold_field_errors(tmp_path: Path, row: object, message: str) -> None:
    path = _write(tmp_path / "fields.jsonl", [_row("ok"), row])
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        load_gold(path)
    assert "fields.jsonl:2" in str(info.value)


def test_load_gold_bad_split_argument(tmp_path: Path) -> None:
    path = _write(tmp_path / "g.jsonl", [_row("a")])
    with pytest.raises(ValueError, match="dev, test, all"):
        load_gold(path, split="train")


def test_normalize_for_match() -> None:
    assert normalize_for_match("  The “2+2”\n held\tin  Japan’s TOKYO ") == (
        'the "2+2" held in japan\'s tokyo'
    )
    assert normalize_for_match("\u00a0a\u2018b\u2019\n\n") == "a'b'"


# --------------------------------------------------------------------------- answer types


def test_every_gold_item_has_an_answer_type(gold: list[GoldItem]) -> None:
    types = Counter(g.answer_type for g in gold)
    assert set(types) <= set(ANSWER_TYPES)
    # The chapter's gold set has questions of every type.
    assert set(types) == set(ANSWER_TYPES), types


@pytest.mark.parametrize(
    ("kind", "question", "answers", "expected"),
    [
        ("when", "When was it set up?", ["2010"], "date"),
        ("how_many", "How many ships?", ["four"], "number"),
        ("how_much", "How much is the budget?", ["211 billion yen"], "money"),
        ("how_much", "How large was the area?", ["4,000 hectares"], "number"),
        ("who", "Who visited?", ["Admiral Samuel Paparo"], "person"),
        ("who", "Which agency runs it?", ["the U.S. Department of Defense"], "organisation"),
        ("where", "Where did they meet?", ["Tokyo"], "place"),
        ("which", "Which prefecture is it in?", ["Kanagawa Prefecture"], "place"),
        ("which", "Students of which university?", ["Georgetown University"], "organisation"),
        ("which", "Which article applies?", ["Article V"], "other"),
        ("what", "What does SMA stand for?", ["Special Measures Agreement"], "definition"),
        ("what", 'What are "hosted payloads"?', ["mission instruments"], "definition"),
        ("what", "What did he receive?", ["a completion certificate"], "other"),
        ("why", "Why move the Marines?", ["to mitigate the impact"], "why/how"),
        ("how", "How do they discuss it?", ["through dialogues"], "why/how"),
        # unanswerable questions take the type their wording asks for
        ("unanswerable", "In what year was it signed?", [], "date"),
        ("unanswerable", "How much does the trip cost?", [], "money"),
        ("unanswerable", "Who won the 2022 World Cup?", [], "person"),
        ("unanswerable", "Which team won the World Series?", [], "organisation"),
        ("unanswerable", "What is the capital city of Canada?", [], "place"),
        ("unanswerable", "What is a good recipe for teriyaki?", [], "other"),
        (None, "How many satellites?", [], "number"),
    ],
)
def test_answer_type(kind: str | None, question: str, answers: list[str], expected: str) -> None:
    assert answer_type(kind, question, answers) == expected


def test_question_kind() -> None:
    assert question_kind("Where and when was it held?") == "where"  # the first wh-word
    assert question_kind("In which year was it signed?") == "when"
    assert question_kind("To whom was it given?") == "who"
    assert question_kind("How long should it simmer?") == "how_many"
    assert question_kind("Name the treaty.") == "what"


def test_declared_answer_type_wins(tmp_path: Path) -> None:
    path = _write(tmp_path / "g.jsonl", [_row("a", type="what", answer_type="money"), _row("b")])
    declared, derived = load_gold(path)
    assert declared.answer_type == "money"
    assert derived.answer_type == "other"  # no type, "question b?" asks for nothing known
