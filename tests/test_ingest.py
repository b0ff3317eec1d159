"""PDF and HTML ingest with real files: chromium prints the PDFs, poppler checks them.

No embedding model here (the hashing embedder); ``test_ingest_real.py`` runs the gold
questions through the real model.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from index.documents.extract.bounded import extract_bounded
from index.documents.extract.records import ExtractSettings
from tests.conftest import CHAPTER
from tests.helpers.pdfs import corrupt_xref, encrypted, minimal_pdf
from tests.helpers.render import (
    PLAIN_HEADINGS,
    heading_lines,
    html_of_text,
    image_pdf,
    pdftotext_page,
    print_pdf,
    screenshot,
)

HTML_PAGE = """<!DOCTYPE html><html><head><title>Port report</title>
<script>var tracking = 1;</script><style>p { color: red }</style></head><body>
<header><a href="/">Home</a> <a href="/about">About us</a></header>
<nav><ul><li>Menu item one</li><li>Menu item two</li></ul></nav>
<div class="cookie-banner">We use cookies. Accept?</div>
<main>
<h1>Harbour Works</h1>
<p>The harbour of the town was <b>dredged</b> in 1911.</p>
<h2>Costs</h2>
<p>The works cost nine thousand crowns.<br>They lasted two years.</p>
<table><tr><th>Year</th><th>Ships</th></tr><tr><td>1912</td><td>340</td></tr></table>
<h2>Later Years</h2>
<ul><li>A lighthouse was added in 1920.</li><li>A ferry began in 1925.</li></ul>
<p hidden>Hidden text never shown.</p>
<div style="display:none">Also hidden.</div>
</main>
<aside>Related stories you may like</aside>
<footer>Copyright the town council</footer>
</body></html>"""


def normalised(text: str) -> str:
    """Text compared across extractors: no whitespace, no hyphens (pdftotext drops a
    hyphen at a line end)."""
    return re.sub(r"[\s\-\u00ad]+", "", text)


@pytest.fixture(scope="module")
def chapter_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The chapter rendered to HTML and printed to PDF by chromium."""
    folder = tmp_path_factory.mktemp("chapter-pdf")
    source = folder / "chapter.html"
    source.write_text(html_of_text("Chapter", CHAPTER.read_text("utf-8"), CHAPTER.name), "utf-8")
    return print_pdf(source, folder / "chapter.pdf")


def test_html_keeps_the_main_text_headings_and_table_rows(make_service: Callable[..., Any]) -> None:
    service = make_service({"port.html": HTML_PAGE})
    service.open()
    doc = service.stored_document("port.html")
    assert doc.kind == "html" and doc.pages == ()
    for gone in ("Home", "Menu item", "cookies", "tracking", "color", "Related", "Copyright",
                 "Hidden", "Also hidden", "Port report"):
        assert gone not in doc.text, gone
    lines = [line for line in doc.text.split("\n") if line]
    assert lines == [
        "Harbour Works", "The harbour of the town was dredged in 1911.", "Costs",
        "The works cost nine thousand crowns.", "They lasted two years.",
        "Year: 1912 | Ships: 340", "Later Years", "A lighthouse was added in 1920.",
        "A ferry began in 1925.",
    ]
    def section_of(words: str) -> tuple[str, ...]:
        return next(c.section for c in service.loaded.index.chunks if words in c.text)

    assert section_of("nine thousand crowns") == ("Harbour Works", "Costs")
    # a row is no heading
    assert section_of("Year: 1912 | Ships: 340") == ("Harbour Works", "Costs")
    assert section_of("A ferry began in 1925.") == ("Harbour Works", "Later Years")
    assert section_of("dredged") == ("Harbour Works",)
    answer = service.ask("When was the harbour dredged?")
    assert answer.citations and answer.citations[0].page_start is None


