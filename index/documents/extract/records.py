"""Records of the extraction step."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PDF_SUFFIXES = (".pdf",)
HTML_SUFFIXES = (".html", ".htm")
DEFAULT_MAX_PAGES = 1000
DEFAULT_SECONDS = 600.0  # pdfminer reads about 1 page per second on a loaded 2-core machine
DEFAULT_MEMORY_MB = 1536
DEFAULT_MAX_SOURCE_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True)
class ExtractSettings:
    """Bounds and options of PDF/HTML extraction (one file at a time).

    Attributes:
        max_pages: a PDF with more pages is skipped with the reason.
        seconds: wall-clock bound of one file's extraction.
        memory_mb: address-space bound of the extracting child process.
        max_source_bytes: a PDF or HTML file larger than this is not read.
        ocr: run tesseract over pages without a text layer (when the binary is present).
    """

    max_pages: int = DEFAULT_MAX_PAGES
    seconds: float = DEFAULT_SECONDS
    memory_mb: int = DEFAULT_MEMORY_MB
    max_source_bytes: int = DEFAULT_MAX_SOURCE_BYTES
    ocr: bool = False


@dataclass(frozen=True)
class Extraction:
    """The text of one PDF or HTML file, or why there is none.

    Attributes:
        text: paragraphs one per line, blank lines between; empty when ``error`` is set.
        pages: offset in ``text`` where each page starts, one per page (PDF; empty else).
        headings: (start, end, level) of the lines recognised as headings, level 1 outermost.
        page_notes: (1-based page, reason) of the pages whose text could not be read.
        error: why the file gave no text at all, or None.
        attachments: names of the files embedded in it (PDF), which are not read.
        timed_out: reading it ran past the time bound (set by the parent, not the child).
    """

    text: str = ""
    pages: tuple[int, ...] = ()
    headings: tuple[tuple[int, int, int], ...] = ()
    page_notes: tuple[tuple[int, str], ...] = ()
    error: str | None = None
    attachments: tuple[str, ...] = ()
    timed_out: bool = False

    def to_json(self) -> dict[str, Any]:
        """The plain-JSON form the child process prints."""
        return {
            "text": self.text,
            "pages": list(self.pages),
            "headings": [list(h) for h in self.headings],
            "page_notes": [list(n) for n in self.page_notes],
            "error": self.error,
            "attachments": list(self.attachments),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Extraction:
        """The record ``to_json`` printed."""
        return cls(
            text=str(raw["text"]),
            pages=tuple(int(p) for p in raw["pages"]),
            headings=tuple((int(a), int(b), int(lv)) for a, b, lv in raw["headings"]),
            page_notes=tuple((int(n), str(r)) for n, r in raw["page_notes"]),
            error=None if raw["error"] is None else str(raw["error"]),
            attachments=tuple(str(a) for a in raw.get("attachments", ())),
        )


LINE_BREAK = "\u2028"  # a forced line break inside a paragraph (HTML <br>)


@dataclass
class TextBuilder:
    """Builds the extracted text paragraph by paragraph, keeping offsets."""

    parts: list[str] = field(default_factory=list)
    length: int = 0
    headings: list[tuple[int, int, int]] = field(default_factory=list)

    def paragraph(self, text: str, heading_level: int | None = None) -> None:
        """Append one paragraph (its own line, a blank line before it)."""
        at = self._append("\n\n", text)
        if at is not None and heading_level is not None:
            self.headings.append((at, self.length, heading_level))

    def continue_paragraph(self, text: str) -> None:
        """Append to the last paragraph after a space (a paragraph going on across a page)."""
        self._append(" ", text)

    def _append(self, separator: str, text: str) -> int | None:
        """Append ``text`` (spaces collapsed; a ``LINE_BREAK`` becomes a new line) after
        ``separator``; its offset, None if empty."""
        lines = (" ".join(part.split()) for part in text.split(LINE_BREAK))
        text = "\n".join(line for line in lines if line)
        if not text:
            return None
        if self.parts:
            self.parts.append(separator)
            self.length += len(separator)
        at = self.length
        self.parts.append(text)
        self.length += len(text)
        return at

    def text(self) -> str:
        """Everything so far."""
        return "".join(self.parts)
