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


__all__ = [
    "BackendUnavailable",
    "ConfigError",
    "CorpusError",
    "CorruptIndex",
    "IndexFolderError",
    "IndexLocked",
    "IndexNotFound",
    "InvalidQuestion",
    "NotFound",
    "QAError",
    "StaleIndex",
    "TooLarge",
]
