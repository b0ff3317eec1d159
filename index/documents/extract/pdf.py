"""PDF to text with pdfminer.six: reading order, page offsets, headings by font size.

Rules, in order:

* Lines come from pdfminer's layout analysis (text boxes in reading order). A box is cut
  into paragraphs where the font size or weight changes, so a heading never merges with
  the text under it.
* A page in columns (gutters that only a title or two cross) is read column by column,
  left to right, in the bands between the boxes that cross a gutter; the right edge a
  line is measured against (below) is its column's. Without gutters pdfminer's order stays.
* A page whose characters mostly stand turned (a ``/Rotate`` over upright text, text drawn
  at 90°, 180° or 270°) is laid out again turned so that they stand upright. Lines turned
  against the rest of their page (a label up the margin) are left out, and the page noted.
* A glyph without a Unicode value (pdfminer's ``(cid:N)``) is left out; a page made mostly
  of such glyphs (a font without a ToUnicode map) is noted as unreadable and, with OCR on,
  read by tesseract.
* Running headers and footers go: a line in the top or bottom 12 % of the page is
  dropped when, with its digits ignored, it appears on at least half the pages (two at
  least), or when it is only a page number ("7", "7/12", "Page 7 of 12").
* Lines of a paragraph are joined with a space, except after a line broken on purpose
  (the next line's first word would have fitted on it): that break is kept as a new line
  of the same paragraph, as a text file would have it. A line ending in a hyphen joins the next
  without a space; the hyphen stays before a capital ("Anglo-" "French") or when the
  document writes the hyphenated word more often than the joined one elsewhere
  ("co-" "operation"), and goes otherwise (typographic hyphenation).
* A paragraph that does not end a sentence at the foot of a page or of a column, on a line
  that was not broken on purpose, goes on with the first paragraph of the next page or
  column (same size), so sentences are not cut at page or column breaks.
* Headings come from the outline (bookmarks) when it names paragraphs of the text: a
  paragraph equal to an outline title (case and spacing aside) is a heading at the
  title's outline level, in outline order. Without a usable outline, from the type: body
  size is the size most characters have; a paragraph set clearly larger (≥ 1.12×) is a
  heading, as is a short bold one-line paragraph at body size with no closing
  punctuation; levels follow size, largest first (at most 6).
* Smaller text at the foot of a page (footnotes) stays, each note its own paragraph.
* A page without text is noted by number: "no text layer" (it has images: a scan) or
  "blank page"; with OCR on, a scanned page is read by tesseract (``index.documents.extract.ocr``).
"""

from __future__ import annotations

import io
import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from index.documents.extract.ocr import ocr_page, ocr_unavailable_reason
from index.documents.extract.pdf_layout import (
    Line,
    arrange,
    body_size,
    forced_break,
    heading_level,
    heading_levels,
    join_paragraph,
    outline_levels,
    paragraphs,
    running_lines,
)
from index.documents.extract.records import Extraction, ExtractSettings, TextBuilder

_SENTENCE_END = (".", "!", "?", ":", ";", "”", '"', "’", ")")
_BOLD = re.compile(r"bold|black|heavy|semibold", re.IGNORECASE)
_NO_UNICODE = "its font has no usable Unicode map"
HEADER_WINDOW = 1024  # readers look for %PDF- in a file's first kilobyte
_CID = re.compile(r"\(cid:\d+\)")  # how pdfminer writes a glyph it cannot map
_NO_LETTER = frozenset({"Co", "Cc"})  # private-use and control code points: no meaning


def extract_pdf(data: bytes, settings: ExtractSettings) -> Extraction:
    """The text of a PDF, or the reason it has none (see the module rules)."""
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFParser, PDFSyntaxError
    from pdfminer.psparser import PSException

    from index.documents.extract.pdf_objects import (
        LoopSafeDocument,
        ReferenceLoop,
        attachments,
        outline_entries,
    )

    start = data.find(b"%PDF-", 0, HEADER_WINDOW)
    if start < 0:
        return Extraction(error="not a PDF file (no %PDF- in its first 1024 bytes)")
    data = data[start:]  # bytes before the header (a mail or HTTP header): readers skip them
    try:
        document = LoopSafeDocument(PDFParser(io.BytesIO(data)))
        pages = _pages(document, settings.max_pages)
        if isinstance(pages, str):
            return Extraction(error=pages)
        outline = outline_entries(document)
        read = [_read_page(page) for page in pages]
        attached = attachments(document, pages)
    except PDFPasswordIncorrect:
        return Extraction(error="encrypted PDF (it needs a password); save it without one")
    except ReferenceLoop as exc:
        return Extraction(error=f"damaged PDF, cannot be read ({exc})")
    except (PDFSyntaxError, PSException, KeyError, TypeError, ValueError) as exc:
        return Extraction(error=f"damaged PDF, cannot be read ({type(exc).__name__}: {exc})")
    return replace(assemble(read, data, settings, outline), attachments=attached)


