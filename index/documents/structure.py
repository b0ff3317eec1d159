"""Parse a document into structural blocks with section paths.

Plain text (``.txt``) is read line by line. A line is classified as:

* a numbered heading -- ``2 Title``, ``(1) Title``, ``A Title``, ``I. Title``...; each
  numbering style gets a nesting level in the order the styles first appear, so the
  same code works for documents numbered differently;
* a title -- a short line in title case with no closing punctuation; at the top of the
  document (before any heading or text) it is the front matter, later it opens an
  unnumbered sub-section (a boxed column) or, when no text follows it, is a figure title;
* a footnote -- ``• (1) Text`` explaining the marker ``(1)`` in the text above it;
* a caption -- a line the source repeats twice, glued together (only one copy is kept);
* a byline -- a short line starting with a box or bullet symbol; a box-symbol byline
  followed by text (``■NAME, title``) scopes the first-person account after it, up to the
  next caption, figure, footnote or heading;
* a paragraph -- everything else.

Text extracted from PDF or HTML is read like plain text, except that when the extractor
knows the headings (HTML ``h1``-``h6``, PDF font sizes) those lines are the headings at
their level, numbering alone makes none (a numbered line is then a list item), and a
table row (cells joined by `` | ``) is never a title.

Markdown (``.md``) takes its structure from ``#`` headings; blocks are separated by
blank lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from index.records import Block

MAX_HEADING_CHARS = 160
TABLE_CELL = " | "  # how extracted table rows separate their cells
BOM = "\ufeff"

# Numbering styles, most specific first. Group 1 is the heading text after the number.
_NUMBERING: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("paren_number", re.compile(r"^\(\d{1,2}\)\s+(\S.*)$")),
    ("roman", re.compile(r"^(?:[IVX]{1,5})\.\s+(\S.*)$")),
    ("dotted_number", re.compile(r"^\d{1,2}(?:\.\d{1,2})+\.?\s+(\S.*)$")),
    ("number", re.compile(r"^\d{1,2}\.?\s+([A-Z\"“].*)$")),
    ("letter", re.compile(r"^[A-Z]\.?\s+([A-Z\"“].*)$")),
    ("paren_letter", re.compile(r"^\([a-z]\)\s+(\S.*)$")),
)
_FOOTNOTE = re.compile(r"^\s*[•·*]\s*(\(\d{1,3}\)|\[\d{1,3}\]|\d{1,3}[.)])\s+\S")
_BULLET_START = re.compile(r"^\s*[■□●○◆◇▶►•·*\-–]")
_SENTENCE_END = (".", "!", "?", ":", ";", "”", '"', ")", "’")
_SMALL_WORDS = frozenset(
    ["a", "an", "the", "and", "or", "nor", "but", "of", "for", "to", "in", "on", "at", "by", "with", "from", "as", "into", "via", "vs", "per"]
)


def parse_blocks(
    doc_id: str, text: str, headings: tuple[tuple[int, int, int], ...] = ()
) -> list[Block]:
    """Split a document into blocks, each with its section path.

    Args:
        doc_id: the document id; its suffix picks the parser (``.md`` or plain text).
        text: the document text.
        headings: (start, end, level) of lines known to be headings (extracted text).

    Returns:
        Blocks in document order, covering every non-blank line exactly once (a caption
        repeated twice is covered by one block over its first copy).
    """
    if doc_id.lower().endswith(".md"):
        return _parse_markdown(text)
    return _parse_plain(text, {start: level for start, _end, level in headings})


def _lines(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each line without its line break, blank lines included; a byte
    order mark at the start belongs to no line."""
    pos = 1 if text.startswith(BOM) else 0
    for line in text[pos:].splitlines(keepends=True):
        body = line.rstrip("\r\n")
        yield pos, pos + len(body)
        pos += len(line)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def numbering_style(line: str) -> str | None:
    """The numbering style of a heading line, or None when the line is not one."""
    stripped = line.strip()
    if len(stripped) > MAX_HEADING_CHARS or stripped.endswith((".", ",", ";", ":")):
        return None
    for style, pattern in _NUMBERING:
        match = pattern.match(stripped)
        if match and looks_like_title(match.group(1)):
            return style
    return None


