"""Typed records passed between the stages of the model answerer (pack → ask → parse → verify)."""

from __future__ import annotations

from dataclasses import dataclass, field

from qa.records import Citation, Passage


@dataclass(frozen=True)
class Endpoint:
    """Where the model is and how far it may go (from the ``QA_LLM_*`` settings).

    ``api_key`` is kept out of ``repr`` so it cannot reach a log line or an error message.
    """

    url: str
    model: str
    api_key: str = field(default="", repr=False)
    timeout: float = 60.0  # seconds for the whole reply
    context_tokens: int = 8192  # the model's window: prompt and answer together
    max_tokens: int = 512  # the answer budget


@dataclass(frozen=True)
class Source:
    """A retrieved passage as the prompt shows it: numbered from 1, its text cut at a
    sentence end to fit the window (``text`` is ``passage.text[:len(text)]``)."""

    number: int
    passage: Passage
    text: str


@dataclass(frozen=True)
class Reply:
    """The model's raw reply and why it stopped (``stop``, ``length``, ...)."""

    text: str
    finish_reason: str | None


@dataclass(frozen=True)
class ModelQuote:
    """A quote the model gives: the number of the passage it names and the words."""

    passage: int
    text: str


@dataclass(frozen=True)
class ModelAnswer:
    """The model's answer as parsed from its JSON (``answer`` None: the passages do not say)."""

    answer: str | None
    quotes: tuple[ModelQuote, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """The check of a model answer: the citations of its quotes, or why it fails.

    ``reason`` is None when every quote was found in the passage it names and every
    number and name of the answer is in a quote.
    """

    citations: tuple[Citation, ...]
    reason: str | None

    @property
    def verified(self) -> bool:
        """Whether the answer may be shown as the answer."""
        return self.reason is None
