"""The distillation of a smaller span reader (``eval.distill_span_reader``) on the committed
reader: which layers a student keeps, that it starts from the teacher's very weights, and
that the loss compares each window's logits with the teacher's own at the same positions."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eval import distill_span_reader as distill


def test_a_student_keeps_evenly_spread_layers_ending_at_the_last() -> None:
    assert distill.kept_layers(6, 3) == [1, 3, 5]
    assert distill.kept_layers(6, 4) == [1, 2, 4, 5]
    assert distill.kept_layers(6, 6) == [0, 1, 2, 3, 4, 5]
    for bad in (0, 7):
        with pytest.raises(ValueError):
            distill.kept_layers(6, bad)


def _windows(n: int) -> list[Any]:
    from eval.span_data import examples_of, gold_files, load_split
    from eval.span_dev import SHAPE
    from eval.train_span_reader import label_windows
    from qa.reader.windows import load_tokenizer

    name = gold_files(load_split()["train"])[0].stem
    tokenizer = load_tokenizer(distill.TEACHER / "tokenizer.json")
    examples = list(examples_of(name, random.Random(1)))
    return label_windows(tokenizer, examples, SHAPE)[:n]


def test_the_student_starts_from_the_teachers_weights_and_the_loss_lines_up(
        tmp_path: Path) -> None:
    import torch

    small, keep = distill.student(distill.TEACHER, 3)
    full, _ = distill.student(distill.TEACHER, 6)
    big, little = full.state_dict(), small.state_dict()
    for i, j in enumerate(keep):
        name = "bert.encoder.layer.{}.attention.self.query.weight"
        assert torch.equal(little[name.format(i)], big[name.format(j)])
    for name in ("bert.embeddings.word_embeddings.weight", "qa_outputs.weight"):
        assert torch.equal(little[name], big[name])
    rows = _windows(6)
    assert len({len(w.ids) for w, _, _ in rows}) > 1  # the batch pads
    soft = distill.teacher_logits(distill.TEACHER, [w for w, _, _ in rows], tmp_path)
    assert [len(s) for s, _ in soft] == [len(w.ids) for w, _, _ in rows]
    assert list(tmp_path.glob("teacher-*.npz"))  # cached: read back the same
    again = distill.teacher_logits(distill.TEACHER, [w for w, _, _ in rows], tmp_path)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(soft, again, strict=True))

    def kd_loss(model: object) -> float:  # alpha 0: the teacher term alone, lr 0: no update
        optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # type: ignore[attr-defined]
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
        return distill.distill_step(model, optimizer, schedule, rows, soft, 0.0, 2.0)

    full.eval()
    small.eval()
    same, fewer = kd_loss(full), kd_loss(small)
    # all six layers are the teacher itself (int8 activations aside): next to no divergence
    assert same < 0.05 < fewer
