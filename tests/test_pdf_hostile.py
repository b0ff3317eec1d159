"""Hostile and unusual PDFs (issue 24): turned pages, columns, fonts without a Unicode map,
reference loops, files that lie about themselves. Every file is written in the test."""

from __future__ import annotations

import io
import itertools
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from index.documents.extract.bounded import extract_bounded
from index.documents.extract.records import Extraction, ExtractSettings
from tests.helpers.pdfs import (
    HELVETICA,
    joined,
    minimal_pdf,
    pages_pdf,
    pdf_of_objects,
    stream,
    text_ops,
    without_unicode_map,
    wrap,
)
from tests.helpers.render import image_pdf

HARBOUR = ("The harbour of the town was dredged in 1911 by a company from the coast, and the "
           "works lasted two years because the winter storms stopped them twice.")
BRIDGE = ("The bridge over the river was finished in 1930. It carries the railway and a road, "
          "and its central span is the longest of the region.")


def extract(data: bytes, **settings: Any) -> Extraction:
    """The extraction as the index runs it (a bounded child process)."""
    return extract_bounded("pdf", data, ExtractSettings(**settings))


def page_texts(result: Extraction) -> list[str]:
    """Each page's part of the text, stripped."""
    bounds = [*result.pages, len(result.text)]
    return [result.text[a:b].strip() for a, b in itertools.pairwise(bounds)]


def two_paragraphs(y: float = 600) -> str:
    first, second = wrap(HARBOUR, 300), wrap(BRIDGE, 300)
    assert len(first) > 2 and len(second) > 2
    return text_ops(first, y=y) + "\n" + text_ops(second, y=y - 14 * len(first) - 20)


SIDE = 792  # a square page: content turned about its centre stays on it
TURNS = {90: f"0 1 -1 0 {SIDE} 0", 180: f"-1 0 0 -1 {SIDE} {SIDE}", 270: f"0 -1 1 0 0 {SIDE}"}


def test_turned_pages_read_like_upright_ones() -> None:
    # findings 4 and 5: /Rotate over upright text, and text drawn turned on an upright page
    pages = [(two_paragraphs(), "")]
    pages += [(two_paragraphs(), f"/Rotate {turn}") for turn in TURNS]
    pages += [(f"q {matrix} cm\n{two_paragraphs()}\nQ", "") for matrix in TURNS.values()]
    result = extract(pages_pdf(pages, mediabox=f"0 0 {SIDE} {SIDE}"))
    assert result.error is None and result.page_notes == ()
    assert page_texts(result) == [f"{HARBOUR}\n\n{BRIDGE}"] * 7


def test_a_turned_label_inside_an_upright_page_is_left_out_and_noted() -> None:
    # the stated limit: text turned against the rest of its page is not read
    label = "BT /F1 9 Tf 0 1 -1 0 40 300 Tm (Draft copy for review) Tj ET"
    result = extract(pages_pdf([(f"{two_paragraphs()}\n{label}", "")]))
    assert result.text == f"{HARBOUR}\n\n{BRIDGE}"
    assert result.page_notes == ((1, "18 characters of text turned against the page "
                                  "(not read)"),)


@pytest.fixture(scope="module")
def unmapped_pdf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Two pages printed by chromium; page 1's font has no Unicode map (page 2 is another
    file's page, its font intact)."""
    folder = tmp_path_factory.mktemp("unmapped")
    first = image_pdf(folder, "first", ["The lighthouse on the island was built of granite "
                                        "in 1887."]).read_bytes()
    second = image_pdf(folder, "second", ["The ferry leaves at noon every day from the old "
                                          "pier."]).read_bytes()
    return joined(without_unicode_map(first), second)


UNMAPPED = ("its font has no usable Unicode map: 58 of its 58 characters are glyph numbers "
            "or private-use codes, not letters (no ToUnicode?)")


def test_a_page_whose_font_has_no_unicode_map_is_skipped_with_the_reason(
    unmapped_pdf: bytes, make_service: Callable[..., Any]
) -> None:
    # finding 8, and 20's first half: "(cid:55)(cid:75)..." was indexed as the page's text,
    # and a page of it without spaces was skipped as "cannot fit a passage into the model's
    # limit"
    result = extract(unmapped_pdf)
    assert result.text == "The ferry leaves at noon every day from the old pier."
    assert result.page_notes == ((1, f"{UNMAPPED}; QA_OCR=on reads it with tesseract"),)
    only_unmapped = without_unicode_map(unmapped_pdf, pages=2)
    service = make_service({"unmapped.pdf": only_unmapped, "good.txt": "The pier is old.\n"})
    service.open()
    reasons = {s.path: s.reason for s in service.last_build.skipped}
    assert reasons["unmapped.pdf"] == ("no text after extraction (2 of its 2 page(s) are set in "
                                       "a font without a Unicode map)")
    assert service.documents() == ["good.txt"]


