"""Typed records of the query side; ``to_dict`` gives the ``--json`` / HTTP shape."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk; ``text`` equals the document's ``text[start:end]``."""

    doc_id: str
    chunk_id: str
    section: str
    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True)
class Citation:
    """A quote supporting the answer; ``quote`` equals the document's ``text[start:end]``."""

    doc_id: str
    chunk_id: str
    section: str
    start: int
    end: int
    quote: str
    score: float


@dataclass(frozen=True)
class Answer:
    """The result of a question."""

    question: str
    answer: str | None
    abstained: bool
    confidence: float
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    answer_start: int | None = None  # offsets of the answer span in its cited document
    answer_end: int | None = None
    features: tuple[float, ...] = ()  # confidence features, for calibration (not serialised)

    def to_dict(self) -> dict[str, Any]:
        """Exactly the documented JSON object of ``qa ask --json`` and ``POST /ask``."""
        data = asdict(self)
        del data["answer_start"], data["answer_end"], data["features"]
        return data
