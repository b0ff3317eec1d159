"""Scoring a span model on the dev documents, as the trainer and the quantizer both do.

Each dev question of ``data/split.json``'s dev documents is read over its best
``DEV_PASSAGES`` passages (BM25 over the document's own chunks, as ``eval.span_data``
retrieves them); the abstention margin is the highest that keeps false abstention at 5 %.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval.span_data import Question, document_chunks, questions_of
from qa.reader.span_model import Logits, read_passages
from qa.reader.windows import WindowShape

SHAPE = WindowShape(max_length=320, stride=128, max_answer_tokens=30)
DEV_PASSAGES = 5


def dev_questions(names: Sequence[str]) -> list[tuple[Question, list[str], list[list[int]]]]:
    """Each dev question with the texts of its best retrieved passages and their sentence
    starts (offsets in each passage), as the service would hand them to the reader."""
    out = []
    for name in names:
        _, chunks = document_chunks(name)
        for q in questions_of(name, DEV_PASSAGES):
            picked = [chunks[i] for i in q.retrieved]
            breaks = [[s - c.start for s, _ in c.sentences] for c in picked]
            out.append((q, [c.text for c in picked], breaks))
    return out


def evaluate(logits: Logits, tokenizer: Any, dev: Sequence[tuple[Question, list[str],
             list[list[int]]]], shape: WindowShape) -> list[dict[str, Any]]:
    """Per dev question: the best span's text, its margin and whether it is right."""
    from eval.metrics.answers import max_over_golds, strict_match, token_f1

    rows = []
    for q, passages, breaks in dev:
        reading = read_passages(logits, tokenizer, shape, q.question, passages, breaks)
        text = passages[reading.passage][reading.start:reading.end] if reading else ""
        rows.append({
            "qid": q.qid, "answerable": bool(q.answers), "prediction": text,
            "margin": reading.margin if reading else -1e9,
            "strict": bool(q.answers) and strict_match(text, q.answers),
            "f1": max_over_golds(token_f1, text, q.answers) if q.answers else 0.0,
        })
    return rows


def choose(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The abstention margin (the highest with false abstention ≤ 5 % on dev), its logistic
    calibration and the figures at it (``eval.span_choices`` does the same per option)."""
    from eval.span_choices import abstain_margin, settle

    return settle(rows, abstain_margin(rows))


def onnx_logits(path: Path, threads: int) -> Logits:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        start, end = session.run(["start_logits", "end_logits"], arrays)
        return np.asarray(start), np.asarray(end)

    return run
