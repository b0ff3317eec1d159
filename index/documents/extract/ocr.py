"""OCR of one PDF page with Debian's poppler-utils (pdftoppm) and tesseract-ocr.

Used only when ``QA_OCR=on`` and both binaries are on ``PATH``; runs inside the bounded
extraction child, so its time counts against the file's bound.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

RESOLUTION_DPI = 300


def ocr_unavailable_reason() -> str | None:
    """Why OCR cannot run here, or None when it can."""
    if shutil.which("tesseract") is None:
        return "tesseract is not installed (apt-get install tesseract-ocr)"
    if shutil.which("pdftoppm") is None:
        return "pdftoppm is not installed (apt-get install poppler-utils)"
    return None


def ocr_page(data: bytes, number: int) -> list[str]:
    """The paragraphs tesseract reads on page ``number`` (1-based) of a PDF."""
    with tempfile.TemporaryDirectory(prefix="qa-ocr-") as folder:
        pdf = Path(folder) / "in.pdf"
        pdf.write_bytes(data)
        image = Path(folder) / "page"
        subprocess.run(
            ["pdftoppm", "-r", str(RESOLUTION_DPI), "-f", str(number), "-l", str(number),
             "-png", "-singlefile", str(pdf), str(image)],
            check=True, capture_output=True,
        )
        result = subprocess.run(
            ["tesseract", str(image.with_suffix(".png")), "stdout"],
            check=True, capture_output=True,
        )
    text = result.stdout.decode("utf-8", "replace")
    return [" ".join(block.split()) for block in text.split("\n\n") if block.strip()]