def test_the_chapter_pdf_gives_back_the_chapter_line_by_line(chapter_pdf: Path) -> None:
    result = extract_bounded("pdf", chapter_pdf.read_bytes(), ExtractSettings())
    assert result.error is None, result.error
    source = [" ".join(x.split()) for x in CHAPTER.read_text("utf-8").splitlines() if x.strip()]
    extracted = [x for x in result.text.split("\n") if x]
    assert extracted == source
    # chromium's running header (date, title) and footer (file address, "n/m") are gone
    assert "file://" not in result.text and not re.search(r"\d+/\d+/\d+, \d+:\d+", result.text)
    pages = len(pdftotext_pages(chapter_pdf))
    assert len(result.pages) == pages > 1
    for number, start in enumerate(result.pages, start=1):  # each page starts where poppler says
        first_words = normalised(result.text[start : start + 60])
        assert first_words in normalised(pdftotext_page(chapter_pdf, number)), number


def test_headings_come_from_font_sizes_or_from_the_outline(chapter_pdf: Path,
                                                            tmp_path: Path) -> None:
    text = CHAPTER.read_text("utf-8")
    expected = heading_lines(text, CHAPTER.name)
    assert len(expected) > 10

    def headings(pdf: Path) -> list[tuple[str, int]]:
        result = extract_bounded("pdf", pdf.read_bytes(), ExtractSettings())
        return [(result.text[a:b], level) for a, b, level in result.headings]

    assert headings(chapter_pdf) == expected  # h1-h3 set in 20, 16 and 13.5 pt
    # headings in body type: only the outline (bookmarks) tells them apart
    source = tmp_path / "plain.html"
    source.write_text(html_of_text("Plain", text, CHAPTER.name, css=PLAIN_HEADINGS), "utf-8")
    assert headings(print_pdf(source, tmp_path / "plain.pdf")) == []
    assert headings(print_pdf(source, tmp_path / "outline.pdf", outline=True)) == expected


