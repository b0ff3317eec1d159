"""HTML to text with selectolax (lexbor): main content, headings, tables as rows.

Rules, in order:

* The encoding comes from a byte order mark, else a ``<meta charset>`` in the first 4 KB,
  else UTF-8 (bytes that are not UTF-8 are read as Windows-1252).
* Dropped whole: ``script``, ``style``, ``noscript``, ``template``, ``svg``, ``canvas``,
  ``iframe``, ``object``, ``form``, ``button``, ``select``; elements that are hidden
  (``hidden``, ``aria-hidden="true"``, ``display:none``); and boilerplate: ``nav``,
  ``aside``, ``header`` and ``footer``, and elements whose class or id has a word from
  ``BOILERPLATE_WORDS`` (navigation, menus, breadcrumbs, sidebars, cookie banners,
  share buttons).
* The content root is the first ``main``, else ``[role=main]``, else the only
  ``article``, else ``body``.
* ``h1``–``h6`` become headings at their level (the section path); block elements
  (``p``, ``li``, ``blockquote``, ``pre``, ``dt``, ``dd``, ``figcaption``...) become
  paragraphs; each table row becomes one line, its cells joined by `` | ``; inline
  elements join with the text around them; ``br`` starts a new line of the same
  paragraph (as in a text file, no blank line).
"""

from __future__ import annotations

import codecs
import re
from typing import Any

from index.extract.records import LINE_BREAK, Extraction, TextBuilder

DROPPED_TAGS = (
    "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "form",
    "button", "select", "nav", "aside", "header", "footer", "head",
)
BOILERPLATE_WORDS = frozenset([
    "nav", "navbar", "navigation", "menu", "breadcrumb", "breadcrumbs", "sidebar", "cookie",
    "cookies", "banner", "share", "social", "skip", "masthead", "toolbar",
])
BLOCK_TAGS = frozenset([
    "p", "div", "section", "article", "main", "body", "li", "ul", "ol", "dl", "dt", "dd",
    "blockquote", "pre", "figure", "figcaption", "address", "hr", "details", "summary",
    "table", "thead", "tbody", "tfoot", "caption",
])
HEADINGS = {f"h{n}": n for n in range(1, 7)}
CELL_SEPARATOR = " | "
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.IGNORECASE)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def decode_html(data: bytes) -> str:
    """The HTML's text in the encoding it declares (see the module rules)."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                      (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(name, "replace")
    declared = _META_CHARSET.search(data[:4096])
    if declared:
        try:
            return data.decode(declared.group(1).decode("ascii"), "replace")
        except LookupError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def extract_html(data: bytes) -> Extraction:
    """The main text of an HTML page (see the module rules)."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(decode_html(data))
    for node in tree.css(", ".join(DROPPED_TAGS)):
        node.decompose()
    for node in tree.css("[hidden], [aria-hidden=true], [style], [class], [id]"):
        if _is_boilerplate(node):
            node.decompose()
    root = (tree.css_first("main") or tree.css_first("[role=main]")
            or (articles[0] if len(articles := tree.css("article")) == 1 else None)
            or tree.body)
    out = TextBuilder()
    if root is not None:
        _walk(root, out)
    text = out.text()
    if not text.strip():
        return Extraction(error="no text after extraction (the page has no main text)")
    return Extraction(text, (), tuple(out.headings))


def _is_boilerplate(node: Any) -> bool:
    attrs = node.attributes
    if "hidden" in attrs or attrs.get("aria-hidden") == "true":
        return True
    if _HIDDEN_STYLE.search(attrs.get("style") or ""):
        return True
    words = re.split(r"[\s_-]+", f"{attrs.get('class') or ''} {attrs.get('id') or ''}".lower())
    return any(w in BOILERPLATE_WORDS for w in words)


def _walk(root: Any, out: TextBuilder) -> None:
    """Depth first over the content, without recursion (pages nest deeply)."""
    buffer: list[str] = []

    def flush() -> None:
        out.paragraph("".join(buffer))
        buffer.clear()

    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        tag = node.tag
        if leaving:
            flush()
            continue
        if tag == "-text":
            buffer.append(node.text_content or "")
        elif tag in HEADINGS:
            flush()
            out.paragraph(node.text(separator=" "), HEADINGS[tag])
        elif tag == "tr":
            flush()
            cells = [" ".join(c.text(separator=" ").split()) for c in node.iter()
                     if c.tag in ("td", "th")]
            out.paragraph(CELL_SEPARATOR.join(cells))
        elif tag == "br":
            buffer.append(LINE_BREAK)
        elif tag in BLOCK_TAGS:
            flush()
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(list(node.iter(include_text=True))))
        else:
            stack.extend((child, False) for child in reversed(list(node.iter(include_text=True))))
    flush()
