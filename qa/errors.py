"""Errors of the query side (the base class lives in ``index.errors``)."""

from __future__ import annotations

from index.errors import (
    BackendUnavailable,
    ConfigError,
    CorpusError,
    CorruptIndex,
    IndexFolderError,
    IndexLocked,
    IndexNotFound,
    QAError,
    StaleIndex,
)


class InvalidQuestion(QAError):
    """The question is empty, too long or otherwise unusable."""


class NotFound(QAError):
    """A passage or document id that does not exist."""


class TooLarge(QAError):
    """A document too large to serve."""


class LLMNotConfigured(QAError):
    """The model answerer was asked for, but no model endpoint is configured (QA_LLM_URL)."""


class LLMError(QAError):
    """The model endpoint failed: unreachable, refused, an error status, or an unusable reply."""


class LLMBadReply(LLMError):
    """The model's reply is unusable: not the JSON asked for, or cut at QA_LLM_MAX_TOKENS."""


class LLMTimeout(LLMError):
    """The model endpoint did not finish its reply within QA_LLM_TIMEOUT."""


__all__ = [
    "BackendUnavailable",
    "ConfigError",
    "CorpusError",
    "CorruptIndex",
    "IndexFolderError",
    "IndexLocked",
    "IndexNotFound",
    "InvalidQuestion",
    "LLMBadReply",
    "LLMError",
    "LLMNotConfigured",
    "LLMTimeout",
    "NotFound",
    "QAError",
    "StaleIndex",
    "TooLarge",
]