@pytest.mark.parametrize(("glyphs", "note"), [
    ("/g1 /g2 /g3", "6 of its 6 characters are glyph numbers or private-use codes, not letters "
     "(no ToUnicode?)"),
    ("/uniE000 /uniE001 /uniE002", "6 of its 6 characters are glyph numbers or private-use "
     "codes, not letters (no ToUnicode?)"),
    ("/space /space /space", "its 7 characters all read as spaces"),
])
def test_private_glyph_names_are_named_as_such(glyphs: str, note: str) -> None:
    # finding 20: a font whose glyph names are private gave "(cid:N)" text, private-use
    # characters, or a "blank page"
    font = ("<< /Type /Font /Subtype /Type1 /BaseFont /Private /FirstChar 1 /LastChar 3 "
            f"/Widths [500 500 500] /Encoding << /Differences [1 {glyphs}] >> >>")
    result = extract(pages_pdf([("BT /F1 12 Tf 72 700 Td <01020320030201> Tj ET", "")], font))
    assert result.error == ("no text after extraction (1 of its 1 page(s) are set in a font "
                            "without a Unicode map)")
    assert result.page_notes == (
        (1, f"its font has no usable Unicode map: {note}; QA_OCR=on reads it with tesseract"),)


def test_a_page_whose_font_has_no_unicode_map_is_read_by_ocr_when_on(unmapped_pdf: bytes) -> None:
    assert shutil.which("tesseract"), "tesseract is missing; python3 tasks.py test installs it"
    result = extract(unmapped_pdf, ocr=True)
    assert page_texts(result) == ["The lighthouse on the island was built of granite in 1887.",
                                  "The ferry leaves at noon every day from the old pier."]
    assert result.page_notes == ((1, f"{UNMAPPED}; text read by OCR (tesseract), check it"),)


ARTICLE = [
    "The port authority reviewed the security of the harbour in 1998, after a storm "
    "had damaged the northern breakwater and two cranes of the container terminal.",
    "Its report asked for the development of a second basin, the reinforcement of the "
    "breakwater with concrete blocks, and new lights at the entrance of the channel, so that "
    "larger ships could enter the harbour at night and in bad weather without the help of a "
    "pilot from the town.",
    "The ministry agreed to the plan in 2001 and paid for half of the works, which began "
    "the following spring with the dredging of the channel to a depth of fourteen metres "
    "and ended in 2006 with the opening of the second basin by the mayor.",
    "The old fish market on the quay was moved inland, and its building became a museum of "
    "the history of the harbour with models of the ships that were built at the yard.",
    "The ferry to the island now leaves from the second basin at noon every day.",
]


def hyphenable(text: str) -> str:
    """``text`` with a soft hyphen after the fourth letter of every word of eight letters
    or more: where ``wrap`` may hyphenate it."""
    return re.sub(r"\b([a-z]{4})([a-z]{4,})\b", "\\1\u00ad\\2", text)


def flowed(paragraphs: list[str], columns: int, title: str = "", foot: float = 520) -> str:
    """Content-stream operators setting ``paragraphs`` in Helvetica 10 pt in ``columns``
    columns between x = 72 and 540 (a gap of 24 pt), each column filled down to y = ``foot``
    before the next, under a title centred across the page."""
    gap, size, leading = 24, 10, 12
    width = (468 - gap * (columns - 1)) / columns
    ops = [f"BT /F1 16 Tf 1 0 0 1 150 720 Tm ({title}) Tj ET"] if title else []
    column, y = 0, 690.0
    for paragraph in paragraphs:
        for line in wrap(hyphenable(paragraph), width, size):
            if y < foot:
                column, y = column + 1, 690.0
            x = 72 + column * (width + gap)
            ops.append(f"BT /F1 {size} Tf 1 0 0 1 {x:g} {y:g} Tm ({line}) Tj ET")
            y -= leading
        y -= 8
    assert column == columns - 1, "the text should fill every column"
    return "\n".join(ops)


