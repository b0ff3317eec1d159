"""Build an index from a corpus folder: read, parse, chunk, embed, annotate, store."""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.cache import BuildCache
from index.changes import BuildWork, file_changes, previous_files
from index.config import BuildConfig
from index.documents.corpus import WARNING, CorpusSnapshot, printable_path, read_corpus
from index.documents.structure import parse_blocks
from index.encode.base import Embedder
from index.encode.embed_cache import embed_cached
from index.errors import CorpusError, IndexFolderError
from index.folders import folder_errors, folder_problem
from index.history import keep_texts
from index.records import Chunk, Document, SkippedFile
from index.search.legs import after_publish, check_reachable, drop_unpublished, write_legs
from index.search.milvus_target import MilvusTarget
from index.search.vectors import choose_kind
from index.store import (
    ACRONYMS,
    ANNOTATIONS,
    CHUNKS,
    build_lock,
    commit_version,
    new_version_dir,
    remove_stale_versions,
    save_sentence_vectors,
    write_chunks,
    write_documents,
)
from index.text.acronyms import extract_acronyms
from index.text.annotate import Annotation, write_annotations
from index.text.annotate_cache import annotate_cached
from index.text.chunker import chunk_document, embedding_text
from index.text.nlp import load_nlp
from index.text.tokens import count_tokens


@dataclass(frozen=True)
class BuildReport:
    """What a build did."""

    documents: int
    chunks: int
    seconds: float
    skipped: tuple[SkippedFile, ...]
    version: Path
    notices: tuple[str, ...] = ()  # what the build did beside the index (a database moved)
    work: BuildWork | None = None  # what changed since the previous version, what was computed

    def summary(self) -> str:
        """One line for the terminal."""
        line = f"indexed {self.documents} documents, {self.chunks} chunks in {self.seconds:.1f} s"
        if self.work is not None:
            line += f": {self.work.summary()}"
        warned = sum(s.reason.startswith(WARNING) for s in self.skipped)
        if len(self.skipped) > warned:
            line += f"; skipped {len(self.skipped) - warned} file(s)"
        if warned:
            line += f"; {warned} file(s) indexed with a warning"
        return line


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    config: BuildConfig,
    embedder: Embedder,
    progress: bool = False,
    on_stage: Callable[[str], None] | None = None,
    engine: MilvusTarget | None = None,
) -> BuildReport:
    """Build a new index version and publish it atomically.

    Args:
        corpus_dir: folder of ``.txt``/``.md`` documents.
        index_dir: where index versions live.
        config: build settings (recorded in the manifest).
        embedder: the embedding model.
        progress: show progress bars counting the files read and the texts embedded.
        on_stage: called with a short message as each stage starts.
        engine: where Milvus is, when ``config.backend`` is ``milvus``.

    Returns:
        A BuildReport.

    Raises:
        CorpusError: the corpus is missing or has nothing to index.
        IndexLocked: another build holds the lock for too long.
        BackendUnavailable: Milvus failed or did not answer in time (the previous
            version keeps serving).
    """
    started = time.perf_counter()
    stage = on_stage or (lambda _message: None)
    nlp = load_nlp(config.nlp_model)  # fail before any work when the pipeline is missing
    # and when the search engine does not answer (a damaged Milvus Lite file is moved aside)
    notice = check_reachable(config.backend, engine)
    cache = BuildCache(index_dir, config.cache_bytes)
    with build_lock(index_dir):
        with folder_errors(index_dir):
            remove_stale_versions(index_dir)  # leftovers of builds that were killed
        found = compute_contents(corpus_dir, index_dir, config, embedder, nlp, cache,
                                 progress, stage)
        version, backend = write_version(corpus_dir, index_dir, config, embedder, found,
                                         engine, stage, started)
        after_publish(index_dir, backend, engine)
        with contextlib.suppress(OSError):  # a cache left too large only costs disk
            cache.prune()
    damaged = (f"build cache entries found damaged (deleted, recomputed): {len(cache.damaged)}"
               if cache.damaged else None)
    return BuildReport(
        found.documents, len(found.chunks), time.perf_counter() - started,
        tuple(found.skipped), version, tuple(n for n in (notice, damaged) if n), found.work,
    )


