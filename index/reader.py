"""Read the corpus folder: every ``.txt`` and ``.md`` file, decoded as UTF-8."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from index.errors import CorpusError
from index.records import Document, SkippedFile

SUFFIXES = (".txt", ".md")
DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024


def file_sha256(data: bytes) -> str:
    """Hex SHA-256 of raw bytes."""
    return hashlib.sha256(data).hexdigest()


def list_corpus_files(corpus_dir: Path) -> list[Path]:
    """Corpus files in a stable order.

    Args:
        corpus_dir: the corpus folder.

    Returns:
        Every ``.txt``/``.md`` file below the folder (hidden ones excluded), sorted by path.

    Raises:
        CorpusError: the folder does not exist or is not a folder.
    """
    if not corpus_dir.exists():
        raise CorpusError(f"corpus folder not found: {corpus_dir}")
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus path is not a folder: {corpus_dir}")
    files = [
        p
        for p in corpus_dir.rglob("*")
        if p.suffix.lower() in SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(corpus_dir).parts)
    ]
    return sorted(files, key=lambda p: p.relative_to(corpus_dir).as_posix())


def doc_id_for(corpus_dir: Path, path: Path) -> str:
    """The document id: the path relative to the corpus folder, forward slashes."""
    return path.relative_to(corpus_dir).as_posix()


def decode_document(doc_id: str, data: bytes) -> Document | SkippedFile:
    """Turn raw bytes into a Document, or say why they cannot be indexed.

    Args:
        doc_id: the document id.
        data: the file's bytes.

    Returns:
        A Document, or a SkippedFile naming the reason (empty, binary, not UTF-8, no text).
    """
    if not data:
        return SkippedFile(doc_id, "empty file")
    if b"\x00" in data[:65536]:
        return SkippedFile(doc_id, "binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return SkippedFile(doc_id, f"not valid UTF-8 (byte {exc.start}); re-save it as UTF-8")
    if not text.strip():
        return SkippedFile(doc_id, "no text (only whitespace)")
    return Document(doc_id=doc_id, text=text, sha256=file_sha256(data))


@dataclass(frozen=True)
class CorpusSnapshot:
    """What was read from the corpus folder at one moment.

    Attributes:
        documents: the decoded documents.
        skipped: files not indexed, each with its reason.
        fingerprint: doc_id -> hash of every corpus file (skipped ones included), as
            ``corpus_fingerprint`` computes it, so staleness checks compare like with like.
    """

    documents: list[Document]
    skipped: list[SkippedFile]
    fingerprint: dict[str, str]


def read_corpus(corpus_dir: Path, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> CorpusSnapshot:
    """Read and decode every corpus file.

    Args:
        corpus_dir: the corpus folder.
        max_file_bytes: files larger than this are skipped (with the reason listed).

    Returns:
        The documents, the skipped files with reasons, and the corpus fingerprint.

    Raises:
        CorpusError: the folder is missing, or no file in it can be indexed.
    """
    documents: list[Document] = []
    skipped: list[SkippedFile] = []
    fingerprint: dict[str, str] = {}
    for path in list_corpus_files(corpus_dir):
        doc_id = doc_id_for(corpus_dir, path)
        try:
            size = path.stat().st_size
            if size > max_file_bytes:
                fingerprint[doc_id] = f"skipped:{size}"
                skipped.append(
                    SkippedFile(
                        doc_id,
                        f"too large ({size / 1e6:.1f} MB > {max_file_bytes / 1e6:.1f} MB limit; "
                        "raise QA_MAX_FILE_MB to index it)",
                    )
                )
                continue
            data = path.read_bytes()
        except OSError as exc:
            fingerprint[doc_id] = "unreadable"
            skipped.append(SkippedFile(doc_id, f"unreadable: {exc.strerror or exc}"))
            continue
        fingerprint[doc_id] = file_sha256(data)
        result = decode_document(doc_id, data)
        if isinstance(result, SkippedFile):
            skipped.append(result)
        else:
            documents.append(result)
    if not documents:
        detail = "; ".join(f"{s.path}: {s.reason}" for s in skipped)
        raise CorpusError(
            f"no indexable .txt or .md file in {corpus_dir}" + (f" ({detail})" if detail else "")
        )
    return CorpusSnapshot(documents, skipped, fingerprint)


def corpus_fingerprint(
    corpus_dir: Path, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> dict[str, str]:
    """Hash every corpus file without decoding it, for the staleness check.

    Returns:
        doc_id -> sha256 of the bytes (or ``"skipped:size"`` for files over the size limit).
    """
    result: dict[str, str] = {}
    for path in list_corpus_files(corpus_dir):
        doc_id = doc_id_for(corpus_dir, path)
        try:
            size = path.stat().st_size
            if size > max_file_bytes:
                result[doc_id] = f"skipped:{size}"
                continue
            result[doc_id] = file_sha256(path.read_bytes())
        except OSError:
            result[doc_id] = "unreadable"
    return result
