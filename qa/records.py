"""Typed records of the query side; ``to_dict`` gives the ``--json`` / HTTP shape."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk; ``text`` equals the document's ``text[start:end]``.

    ``page_start``/``page_end``: 1-based pages of a PDF as a viewer counts them (None for
    other documents).
    """

    doc_id: str
    chunk_id: str
    section: str
    start: int
    end: int
    text: str
    score: float
    page_start: int | None = None
    page_end: int | None = None


@dataclass(frozen=True)
class Citation:
    """A quote supporting the answer; ``quote`` equals the document's ``text[start:end]``.

    ``page_start``/``page_end`` as in ``Passage``. ``source``: ``reader`` (the extractive
    reader cut it) or ``model`` (the model quoted it and the quote was found in its passage).
    """

    doc_id: str
    chunk_id: str
    section: str
    start: int
    end: int
    quote: str
    score: float
    page_start: int | None = None
    page_end: int | None = None
    source: str = "reader"


@dataclass(frozen=True)
class ModelCheck:
    """What became of a model's answer (``answerer: llm``).

    ``outcome``: ``verified`` (shown as the answer), ``abstained`` (the model said the
    passages do not answer) or ``unverified`` (not shown; ``reason`` says why, and the
    extractive reader's answer is given instead).
    """

    model: str
    outcome: str
    reason: str | None = None


@dataclass(frozen=True)
class Answer:
    """The result of a question."""

    question: str
    answer: str | None
    abstained: bool
    confidence: float | None  # None for a model's answer: it has no calibrated confidence
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    answer_start: int | None = None  # offsets of the answer span in its cited document
    answer_end: int | None = None
    features: tuple[float, ...] = ()  # confidence features, for calibration (not serialised)
    index_version: str | None = None  # the index version answered from (its texts are kept)
    answerer: str = "extractive"  # or "llm": the model was asked (see ``llm``)
    llm: ModelCheck | None = None  # what became of the model's answer (answerer llm)

    def to_dict(self) -> dict[str, Any]:
        """Exactly the documented JSON object of ``qa ask --json`` and ``POST /ask``."""
        data = asdict(self)
        del data["answer_start"], data["answer_end"], data["features"]
        return data


def page_label(page_start: int | None, page_end: int | None) -> str:
    """"p. 37", "pp. 37–38", or "" when the document has no pages."""
    if page_start is None:
        return ""
    if page_end is None or page_end == page_start:
        return f"p. {page_start}"
    return f"pp. {page_start}–{page_end}"
