"""HTML to text with selectolax (lexbor): main content, headings, tables as rows.

Rules, in order:

* The encoding is found as a browser finds it (``index.documents.extract.html_encoding``): a byte
  order mark, else a ``<meta>`` declaration in the first 1024 bytes (WHATWG prescan and
  labels), else UTF-8 (bytes that are not UTF-8 are read as windows-1252).
* Dropped whole: ``script``, ``style``, ``noscript``, ``template``, ``svg``, ``canvas``,
  ``iframe``, ``object``, ``form``, ``button``, ``select``, ``nav``, ``aside``; the
  page's own ``header`` and ``footer`` (not those of an ``article``, ``section`` or
  ``main``, which hold its title or notes: the HTML-AAM rule for banner and contentinfo).
* The content root is the first of ``main``, ``[role=main]``, the only ``article`` and
  ``body`` that has text left after the next rule (an empty ``main`` does not hide the
  text of ``body``).
* Inside the root (never the root itself): elements that are hidden (``hidden``,
  ``aria-hidden="true"``, ``display:none``) and boilerplate: a class token or the id
  made only of words from ``BOILERPLATE_WORDS`` (navigation, menus, breadcrumbs,
  sidebars, cookie banners, share buttons) and ``LAYOUT_WORDS``, with at least one of
  the first (``cookie-banner``, ``site-nav`` go; ``social-security-benefits``,
  ``share-of-budget`` stay).
* ``h1``–``h6`` become headings at their level (the section path); block elements
  (``p``, ``li``, ``blockquote``, ``pre``, ``dt``, ``dd``, ``figcaption``...) become
  paragraphs; each table row becomes one line, its cells joined by `` | ``, each cell
  after its column's header when the table starts with a header row
  (``Pier: 7777 | Vessel: Marigold``), so a row found alone still says what it holds;
  inline elements join with the text around them; ``br`` starts a new line of the same
  paragraph (as in a text file, no blank line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from index.documents.extract.html_encoding import decode_html
from index.documents.extract.records import LINE_BREAK, Extraction, TextBuilder

DROPPED_TAGS = (
    "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "form",
    "button", "select", "nav", "aside", "head",
)
PAGE_LANDMARKS = ("header", "footer")  # dropped unless inside one of SECTIONING_TAGS
SECTIONING_TAGS = frozenset(["article", "aside", "main", "nav", "section"])
BOILERPLATE_WORDS = frozenset([
    "nav", "navbar", "navigation", "menu", "menubar", "breadcrumb", "breadcrumbs", "sidebar",
    "cookie", "cookies", "consent", "banner", "share", "sharing", "social", "skip",
    "masthead", "toolbar",
])
LAYOUT_WORDS = frozenset([
    "site", "page", "main", "global", "primary", "secondary", "top", "bottom", "left", "right",
    "bar", "link", "links", "button", "buttons", "icon", "icons", "list", "item", "items",
    "wrapper", "wrap", "container", "box", "widget", "panel", "area", "notice", "bg",
])
BLOCK_TAGS = frozenset([
    "p", "div", "section", "article", "main", "body", "li", "ul", "ol", "dl", "dt", "dd",
    "blockquote", "pre", "figure", "figcaption", "address", "hr", "details", "summary",
    "table", "thead", "tbody", "tfoot", "caption", "header", "footer",
])
HEADINGS = {f"h{n}": n for n in range(1, 7)}
CELL_SEPARATOR = " | "
HEADER_SEPARATOR = ": "
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_WORD_SPLIT = re.compile(r"[_\-]+")


def extract_html(data: bytes) -> Extraction:
    """The main text of an HTML page (see the module rules)."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(decode_html(data))
    for node in tree.css(", ".join(DROPPED_TAGS)):
        node.decompose()
    for node in tree.css(", ".join(PAGE_LANDMARKS)):
        if not _inside(node, SECTIONING_TAGS):
            node.decompose()
    articles = tree.css("article")
    candidates = (tree.css_first("main"), tree.css_first("[role=main]"),
                  articles[0] if len(articles) == 1 else None, tree.body)
    for root in candidates:
        if root is None or _is_hidden(root):
            continue
        _drop_hidden_and_boilerplate(root)
        out = TextBuilder()
        _walk(root, out)
        text = out.text()
        if text.strip():
            return Extraction(text, (), tuple(out.headings))
    return Extraction(error="no text after extraction (the page has no main text)")