def _pages(document: Any, most: int) -> list[Any] | str:
    """The document's pages, walked (its ``/Count`` may lie), or why there are too many."""
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdftypes import resolve1

    pages = list(itertools.islice(PDFPage.create_pages(document), most + 1))
    if len(pages) <= most:
        return pages
    try:
        declared = int(resolve1(resolve1(document.catalog["Pages"])["Count"]))
    except (KeyError, TypeError, ValueError):
        declared = 0
    count = f"{declared} > {most}" if declared > most else f"more than {most}"
    return f"too many pages ({count}; raise QA_MAX_PDF_PAGES)"


def _read_page(page: Any) -> PageRead:
    """``_page_lines``, or the page noted unreadable when its objects loop."""
    from index.documents.extract.pdf_objects import ReferenceLoop

    try:
        return _page_lines(page)
    except ReferenceLoop as exc:
        return PageRead([], unreadable=f"its content cannot be read ({exc})")


@dataclass(frozen=True)
class PageRead:
    """What one page gave.

    Attributes:
        lines: its text lines, in reading order.
        has_image: it shows an image (a page without text and with an image is a scan?).
        unreadable: why its text, though present, cannot be read (it is then OCR'd when
            that is on); None when it was read.
        left_out: a note on text of the page that was not read; None when none was.
    """

    lines: list[Line]
    has_image: bool = False
    unreadable: str | None = None
    left_out: str | None = None


def _page_lines(page: Any) -> PageRead:
    """The text lines of one page, and what could not be read on it.

    Text set at a quarter turn or upside down (a ``/Rotate`` over upright text, or a turned
    text matrix) is laid out again with the page turned so that most of its characters
    stand upright: pdfminer's own page rotation, with the turn the characters show.
    """
    layout = _layout(page)
    turn = _text_turn(layout)
    if turn:
        page.rotate = (int(page.rotate) + turn) % 360
        layout = _layout(page)
    return _read_layout(layout)


def _layout(page: Any) -> Any:
    """pdfminer's layout of one page (text boxes in reading order)."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager

    manager = PDFResourceManager()
    device = PDFPageAggregator(manager, laparams=LAParams())
    PDFPageInterpreter(manager, device).process_page(page)
    return device.get_result()


def _chars(item: Any) -> Iterator[Any]:
    """Every character of a layout item, at any depth."""
    from pdfminer.layout import LTChar, LTContainer

    if isinstance(item, LTChar):
        yield item
    elif isinstance(item, LTContainer):
        for child in item:
            yield from _chars(child)


def char_turn(char: Any) -> int | None:
    """How far a character's baseline is turned on the page, counter-clockwise: 0, 90,
    180 or 270 degrees; None for any other angle."""
    a, b = float(char.matrix[0]), float(char.matrix[1])
    angle = math.degrees(math.atan2(b, a)) % 360
    nearest = round(angle / 90) * 90
    return nearest % 360 if abs(angle - nearest) < 2 else None


def _text_turn(layout: Any) -> int:
    """The quarter turn most characters of the page show (0 when upright or no text)."""
    turns = Counter(char_turn(c) for c in _chars(layout))
    if not turns:
        return 0
    turn, count = turns.most_common(1)[0]
    return turn if turn and count * 2 > turns.total() else 0


def _read_layout(layout: Any) -> PageRead:
    """The page's lines: a line whose characters are mostly turned against the page is
    left out (noted), as are glyphs without a Unicode value; a page of mostly such glyphs
    is unreadable."""
    from pdfminer.layout import LTChar, LTFigure, LTImage, LTTextBox, LTTextLine

    height = float(layout.height) or 1.0
    lines: list[Line] = []
    has_image = False
    turned = unmapped = total = 0
    for number, item in enumerate(layout):
        if isinstance(item, LTFigure | LTImage):
            has_image = True
        if not isinstance(item, LTTextBox):
            continue
        for row in item:
            if not isinstance(row, LTTextLine):
                continue
            chars = [c for c in row if isinstance(c, LTChar)]
            letters = [c for c in chars if not c.get_text().isspace()]
            total += len(letters)
            unmapped += sum(1 for c in letters if not _readable(c.get_text()))
            if sum(1 for c in letters if char_turn(c) != 0) * 2 > len(letters):
                turned += len(letters)
                continue
            text = _readable(row.get_text()).strip()
            if not text or not letters:
                continue
            sizes = sorted(round(float(c.size), 1) for c in chars)
            bold = sum(bool(_BOLD.search(c.fontname)) for c in chars) > len(chars) / 2
            lines.append(Line(text, 1 - float(row.y1) / height, 1 - float(row.y0) / height,
                              sizes[len(sizes) // 2], bold, number, float(row.x0),
                              float(row.x1), _first_word_width(chars)))
    if unmapped * 2 > total:
        return PageRead([], has_image, unreadable=(
            f"{_NO_UNICODE}: {unmapped} of its {total} characters are glyph numbers or "
            "private-use codes, not letters (no ToUnicode?)"))
    drawn = 0 if total else sum(1 for _ in _chars(layout))
    if drawn:
        return PageRead([], has_image, unreadable=(
            f"{_NO_UNICODE}: its {drawn} characters all read as spaces"))
    left_out = (f"{turned} characters of text turned against the page (not read)"
                if turned else None)
    return PageRead(lines, has_image, left_out=left_out)


def _readable(text: str) -> str:
    """``text`` without what names no letter: pdfminer's ``(cid:N)`` for a glyph it could
    not map, private-use and control code points."""
    return "".join(c for c in _CID.sub("", text)
                   if c.isspace() or unicodedata.category(c) not in _NO_LETTER)


def _first_word_width(chars: list[Any]) -> float:
    """Width of a line's first word plus a space (a quarter of the type size)."""
    end = next((i for i, c in enumerate(chars) if c.get_text().isspace()), len(chars))
    if end == 0:
        return 0.0
    return float(chars[end - 1].x1 - chars[0].x0) + float(chars[0].size) * 0.25


