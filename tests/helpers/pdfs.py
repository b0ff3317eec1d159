"""PDF files for the bad-input tests, written byte by byte (no library in between)."""

from __future__ import annotations

import io
import re

HELVETICA = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_of_objects(objects: list[bytes], root: int = 1, prefix: bytes = b"") -> bytes:
    """A PDF file holding ``objects`` (object n is ``objects[n - 1]``), with a correct
    cross-reference table; ``prefix`` goes before ``%PDF-`` (offsets count it)."""
    out = io.BytesIO()
    out.write(prefix + b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, root, xref))
    return out.getvalue()


def stream(body: bytes, entries: str = "") -> bytes:
    """A stream object's bytes."""
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (entries.encode(), len(body), body)


def pages_pdf(pages: list[tuple[str, str]], font: str = HELVETICA,
              mediabox: str = "0 0 612 792", prefix: bytes = b"",
              count: int | None = None) -> bytes:
    """A PDF whose pages are (content stream, extra page-dictionary entries) pairs; the
    content may use font ``/F1`` (``font``: its dictionary). ``count``: the page count
    the page tree states, when it should lie."""
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    count = len(pages) if count is None else count
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(), font.encode()]
    for i, (content, entries) in enumerate(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [{mediabox}] /Contents {5 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 3 0 R >> >> {entries} >>".encode()
        )
        objects.append(stream(content.encode("latin-1")))
    return pdf_of_objects(objects, prefix=prefix)


def text_ops(lines: list[str], x: float = 72, y: float = 650, size: float = 12,
             leading: float = 14) -> str:
    """Content-stream operators setting ``lines`` in Helvetica from (x, y) downwards."""
    ops = ["BT", f"/F1 {size:g} Tf", f"{leading:g} TL", f"{x:g} {y:g} Td"]
    ops += [f"({_escape(line)}) Tj T*" for line in lines]
    ops.append("ET")
    return "\n".join(ops)


def minimal_pdf(pages: list[list[str]]) -> bytes:
    """A valid PDF: one page per item, each line set in Helvetica 12 pt from the top."""
    return pages_pdf([(text_ops(lines), "") for lines in pages])


def wrap(text: str, width: float, size: float = 12) -> list[str]:
    """``text`` cut into lines no wider than ``width`` points in Helvetica ``size`` pt
    (greedy, as a word processor wraps), by the font's standard metrics. A soft hyphen
    (U+00AD) in a word marks where it may be hyphenated at a line end."""
    from pdfminer.fontmetrics import FONT_METRICS

    widths = FONT_METRICS["Helvetica"][1]

    def measure(line: str) -> float:
        return sum(widths.get(c, 556) for c in line) * size / 1000

    lines: list[str] = []
    for word in text.split():
        if lines and measure(f"{lines[-1]} {word}".replace("\u00ad", "")) > width:
            pieces = word.split("\u00ad")
            for cut in range(len(pieces) - 1, 0, -1):
                head = "".join(pieces[:cut]) + "-"
                if measure(f"{lines[-1]} {head}") <= width:
                    lines[-1] += f" {head}"
                    word = "\u00ad".join(pieces[cut:])
                    break
            lines.append(word.replace("\u00ad", ""))
        elif lines:
            lines[-1] += f" {word}".replace("\u00ad", "")
        else:
            lines.append(word.replace("\u00ad", ""))
    return lines


def corrupt_xref(data: bytes) -> bytes:
    """The same PDF with every cross-reference offset and ``startxref`` pointing nowhere."""
    data = re.sub(rb"\d{10} 00000 n", b"9999999999 00000 n", data)
    return re.sub(rb"startxref\s+\d+", b"startxref\n123456789", data)


def encrypted(data: bytes, password: str) -> bytes:
    """The PDF encrypted with a user password (pypdf, RC4 128-bit)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=password, owner_password=password + "-owner",
                   algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def without_unicode_map(data: bytes, pages: int = 1) -> bytes:
    """The PDF with the fonts of its first ``pages`` pages left without a Unicode map: no
    ``/ToUnicode`` and the ``cmap`` table of the embedded TrueType program renamed, so the
    glyphs still draw (poppler renders them, OCR can read them) but map to no letters
    (pypdf; for PDFs printed by chromium: Type0 fonts over TrueType programs)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    for page in writer.pages[:pages]:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            if "/ToUnicode" in font:
                del font[NameObject("/ToUnicode")]
            for descendant in font.get("/DescendantFonts", []):
                program = descendant.get_object()["/FontDescriptor"]["/FontFile2"].get_object()
                raw = program.get_data()
                directory = 12 + 16 * int.from_bytes(raw[4:6], "big")  # the table directory
                program.set_data(raw[:directory].replace(b"cmap", b"xmap") + raw[directory:])
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def joined(*files: bytes) -> bytes:
    """One PDF holding the pages of ``files`` in order (pypdf)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data in files:
        writer.append(PdfReader(io.BytesIO(data)))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