def write_version(
    corpus_dir: Path,
    index_dir: Path,
    config: BuildConfig,
    embedder: Embedder,
    found: BuildContents,
    engine: MilvusTarget | None,
    stage: Callable[[str], None],
    started: float,
) -> tuple[Path, dict[str, Any]]:
    """Write the search legs and the contents into a new version and publish it; on any
    failure remove what was written (files and an unpublished Milvus collection).

    Call it holding the build lock.

    Returns:
        The published version folder and the manifest's ``backend`` entry.

    Raises:
        IndexFolderError: writing the version failed (disk full, read-only, ...).
    """
    staging = new_version_dir(index_dir)
    try:
        kind = choose_kind(len(found.chunks), config.vector_kind, config.hnsw_threshold)
        stage(f"writing the search legs ({config.backend}, {kind})")
        backend = write_legs(staging, found.chunks, [lexical_text(c) for c in found.chunks],
                             found.vectors, kind, config.backend, engine)
        acronyms = write_contents(staging, found)
        manifest = build_manifest(config, embedder, found, corpus_dir, kind, backend,
                                  acronyms, time.perf_counter() - started)
        version = commit_version(index_dir, staging, manifest)
        keep_texts(index_dir, version)  # so citations of the last few versions can be checked
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        drop_unpublished(staging, config.backend, engine)
        if isinstance(exc, OSError):  # writing the new version: disk full, read-only, ...
            raise IndexFolderError(folder_problem(index_dir, exc)) from exc
        raise
    return version, backend


