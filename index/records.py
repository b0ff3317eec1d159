"""Typed records passed between the build stages."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """One corpus file, decoded as UTF-8 exactly as it lies on disk.

    Attributes:
        doc_id: path relative to the corpus folder, with forward slashes.
        text: the decoded text; every offset in the index points into it.
        sha256: hash of the raw bytes, recorded in the manifest.
        kind: ``text`` (``.txt``/``.md`` as on disk), ``pdf`` or ``html`` (extracted text).
        pages: for a PDF, the offset in ``text`` where each page starts (page 1 first).
        headings: (start, end, level) of lines the extractor knows are headings.
    """

    doc_id: str
    text: str
    sha256: str
    kind: str = "text"
    pages: tuple[int, ...] = ()
    headings: tuple[tuple[int, int, int], ...] = ()

    def page_span(self, start: int, end: int) -> tuple[int | None, int | None]:
        """1-based first and last page of ``text[start:end]`` (None, None without pages)."""
        return page_span(self.pages, start, end)


def page_span(pages: tuple[int, ...], start: int, end: int) -> tuple[int | None, int | None]:
    """1-based first and last page of the span [start, end) given page start offsets."""
    if not pages:
        return None, None
    first = max(1, bisect.bisect_right(pages, start))
    last = max(first, bisect.bisect_right(pages, max(start, end - 1)))
    return first, last


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
