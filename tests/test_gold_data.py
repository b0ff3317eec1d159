"""The written training and evaluation data: every gold file valid against its document,
the document split complete and disjoint, and the validator itself able to fail."""

from __future__ import annotations

import json
from pathlib import Path

from eval.gold_check import check_file, check_items, document_of

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"


def test_every_gold_file_is_valid_against_its_document() -> None:
    files = sorted((DATA / "gold").glob("*.jsonl"))
    assert len(files) >= 100
    problems = [f"{g.name}: {p}" for g in files for p in check_file(g, document_of(g))]
    assert problems == []


def test_split_is_by_document_complete_and_disjoint() -> None:
    split = json.loads((DATA / "split.json").read_text("utf-8"))
    parts = [set(split[k]) for k in ("train", "dev", "test")]
    assert all(not (a & b) for i, a in enumerate(parts) for b in parts[i + 1:])
    docs = {p.stem for p in (DATA / "docs").glob("*.txt")}
    assert set().union(*parts) == docs
    assert len(split["dev"]) >= 20 and len(split["test"]) >= 20
    gold = {p.stem for p in (DATA / "gold").glob("*.jsonl")}
    assert gold <= docs
    assert set(split["dev"]) <= gold and set(split["test"]) <= gold


def test_about_a_fifth_unanswerable_and_ids_unique_per_file() -> None:
    items = [json.loads(line) for g in (DATA / "gold").glob("*.jsonl")
             for line in g.read_text("utf-8").splitlines() if line.strip()]
    unanswerable = sum(1 for i in items if not i["answers"]) / len(items)
    assert 0.12 <= unanswerable <= 0.30


def test_validator_names_each_broken_rule() -> None:
    doc = "Title\n\nThe fund gives $5 million to ports. It started in 2021.\n"
    lines = [
        json.dumps({"id": "q1", "question": "How much?", "answers": ["$5 million"],
                    "evidence": "The fund gives $5 million to ports.", "type": "how_much"}),
        json.dumps({"id": "q1", "question": "When?", "answers": ["2020"],
                    "evidence": "It started in 2021.", "type": "when"}),
        json.dumps({"id": "q3", "question": "Who runs it?", "answers": ["the board"],
                    "evidence": "The board runs it.", "type": "who"}),
        json.dumps({"id": "q4", "question": "Why", "answers": [], "evidence": "x",
                    "type": "why"}),
        "{not json",
    ]
    problems = check_items(lines, doc)
    text = "\n".join(problems)
    assert "line 2 (q1): duplicate id" in text
    assert "answer '2020' is not verbatim in the evidence" in text
    assert "line 3 (q3): evidence is not verbatim in the document" in text
    assert "question must be a string ending with '?'" in text
    assert "an unanswerable item has evidence null" in text
    assert "line 5: not JSON" in text
    assert not any(p.startswith("line 1 ") for p in problems)