def looks_like_title(line: str) -> bool:
    """A short line in title case without closing punctuation."""
    stripped = line.strip()
    if not stripped or len(stripped) > MAX_HEADING_CHARS:
        return False
    if stripped[-1] in ".,;:!?" and not stripped.endswith("Inc."):
        return False
    words = [w.strip("“”\"'()[]–—─-") for w in stripped.split()]
    words = [w for w in words if w and w[0].isalpha()]
    if not words:
        return False
    content = [w for w in words if w.lower() not in _SMALL_WORDS]
    if not content:
        return False
    capitalised = sum(1 for w in content if w[0].isupper())
    return capitalised / len(content) >= 0.6


def _is_title_line(line: str) -> bool:
    """A line the plain-text parser may take for front matter: a title, no numbering."""
    return (
        looks_like_title(line)
        and numbering_style(line) is None
        and not _FOOTNOTE.match(line)
        and not is_doubled(line)
        and not _BULLET_START.match(line)
    )


def is_doubled(line: str) -> bool:
    """Whether a line is one text repeated twice, glued together."""
    n = len(line)
    if n < 20 or n > 4 * MAX_HEADING_CHARS or n % 2:
        return False  # captions are short; a long periodic line is text, kept whole
    return line[: n // 2] == line[n // 2 :]


BYLINE_LEVEL = 200
_BYLINE_START = re.compile(r"^\s*[■□◆◇▶►]\s*")


class _SectionStack:
    """Tracks the heading path as numbered and unnumbered headings arrive."""

    def __init__(self) -> None:
        self.levels: dict[str, int] = {}
        self.path: list[tuple[int, str]] = []  # (level, heading text)

    def push(self, style: str, heading: str) -> None:
        if style not in self.levels:
            deepest = max(self.levels.values(), default=0)
            self.levels[style] = deepest + 1
        level = self.levels[style]
        self.path = [(lv, h) for lv, h in self.path if lv < level]
        self.path.append((level, heading))

    def push_level(self, level: int, heading: str) -> None:
        """A heading at the level the source gives it (1 outermost)."""
        self.path = [(lv, h) for lv, h in self.path if lv < level]
        self.path.append((level, heading))

    def push_unnumbered(self, heading: str) -> None:
        """An unnumbered title nests under the current numbered section."""
        numbered = [(lv, h) for lv, h in self.path if lv < 100]
        self.path = [*numbered, (100, heading)]

    def push_byline(self, byline: str) -> None:
        """A byline ("■NAME, title") opens a scope for the account that follows it."""
        self.pop_byline()
        self.path.append((BYLINE_LEVEL, byline))

    def pop_byline(self) -> None:
        """A caption, figure or footnote closes the account a byline opened."""
        self.path = [(lv, h) for lv, h in self.path if lv < BYLINE_LEVEL]

    def section(self) -> tuple[str, ...]:
        return tuple(h for _, h in self.path)


def _parse_plain(text: str, known: dict[int, int]) -> list[Block]:
    lines = [(a, b) for a, b in _lines(text)]
    nonblank = [i for i, (a, b) in enumerate(lines) if text[a:b].strip()]
    stack = _SectionStack()
    blocks: list[Block] = []
    in_front_matter = True  # only titles so far
    paragraph: tuple[int, int] | None = None  # a paragraph being joined across wrapped lines

    def flush() -> None:
        nonlocal paragraph
        if paragraph is not None:
            blocks.append(Block("paragraph", paragraph[0], paragraph[1], stack.section()))
            paragraph = None

    for position, index in enumerate(nonblank):
        start, end = _trim(text, *lines[index])
        line = text[start:end]
        next_line = ""
        if position + 1 < len(nonblank):
            next_line = text[slice(*lines[nonblank[position + 1]])].strip()
        blank_before = index == 0 or not text[slice(*lines[index - 1])].strip()
        # A hard-wrapped paragraph goes on while its last line has not ended a sentence
        # ("...the two agencies signed" / "A Memorandum on Harbor Dredging ...").
        continues_paragraph = (
            paragraph is not None
            and not blank_before
            and not text[paragraph[0] : paragraph[1]].endswith(_SENTENCE_END)
        )
        if not continues_paragraph and not _is_title_line(line):
            in_front_matter = False

        if start in known:
            flush()
            in_front_matter = False
            stack.push_level(known[start], line)
            blocks.append(Block("heading", start, end, stack.section()))
            continue
        style = None if continues_paragraph or known else numbering_style(line)
        if style is not None:
            flush()
            stack.push(style, line)
            blocks.append(Block("heading", start, end, stack.section()))
            continue
        kind = _marked_kind(line)
        if kind is not None:
            flush()
            blocks.append(_marked_block(kind, start, end, line, next_line, stack))
            continue
        table_row = bool(known) and TABLE_CELL in line  # extracted table rows stay text
        if looks_like_title(line) and not table_row and (blank_before or paragraph is None):
            flush()
            blocks.append(_title_block(start, end, line, next_line, stack, in_front_matter))
            continue
        if paragraph is not None and not blank_before:
            paragraph = (paragraph[0], end)  # a hard-wrapped paragraph continues
        else:
            flush()
            paragraph = (start, end)
    flush()
    return blocks


def _marked_kind(line: str) -> str | None:
    """``footnote``, ``caption`` (a line the source doubled) or ``byline`` (a short
    bulleted line), in that order of precedence; None for any other line."""
    if _FOOTNOTE.match(line):
        return "footnote"
    if is_doubled(line):
        return "caption"
    if _BULLET_START.match(line) and len(line) <= MAX_HEADING_CHARS:
        return "byline"
    return None


def _marked_block(
    kind: str, start: int, end: int, line: str, next_line: str, stack: _SectionStack
) -> Block:
    """The block of a line ``_marked_kind`` recognised, with its effect on the sections."""
    if kind == "footnote":
        stack.pop_byline()
        marker = re.search(r"\(\d{1,3}\)|\[\d{1,3}\]|\d{1,3}", line)
        return Block("footnote", start, end, stack.section(), marker.group(0) if marker else None)
    if kind == "caption":
        stack.pop_byline()
        half = (end - start) // 2
        return Block("caption", start, start + half, stack.section())
    opens_account = (
        _BYLINE_START.match(line) is not None
        and bool(next_line)
        and not _BULLET_START.match(next_line)
        and numbering_style(next_line) is None
    )
    if opens_account:
        stack.push_byline(_BYLINE_START.sub("", line))
    return Block("byline", start, end, stack.section())


def _title_block(
    start: int, end: int, line: str, next_line: str, stack: _SectionStack, front_matter: bool
) -> Block:
    """A title-like line: a document title in the front matter, a figure title before a
    numbered heading or at the end, else an unnumbered heading."""
    if front_matter:
        return Block("title", start, end, ())
    if not next_line or numbering_style(next_line) is not None:
        stack.pop_byline()
        return Block("figure", start, end, stack.section())
    stack.push_unnumbered(line)
    return Block("heading", start, end, stack.section())


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_MD_FENCE = re.compile(r"^\s*(```|~~~)")


def _parse_markdown(text: str) -> list[Block]:
    blocks: list[Block] = []
    path: list[tuple[int, str]] = []
    paragraph: tuple[int, int] | None = None
    in_fence = False

    def section() -> tuple[str, ...]:
        return tuple(h for _, h in path)

    def flush() -> None:
        nonlocal paragraph
        if paragraph is not None:
            blocks.append(Block("paragraph", paragraph[0], paragraph[1], section()))
            paragraph = None

    for start, end in _lines(text):
        raw = text[start:end]
        if _MD_FENCE.match(raw):
            in_fence = not in_fence
        heading = None if in_fence else _MD_HEADING.match(raw)
        if heading:
            flush()
            level = len(heading.group(1))
            title = heading.group(2).strip()
            path = [(lv, h) for lv, h in path if lv < level]
            path.append((level, title))
            a, b = _trim(text, start, end)
            blocks.append(Block("heading", a, b, section()))
            continue
        if not raw.strip():
            if not in_fence:
                flush()
            continue
        a, b = _trim(text, start, end)
        if paragraph is None:
            paragraph = (a, b)
        elif re.match(r"^\s*([-*+]|\d+[.)])\s", raw) and not in_fence:
            flush()  # each list item is its own block
            paragraph = (a, b)
        else:
            paragraph = (paragraph[0], b)
    flush()
    return blocks
