"""Typed loader for the evaluation gold set (``eval/gold.jsonl``).

Each line of a gold file is one JSON object::

    {"id": "q001", "question": "...", "answers": ["..."], "evidence": "..." | null,
     "split": "dev" | "test", "type": "when", "section": "(1) Overview ..."}

* ``answers`` lists acceptable short answers; an empty list means the corpus does
  not answer the question (and ``evidence`` is then ``null``).
* ``evidence`` is a verbatim quotation from the corpus supporting the answers.
* ``split`` is optional; items without it are returned only for ``split="all"``.
* Any other field (``type``, ``section``, ...) is kept in :attr:`GoldItem.extra`.
  ``type`` (the question's kind: ``when``, ``who``, ``how_many``, ...) and the
  question's wording give the item's answer type for the reports
  (:func:`answer_type`); an ``answer_type`` field, if present, says it outright.

The module only uses the standard library so it can be imported cheaply.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.answer_types import ANSWER_TYPES, answer_type
from eval.metrics.answers import normalize_answer
from eval.metrics.evidence import QUOTE_TABLE as _QUOTE_TABLE

__all__ = [
    "VALID_SPLITS",
    "GoldItem",
    "default_gold_path",
    "load_gold",
    "normalize_for_match",
]

#: Values accepted for the ``split`` argument of :func:`load_gold`.
VALID_SPLITS: tuple[str, ...] = ("dev", "test", "all")
#: Values accepted for the ``split`` field of a gold item.
_ITEM_SPLITS: tuple[str, ...] = ("dev", "test")
_KNOWN_FIELDS = frozenset({"id", "question", "answers", "evidence", "split"})

_WHITESPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class GoldItem:
    """One gold question with its acceptable answers and supporting evidence.

    Attributes:
        id: Unique identifier, e.g. ``"q001"``.
        question: The question as a user would ask it.
        answers: Acceptable short answers; empty when the corpus has no answer.
        evidence: Verbatim supporting quotation from the corpus, or ``None``.
        split: ``"dev"``, ``"test"`` or ``None`` when the line had no split.
        extra: Any further fields of the JSON object (e.g. ``type``, ``section``).
    """

    id: str
    question: str
    answers: tuple[str, ...]
    evidence: str | None
    split: str | None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def answerable(self) -> bool:
        """Whether the corpus answers the question (at least one gold answer)."""
        return len(self.answers) > 0

    @property
    def answer_type(self) -> str:
        """What the answer is, for the reports: one of :data:`eval.answer_types.ANSWER_TYPES`.

        The ``answer_type`` field when the line has one, else derived from ``type``, the
        question and the answers (:func:`eval.answer_types.answer_type`).
        """
        declared = self.extra.get("answer_type")
        if isinstance(declared, str):
            return declared
        kind = self.extra.get("type")
        return answer_type(kind if isinstance(kind, str) else None, self.question, self.answers)


def default_gold_path() -> Path:
    """Return the path of ``gold.jsonl`` stored next to this module."""
    return Path(__file__).resolve().parent / "gold.jsonl"


def normalize_for_match(text: str) -> str:
    """Normalize text for containment checks of evidence and answers.

    Curly quotes become straight quotes, every run of whitespace becomes one
    space, the result is stripped and lowercased.

    Args:
        text: Any text.

    Returns:
        The normalized text.
    """
    return _WHITESPACE_RE.sub(" ", text.translate(_QUOTE_TABLE)).strip().lower()


def _parse_item(obj: Any, where: str) -> GoldItem:
    """Validate one decoded JSON value and build a :class:`GoldItem`.

    Args:
        obj: The decoded JSON value of one line.
        where: ``"<file>:<line>"`` used in error messages.

    Raises:
        ValueError: If a field is missing or has the wrong type.
    """
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    for name in ("id", "question", "answers"):
        if name not in obj:
            raise ValueError(f"{where}: missing required field {name!r}")

    item_id = obj["id"]
    if not isinstance(item_id, str) or not item_id.strip():
        raise ValueError(f"{where}: field 'id' must be a non-empty string")
    question = obj["question"]
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f"{where}: field 'question' must be a non-empty string")
    answers = obj["answers"]
    if not isinstance(answers, list) or not all(isinstance(a, str) and a.strip() for a in answers):
        raise ValueError(f"{where}: field 'answers' must be a list of non-empty strings")
    empty = [a for a in answers if not normalize_answer(a)]
    if empty:
        # SQuAD v2 scoring drops such answers, so they would silently not count.
        raise ValueError(
            f"{where}: answer {empty[0]!r} is empty once normalized "
            "(only articles, punctuation or spaces)"
        )
    evidence = obj.get("evidence")
    if evidence is not None and (not isinstance(evidence, str) or not evidence.strip()):
        raise ValueError(f"{where}: field 'evidence' must be a non-empty string or null")
    split = obj.get("split")
    if split is not None and split not in _ITEM_SPLITS:
        raise ValueError(
            f"{where}: field 'split' must be one of {', '.join(_ITEM_SPLITS)} or null, "
            f"got {split!r}"
        )

    declared_type = obj.get("answer_type")
    if declared_type is not None and declared_type not in ANSWER_TYPES:
        raise ValueError(
            f"{where}: field 'answer_type' must be one of {', '.join(ANSWER_TYPES)}, "
            f"got {declared_type!r}"
        )
    extra = {k: v for k, v in obj.items() if k not in _KNOWN_FIELDS}
    return GoldItem(
        id=item_id,
        question=question,
        answers=tuple(answers),
        evidence=evidence,
        split=split,
        extra=extra,
    )


def load_gold(path: str | os.PathLike[str], split: str = "all") -> list[GoldItem]:
    """Load and validate a JSON-lines gold file.

    Blank lines are skipped. Every other line must be a JSON object with at least
    ``id`` (non-empty string), ``question`` (non-empty string) and ``answers``
    (list of strings); ``evidence`` (string or null) and ``split`` ("dev", "test"
    or null) are optional; other fields are kept in :attr:`GoldItem.extra`.

    Args:
        path: Path of the ``.jsonl`` file.
        split: ``"dev"``, ``"test"`` or ``"all"``. Items without a split are
            returned only for ``"all"``.

    Returns:
        The items of the requested split, in file order.

    Raises:
        ValueError: For an unknown ``split`` argument, or, naming the file and the
            line number, for malformed JSON, missing or wrongly typed fields and
            duplicate ids.
        OSError: If the file cannot be read.
    """
    if split not in VALID_SPLITS:
        raise ValueError(f"invalid split {split!r}; expected one of: {', '.join(VALID_SPLITS)}")
    file = Path(path)
    items: list[GoldItem] = []
    first_line_of: dict[str, int] = {}
    with file.open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{file}:{lineno}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{where}: malformed JSON: {exc.msg}") from exc
            item = _parse_item(obj, where)
            if item.id in first_line_of:
                raise ValueError(
                    f"{where}: duplicate id {item.id!r} "
                    f"(first seen on line {first_line_of[item.id]})"
                )
            first_line_of[item.id] = lineno
            if split == "all" or item.split == split:
                items.append(item)
    return items
