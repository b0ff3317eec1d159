"""Plain-file persistence of the index, swapped in atomically, checked on load.

Layout of the index folder::

    CURRENT              name of the active version folder (replaced atomically)
    .lock                held by the process that is building
    v-<time>-<rand>/     one complete index: manifest.json, chunks.jsonl, dense.faiss,
                         acronyms.json, bm25/*

A build writes a new version folder, fsyncs it, then replaces ``CURRENT``; readers
resolve ``CURRENT`` once and read only that folder, so they see the old index or the new
one, never a half-written one. The manifest records a SHA-256 of every file, checked
when the index is opened.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import CorruptIndex, IndexLocked, IndexNotFound
from index.records import Chunk

FORMAT_VERSION = 1
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
DENSE = "dense.faiss"
ACRONYMS = "acronyms.json"
BM25_DIR = "bm25"
SENTENCES = "sentences.json"
SENTENCE_VECTORS = "sentences.npy"
KEEP_VERSIONS = 2


def file_digest(path: Path) -> str:
    """SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_chunks(chunks: list[Chunk], path: Path) -> None:
    """One JSON object per chunk, in index order."""
    with path.open("w", encoding="utf-8") as handle:
        for chunk in chunks:
            handle.write(json.dumps(asdict(chunk), ensure_ascii=False) + "\n")


def read_chunks(path: Path) -> list[Chunk]:
    """Chunks written by ``write_chunks``."""
    chunks = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            raw = json.loads(line)
            raw["section"] = tuple(raw["section"])
            raw["sentences"] = tuple(tuple(s) for s in raw["sentences"])
            raw["links"] = tuple(raw["links"])
            chunks.append(Chunk(**raw))
    return chunks


def save_sentence_vectors(
    spans: list[tuple[str, int, int]], vectors: np.ndarray, folder: Path
) -> None:
    """Sentence embeddings (``.npy``, no pickle) and their (doc_id, start, end) keys."""
    np.save(
        folder / SENTENCE_VECTORS,
        np.ascontiguousarray(vectors, dtype=np.float32),
        allow_pickle=False,
    )
    (folder / SENTENCES).write_text(json.dumps([list(s) for s in spans]), "utf-8")


def load_sentence_vectors(folder: Path) -> tuple[dict[tuple[str, int, int], int], np.ndarray]:
    """The sentence keys (-> row) and vectors written by ``save_sentence_vectors``."""
    spans = json.loads((folder / SENTENCES).read_text("utf-8"))
    vectors = np.load(folder / SENTENCE_VECTORS, allow_pickle=False)
    if len(spans) != len(vectors):
        raise ValueError("sentence keys and vectors differ in length")
    return {(str(d), int(a), int(b)): i for i, (d, a, b) in enumerate(spans)}, vectors


def new_version_dir(index_dir: Path) -> Path:
    """Create an empty folder for a new index version beside the current one."""
    index_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    path = index_dir / f"v-{stamp}-{uuid.uuid4().hex[:8]}.tmp"
    path.mkdir()
    return path


def commit_version(index_dir: Path, staging: Path, manifest: dict[str, Any]) -> Path:
    """Checksum, fsync and publish a fully written version folder.

    Args:
        index_dir: the index folder.
        staging: the version folder written by the build (``*.tmp``).
        manifest: the manifest without its ``files`` entry, which is added here.

    Returns:
        The published version folder.
    """
    files = sorted(p for p in staging.rglob("*") if p.is_file() and p.name != MANIFEST)
    manifest = {
        **manifest,
        "files": {p.relative_to(staging).as_posix(): file_digest(p) for p in files},
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), "utf-8")
    for path in [*files, staging / MANIFEST]:
        _fsync_path(path)
    for folder in {p.parent for p in files} | {staging}:
        _fsync_path(folder)
    final = staging.with_name(staging.name.removesuffix(".tmp"))
    os.rename(staging, final)
    pointer = index_dir / f"{CURRENT}.{uuid.uuid4().hex[:8]}.tmp"
    pointer.write_text(final.name + "\n", "utf-8")
    _fsync_path(pointer)
    os.replace(pointer, index_dir / CURRENT)
    _fsync_path(index_dir)
    _remove_old_versions(index_dir, keep=final.name)
    return final


def _remove_old_versions(index_dir: Path, keep: str) -> None:
    """Delete leftovers of crashed builds and all but the newest versions."""
    versions = sorted(
        (p for p in index_dir.iterdir() if p.is_dir() and p.name.startswith("v-")),
        key=lambda p: p.name,
    )
    published = [p for p in versions if not p.name.endswith(".tmp")]
    stale = [p for p in published if p.name != keep][: max(0, len(published) - KEEP_VERSIONS)]
    stale += [p for p in versions if p.name.endswith(".tmp")]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    for pointer in index_dir.glob(f"{CURRENT}.*.tmp"):
        pointer.unlink(missing_ok=True)


def current_version(index_dir: Path) -> Path:
    """The active version folder.

    Raises:
        IndexNotFound: nothing has been built in ``index_dir``.
        CorruptIndex: ``CURRENT`` names a folder that is not there.
    """
    pointer = index_dir / CURRENT
    if not pointer.is_file():
        raise IndexNotFound(f"no index in {index_dir}; build it with: qa index")
    name = pointer.read_text("utf-8").strip()
    version = index_dir / name
    if not name or "/" in name or not version.is_dir():
        raise CorruptIndex(
            f"{pointer} names a missing index version {name!r}; rebuild with: qa index --force"
        )
    return version


def read_manifest(version: Path) -> dict[str, Any]:
    """The manifest of a version folder.

    Raises:
        CorruptIndex: the manifest is missing or not valid JSON.
    """
    path = version / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise CorruptIndex(
            f"index manifest missing: {path}; rebuild with: qa index --force"
        ) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptIndex(
            f"index manifest damaged: {path}; rebuild with: qa index --force"
        ) from exc
    if not isinstance(manifest, dict) or "files" not in manifest:
        raise CorruptIndex(f"index manifest incomplete: {path}; rebuild with: qa index --force")
    return manifest


def verify_files(version: Path, manifest: dict[str, Any]) -> None:
    """Check every index file against the checksum in the manifest.

    Raises:
        CorruptIndex: naming the first missing, truncated or altered file.
    """
    for name, expected in manifest["files"].items():
        path = version / name
        if not path.is_file():
            raise CorruptIndex(f"index file missing: {path}; rebuild with: qa index --force")
        if file_digest(path) != expected:
            raise CorruptIndex(
                f"index file damaged (checksum mismatch): {path}; rebuild with: qa index --force"
            )


@contextlib.contextmanager
def build_lock(index_dir: Path, wait_seconds: float = 600.0) -> Iterator[None]:
    """Hold the index folder's build lock; wait for another builder up to ``wait_seconds``.

    Raises:
        IndexLocked: the other build did not finish in time.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".lock").open("a") as handle:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if time.monotonic() >= deadline:
                    raise IndexLocked(
                        f"another process is building the index in {index_dir}; try again later"
                    ) from exc
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
