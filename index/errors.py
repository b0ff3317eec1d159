"""Exceptions raised by the core; the CLI and HTTP edges translate them into messages."""

from __future__ import annotations


class QAError(Exception):
    """Base class of every error this project raises on purpose."""


class CorpusError(QAError):
    """The corpus folder is missing, unreadable or holds no usable document."""


class IndexNotFound(QAError):
    """No index has been built in the index folder yet."""


class StaleIndex(QAError):
    """The index was built from another corpus or with other settings."""


class CorruptIndex(QAError):
    """An index file is missing, truncated or damaged."""


class IndexLocked(QAError):
    """Another process is building the index right now."""


class IndexFolderError(QAError):
    """The index folder cannot be read or written (permissions, not a folder, disk full)."""


class BackendUnavailable(QAError):
    """The search engine (a Milvus server) cannot be reached or did not answer in time."""


class EngineLocked(BackendUnavailable):
    """Another process holds the Milvus Lite database (it opens in one process at a time)."""


class EngineDamaged(CorruptIndex):
    """The local Milvus Lite database cannot be read: a damaged file, or a file in its place."""


class ConfigError(QAError):
    """A setting has a value that cannot be used."""


class NlpModelError(QAError):
    """The spaCy pipeline named by ``QA_NLP_MODEL`` is missing or cannot be loaded."""


class ModelExportError(QAError):
    """The embedding model named by ``QA_MODEL`` cannot be found or exported to ONNX."""
