"""Open a built index and tell whether it is current."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.cache import damaged_entries
from index.config import BuildConfig
from index.documents.corpus import corpus_fingerprint
from index.errors import CorruptIndex, IndexNotFound
from index.records import Chunk, Document
from index.search.backend import FaissBackend, SearchBackend, stored_passage
from index.search.bm25 import load_bm25
from index.search.engine_check import check_engine, open_engine
from index.search.milvus_target import MilvusTarget
from index.search.vectors import load_vector_index
from index.store import (
    ACRONYMS,
    ANNOTATIONS,
    BM25_DIR,
    CHUNKS,
    DENSE,
    REBUILD_HINT,
    backend_name,
    load_sentence_vectors,
    read_chunks,
    read_documents,
    read_manifest,
    read_pointer,
    verify_files,
)
from index.text.annotate import Annotation, read_annotations


@dataclass
class LoadedIndex:
    """A built index in memory: chunks, the search backend, the acronym table.

    ``vectors`` and ``bm25`` are the in-process legs (None when they live in Milvus);
    ``backend`` answers searches either way.
    """

    version: Path
    manifest: dict[str, Any]
    chunks: list[Chunk]
    vectors: Any
    bm25: Any
    acronyms: dict[str, str]
    sentence_rows: dict[tuple[str, int, int], int] = field(default_factory=dict)
    sentence_vectors: np.ndarray | None = None
    annotations: dict[tuple[str, int, int], Annotation] = field(default_factory=dict)
    documents: dict[str, Document] = field(default_factory=dict)
    backend: SearchBackend = field(default=None)  # type: ignore[assignment]
    by_id: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        if self.backend is None:
            passages = [stored_passage(i, c) for i, c in enumerate(self.chunks)]
            self.backend = FaissBackend(self.vectors, self.bm25, passages)

    def page_span(self, doc_id: str, start: int, end: int) -> tuple[int | None, int | None]:
        """1-based first and last page of a span of a document (None, None: no pages)."""
        doc = self.documents.get(doc_id)
        return doc.page_span(start, end) if doc is not None else (None, None)


@dataclass(frozen=True)
class IndexStatus:
    """Whether the index matches the corpus and settings, and if not, why."""

    current: bool
    reasons: tuple[str, ...]


def load_index(
    index_dir: Path, verify: bool = True, engine: MilvusTarget | None = None
) -> LoadedIndex:
    """Load the active index version.

    A build that publishes a new version while this runs may delete the old one; the
    load then starts over on the version ``CURRENT`` names now.

    Args:
        index_dir: the index folder.
        verify: check every file against its manifest checksum first.
        engine: where Milvus is, for a version whose legs live there.

    Raises:
        IndexNotFound: nothing built yet.
        CorruptIndex: a file is missing, damaged or unreadable (the message names it),
            or the engine lacks the version's collection.
        BackendUnavailable: Milvus cannot be reached.
    """
    for _attempt in range(3):
        version, digest = read_pointer(index_dir)
        try:
            return _load_version(version, digest, verify, engine)
        except CorruptIndex:
            if read_pointer(index_dir)[0] == version:
                raise
    return _load_version(*read_pointer(index_dir), verify, engine)


def _load_version(
    version: Path, digest: str | None, verify: bool, engine: MilvusTarget | None
) -> LoadedIndex:
    manifest = read_manifest(version, digest)
    if verify:
        verify_files(version, manifest)
    local = backend_name(manifest) == "faiss"
    try:
        chunks = read_chunks(version / CHUNKS)
        vectors = load_vector_index(version / DENSE) if local else None
        bm25 = load_bm25(version / BM25_DIR) if local else None
        acronyms = json.loads((version / ACRONYMS).read_text("utf-8"))
        sentence_rows, sentence_vectors = load_sentence_vectors(version)
        annotations = read_annotations(version / ANNOTATIONS)
        documents = read_documents(version)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, EOFError) as exc:
        raise CorruptIndex(f"index in {version} cannot be read ({exc}); {REBUILD_HINT}") from exc
    backend: SearchBackend = (
        FaissBackend(vectors, bm25, [stored_passage(i, c) for i, c in enumerate(chunks)])
        if local else open_engine(manifest, engine)
    )
    if backend.count() != len(chunks) or not {c.doc_id for c in chunks} <= set(documents):
        raise CorruptIndex(f"index in {version} is inconsistent; {REBUILD_HINT}")
    return LoadedIndex(
        version, manifest, chunks, vectors, bm25, acronyms, sentence_rows, sentence_vectors,
        annotations, documents, backend,
    )


def check_index(
    corpus_dir: Path, index_dir: Path, config: BuildConfig, verify: bool = True,
    engine: MilvusTarget | None = None, cache: bool = False,
) -> IndexStatus:
    """Compare the built index with the corpus on disk and the settings.

    Args:
        corpus_dir: the corpus folder.
        index_dir: the index folder.
        config: the settings the index should have been built with.
        verify: also check every index file against its manifest checksum, so a damaged
            index is reported (and rebuilt by ``QAService.open``) like a stale one; with
            Milvus, also read the collection back and compare it with the manifest.
        engine: where Milvus is (for a version whose legs live there).
        cache: also check every entry of the build cache against its checksum (a
            damaged entry is reported; the next build deletes and recomputes it).

    Returns:
        ``current=True`` when nothing changed; otherwise the reasons it is stale or damaged.
    """
    try:
        version, digest = read_pointer(index_dir)
        manifest = read_manifest(version, digest)
        if verify:
            verify_files(version, manifest)
    except (IndexNotFound, CorruptIndex) as exc:
        return IndexStatus(False, (str(exc),))
    reasons = check_engine(manifest, engine, verify)
    if cache:
        reasons += [f"build cache entry damaged: {name} (recomputed at the next build)"
                    for name in damaged_entries(index_dir)]
    built = manifest.get("settings", {})
    wanted = config.fingerprint()
    for key in sorted(set(built) | set(wanted)):
        if built.get(key) != wanted.get(key):
            reasons.append(f"setting {key} changed: {built.get(key)!r} -> {wanted.get(key)!r}")
    old = manifest.get("corpus", {}).get("files", {})
    new = (
        corpus_fingerprint(corpus_dir, config.max_file_bytes, config.extract.max_source_bytes)
        if corpus_dir.is_dir()
        else {}
    )
    reasons += [f"document added: {d}" for d in sorted(set(new) - set(old))]
    reasons += [f"document removed: {d}" for d in sorted(set(old) - set(new))]
    reasons += [f"document changed: {d}" for d in sorted(set(old) & set(new)) if old[d] != new[d]]
    return IndexStatus(not reasons, tuple(reasons))
