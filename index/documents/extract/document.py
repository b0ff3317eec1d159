"""A corpus file's bytes to a ``Document``: PDF and HTML through the bounded extractor."""

from __future__ import annotations

from index.cache import BuildCache
from index.documents.extract.bounded import extract_bounded
from index.documents.extract.cached import cached_extraction
from index.documents.extract.records import HTML_SUFFIXES, PDF_SUFFIXES, ExtractSettings
from index.documents.extract.timeouts import remember_timeout, timed_out_before
from index.records import Document, SkippedFile

SOURCE_SUFFIXES = (*PDF_SUFFIXES, *HTML_SUFFIXES)


def source_kind(doc_id: str) -> str | None:
    """``pdf`` or ``html`` for a file the extractor reads, None for a text file."""
    name = doc_id.lower()
    if name.endswith(PDF_SUFFIXES):
        return "pdf"
    if name.endswith(HTML_SUFFIXES):
        return "html"
    return None


def document_from_source(
    doc_id: str, shown: str, data: bytes, sha256: str, max_text_bytes: int,
    settings: ExtractSettings, cache: BuildCache | None = None,
) -> tuple[Document | None, list[SkippedFile]]:
    """Extract a PDF or HTML file.

    Args:
        doc_id: the document id.
        shown: the id as printed in reasons (control characters escaped).
        data: the file's bytes.
        sha256: their hash.
        max_text_bytes: the extracted text may not be larger (``QA_MAX_FILE_MB``).
        settings: the extraction bounds.
        cache: the build cache, where a file read before is found again (None: read it).

    Returns:
        The document (None when there is no text), and the pages or file skipped, with
        reasons (a page is listed as ``name (page N)``).
    """
    kind = source_kind(doc_id) or "html"
    if not data:
        return None, [SkippedFile(shown, "empty file")]
    if timed_out_before(sha256, kind, settings.seconds):
        return None, [SkippedFile(shown, f"reading it took longer than {settings.seconds:g} s "
                                  "when last tried; not tried again until the file, "
                                  "QA_EXTRACT_SECONDS or the extractor changes")]
    result = cached_extraction(cache, kind, data, sha256, settings, extract_bounded)
    if result.timed_out:
        remember_timeout(sha256, kind, settings.seconds)
    notes = [SkippedFile(f"{shown} (page {n})", reason) for n, reason in result.page_notes]
    notes += [SkippedFile(f"{shown} (attached file {name})", "a file embedded in the PDF is not "
                          "read; save it into the corpus folder to index it")
              for name in result.attachments]
    if result.error is not None:
        return None, [SkippedFile(shown, result.error), *notes]
    size = len(result.text.encode("utf-8"))
    if size > max_text_bytes:
        reason = (f"extracted text too large ({size / 1e6:.1f} MB > {max_text_bytes / 1e6:.1f} "
                  "MB limit; raise QA_MAX_FILE_MB to index it)")
        return None, [SkippedFile(shown, reason), *notes]
    document = Document(doc_id, result.text, sha256, kind=kind, pages=result.pages,
                        headings=result.headings)
    return document, notes
