"""Typed records passed between the build stages."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """One corpus file, decoded as UTF-8 exactly as it lies on disk.

    Attributes:
        doc_id: path relative to the corpus folder, with forward slashes.
        text: the decoded text; every offset in the index points into it.
        sha256: hash of the raw bytes, recorded in the manifest.
    """

    doc_id: str
    text: str
    sha256: str


@dataclass(frozen=True)
class SkippedFile:
    """A corpus file that was not indexed, with the reason why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Block:
    """A structural unit of a document: heading, paragraph, footnote, caption...

    Attributes:
        kind: one of ``BLOCK_KINDS``.
        start: offset of the first character in the document text.
        end: offset one past the last character.
        section: the heading path the block lies under (outermost first).
        marker: for a footnote, the marker it explains, e.g. ``"(1)"``.
    """

    kind: str
    start: int
    end: int
    section: tuple[str, ...]
    marker: str | None = None


BLOCK_KINDS = ("title", "heading", "paragraph", "footnote", "caption", "figure", "byline", "item")


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: a run of whole sentences inside one section.

    Attributes:
        chunk_id: stable id derived from document, offsets and content.
        doc_id: the document the chunk comes from.
        section: heading path, outermost first.
        start: offset of the first character in the document text.
        end: offset one past the last character; ``text == doc.text[start:end]``.
        text: the passage text.
        kind: the kind of the blocks it was made from (paragraph, footnote, caption...).
        sentences: absolute (start, end) offsets of each sentence in the chunk.
        context: extra text used only for embedding and lexical search (e.g. the sentence
            a footnote explains); never shown as a quote.
        links: ids of related chunks (a footnote and the passage carrying its marker).
    """

    chunk_id: str
    doc_id: str
    section: tuple[str, ...]
    start: int
    end: int
    text: str
    kind: str = "paragraph"
    sentences: tuple[tuple[int, int], ...] = ()
    context: str = ""
    links: tuple[str, ...] = field(default_factory=tuple)

    @property
    def section_path(self) -> str:
        """The section path joined for display."""
        return SECTION_SEPARATOR.join(self.section)


SECTION_SEPARATOR = " › "
