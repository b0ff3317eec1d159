"""Question + passage windows for the span model, and the best span read back from its logits.

One module for training and for the query path, so both cut and decode the same way:
``[CLS] question [SEP] passage piece [SEP]``, long passages cut into overlapping pieces,
each context token carrying its character offsets in the passage text (so an answer maps
back to exact offsets of the stored document). Needs only ``tokenizers`` and NumPy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAX_QUESTION_TOKENS = 64


@dataclass(frozen=True)
class WindowShape:
    """How windows are cut.

    Attributes:
        max_length: tokens of a window, question and special tokens included.
        stride: context tokens shared by two neighbouring pieces of one passage.
        max_answer_tokens: the longest span read back.
    """

    max_length: int = 256
    stride: int = 96
    max_answer_tokens: int = 30


@dataclass(frozen=True)
class Window:
    """One model input: a question with one piece of one passage.

    Attributes:
        passage: index of the passage in the list that was cut.
        ids, type_ids: token ids and segment ids (unpadded).
        offsets: per token, (start, end) characters in the passage; (-1, -1) outside the
            context (question and special tokens).
    """

    passage: int
    ids: tuple[int, ...]
    type_ids: tuple[int, ...]
    offsets: tuple[tuple[int, int], ...]

    @property
    def context(self) -> range:
        """Token positions of the passage piece."""
        first = next(i for i, o in enumerate(self.offsets) if o[0] >= 0)
        last = max(i for i, o in enumerate(self.offsets) if o[0] >= 0)
        return range(first, last + 1)


def load_tokenizer(path: Path) -> Any:
    """The span model's tokenizer (``tokenizer.json``), without padding or truncation."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def cut_windows(tokenizer: Any, question: str, passages: Sequence[str],
                shape: WindowShape) -> list[Window]:
    """Every window of ``question`` over ``passages``, in passage order."""
    q = tokenizer.encode(question, add_special_tokens=False)
    q_ids = list(q.ids[:MAX_QUESTION_TOKENS])
    room = shape.max_length - len(q_ids) - 3
    windows: list[Window] = []
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    for n, text in enumerate(passages):
        p = tokenizer.encode(text, add_special_tokens=False)
        ids, offsets = p.ids, p.offsets
        starts = _piece_starts(len(ids), room, shape.stride)
        for first in starts:
            piece = range(first, min(first + room, len(ids)))
            win_ids = [cls, *q_ids, sep, *(ids[i] for i in piece), sep]
            types = [0] * (len(q_ids) + 2) + [1] * (len(piece) + 1)
            offs = ([(-1, -1)] * (len(q_ids) + 2) + [tuple(offsets[i]) for i in piece]
                    + [(-1, -1)])
            windows.append(Window(n, tuple(win_ids), tuple(types), tuple(offs)))
    return windows


def _piece_starts(length: int, room: int, stride: int) -> list[int]:
    if length <= room:
        return [0]
    step = max(1, room - stride)
    starts = list(range(0, length - room, step))
    starts.append(length - room)
    return starts


def batch_arrays(windows: Sequence[Window]) -> dict[str, np.ndarray]:
    """The padded int64 arrays of a batch of windows (``input_ids``, ``attention_mask``,
    ``token_type_ids``)."""
    width = max(len(w.ids) for w in windows)
    ids = np.zeros((len(windows), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for row, w in enumerate(windows):
        ids[row, : len(w.ids)] = w.ids
        mask[row, : len(w.ids)] = 1
        types[row, : len(w.ids)] = w.type_ids
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


@dataclass(frozen=True)
class Span:
    """The best span of one window.

    Attributes:
        window: index of the window in the batch.
        start, end: character offsets in the window's passage text.
        score: start logit + end logit of the span.
        null: start logit + end logit of the no-answer position (``[CLS]``).
    """

    window: int
    start: int
    end: int
    score: float
    null: float

    @property
    def margin(self) -> float:
        """How far the span beats this window's no-answer score."""
        return self.score - self.null


def best_spans(windows: Sequence[Window], start_logits: np.ndarray, end_logits: np.ndarray,
               shape: WindowShape,
               breaks: Sequence[Sequence[int]] | None = None,
               length_bonus: float = 0.0) -> list[Span]:
    """The best span of every window (start ≤ end, at most ``max_answer_tokens`` long).

    Args:
        breaks: per window's passage, character offsets a span may not cross (sentence
            starts); None to allow any span.
        length_bonus: added to a span's score per token beyond its first when choosing the
            span (a prior towards whole phrases, chosen on dev); the span's ``score`` stays
            its logits' sum, so margins and abstention do not move with it.
    """
    spans: list[Span] = []
    for row, w in enumerate(windows):
        ctx = w.context
        s = start_logits[row, ctx.start:ctx.stop]
        e = end_logits[row, ctx.start:ctx.stop]
        n = len(s)
        scores = s[:, None] + e[None, :]
        i, j = np.indices((n, n))
        allowed = (j >= i) & (j - i < shape.max_answer_tokens)
        if breaks is not None:
            cuts = np.asarray(sorted(breaks[w.passage]), dtype=np.int64)
            token_starts = np.asarray([w.offsets[t][0] for t in ctx], dtype=np.int64)
            sentence = np.searchsorted(cuts, token_starts, side="right")
            allowed &= sentence[:, None] == sentence[None, :]
        scores = np.where(allowed, scores, -np.inf)
        flat = int(np.argmax(scores + length_bonus * (j - i) if length_bonus else scores))
        a, b = divmod(flat, n)
        start = w.offsets[ctx.start + a][0]
        end = w.offsets[ctx.start + b][1]
        null = float(start_logits[row, 0] + end_logits[row, 0])
        spans.append(Span(row, start, end, float(scores[a, b]), null))
    return spans