def _inside(node: Any, tags: frozenset[str]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag in tags:
            return True
        parent = parent.parent
    return False


def _drop_hidden_and_boilerplate(root: Any) -> None:
    """Remove hidden and boilerplate elements under ``root``, keeping ``root`` itself."""
    for node in root.css("[hidden], [aria-hidden=true], [style], [class], [id]"):
        if node.mem_id != root.mem_id and _is_boilerplate(node):
            node.decompose()


def _is_hidden(node: Any) -> bool:
    attrs = node.attributes
    return ("hidden" in attrs or attrs.get("aria-hidden") == "true"
            or bool(_HIDDEN_STYLE.search(attrs.get("style") or "")))


def _is_boilerplate(node: Any) -> bool:
    if _is_hidden(node):
        return True
    attrs = node.attributes
    tokens = (attrs.get("class") or "").split() + (attrs.get("id") or "").split()
    return any(_is_boilerplate_token(token.lower()) for token in tokens)


def _is_boilerplate_token(token: str) -> bool:
    """``cookie-banner`` yes, ``social-security-benefits`` no (see the module rules)."""
    words = [w for w in _WORD_SPLIT.split(token) if w and not w.isdigit()]
    return (any(w in BOILERPLATE_WORDS for w in words)
            and all(w in BOILERPLATE_WORDS or w in LAYOUT_WORDS for w in words))


@dataclass
class _Table:
    """A table being walked: its column headers (once its first row said them)."""

    header: list[str] | None = None
    rows: int = 0


def _cells(row: Any) -> list[tuple[str, bool, int]]:
    """(text, is a header cell, columns spanned) of each cell of ``row``."""
    cells = []
    for cell in row.iter():
        if cell.tag in ("td", "th"):
            span = cell.attributes.get("colspan") or "1"
            columns = int(span) if span.isdigit() and 0 < int(span) < 1000 else 1
            cells.append((" ".join(cell.text(separator=" ").split()), cell.tag == "th", columns))
    return cells


def _row_line(cells: list[tuple[str, bool, int]], header: list[str] | None) -> str:
    """One table row as a line: ``Header: cell`` pairs when there is a header."""
    if not header:
        return CELL_SEPARATOR.join(text for text, _, _ in cells)
    parts, column = [], 0
    for text, _, columns in cells:
        name = header[column] if column < len(header) else ""
        column += columns
        if text:
            parts.append(f"{name}{HEADER_SEPARATOR}{text}" if name and name != text else text)
    return CELL_SEPARATOR.join(parts)


def _table_row(row: Any, table: _Table | None, out: TextBuilder) -> None:
    cells = _cells(row)
    if table is not None and table.rows == 0 and cells and all(th for _, th, _ in cells):
        table.header = [text for text, _, columns in cells for _ in range(columns)]
        return  # the header is said by every row below it
    out.paragraph(_row_line(cells, table.header if table else None))
    if table is not None:
        table.rows += 1


def _walk(root: Any, out: TextBuilder) -> None:
    """Depth first over the content, without recursion (pages nest deeply)."""
    buffer: list[str] = []
    tables: list[_Table] = []  # the tables being walked, innermost last

    def flush() -> None:
        out.paragraph("".join(buffer))
        buffer.clear()

    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        tag = node.tag
        if leaving:
            flush()
            if tag == "table":
                table = tables.pop()
                if table.rows == 0 and table.header:  # a header row and nothing under it
                    out.paragraph(CELL_SEPARATOR.join(table.header))
            continue
        if tag == "-text":
            buffer.append(node.text_content or "")
        elif tag in HEADINGS:
            flush()
            out.paragraph(node.text(separator=" "), HEADINGS[tag])
        elif tag == "tr":
            flush()
            _table_row(node, tables[-1] if tables else None, out)
        elif tag == "br":
            buffer.append(LINE_BREAK)
        elif tag in BLOCK_TAGS:
            flush()
            if tag == "table":
                tables.append(_Table())
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(list(node.iter(include_text=True))))
        else:
            stack.extend((child, False) for child in reversed(list(node.iter(include_text=True))))
    flush()
