"""The PDF layout rules on hand-made lines, and page spans (no PDF, no model)."""

from __future__ import annotations

from collections import Counter

from index.documents.extract.pdf import PageRead, assemble
from index.documents.extract.pdf_layout import Line, join_lines, join_paragraph, running_lines
from index.documents.extract.records import ExtractSettings
from index.records import page_span


def line(text: str, top: float, size: float = 10.0, box: int = 0, bold: bool = False) -> Line:
    return Line(text, top, top + 0.015, size, bold, box)


def test_line_end_hyphens() -> None:
    vocabulary = Counter({"co-operation": 2, "cooperation": 0})
    assert join_lines(["the inter-", "national order"], Counter()) == "the international order"
    assert join_lines(["the Japan-", "U.S. alliance"], Counter()) == "the Japan-U.S. alliance"
    assert join_lines(["close co-", "operation here"], vocabulary) == "close co-operation here"
    assert join_lines(["soft\u00ad", "hyphen"], Counter()) == "softhyphen"
    assert join_lines(["two", "lines"], Counter()) == "two lines"


def test_a_line_broken_on_purpose_stays_a_line() -> None:
    title = Line("A Title", 0.1, 0.12, 10, False, 0, 72.0, 200.0, 30.0)
    date = Line("May 5, 2023", 0.12, 0.14, 10, False, 0, 72.0, 150.0, 25.0)
    wrapped = Line("words that wrapped because the next", 0.1, 0.12, 10, False, 0, 72.0, 530.0, 0)
    tail = Line("extraordinarily long word did not fit", 0.12, 0.14, 10, False, 0, 72.0, 400.0,
                80.0)
    assert join_paragraph([title, date], Counter(), 540.0) == "A Title\u2028May 5, 2023"
    assert join_paragraph([wrapped, tail], Counter(), 540.0) == (
        "words that wrapped because the next extraordinarily long word did not fit")
    assert join_lines(["U.S.-", "Japan ties"], Counter()) == "U.S.-Japan ties"


def test_running_headers_footers_and_page_numbers_go_body_lines_stay() -> None:
    pages = [
        [line("Annual Report 2024", 0.02), line("Annual Report 2024", 0.5, box=1),
         line(f"Body text of page {n}.", 0.3, box=2), line(f"{n}", 0.97, box=3)]
        for n in range(1, 5)
    ]
    gone = running_lines(pages)
    assert gone == {(p, i) for p in range(4) for i in (0, 3)}  # same words, same height


def test_assemble_pages_headings_and_a_paragraph_across_a_page_break() -> None:
    raw = [
        PageRead([line("Harbour Works", 0.1, size=16, box=0),
                  line("The harbour was dredged in 1911 and the", 0.2, box=1)]),
        PageRead([line("works lasted two years.", 0.1, box=0),
                  line("Costs", 0.2, size=13, box=1), line("They were high.", 0.3, box=2)]),
        PageRead([], has_image=True),
    ]
    result = assemble(raw, b"", ExtractSettings())
    assert result.text == ("Harbour Works\n\nThe harbour was dredged in 1911 and the works lasted "
                           "two years.\n\nCosts\n\nThey were high.")
    second = result.text.index("works lasted")
    assert result.pages[:2] == (0, second)
    assert [(result.text[a:b], level) for a, b, level in result.headings] == [
        ("Harbour Works", 1), ("Costs", 2)]
    assert result.page_notes == (
        (3, "no text layer (a scanned page?); QA_OCR=on reads it with tesseract"),)


def test_page_span() -> None:
    pages = (0, 100, 250, 250, 400)  # page 3 is empty
    assert page_span(pages, 0, 10) == (1, 1)
    assert page_span(pages, 90, 110) == (1, 2)
    assert page_span(pages, 100, 250) == (2, 2)
    assert page_span(pages, 260, 300) == (4, 4)
    assert page_span(pages, 390, 420) == (4, 5)
    assert page_span((), 0, 10) == (None, None)
