"""Plain-file persistence of the index, swapped in atomically, checked on load.

Layout of the index folder::

    CURRENT              "<version folder> <SHA-256 of its manifest>" (replaced atomically)
    .lock                held (flock) by the process that is building
    v-<time>-<rand>/     one complete index: manifest.json, chunks.jsonl, acronyms.json,
                         sentences.*, annotations.jsonl, documents.json + texts/*.txt (the
                         text every offset points into), and with the FAISS backend
                         dense.faiss and bm25/* (with Milvus, the manifest names the
                         collection that holds both legs)
    v-<time>-<rand>.tmp/ a version being written (or left by a build that was killed)
    history/             the texts of the last few versions (``index.history``)
    cache/               results of the expensive build steps, found again by what decides
                         them (``index.cache``); no version reads it

A build writes a new ``.tmp`` folder, fsyncs it, renames it, then replaces ``CURRENT``;
readers resolve ``CURRENT`` once and read only that folder, so they see the old index or
the new one, never a half-written one. The manifest records a SHA-256 of every file and
``CURRENT`` the SHA-256 of the manifest, all checked when the index is opened. A build
keeps the version it replaces (a reader may be loading it) and deletes everything else:
older versions and the leftovers of killed builds.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import CorruptIndex, IndexLocked, IndexNotFound
from index.folders import folder_errors
from index.records import Chunk, Document

FORMAT_VERSION = 3
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
DENSE = "dense.faiss"
ACRONYMS = "acronyms.json"
BM25_DIR = "bm25"
SENTENCES = "sentences.json"
SENTENCE_VECTORS = "sentences.npy"
ANNOTATIONS = "annotations.jsonl"
DOCUMENTS = "documents.json"
TEXTS_DIR = "texts"
REQUIRED_FILES = (CHUNKS, ACRONYMS, SENTENCES, SENTENCE_VECTORS, ANNOTATIONS, DOCUMENTS)
REBUILD_HINT = "rebuild with: qa index --force"
_SHA256 = re.compile(r"[0-9a-f]{64}")


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


def write_documents(documents: list[Document], folder: Path) -> None:
    """Each document's text as a plain UTF-8 file under ``texts/``, listed in
    ``documents.json`` with its kind, source hash, page starts and known headings."""
    (folder / TEXTS_DIR).mkdir()
    listing = []
    for number, doc in enumerate(documents, start=1):
        name = f"{TEXTS_DIR}/{number:06d}.txt"
        (folder / name).write_bytes(doc.text.encode("utf-8"))
        listing.append({
            "doc_id": doc.doc_id, "file": name, "kind": doc.kind, "sha256": doc.sha256,
            "pages": list(doc.pages), "headings": [list(h) for h in doc.headings],
        })
    (folder / DOCUMENTS).write_text(json.dumps(listing, ensure_ascii=False, indent=1), "utf-8")


def read_documents(folder: Path) -> dict[str, Document]:
    """The documents ``write_documents`` stored, by id (raises OSError/ValueError if damaged)."""
    documents: dict[str, Document] = {}
    for raw in json.loads((folder / DOCUMENTS).read_text("utf-8")):
        documents[str(raw["doc_id"])] = document_entry(folder, raw)
    return documents


def document_entry(folder: Path, raw: dict[str, Any]) -> Document:
    """One entry of ``documents.json`` with its text (raises OSError/ValueError if damaged)."""
    name = str(raw["file"])
    if not re.fullmatch(rf"{TEXTS_DIR}/\d{{6}}\.txt", name):
        raise ValueError(f"bad document file name {name!r}")
    return Document(
        doc_id=str(raw["doc_id"]),
        text=(folder / name).read_bytes().decode("utf-8"),
        sha256=str(raw["sha256"]),
        kind=str(raw["kind"]),
        pages=tuple(int(p) for p in raw["pages"]),
        headings=tuple((int(a), int(b), int(lv)) for a, b, lv in raw["headings"]),
    )


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
    """Create an empty ``.tmp`` folder for a new index version beside the current one."""
    with folder_errors(index_dir):
        index_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        path = index_dir / f"v-{stamp}-{uuid.uuid4().hex[:8]}.tmp"
        path.mkdir()
    return path


def commit_version(index_dir: Path, staging: Path, manifest: dict[str, Any]) -> Path:
    """Checksum, fsync and publish a fully written version folder.

    Call it holding ``build_lock``. A crash at any point leaves ``CURRENT`` naming either
    the previous version or this one, both complete.

    Args:
        index_dir: the index folder.
        staging: the version folder written by the build (``*.tmp``).
        manifest: the manifest without its ``files`` entry, which is added here.

    Returns:
        The published version folder. The builder then keeps its texts
        (``index.history.keep_texts``), so citations of the last few versions can be checked.
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
    previous = _pointed_name(index_dir)
    final = staging.with_name(staging.name.removesuffix(".tmp"))
    os.rename(staging, final)
    pointer = index_dir / f"{CURRENT}.{uuid.uuid4().hex[:8]}.tmp"
    pointer.write_text(f"{final.name} {file_digest(final / MANIFEST)}\n", "utf-8")
    _fsync_path(pointer)
    os.replace(pointer, index_dir / CURRENT)
    _fsync_path(index_dir)
    remove_stale_versions(index_dir, keep={final.name, previous or final.name})
    return final