def assemble(raw: list[PageRead], data: bytes, settings: ExtractSettings,
             outline: list[tuple[int, str]] | None = None) -> Extraction:
    """The document text from every page's lines (the module's rules)."""
    running = running_lines([page.lines for page in raw])
    pages = [arrange([x for i, x in enumerate(page.lines) if (p, i) not in running])
             for p, page in enumerate(raw)]
    body = body_size(pages)
    vocabulary: Counter[str] = Counter(
        w.lower() for lines in pages for x in lines for w in re.findall(r"\w+(?:-\w+)*", x.text)
    )
    grouped = [paragraphs(lines) for lines in pages]
    texts = [[join_paragraph(g, vocabulary, g[0].edge) for g in groups] for groups in grouped]
    from_outline = outline_levels(outline or [], [t for page in texts for t in page])
    levels = heading_levels([g for groups in grouped for g in groups], body)
    counter = 0  # position of the paragraph among all of them
    out = TextBuilder()
    starts: list[int] = []
    notes: list[tuple[int, str]] = []
    previous: tuple[str, Line] | None = None  # the last paragraph and its last line
    for number, groups in enumerate(grouped, start=1):
        starts.append(out.length + (2 if out.parts else 0))
        if raw[number - 1].left_out:
            notes.append((number, str(raw[number - 1].left_out)))
        if not groups:
            previous = None
            _empty_page(number, raw[number - 1], data, settings, out, notes)
            continue
        for position, group in enumerate(groups):
            text = texts[number - 1][position]
            if from_outline:
                level = from_outline.get(counter)
            else:
                level = heading_level(group, text, body, levels)
            counter += 1
            goes_on = (previous is not None and level is None
                       and (position == 0 or group[0].column > previous[1].column >= 0)
                       and group[0].size == previous[1].size
                       and not previous[0].endswith(_SENTENCE_END)
                       and not forced_break(previous[1], group[0], previous[1].edge))
            if goes_on:
                if position == 0:  # the page starts inside the paragraph
                    starts[-1] = out.length + 1
                out.continue_paragraph(text)
            else:
                out.paragraph(text, level)
            previous = (text, group[-1])
    text = out.text()
    starts = [min(s, len(text)) for s in starts]
    if not text.strip():
        return Extraction(pages=tuple(starts), page_notes=tuple(notes),
                          error=f"no text after extraction ({_why_no_text(raw)})")
    return Extraction(text, tuple(starts), tuple(out.headings), tuple(notes))


def _why_no_text(raw: list[PageRead]) -> str:
    """Why a document's pages gave no text, for the skipped-file message."""
    scans = sum(1 for page in raw if page.has_image and not page.unreadable)
    unmapped = sum(1 for page in raw if (page.unreadable or "").startswith(_NO_UNICODE))
    broken = sum(1 for page in raw if page.unreadable) - unmapped
    return (f"{unmapped} of its {len(raw)} page(s) are set in a font without a Unicode map"
            if unmapped else f"{broken} of its {len(raw)} page(s) cannot be read"
            if broken else
            f"{scans} of its {len(raw)} page(s) are images without a text layer: scanned?"
            if scans else "only running headers, footers or page numbers"
            if any(page.lines for page in raw) else "none of its pages has text")


def _empty_page(number: int, page: PageRead, data: bytes, settings: ExtractSettings,
                out: TextBuilder, notes: list[tuple[int, str]]) -> None:
    """Note a page without (readable) text, or read it by OCR when that is on and
    possible."""
    if not page.has_image and not page.unreadable:
        notes.append((number, "blank page (no text)"))
        return
    what = page.unreadable or "no text layer"
    if not settings.ocr:
        hint = "" if page.unreadable else " (a scanned page?)"
        notes.append((number, f"{what}{hint}; QA_OCR=on reads it with tesseract"))
        return
    missing = ocr_unavailable_reason()
    if missing:
        notes.append((number, f"{what}; OCR is on but {missing}"))
        return
    paragraphs = ocr_page(data, number)
    if not paragraphs:
        notes.append((number, f"{what}, and OCR found no text"))
        return
    for paragraph in paragraphs:
        out.paragraph(paragraph)
    notes.append((number, f"{what}; text read by OCR (tesseract), check it"))
