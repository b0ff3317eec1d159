"""Text out of PDF and HTML files: what the index stores and what offsets point into.

``extract_document`` runs the extractor of a file's kind in a child process bounded in time
and memory (``index.documents.extract.bounded``), so a hostile or huge file costs at most those
bounds and never the build. The child returns plain text laid out like a ``.txt`` file (one
paragraph per line, blank lines between), the offset where each page starts (PDF), the
headings it recognised with their level, and the pages it could not read with reasons.
"""

from __future__ import annotations

from index.documents.extract.records import Extraction, ExtractSettings

__all__ = ["ExtractSettings", "Extraction"]
