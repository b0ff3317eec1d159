"""The trainer's choice of questions: a learning-curve sample and a focused second stage."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from eval import train_span_reader as trainer
from eval.span_data import Example


def _fake_examples(name: str, rng: random.Random) -> Iterator[Example]:
    """Ten old items (q..) and three new ones (w..) per document, two windows each."""
    for item in [f"q{i:02d}" for i in range(10)] + [f"w{i:02d}" for i in range(3)]:
        qid = f"{name}#{item}"
        yield Example("question?", "passage", (0, 3), qid)
        yield Example("question?", "passage", None, qid)


@pytest.fixture(autouse=True)
def fake_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trainer, "examples_of", _fake_examples)


def test_focus_keeps_every_new_item_and_replays_a_seeded_sample_of_the_others() -> None:
    examples, count = trainer.training_examples(["a", "b"], seed=5, max_questions=None,
                                                focus="w", replay=2.0)
    qids = {e.qid for e in examples}
    new = {q for q in qids if "#w" in q}
    assert new == {f"{d}#w{i:02d}" for d in "ab" for i in range(3)}
    assert len(qids - new) == 12  # twice the six new questions
    assert count == 18
    assert all(sum(e.qid == q for e in examples) == 2 for q in qids)  # whole questions
    again, _ = trainer.training_examples(["a", "b"], seed=5, max_questions=None,
                                         focus="w", replay=2.0)
    assert again == examples
    other, _ = trainer.training_examples(["a", "b"], seed=6, max_questions=None,
                                         focus="w", replay=2.0)
    assert {e.qid for e in other} != qids


def test_focus_documents_keeps_their_questions_and_the_included_ones() -> None:
    names = ["2023-joint-statement", "fact-sheet-1", "fact-sheet-2"]
    hard = {"fact-sheet-2#q07", "fact-sheet-1#w01"}  # questions of hard negatives
    examples, count = trainer.training_examples(names, seed=5, max_questions=None,
                                                replay=1.0, include=hard,
                                                focus_documents="joint")
    qids = {e.qid for e in examples}
    new = {q for q in qids if q.startswith("2023-joint-statement#")}
    assert len(new) == 13  # every question of the focused document, old and new items alike
    assert hard <= qids
    assert len(qids - new - hard) >= 13 - len(hard) and count == len(qids) <= 13 + 13 + 2
    again, _ = trainer.training_examples(names, seed=5, max_questions=None, replay=1.0,
                                         include=hard, focus_documents="joint")
    assert again == examples


def test_replay_is_capped_by_the_old_questions_there_are() -> None:
    _, count = trainer.training_examples(["a"], seed=1, max_questions=None,
                                         focus="w", replay=100.0)
    assert count == 13


def test_max_questions_draws_a_sample_without_focus() -> None:
    examples, count = trainer.training_examples(["a", "b"], seed=3, max_questions=7)
    assert count == 7 and len({e.qid for e in examples}) == 7
    everything, total = trainer.training_examples(["a", "b"], seed=3, max_questions=None)
    assert total == 26 and len(everything) == 52


def test_exclude_leaves_the_prefixed_items_out_before_the_sample_is_drawn() -> None:
    examples, count = trainer.training_examples(["a", "b"], seed=3, max_questions=None,
                                                exclude="w")
    assert count == 20 and not any("#w" in e.qid for e in examples)
    sample, drawn = trainer.training_examples(["a", "b"], seed=3, max_questions=15,
                                              exclude="w")
    assert drawn == 15 and not any("#w" in e.qid for e in sample)


def test_hard_negatives_become_no_answer_examples(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    texts = {"doc": ["First passage.", "The minister visited.", "Talks were held in spring."]}
    monkeypatch.setattr(trainer, "document_chunks", lambda name: (
        "", [type("Chunk", (), {"text": t}) for t in texts[name]]))
    path = tmp_path / "hard.jsonl"
    rows = [{"qid": "doc#q1", "question": "Who signed?", "answerable": True, "chunk": 1,
             "prediction": "minister", "margin": 1.5},
            {"qid": "doc#u1", "question": "Where next?", "answerable": False, "chunk": 2,
             "prediction": "spring", "margin": 0.2}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n", "utf-8")
    examples = trainer.hard_negatives(path)
    assert examples == [Example("Who signed?", "The minister visited.", None, "doc#q1"),
                        Example("Where next?", "Talks were held in spring.", None, "doc#u1")]


def test_a_mined_span_sharing_a_word_with_a_gold_answer_is_not_a_negative() -> None:
    from eval.mine_span_negatives import words

    gold = words("the Defense Production Act")
    assert words("Production Act authorities") & gold
    assert not words("the Treasury Department") & gold
    assert words("in 2022 and the 3") == {"2022", "3"}  # function words dropped, numbers kept
    assert not words("of a")


def test_included_questions_are_kept_beside_the_drawn_sample() -> None:
    examples, count = trainer.training_examples(["a", "b"], seed=3, max_questions=5,
                                                include={"a#q00", "b#w02"})
    qids = {e.qid for e in examples}
    assert {"a#q00", "b#w02"} <= qids and 5 <= count == len(qids) <= 7


def test_a_stage_records_its_hard_negatives_file_from_the_repository_root() -> None:
    import argparse

    from qa.reader.span_model import sha256_file

    mined = trainer.ROOT / "data" / "hard-negatives.jsonl"
    # init: any file will do, only its hash is recorded
    args = argparse.Namespace(init=str(mined), init_record=None, focus=None, replay=2.0,
                              focus_documents=None,
                              hard_negatives=str(mined))
    fields = trainer.stage_fields(args)["hard_negatives"]
    assert fields["file"] == "data/hard-negatives.jsonl"
    assert fields["sha256"] == sha256_file(mined)
    assert fields["passages"] == sum(1 for _ in mined.open("rb"))


def test_one_focus_a_stage_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        trainer.main(["--focus", "w", "--focus-documents", "joint"])
    assert stop.value.code == 2
    assert "not allowed with argument --focus" in capsys.readouterr().err
