"""The settings an index is built with; recorded in its manifest."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from index.documents.corpus import DEFAULT_MAX_FILE_BYTES
from index.documents.extract.pool import default_workers
from index.documents.extract.records import ExtractSettings
from index.encode.base import DEFAULT_MODEL
from index.encode.onnx_embedder import ENCODER_FORMAT
from index.search.backend import BACKENDS
from index.search.vectors import DEFAULT_HNSW_THRESHOLD, VECTOR_KINDS
from index.store import FORMAT_VERSION
from index.text.chunker import ChunkSettings
from index.text.nlp import DEFAULT_NLP_MODEL
from index.text.tokens import TOKENIZER_NAME

DEFAULT_CACHE_BYTES = 1024 * 1024 * 1024

# Modules whose code decides what an index contains: a change to any of them makes
# existing indexes stale, so users get a rebuild instead of offsets from older code.
PIPELINE_MODULES = (
    "documents/structure", "text/sentences", "text/chunker", "text/acronyms", "text/lexical",
    "search/bm25", "builder", "documents/textfold", "text/annotate", "search/legs",
    "search/milvus_store",
    "documents/extract/pdf", "documents/extract/pdf_layout", "documents/extract/pdf_objects",
    "documents/extract/html", "documents/extract/html_encoding", "documents/extract/records",
    "documents/extract/document",
)


@lru_cache(maxsize=1)
def pipeline_hash() -> str:
    """A short hash of the source of the modules that shape the index."""
    digest = hashlib.sha256()
    for name in PIPELINE_MODULES:
        digest.update((Path(__file__).parent / f"{name}.py").read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class BuildConfig:
    """Everything that changes what an index contains.

    Attributes:
        model: sentence-transformers model name or path.
        chunking: chunk budget and overlap.
        vector_kind: ``auto``, ``flat`` or ``hnsw``.
        hnsw_threshold: with ``auto``, the vector count from which HNSW is used.
        max_file_bytes: corpus files larger than this are skipped.
        nlp_model: the spaCy pipeline that annotates every sentence.
        backend: where the search legs live: ``faiss`` (files) or ``milvus``.
        extract: bounds and options of PDF/HTML extraction.
        workers: corpus files read at once (each PDF or HTML file in its own child).
        cache_bytes: size bound of the build cache in the index folder (0: no cache).

    ``workers`` and ``cache_bytes`` change how fast an index is built, never what it holds:
    they are not part of the fingerprint.
    """

    model: str = DEFAULT_MODEL
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    vector_kind: str = "auto"
    hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    nlp_model: str = DEFAULT_NLP_MODEL
    backend: str = "faiss"
    extract: ExtractSettings = field(default_factory=ExtractSettings)
    workers: int = field(default_factory=default_workers)
    cache_bytes: int = DEFAULT_CACHE_BYTES

    def __post_init__(self) -> None:
        if self.workers < 1 or self.cache_bytes < 0:
            raise ValueError("workers must be at least 1 and cache_bytes at least 0")
        if self.backend not in BACKENDS:
            raise ValueError(
                f"unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}"
            )
        if self.vector_kind not in VECTOR_KINDS:
            raise ValueError(
                f"unknown vector index kind {self.vector_kind!r}; choose one of {', '.join(VECTOR_KINDS)}"
            )

    def fingerprint(self) -> dict[str, Any]:
        """The settings as stored in the manifest and compared on load."""
        return {
            "format_version": FORMAT_VERSION,
            "pipeline": pipeline_hash(),
            "model": self.model,
            "encoder": ENCODER_FORMAT,
            "tokenizer": TOKENIZER_NAME,
            "chunking": asdict(self.chunking),
            "vector_kind": self.vector_kind,
            "hnsw_threshold": self.hnsw_threshold,
            "max_file_bytes": self.max_file_bytes,
            "nlp_model": self.nlp_model,
            "backend": self.backend,
            # the time and memory bounds are left out: they change no file's text
            "max_pdf_pages": self.extract.max_pages,
            "max_source_bytes": self.extract.max_source_bytes,
            "ocr": self.extract.ocr,
        }
