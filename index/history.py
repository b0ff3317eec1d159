"""The texts of the last few index versions, so a citation can be checked after a reload.

An answer names the index version it came from; its offsets point into that version's
texts. A reload publishes a new version and deletes the old folders (``index.store``), so
each published version's ``manifest.json``, ``documents.json`` and ``texts/`` are also
kept here, hard-linked (no copy while the version folder exists)::

    history/<version>/       manifest.json, documents.json, texts/*.txt
    history/<version>.tmp/   being written (or left by a build that was killed)

The newest ``KEPT_VERSIONS`` are kept, the current one included. Keeping them is best
effort: a failure (a full disk, a file system without hard links and no room for a copy)
leaves the version out of the history and never fails the build that published it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from pathlib import Path

from index.records import Document

HISTORY_DIR = "history"
KEPT_VERSIONS = 5
_VERSION_NAME = re.compile(r"v-\d{8}T\d{6}-[0-9a-f]{8}")


def keep_texts(index_dir: Path, version: Path) -> None:
    """Keep the texts of a just-published version and forget all but the newest
    ``KEPT_VERSIONS``. Call it holding the build lock."""
    from index.store import DOCUMENTS, MANIFEST, TEXTS_DIR

    history = index_dir / HISTORY_DIR
    staging = history / f"{version.name}.tmp"
    with contextlib.suppress(OSError):
        shutil.rmtree(staging, ignore_errors=True)
        (staging / TEXTS_DIR).mkdir(parents=True)
        for name in (MANIFEST, DOCUMENTS):
            _link_or_copy(version / name, staging / name)
        for text in (version / TEXTS_DIR).iterdir():
            _link_or_copy(text, staging / TEXTS_DIR / text.name)
        os.rename(staging, history / version.name)
    for path in history.glob("*"):  # leftovers of builds killed while keeping their texts
        if path.name.endswith(".tmp"):
            shutil.rmtree(path, ignore_errors=True)
    for old in kept_versions(index_dir)[KEPT_VERSIONS:]:
        shutil.rmtree(history / old, ignore_errors=True)


def kept_versions(index_dir: Path) -> list[str]:
    """The versions whose texts are kept, newest first (by when their manifest was written,
    which the build lock orders)."""
    from index.store import MANIFEST

    found = []
    for path in (index_dir / HISTORY_DIR).glob("v-*"):
        with contextlib.suppress(OSError):
            if _VERSION_NAME.fullmatch(path.name):
                found.append((path.joinpath(MANIFEST).stat().st_mtime_ns, path.name))
    return [name for _, name in sorted(found, reverse=True)]


def kept_document(index_dir: Path, version: str, doc_id: str) -> Document | None:
    """A document as a kept version stored it, checked against that version's manifest.

    Returns:
        None when the version is not kept (or not a version name) or does not hold
        ``doc_id``.

    Raises:
        CorruptIndex: the kept files do not match the checksums of their manifest.
    """
    from index.errors import CorruptIndex
    from index.store import DOCUMENTS, document_entry, file_digest, read_manifest

    folder = index_dir / HISTORY_DIR / version
    if not _VERSION_NAME.fullmatch(version) or not folder.is_dir():
        return None
    files = read_manifest(folder)["files"]
    try:
        if file_digest(folder / DOCUMENTS) != files.get(DOCUMENTS):
            raise CorruptIndex(f"kept document list damaged: {folder / DOCUMENTS}")
        listing = json.loads((folder / DOCUMENTS).read_text("utf-8"))
        entry = next((raw for raw in listing if raw.get("doc_id") == doc_id), None)
        if entry is None:
            return None
        text = str(entry.get("file"))
        if text not in files or file_digest(folder / text) != files[text]:
            raise CorruptIndex(f"kept text damaged: {folder / text}")
        return document_entry(folder, entry)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CorruptIndex(f"kept texts of {version} cannot be read ({exc})") from exc


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