def remove_stale_versions(index_dir: Path, keep: set[str] | None = None) -> None:
    """Delete the leftovers of killed builds and, given ``keep``, every other version.

    Call it holding ``build_lock``, so no ``.tmp`` folder still belongs to a live build.

    Args:
        index_dir: the index folder.
        keep: names of the published version folders to keep; None keeps them all.
    """
    if not index_dir.is_dir():
        return
    for path in index_dir.iterdir():
        if not path.name.startswith("v-") or path.is_symlink() or not path.is_dir():
            continue
        if path.name.endswith(".tmp") or (keep is not None and path.name not in keep):
            shutil.rmtree(path, ignore_errors=True)
    for pointer in index_dir.glob(f"{CURRENT}.*.tmp"):
        pointer.unlink(missing_ok=True)


def _pointed_name(index_dir: Path) -> str | None:
    """The version folder ``CURRENT`` names if it is readable and present, else None."""
    try:
        return read_pointer(index_dir)[0].name
    except (IndexNotFound, CorruptIndex):
        return None


def read_pointer(index_dir: Path) -> tuple[Path, str | None]:
    """The active version folder and the manifest checksum ``CURRENT`` records.

    Returns:
        (version folder, SHA-256 of its manifest -- None for a pointer without one).

    Raises:
        IndexNotFound: nothing has been built in ``index_dir``.
        CorruptIndex: ``CURRENT`` is missing beside built versions, unreadable, or names
            a folder that is not there.
    """
    pointer = index_dir / CURRENT
    with folder_errors(index_dir):
        if index_dir.exists() and not index_dir.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(index_dir))
        built = pointer.is_file()
        if not built and any(p.is_dir() and not p.name.endswith(".tmp")
                             for p in index_dir.glob("v-*")):
            raise CorruptIndex(f"index pointer missing: {pointer}; {REBUILD_HINT}")
    if not built:
        raise IndexNotFound(f"no index in {index_dir}; build it with: qa index")
    try:
        fields = pointer.read_text("utf-8").split()
    except (OSError, UnicodeDecodeError) as exc:
        raise CorruptIndex(f"index pointer unreadable: {pointer}; {REBUILD_HINT}") from exc
    name = fields[0] if fields else ""
    digest = fields[1] if len(fields) > 1 else None
    if len(fields) > 2 or (digest is not None and not _SHA256.fullmatch(digest)):
        raise CorruptIndex(f"index pointer damaged: {pointer}; {REBUILD_HINT}")
    version = index_dir / name
    valid_name = name.startswith("v-") and "/" not in name and not name.endswith(".tmp")
    if not valid_name or not version.is_dir():
        raise CorruptIndex(f"{pointer} names a missing index version {name!r}; {REBUILD_HINT}")
    return version, digest


def current_version(index_dir: Path) -> Path:
    """The active version folder (raises as ``read_pointer`` does)."""
    return read_pointer(index_dir)[0]


def read_manifest(version: Path, digest: str | None = None) -> dict[str, Any]:
    """The manifest of a version folder, checked against ``digest`` when given.

    Raises:
        CorruptIndex: the manifest is missing, altered, not valid JSON or incomplete.
    """
    path = version / MANIFEST
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise CorruptIndex(f"index manifest missing: {path}; {REBUILD_HINT}") from exc
    except OSError as exc:
        raise CorruptIndex(f"index manifest unreadable: {path}; {REBUILD_HINT}") from exc
    if digest is not None and hashlib.sha256(data).hexdigest() != digest:
        raise CorruptIndex(f"index manifest damaged (checksum mismatch): {path}; {REBUILD_HINT}")
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptIndex(f"index manifest damaged: {path}; {REBUILD_HINT}") from exc
    if not isinstance(manifest, dict) or not _valid_file_list(
        manifest.get("files"), backend_name(manifest)
    ):
        raise CorruptIndex(f"index manifest incomplete: {path}; {REBUILD_HINT}")
    return manifest


def backend_name(manifest: dict[str, Any]) -> str:
    """Where a version's search legs live: ``faiss`` (files here, the default) or ``milvus``."""
    entry = manifest.get("backend")
    return str(entry.get("name", "faiss")) if isinstance(entry, dict) else "faiss"


def _valid_file_list(files: Any, backend: str) -> bool:
    """Whether the manifest's ``files`` maps safe relative names to checksums, all present
    (FAISS and BM25 files too when the legs live here)."""
    if not isinstance(files, dict):
        return False
    for name, digest in files.items():
        if not isinstance(digest, str) or name.startswith("/") or ".." in name.split("/"):
            return False
    if not all(name in files for name in REQUIRED_FILES):
        return False
    if backend != "faiss":
        return backend == "milvus"
    return DENSE in files and any(name.startswith(f"{BM25_DIR}/") for name in files)


def verify_files(version: Path, manifest: dict[str, Any]) -> None:
    """Check every index file against the checksum in the manifest.

    Raises:
        CorruptIndex: naming the first missing, truncated or altered file.
    """
    for name, expected in manifest["files"].items():
        path = version / name
        if not path.is_file():
            raise CorruptIndex(f"index file missing: {path}; {REBUILD_HINT}")
        try:
            actual = file_digest(path)
        except OSError as exc:
            raise CorruptIndex(f"index file unreadable: {path}; {REBUILD_HINT}") from exc
        if actual != expected:
            raise CorruptIndex(f"index file damaged (checksum mismatch): {path}; {REBUILD_HINT}")


@contextlib.contextmanager
def build_lock(index_dir: Path, wait_seconds: float = 600.0) -> Iterator[None]:
    """Hold the index folder's build lock; wait for another builder up to ``wait_seconds``.

    Raises:
        IndexLocked: the other build did not finish in time.
    """
    with folder_errors(index_dir):
        index_dir.mkdir(parents=True, exist_ok=True)
        lock = (index_dir / ".lock").open("a")
    with lock as handle:
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
