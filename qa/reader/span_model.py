"""The trained span reader on ONNX Runtime: question + passages in, the best span out.

``models/span-reader/`` holds ``model.onnx``, ``tokenizer.json`` and ``record.json`` (the
SHA-256 of both files, the window shape, the abstention margin and the confidence
calibration, and how the model was trained). The model is refused, with one line, when a
file's hash differs from the record. No torch, no transformers: ``onnxruntime`` and
``tokenizers`` only, all windows of a question in one ``session.run``.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import ConfigError
from index.store import file_digest
from qa.reader.windows import Span, Window, WindowShape, batch_arrays, best_spans, cut_windows

MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "span-reader"
RECORD = "record.json"

Logits = Callable[[dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray]]


sha256_file = file_digest  # the index's own block-wise SHA-256, named for the model record


@dataclass(frozen=True)
class Reading:
    """The best span over all passages of one question.

    Attributes:
        passage: index of the passage the span lies in.
        start, end: character offsets in that passage's text.
        margin: best span score minus that window's no-answer score (higher: surer).
    """

    passage: int
    start: int
    end: int
    margin: float


def pick(windows: Sequence[Window], spans: Sequence[Span]) -> Reading | None:
    """The span with the largest margin over its window's no-answer score."""
    if not spans:
        return None
    best = max(spans, key=lambda s: s.margin)
    return Reading(windows[best.window].passage, best.start, best.end, best.margin)


def read_passages(logits: Logits, tokenizer: Any, shape: WindowShape, question: str,
                  passages: Sequence[str], breaks: Sequence[Sequence[int]] | None,
                  length_bonus: float = 0.0,
                  early_exit: float | None = None) -> Reading | None:
    """Cut, run, decode: the best span of ``passages``.

    With ``early_exit`` (a margin chosen on dev), the first passage's windows run first and
    its span is the answer when its margin reaches ``early_exit``; only otherwise do the
    other passages' windows run, in one more batch. Without it, every window goes through
    one run. Either way the answer is the span with the largest margin among those read."""
    if not passages:
        return None
    windows = cut_windows(tokenizer, question, passages, shape)
    if early_exit is None:
        return read_windows(logits, windows, shape, breaks, length_bonus)
    head = [w for w in windows if w.passage == 0]
    rest = [w for w in windows if w.passage != 0]
    first = read_windows(logits, head, shape, breaks, length_bonus)
    if not rest or (first is not None and first.margin >= early_exit):
        return first
    later = read_windows(logits, rest, shape, breaks, length_bonus)
    if first is None or (later is not None and later.margin > first.margin):
        return later
    return first


def read_windows(logits: Logits, windows: Sequence[Window], shape: WindowShape,
                 breaks: Sequence[Sequence[int]] | None,
                 length_bonus: float = 0.0) -> Reading | None:
    """One run over ``windows``; the best span among them."""
    if not windows:
        return None
    start, end = logits(batch_arrays(windows))
    return pick(windows, best_spans(windows, start, end, shape, breaks, length_bonus))


class SpanModel:
    """The exported span reader with its record.

    Args:
        folder: the model folder (default ``models/span-reader``).
        threads: ONNX Runtime intra-op threads.
    """

    def __init__(self, folder: Path | None = None, threads: int = 1) -> None:
        self.folder = folder or MODEL_DIR
        record_path = self.folder / RECORD
        try:
            self.record: dict[str, Any] = json.loads(record_path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"span reader: cannot read {record_path} ({exc})") from exc
        files = self.record.get("files", {})
        for name in ("model.onnx", "tokenizer.json"):
            path = self.folder / name
            if not path.is_file():
                raise ConfigError(f"span reader: {path} is missing")
            if sha256_file(path) != files.get(name):
                raise ConfigError(f"span reader: {path} does not match the SHA-256 in "
                                  f"{record_path}; restore the committed model")
        shape = self.record["shape"]
        self.shape = WindowShape(int(shape["max_length"]), int(shape["stride"]),
                                 int(shape["max_answer_tokens"]))
        self.margin = float(self.record["abstain_margin"])
        self.passages = int(self.record.get("passages", 5))  # how many passages it reads
        self.length_bonus = float(self.record.get("length_bonus", 0.0))  # chosen on dev
        exit_margin = self.record.get("early_exit_margin")  # chosen on dev; None: one run
        self.early_exit = None if exit_margin is None else float(exit_margin)
        calib = self.record["calibration"]
        self._a, self._b = float(calib["slope"]), float(calib["intercept"])
        self.threads = threads
        # at most one run per core at a time: more only thrashes the CPU, and every
        # concurrent run holds its own activations (8 clients grew the server by 420 MB)
        self._slots = threading.BoundedSemaphore(max(1, min(os.cpu_count() or 1, 4)))
        self._session: Any = None
        self._tokenizer: Any = None

    def _load(self) -> None:
        if self._session is None:
            import onnxruntime as ort

            from qa.reader.windows import load_tokenizer

            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            self._tokenizer = load_tokenizer(self.folder / "tokenizer.json")
            self._session = ort.InferenceSession(str(self.folder / "model.onnx"), options,
                                                 providers=["CPUExecutionProvider"])

    def logits(self, arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Start and end logits of a padded batch, in one ``session.run``."""
        self._load()
        with self._slots:
            start, end = self._session.run(["start_logits", "end_logits"], arrays)
        return np.asarray(start), np.asarray(end)

    @property
    def tokenizer(self) -> Any:
        self._load()
        return self._tokenizer

    def read(self, question: str, passages: Sequence[str],
             breaks: Sequence[Sequence[int]] | None = None) -> Reading | None:
        """The best span of the question over the passages."""
        return read_passages(self.logits, self.tokenizer, self.shape, question, passages,
                             breaks, self.length_bonus, self.early_exit)

    def confidence(self, margin: float) -> float:
        """The calibrated probability that an answer with this margin is right."""
        z = self._a * margin + self._b
        return 1.0 / (1.0 + math.exp(-z)) if z > -50 else 0.0