@pytest.mark.parametrize("foot", [520, 500, 450])
def test_two_columns_read_like_one_column(foot: float) -> None:
    # finding 6: line breaks measured against the page's right edge kept every left-column
    # line as a line and its hyphens ("cont-" "ainer"); finding 7: pdfminer reads the right
    # column, or part of it, first (here with the column foot at 500 and 450)
    assert any(line.endswith("-") for p in ARTICLE for line in wrap(hyphenable(p), 222, 10))
    title = "Harbour Works of the Coastal Town"
    one = extract(pages_pdf([(flowed(ARTICLE, 1, title), "")]))
    two = extract(pages_pdf([(flowed(ARTICLE, 2, title, foot), "")]))
    expected = "\n\n".join([title, *ARTICLE])
    assert one.text == expected
    assert two.text == expected


def looping_pdf(loop: str) -> bytes:
    """A one-page PDF ("The pier is old.") with a reference loop: objects 6 (a reference to
    itself) and 7, 8 (references to each other), used where ``loop`` says."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
           b"/Resources << /Font << /F1 5 0 R >> >> >>",
        4: stream(b"BT /F1 12 Tf 72 700 Td (The pier is old.) Tj ET"),
        5: HELVETICA.encode(), 6: b"6 0 R", 7: b"8 0 R", 8: b"7 0 R",
    }
    swaps = {"root": (1, b"<< /Type /Catalog /Pages 2 0 R >>", b"6 0 R"),
             "pages": (1, b"/Pages 2 0 R", b"/Pages 7 0 R"),
             "contents": (3, b"/Contents 4 0 R", b"/Contents 6 0 R"),
             "count": (2, b"/Count 1", b"/Count 6 0 R"),
             "font": (3, b"/F1 5 0 R", b"/F1 7 0 R")}
    number, old, new = swaps[loop]
    objects[number] = objects[number].replace(old, new)
    return pdf_of_objects([objects[n] for n in sorted(objects)])


@pytest.mark.parametrize(("loop", "error", "note"), [
    ("root", "damaged PDF, cannot be read (a reference loop: object 6 → 6)", None),
    ("pages", "damaged PDF, cannot be read (a reference loop: object 7 → 8 → 7)", None),
    ("contents", "damaged PDF, cannot be read (a reference loop: object 6 → 6)", None),
    ("font", "no text after extraction (1 of its 1 page(s) cannot be read)",
     "its content cannot be read (a reference loop: object 7 → 8 → 7); QA_OCR=on reads it "
     "with tesseract"),
    ("count", None, None),  # the page count is walked, not read from /Count
])
def test_reference_loops_are_named_not_run_to_the_time_bound(
    loop: str, error: str | None, note: str | None
) -> None:
    # finding 9: each of these small files ran until the time bound, on every rebuild
    started = time.monotonic()
    result = extract(looping_pdf(loop), seconds=20)
    assert time.monotonic() - started < 15
    assert result.error == error
    assert result.page_notes == (((1, note),) if note else ())
    if error is None:
        assert result.text == "The pier is old."


def test_a_file_that_ran_past_the_bound_is_not_read_again_until_it_changes(
    make_service: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # finding 9: every rebuild (each qa ask or /reload after any corpus edit) waited the
    # whole bound again for the same file
    import index.documents.extract.document as document
    from tests.test_ingest import endless_pdf

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    reads: list[str] = []
    real = document.extract_bounded

    def counted(kind: str, data: bytes, settings: ExtractSettings) -> Extraction:
        reads.append(kind)
        return real(kind, data, settings)

    monkeypatch.setattr(document, "extract_bounded", counted)
    endless = endless_pdf()
    service = make_service({"endless.pdf": endless, "good.txt": "The pier is old.\n"},
                           extract_seconds=1)
    service.open()
    reasons = {s.path: s.reason for s in service.last_build.skipped}
    assert reasons == {"endless.pdf": "reading it took longer than 1 s (raise QA_EXTRACT_SECONDS)"}
    assert reads == ["pdf"]
    corpus = service.settings.corpus_dir
    (corpus / "good.txt").write_text("The pier is new.\n", "utf-8")
    assert service.reload()
    reasons = {s.path: s.reason for s in service.last_build.skipped}
    assert reasons == {"endless.pdf": "reading it took longer than 1 s when last tried; not "
                       "tried again until the file, QA_EXTRACT_SECONDS or the extractor changes"}
    assert reads == ["pdf"]  # not read again
    (corpus / "endless.pdf").write_bytes(endless + b"\n% changed\n")
    assert service.reload()
    assert reads == ["pdf", "pdf"]  # a changed file is tried again


def test_a_small_file_past_the_bound_is_not_told_to_raise_it() -> None:
    # finding 9: "raise QA_EXTRACT_SECONDS" cannot help a few kilobytes that never finish
    from index.documents.extract.bounded import timeout_reason

    assert timeout_reason(549, 600) == (
        "reading it took longer than 600 s, though it is only 0.5 KB: it is damaged or built "
        "to never finish (a loop); more time would not help")
    assert timeout_reason(50 * 1024 * 1024, 600) == (
        "reading it took longer than 600 s (raise QA_EXTRACT_SECONDS)")


def test_the_page_bound_counts_pages_not_what_count_says() -> None:
    # finding 18: a file whose /Count says 1 and that holds 30 pages was read whole
    pages = [(text_ops([f"Page {n} holds this line."]), "") for n in range(30)]
    assert extract(pages_pdf(pages, count=1), max_pages=10).error == (
        "too many pages (more than 10; raise QA_MAX_PDF_PAGES)")
    assert extract(pages_pdf(pages), max_pages=10).error == (
        "too many pages (30 > 10; raise QA_MAX_PDF_PAGES)")
    overstated = extract(pages_pdf(pages[:3], count=5000), max_pages=10)
    assert page_texts(overstated) == [f"Page {n} holds this line." for n in range(3)]


def test_bytes_before_the_pdf_header_are_passed_over() -> None:
    # finding 19: readers look for %PDF- in the first kilobyte; this was "not a PDF file"
    good = minimal_pdf([["The ferry leaves at noon."], ["The pier is old."]])
    assert page_texts(extract(b"From: the harbour office\r\n\r\n" + good)) == [
        "The ferry leaves at noon.", "The pier is old."]
    assert extract(b"x" * 1024 + good).error == (
        "not a PDF file (no %PDF- in its first 1024 bytes)")


def test_a_running_header_a_tenth_of_the_page_down_is_dropped() -> None:
    # finding 17: a header repeated on every page 9 % from the top (under the 8 % band
    # looked at) was kept on every page
    header = "BT /F1 9 Tf 72 705 Td (Harbour Board of the Coastal Town - Annual Report 2024) Tj ET"
    pages = [(f"{header}\n{text_ops([f'The works of year {n} went on as planned.'])}", "")
             for n in range(6)]
    result = extract(pages_pdf(pages))
    assert page_texts(result) == [f"The works of year {n} went on as planned." for n in range(6)]


def test_files_embedded_in_a_pdf_are_listed_as_skipped(
    make_service: Callable[..., Any]
) -> None:
    # finding 21: an embedded file was neither indexed nor listed
    from pypdf import PdfReader, PdfWriter

    annotation = ("/Annots [<< /Type /Annot /Subtype /FileAttachment /Rect [72 600 90 620] "
                  "/FS << /Type /Filespec /F (survey photo.jpg) >> >>]")
    page = pages_pdf([(text_ops(["The pier is old."]), annotation)])
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(page)))
    writer.add_attachment("minutes 2024.txt", b"The board met twice in 2024.")
    buffer = io.BytesIO()
    writer.write(buffer)
    service = make_service({"report.pdf": buffer.getvalue()})
    service.open()
    reason = ("a file embedded in the PDF is not read; save it into the corpus folder to index "
              "it")
    assert {s.path: s.reason for s in service.last_build.skipped} == {
        "report.pdf (attached file minutes 2024.txt)": reason,
        "report.pdf (attached file survey photo.jpg)": reason,
    }
    assert service.document("report.pdf") == "The pier is old."


def test_a_short_line_at_the_foot_of_a_page_does_not_run_into_the_next() -> None:
    # a line broken on purpose is told by the width of the next line's first word (found
    # from its spaces); measured without them, a heading at a page foot ran into the text
    last = text_ops(["PEOPLE-TO-PEOPLE TIES AND TOURISM"], y=100)
    pages = [(f"{text_ops(wrap(HARBOUR, 468))}\n{last}", ""), (text_ops(wrap(BRIDGE, 468)), "")]
    result = extract(pages_pdf(pages))
    assert result.text == f"{HARBOUR}\n\nPEOPLE-TO-PEOPLE TIES AND TOURISM\n\n{BRIDGE}"
