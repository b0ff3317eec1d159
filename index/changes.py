"""What a build changed: documents new, changed and removed since the version it
replaces, and how much of the work was done now rather than found in the build cache."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from index.errors import CorruptIndex, IndexNotFound
from index.store import read_manifest, read_pointer


@dataclass(frozen=True)
class BuildWork:
    """The corpus files that differ from the previous version, and the work done.

    Attributes:
        new: files in the corpus that the previous version did not have.
        changed: files whose bytes differ from the previous version's.
        removed: files of the previous version no longer in the corpus.
        chunks_embedded: chunks embedded now (the others came from the cache).
        chunks: chunks in the new version.
        sentences_embedded: sentences embedded now, of ``sentences``.
        sentences: sentences in the new version.
        annotated: sentences annotated now.
        extracted: PDF and HTML files extracted now (the others came from the cache).
    """

    new: int
    changed: int
    removed: int
    chunks_embedded: int
    chunks: int
    sentences_embedded: int = 0
    sentences: int = 0
    annotated: int = 0
    extracted: int = 0

    def summary(self) -> str:
        """``3 new, 1 changed, 2 removed documents; 412 of 18,930 chunks embedded``."""
        return (f"{self.new} new, {self.changed} changed, {self.removed} removed documents; "
                f"{self.chunks_embedded:,} of {self.chunks:,} chunks embedded")


def previous_files(index_dir: Path) -> dict[str, str]:
    """doc_id -> fingerprint entry of the files the published version was built from
    (empty when there is none or it cannot be read)."""
    try:
        version, digest = read_pointer(index_dir)
        files = read_manifest(version, digest).get("corpus", {}).get("files", {})
    except (IndexNotFound, CorruptIndex, AttributeError):
        return {}
    return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}


def file_changes(old: dict[str, str], new: dict[str, str]) -> tuple[int, int, int]:
    """(new, changed, removed) files between two corpus fingerprints."""
    added = len(set(new) - set(old))
    removed = len(set(old) - set(new))
    changed = sum(old[d] != new[d] for d in set(old) & set(new))
    return added, changed, removed
