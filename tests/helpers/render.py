"""Real files for the ingest tests: an HTML rendering of a text document and its PDF.

The HTML keeps the text's lines: the numbered headings the plain-text parser finds become
``h1``-``h6`` (by their numbering style, in order of first appearance, as the parser nests
them); lines with no blank line between them share a ``p``, separated by ``br``. Chromium prints it to PDF
with its running header (date, title) and footer (address, page counter) left on, so the
extractor has to drop them.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import tempfile
from pathlib import Path

from index.documents.structure import numbering_style, parse_blocks

CSS = """
body { font-family: serif; font-size: 11pt; line-height: 1.35; margin: 0; }
h1 { font-size: 20pt; } h2 { font-size: 16pt; } h3 { font-size: 13.5pt; }
h4, h5, h6 { font-size: 12pt; }
p { margin: 0 0 0.8em 0; }
"""


PLAIN_HEADINGS = "h1, h2, h3, h4, h5, h6 { font-size: 11pt; font-weight: normal; }"


def heading_lines(text: str, doc_id: str = "doc.txt") -> list[tuple[str, int]]:
    """(line, h level) of the headings ``html_of_text`` writes, in order."""
    levels: dict[str, int] = {}
    found = []
    for block in parse_blocks(doc_id, text):
        line = text[block.start : block.end]
        style = numbering_style(line) if block.kind == "heading" else None
        if style is not None:
            levels.setdefault(style, len(levels) + 1)
            found.append((" ".join(line.split()), min(levels[style], 6)))
    return found


def html_of_text(title: str, text: str, doc_id: str = "doc.txt", css: str = "") -> str:
    """An HTML page holding ``text`` line by line (see the module docstring); ``css`` is
    added to the style sheet."""
    levels: dict[str, int] = {}
    heading_at: dict[int, int] = {}
    for block in parse_blocks(doc_id, text):
        style = numbering_style(text[block.start : block.end]) if block.kind == "heading" else None
        if style is not None:
            levels.setdefault(style, len(levels) + 1)
            heading_at[block.start] = min(levels[style], 6)
    body: list[str] = []
    run: list[str] = []  # lines with no blank line between: one paragraph, <br> between

    def flush() -> None:
        if run:
            body.append("<p>" + "<br>".join(run) + "</p>")
            run.clear()

    position = 0
    for raw in text.splitlines(keepends=True):
        line = raw.strip()
        start = position + (len(raw) - len(raw.lstrip()))
        position += len(raw)
        level = heading_at.get(start)
        if not line or level:
            flush()
        if level:
            body.append(f"<h{level}>{html.escape(line)}</h{level}>")
        elif line:
            run.append(html.escape(line))
    flush()
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title><style>{CSS}{css}</style></head><body><main>\n" + "\n".join(body)
        + "\n</main></body></html>\n"
    )


def chromium() -> str:
    """The chromium binary (tasks.py installs it)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "chromium is not installed; python3 tasks.py test installs it"
    return found


def print_pdf(html_path: Path, pdf_path: Path, header_footer: bool = True,
              outline: bool = False) -> Path:
    """Print an HTML file to PDF with headless chromium; returns ``pdf_path``.

    ``header_footer``: keep chromium's running header and footer (a scanner adds none).
    ``outline``: write the headings as the PDF's outline (bookmarks).
    """
    flags = [] if header_footer else ["--no-pdf-header-footer"]
    flags += ["--generate-pdf-document-outline"] if outline else []
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        subprocess.run(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", *flags,
             f"--user-data-dir={profile}", f"--print-to-pdf={pdf_path}",
             html_path.resolve().as_uri()],
            check=True, capture_output=True, timeout=180,
        )
    assert pdf_path.is_file() and pdf_path.stat().st_size > 0, "chromium wrote no PDF"
    return pdf_path


def pdftotext_page(pdf_path: Path, page: int) -> str:
    """Page ``page`` (1-based) of a PDF as poppler's pdftotext reads it."""
    binary = shutil.which("pdftotext")
    assert binary, "pdftotext is not installed; python3 tasks.py test installs poppler-utils"
    result = subprocess.run(
        [binary, "-f", str(page), "-l", str(page), "-enc", "UTF-8", str(pdf_path), "-"],
        check=True, capture_output=True, timeout=60,
    )
    return result.stdout.decode("utf-8")


def screenshot(html_path: Path, png_path: Path, width: int = 1000, height: int = 400) -> Path:
    """A PNG picture of an HTML page (headless chromium), for image-only PDFs."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        subprocess.run(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             f"--user-data-dir={profile}", "--hide-scrollbars",
             f"--window-size={width},{height}", f"--screenshot={png_path}",
             html_path.resolve().as_uri()],
            check=True, capture_output=True, timeout=180,
        )
    assert png_path.is_file() and png_path.stat().st_size > 0, "chromium wrote no screenshot"
    return png_path


def image_pdf(folder: Path, name: str, pages: list[str | Path]) -> Path:
    """A PDF whose pages are either text (a string) or only a picture (a PNG path): a
    scanned page has no text layer."""
    parts = []
    for page in pages:
        if isinstance(page, Path):
            parts.append(f'<img src="{page.resolve().as_uri()}" style="width:100%">')
        else:
            parts.append(f"<p>{html.escape(page)}</p>")
    body = '<div style="break-after: page"></div>'.join(f"<div>{p}</div>" for p in parts)
    source = folder / f"{name}.html"
    source.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{name}</title>'
                      f"</head><body>{body}</body></html>", "utf-8")
    return print_pdf(source, folder / f"{name}.pdf", header_footer=False)