def pdftotext_pages(pdf: Path) -> list[str]:
    """Every page of a PDF as pdftotext reads it (pages end with a form feed)."""
    binary = shutil.which("pdftotext")
    assert binary, "pdftotext is missing; python3 tasks.py test installs poppler-utils"
    import subprocess

    out = subprocess.run([binary, "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                         check=True).stdout.decode("utf-8")
    return out.split("\f")[:-1]


def test_pdf_citations_carry_pages_that_hold_their_quotes(
    make_service: Callable[..., Any], chapter_pdf: Path
) -> None:
    service = make_service({"chapter.pdf": chapter_pdf.read_bytes()})
    service.open()
    doc = service.stored_document("chapter.pdf")
    assert doc.kind == "pdf" and len(doc.pages) > 1
    assert {c.section[0] for c in service.loaded.index.chunks if c.section} == {
        "2 Japan-U.S. Security Arrangements"}
    for question in ("When was the Extended Deterrence Dialogue established?",
                     "What is host nation support?", "Where is the Futenma air station?"):
        answer = service.ask(question)
        for item in [*answer.citations, *answer.passages]:
            quote = getattr(item, "quote", None) or item.text
            assert doc.text[item.start : item.end] == quote
            assert_pages_hold(chapter_pdf, doc, item.start, item.end,
                              item.page_start, item.page_end)


def assert_pages_hold(pdf: Path, doc: Any, start: int, end: int, first: int, last: int) -> None:
    """Each page from ``first`` to ``last`` holds, per pdftotext, the part of
    ``doc.text[start:end]`` the index places on it, and the span lies on no other page."""
    assert 1 <= first <= last <= len(doc.pages)
    bounds = [*doc.pages, len(doc.text)]
    assert bounds[first - 1] <= start and end <= bounds[last], "the span spills off its pages"
    for page in range(first, last + 1):
        part = doc.text[max(start, bounds[page - 1]) : min(end, bounds[page])]
        assert normalised(part) in normalised(pdftotext_page(pdf, page)), (page, part[:80])


def test_bad_inputs_are_listed_with_their_reasons(
    make_service: Callable[..., Any], chapter_pdf: Path, tmp_path: Path
) -> None:
    good = minimal_pdf([["The ferry to the island leaves at noon every day."],
                        ["The island has a lighthouse built of granite."]])
    script = b"<html><body><script>" + b"x=1;" * (50 * 1024 * 1024 // 4) + b"</script>"
    script += b"<p>The pier is two hundred metres long.</p></body></html>"
    files: dict[str, str | bytes] = {
        "good.txt": "1 Notes\n\nThe bridge was finished in 1930.\n",
        "encrypted.pdf": encrypted(good, "secret"),
        "corrupt-xref.pdf": corrupt_xref(good),
        "damaged.pdf": good[: len(good) // 3],
        "pages-2000.pdf": minimal_pdf([[f"Page {n} holds this line."] for n in range(2000)]),
        "disguised.txt": good,
        "script.html": script,
        "menus-only.html": "<html><body><nav>Home</nav><script>x()</script></body></html>",
        "empty.pdf": b"",
    }
    service = make_service(files)
    service.open()
    reasons = {s.path: s.reason for s in service.last_build.skipped}
    expected = {
        "encrypted.pdf": "encrypted PDF",
        "damaged.pdf": "damaged PDF",
        "pages-2000.pdf": "too many pages (2000 > 1000; raise QA_MAX_PDF_PAGES)",
        "disguised.txt": "a PDF file with a text-file name; rename it to .pdf",
        "menus-only.html": "no text after extraction",
        "empty.pdf": "empty file",
    }
    assert set(reasons) == set(expected), reasons
    for path, words in expected.items():
        assert words in reasons[path], (path, reasons[path])
    # a broken cross-reference table is rebuilt by scanning the file: the text is indexed
    assert "lighthouse built of granite" in service.document("corrupt-xref.pdf")
    # 50 MB of inline script is dropped; the page's one paragraph is indexed
    assert service.document("script.html") == "The pier is two hundred metres long."
    assert set(service.documents()) == {"good.txt", "corrupt-xref.pdf", "script.html"}


def endless_pdf() -> bytes:
    """A valid one-page PDF no machine can read to the end: form XObjects nested 40 deep,
    each drawing the next twice, the innermost running 10,000 ``q Q`` operators, so pdfminer
    runs about 2**40 * 10**4 operators; memory stays flat (a figure per 10,000 operators)."""
    depth, first = 40, 5  # object 5 is the outermost form, 5 + depth the innermost

    def stream(entries: str, body: bytes) -> bytes:
        return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (entries.encode(), len(body), body)

    form = "/Type /XObject /Subtype /Form /BBox [0 0 612 792]"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /XObject << /X 5 0 R >> >> >>",
        stream("", b"/X Do"),
        *(stream(f"{form} /Resources << /XObject << /X {n + 1} 0 R >> >>", b"/X Do /X Do")
          for n in range(first, first + depth)),
        stream(form, b"q Q " * 10_000),
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def test_time_and_memory_bounds_give_reasons(monkeypatch: pytest.MonkeyPatch) -> None:
    # The time bound, independent of machine speed: the PDF's work never ends, so the child
    # is always still reading at the bound, and must have been killed (SIGKILL) by it.
    children: list[subprocess.Popen[bytes]] = []
    outlived: list[int] = []

    class RecordedPopen(subprocess.Popen[bytes]):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            children.append(self)

    def watchdog() -> None:  # only when the bound is broken: the test fails, it never hangs
        for child in children:
            if child.returncode is None:
                outlived.append(child.pid)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)

    monkeypatch.setattr(subprocess, "Popen", RecordedPopen)
    timer = threading.Timer(60, watchdog)
    timer.start()
    try:
        slow = extract_bounded("pdf", endless_pdf(), ExtractSettings(seconds=1))
    finally:
        timer.cancel()
    monkeypatch.undo()
    assert not outlived, "the child was not killed at its 1 s bound"
    assert slow.error == "reading it took longer than 1 s (raise QA_EXTRACT_SECONDS)"
    assert len(children) == 1 and children[0].returncode == -signal.SIGKILL
    script = b"<html><body><script>" + b"x=1;" * (60 * 1024 * 1024 // 4) + b"</script></body></html>"
    hungry = extract_bounded("html", script, ExtractSettings(memory_mb=256))
    assert hungry.error is not None and "256 MB" in hungry.error, hungry.error
    assert "raise QA_EXTRACT_MEMORY_MB" in hungry.error


@pytest.fixture(scope="module")
def scan_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scan")
    page = folder / "page.html"
    page.write_text('<html><body style="font: 40px serif; margin: 40px"><p>The harbour opened '
                    "in 1911 after nine years of work.</p></body></html>", "utf-8")
    return screenshot(page, folder / "page.png")


def test_scanned_pages_are_listed_page_by_page(
    make_service: Callable[..., Any], scan_png: Path, tmp_path: Path
) -> None:
    mixed = image_pdf(tmp_path, "mixed", ["A first page with text about bridges.", scan_png])
    scanned = image_pdf(tmp_path, "scanned", [scan_png, scan_png])
    service = make_service({"mixed.pdf": mixed.read_bytes(), "scanned.pdf": scanned.read_bytes()})
    service.open()
    reasons = {s.path: s.reason for s in service.last_build.skipped}
    hint = "no text layer (a scanned page?); QA_OCR=on reads it with tesseract"
    assert reasons == {
        "mixed.pdf (page 2)": hint,
        "scanned.pdf (page 1)": hint,
        "scanned.pdf (page 2)": hint,
        "scanned.pdf": "no text after extraction (2 of its 2 page(s) are images "
                       "without a text layer: scanned?)",
    }
    assert service.documents() == ["mixed.pdf"]


def test_ocr_reads_a_scanned_page_when_on(
    make_service: Callable[..., Any], scan_png: Path, tmp_path: Path
) -> None:
    assert shutil.which("tesseract"), "tesseract is missing; python3 tasks.py test installs it"
    scanned = image_pdf(tmp_path, "scanned", [scan_png])
    # never abstain: this is about the page of an OCR'd citation, not about how sure the
    # reader is of a one-page corpus read through OCR
    service = make_service({"scanned.pdf": scanned.read_bytes()}, ocr="on", abstain_threshold=0.0)
    service.open()
    reasons = {s.path: s.reason for s in service.last_build.skipped}
    assert reasons == {"scanned.pdf (page 1)": "no text layer; text read by OCR (tesseract), "
                       "check it"}
    assert "The harbour opened in 1911 after nine years of work." in service.document("scanned.pdf")
    answer = service.ask("When did the harbour open?")
    assert answer.citations and answer.citations[0].page_start == 1


def test_pages_reach_the_cli_and_http(chapter_pdf: Path, tmp_path: Path) -> None:
    from api.app import create_app
    from qa.service import QAService
    from qa.settings import Settings
    from tests.helpers.servers import local_client
    from tests.test_cli import run_script

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(chapter_pdf, corpus / "chapter.pdf")
    # the real encoder, as a user has it: with the hashing fake the passage that answers
    # may rank below the passages the reader reads, and then there is no citation to check
    env = {"QA_CORPUS_DIR": str(corpus), "QA_INDEX_DIR": str(tmp_path / "index")}
    question = "When was the Extended Deterrence Dialogue established?"
    shown = run_script("ask", question, env=env)
    assert shown.returncode == 0, shown.stderr
    as_json = run_script("ask", question, "--json", env=env)
    citation = json.loads(as_json.stdout)["citations"][0]
    page = citation["page_start"]
    label = f"p. {page}" if citation["page_end"] == page else f"pp. {page}–{citation['page_end']}"
    assert f"{citation['section']} · {label}" in shown.stdout
    service = QAService(Settings(corpus_dir=corpus, index_dir=tmp_path / "index"))
    with local_client(create_app(service.settings, service)) as client:
        service.open()
        body = client.post("/ask", json={"question": question}).json()
        served = client.get("/documents/chapter.pdf").json()
    assert body["citations"][0] == citation
    assert all(isinstance(p["page_start"], int) for p in body["passages"])
    assert served["kind"] == "pdf" and served["pages"][0] == 0 and len(served["pages"]) > 1
    assert served["text"][citation["start"] : citation["end"]] == citation["quote"]
