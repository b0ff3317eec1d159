"""Read the corpus folder: ``.txt`` and ``.md`` decoded as UTF-8, PDF and HTML extracted.

Nothing is dropped silently: whatever the walk passes over (hidden files and folders,
other file types, links leading out of the corpus folder, special files) and every
candidate that cannot be indexed (empty, binary, not UTF-8, too large) is returned as a
``SkippedFile`` with its reason.

Symbolic links: a link to a file inside the corpus folder is read like the file; a link
that leads outside the folder, a link to a folder (which could loop) and a broken link
are skipped, so the index never holds text from outside the folder the user named.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from index.cache import BuildCache
from index.documents.extract.document import SOURCE_SUFFIXES, document_from_source, source_kind
from index.documents.extract.pool import map_bounded
from index.documents.extract.records import ExtractSettings
from index.errors import CorpusError
from index.records import Document, SkippedFile

TEXT_SUFFIXES = (".txt", ".md")
SUFFIXES = (*TEXT_SUFFIXES, *SOURCE_SUFFIXES)
DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024


def file_sha256(data: bytes) -> str:
    """Hex SHA-256 of raw bytes."""
    return hashlib.sha256(data).hexdigest()


def printable_path(doc_id: str) -> str:
    """A path as it can be shown on one line and stored as UTF-8 JSON.

    Bytes that are not UTF-8 become ``\\xNN`` and control characters their escapes.
    """
    text = doc_id.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


@dataclass(frozen=True)
class CorpusListing:
    """The result of walking the corpus folder.

    Attributes:
        files: the candidate documents, sorted by document id.
        skipped: what the walk passed over, each with its reason.
    """

    files: list[Path]
    skipped: list[SkippedFile]


def scan_corpus(corpus_dir: Path) -> CorpusListing:
    """Walk the corpus folder and sort its entries into candidates and skipped ones.

    Args:
        corpus_dir: the corpus folder.

    Returns:
        Candidate ``.txt``/``.md`` files and the entries passed over, with reasons.

    Raises:
        CorpusError: the folder does not exist or is not a folder.
    """
    if not corpus_dir.exists():
        raise CorpusError(f"corpus folder not found: {corpus_dir}")
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus path is not a folder: {corpus_dir}")
    root = corpus_dir.resolve()
    files: list[Path] = []
    skipped: list[SkippedFile] = []
    pending = [corpus_dir]
    while pending:
        folder = pending.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            skipped.append(_skip(corpus_dir, folder, f"folder unreadable: {exc.strerror or exc}"))
            continue
        for entry in entries:
            path = Path(entry.path)
            reason = _pass_over_reason(root, path)
            if reason is not None:
                skipped.append(_skip(corpus_dir, path, reason))
            elif path.is_dir():
                pending.append(path)
            else:
                files.append(path)
    files.sort(key=lambda p: doc_id_for(corpus_dir, p))
    skipped.sort(key=lambda s: s.path)
    return CorpusListing(files, skipped)


def _pass_over_reason(root: Path, path: Path) -> str | None:
    """Why the walk does not read or enter ``path``; None for a folder or a candidate."""
    if path.name.startswith("."):
        return "hidden folder (not searched)" if path.is_dir() else "hidden file"
    if path.is_symlink():
        try:
            target = path.resolve()
        except (OSError, RuntimeError):  # a loop of links
            return "broken symbolic link"
        if not target.exists():
            return "broken symbolic link"
        if not target.is_relative_to(root):
            return "symbolic link leading outside the corpus folder (not followed)"
        if target.is_dir():
            return "symbolic link to a folder (not followed)"
    if path.is_dir():
        return None
    if not path.is_file():
        return "not a regular file"
    if path.suffix.lower() not in SUFFIXES:
        return f"not one of the file types read ({', '.join(SUFFIXES)})"
    try:
        path.name.encode("utf-8")
    except UnicodeEncodeError:
        return "file name is not valid UTF-8; rename it"
    return None


def _skip(corpus_dir: Path, path: Path, reason: str) -> SkippedFile:
    return SkippedFile(doc_id_for(corpus_dir, path), reason)


def list_corpus_files(corpus_dir: Path) -> list[Path]:
    """Corpus files in a stable order.

    Args:
        corpus_dir: the corpus folder.

    Returns:
        The candidate files of ``scan_corpus``, sorted by path.

    Raises:
        CorpusError: the folder does not exist or is not a folder.
    """
    return scan_corpus(corpus_dir).files


def doc_id_for(corpus_dir: Path, path: Path) -> str:
    """The document id: the path relative to the corpus folder, forward slashes."""
    return path.relative_to(corpus_dir).as_posix()


def read_file(
    corpus_dir: Path, path: Path, max_file_bytes: int,
    max_source_bytes: int = ExtractSettings.max_source_bytes,
) -> tuple[str, bytes | SkippedFile]:
    """Read one candidate file, refusing files over the size limit.

    Args:
        corpus_dir: the corpus folder.
        path: the file.
        max_file_bytes: the limit of a text file (``.txt``, ``.md``).
        max_source_bytes: the limit of a PDF or HTML file (its text is extracted).

    Returns:
        (its fingerprint entry, its bytes or why they were not read). The fingerprint
        is the SHA-256 of the bytes, ``"skipped:<size>"`` or ``"unreadable"``.
    """
    doc_id = doc_id_for(corpus_dir, path)
    source = source_kind(doc_id) is not None
    if source:
        max_file_bytes = max_source_bytes
    try:
        size = path.stat().st_size
        if size <= max_file_bytes:
            with path.open("rb") as handle:
                data = handle.read(max_file_bytes + 1)  # the file may grow meanwhile
            if len(data) <= max_file_bytes:
                return file_sha256(data), data
            size = len(data)
    except OSError as exc:
        return "unreadable", SkippedFile(doc_id, f"unreadable: {exc.strerror or exc}")
    setting = "QA_MAX_SOURCE_MB" if source else "QA_MAX_FILE_MB"
    reason = (
        f"too large ({size / 1e6:.1f} MB > {max_file_bytes / 1e6:.1f} MB limit; "
        f"raise {setting} to index it)"
    )
    return f"skipped:{size}", SkippedFile(doc_id, reason)


# The reason of an entry of the skipped list that was indexed all the same.
WARNING = "indexed with a warning: "


def _hard_link_warning(path: Path, doc_id: str) -> list[SkippedFile]:
    """A warning for a file with more than one hard link: the same file may also lie
    outside the corpus folder, where its text can change without the folder showing it."""
    try:
        links = path.stat().st_nlink
    except OSError:
        return []
    if links <= 1:
        return []
    reason = f"{WARNING}{links} hard links to this file; it may be changed from outside the corpus"
    return [SkippedFile(doc_id, reason)]


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
    if data.lstrip()[:5] == b"%PDF-":
        return SkippedFile(doc_id, "a PDF file with a text-file name; rename it to .pdf")
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


def read_corpus(
    corpus_dir: Path,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    extract: ExtractSettings | None = None,
    *,
    workers: int = 1,
    cache: BuildCache | None = None,
    on_file: Callable[[], None] | None = None,
) -> CorpusSnapshot:
    """Read and decode every corpus file; extract the text of PDF and HTML files.

    Args:
        corpus_dir: the corpus folder.
        max_file_bytes: text files (and extracted texts) larger than this are skipped
            (with the reason listed).
        extract: bounds and options of PDF/HTML extraction (defaults when None).
        workers: files read at once (PDF and HTML files each in a bounded child process).
        cache: the build cache, where a PDF or HTML file read before is found again.
        on_file: called as each file is done (for a progress bar).

    Returns:
        The documents, the skipped files with reasons, and the corpus fingerprint.

    Raises:
        CorpusError: the folder is missing, or no file in it can be indexed.
    """
    extract = extract or ExtractSettings()
    listing = scan_corpus(corpus_dir)

    def read_one(path: Path) -> tuple[str, list[Document], list[SkippedFile]]:
        return _read_one(corpus_dir, path, max_file_bytes, extract, cache)

    done = (lambda _result: on_file()) if on_file else None
    results = map_bounded(read_one, listing.files, workers, done)
    documents = [d for _, found, _ in results for d in found]
    fingerprint = {doc_id_for(corpus_dir, p): r[0] for p, r in zip(listing.files, results, strict=True)}
    skipped = sorted(
        [*(s for _, _, notes in results for s in notes),
         *(SkippedFile(printable_path(s.path), s.reason) for s in listing.skipped)],
        key=lambda s: s.path,
    )
    if not documents:
        detail = "; ".join(f"{s.path}: {s.reason}" for s in skipped)
        raise CorpusError(
            f"no indexable document ({', '.join(SUFFIXES)}) in {corpus_dir}" + (f" ({detail})" if detail else "")
        )
    return CorpusSnapshot(documents, skipped, fingerprint)


def _read_one(
    corpus_dir: Path, path: Path, max_file_bytes: int, extract: ExtractSettings,
    cache: BuildCache | None,
) -> tuple[str, list[Document], list[SkippedFile]]:
    """One corpus file: (its fingerprint entry, its document if any, what is listed)."""
    doc_id = doc_id_for(corpus_dir, path)
    fingerprint, data = read_file(corpus_dir, path, max_file_bytes, extract.max_source_bytes)
    if isinstance(data, SkippedFile):
        return fingerprint, [], [SkippedFile(printable_path(data.path), data.reason)]
    if source_kind(doc_id) is not None:
        document, notes = document_from_source(
            doc_id, printable_path(doc_id), data, fingerprint, max_file_bytes, extract, cache
        )
        if document is None:
            return fingerprint, [], notes
        return fingerprint, [document], notes + _hard_link_warning(path, doc_id)
    result = decode_document(doc_id, data)
    if isinstance(result, SkippedFile):
        return fingerprint, [], [SkippedFile(printable_path(result.path), result.reason)]
    return fingerprint, [result], _hard_link_warning(path, doc_id)


def check_corpus(corpus_dir: Path, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> None:
    """Fail early, and cheaply, when nothing in the corpus folder can be indexed.

    A PDF or HTML file counts as indexable until it is read (extracting it here would read
    it twice); text files are read and decoded.

    Raises:
        CorpusError: as ``read_corpus`` does.
    """
    listing = scan_corpus(corpus_dir)
    if not any(source_kind(doc_id_for(corpus_dir, p)) for p in listing.files):
        read_corpus(corpus_dir, max_file_bytes)


def corpus_fingerprint(
    corpus_dir: Path,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    max_source_bytes: int = ExtractSettings.max_source_bytes,
) -> dict[str, str]:
    """Hash every candidate corpus file without decoding it, for the staleness check.

    Returns:
        doc_id -> the fingerprint entry ``read_file`` gives, as ``read_corpus`` records it.
    """
    return {
        doc_id_for(corpus_dir, path): read_file(
            corpus_dir, path, max_file_bytes, max_source_bytes
        )[0]
        for path in list_corpus_files(corpus_dir)
    }