def build_manifest(
    config: BuildConfig,
    embedder: Embedder,
    found: BuildContents,
    corpus_dir: Path,
    kind: str,
    backend: dict[str, Any],
    acronyms: int,
    seconds: float,
) -> dict[str, Any]:
    """The manifest of a new version, without its ``files`` (``commit_version`` adds them).

    Args:
        config: the build settings.
        embedder: the model the vectors came from.
        found: what the build computed.
        corpus_dir: the corpus folder.
        kind: the FAISS index kind.
        backend: where the search legs were written (``write_legs``).
        acronyms: how many acronyms were stored.
        seconds: how long the build has taken so far.
    """
    return {
        "settings": config.fingerprint(),
        "model": {
            "name": config.model,
            "dim": int(found.vectors.shape[1]),
            "max_tokens": embedder.max_tokens,
            "encoder": embedder.encoder(),
        },
        "vector_index": kind,
        "backend": backend,
        "corpus": {"dir": str(corpus_dir), "files": found.snapshot.fingerprint},
        "skipped": [{"path": s.path, "reason": s.reason} for s in found.skipped],
        "counts": {
            "documents": found.documents,
            "chunks": len(found.chunks),
            "acronyms": acronyms,
        },
        "build_seconds": round(seconds, 3),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


@dataclass(frozen=True)
class BuildContents:
    """Everything a build computed, before any of it is written."""

    snapshot: CorpusSnapshot
    chunks: list[Chunk]
    skipped: list[SkippedFile]
    documents: int  # documents that gave chunks
    vectors: np.ndarray
    sentences: list[tuple[str, int, int]]
    sentence_vectors: np.ndarray
    annotations: list[Annotation]
    work: BuildWork


def compute_contents(
    corpus_dir: Path, index_dir: Path, config: BuildConfig, embedder: Embedder, nlp: Any,
    cache: BuildCache, progress: bool, stage: Callable[[str], None],
) -> BuildContents:
    """Read, chunk, embed and annotate the corpus, taking from the cache what it holds.

    Raises:
        CorpusError: the corpus is missing or has nothing to index.
    """
    stage("reading corpus")
    snapshot = read_files(corpus_dir, config, cache, progress)
    stage("chunking")
    chunks, unchunked = chunk_corpus(snapshot.documents, config, embedder)
    skipped = sorted([*snapshot.skipped, *unchunked], key=lambda s: s.path)
    if not chunks:
        detail = "; ".join(f"{s.path}: {s.reason}" for s in skipped)
        raise CorpusError(f"nothing to index in {corpus_dir} ({detail})")
    texts = {d.doc_id: d.text for d in snapshot.documents}
    sentences = unique_sentences(chunks)
    sentence_texts = [texts[d][a:b] for d, a, b in sentences]
    stage(f"embedding {len(chunks)} chunks and {len(sentences)} sentences")
    vectors, embedded = embed_cached(
        cache, embedder, [embedding_text(c) for c in chunks] + sentence_texts,
        [c.doc_id for c in chunks] + [d for d, _, _ in sentences], progress=progress,
    )
    stage(f"annotating {len(sentences)} sentences")
    annotations, annotated = annotate_cached(cache, nlp, sentences, sentence_texts)
    work = BuildWork(
        *file_changes(previous_files(index_dir), snapshot.fingerprint),
        chunks_embedded=int(embedded[: len(chunks)].sum()), chunks=len(chunks),
        sentences_embedded=int(embedded[len(chunks) :].sum()), sentences=len(sentences),
        annotated=annotated, extracted=cache.computed["extract"],
    )
    return BuildContents(
        snapshot, chunks, skipped, len(snapshot.documents) - len(unchunked),
        vectors[: len(chunks)], sentences, vectors[len(chunks) :], annotations, work,
    )


def write_contents(staging: Path, found: BuildContents) -> int:
    """Write the chunks, sentences, annotations, documents and acronyms of a new version.

    Returns:
        How many acronyms were found.
    """
    write_chunks(found.chunks, staging / CHUNKS)
    save_sentence_vectors(found.sentences, found.sentence_vectors, staging)
    write_annotations(found.annotations, staging / ANNOTATIONS)
    chunked = {c.doc_id for c in found.chunks}
    write_documents([d for d in found.snapshot.documents if d.doc_id in chunked], staging)
    acronyms = extract_acronyms(d.text for d in found.snapshot.documents)
    (staging / ACRONYMS).write_text(json.dumps(acronyms, indent=1, ensure_ascii=False))
    return len(acronyms)


def read_files(
    corpus_dir: Path, config: BuildConfig, cache: BuildCache, progress: bool
) -> CorpusSnapshot:
    """Read the corpus with ``config.workers`` files at once, a progress bar counting them."""
    bar = None
    if progress and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(desc="reading", unit="file", leave=False)
    try:
        return read_corpus(
            corpus_dir, config.max_file_bytes, config.extract, workers=config.workers,
            cache=cache, on_file=bar.update if bar is not None else None,
        )
    finally:
        if bar is not None:
            bar.close()


def chunk_corpus(
    documents: list[Document], config: BuildConfig, embedder: Embedder
) -> tuple[list[Chunk], list[SkippedFile]]:
    """Parse and chunk every document.

    Returns:
        The chunks in index order, and the documents that gave none -- only headings,
        or text that cannot be cut to the model's limit -- each with its reason.
    """
    chunks: list[Chunk] = []
    unchunked: list[SkippedFile] = []
    for doc in documents:
        try:
            pieces = chunk_document(
                doc,
                parse_blocks(doc.doc_id, doc.text, doc.headings),
                config.chunking,
                count_tokens,
                embedder.count_tokens,
                embedder.max_tokens,
            )
        except ValueError as exc:
            unchunked.append(SkippedFile(printable_path(doc.doc_id), f"cannot be chunked: {exc}"))
            continue
        if not pieces:
            unchunked.append(SkippedFile(printable_path(doc.doc_id), "no text besides headings"))
        chunks.extend(pieces)
    return chunks, unchunked


def unique_sentences(chunks: list[Chunk]) -> list[tuple[str, int, int]]:
    """Every sentence of the chunks once, as (doc_id, start, end), in index order."""
    seen: dict[tuple[str, int, int], None] = {}
    for chunk in chunks:
        for start, end in chunk.sentences:
            seen.setdefault((chunk.doc_id, start, end), None)
    return list(seen)


def lexical_text(chunk: Chunk) -> str:
    """What the BM25 leg indexes for a chunk: section headings, context and text."""
    return "\n".join(p for p in (" ".join(chunk.section), chunk.context, chunk.text) if p)
