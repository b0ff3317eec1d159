"""PDF/HTML extraction through the build cache, keyed by what decides its result: the
file's SHA-256, the extraction settings that shape text, the extractor's code and the
versions of the libraries it reads with."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from importlib import metadata

from index.cache import BuildCache, digest_of
from index.documents.extract.records import Extraction, ExtractSettings
from index.documents.extract.timeouts import extractor_digest

_LIBRARIES = ("pdfminer.six", "selectolax")


@lru_cache(maxsize=1)
def _library_versions() -> str:
    versions = []
    for name in _LIBRARIES:
        try:
            versions.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} missing")
    return ";".join(versions)


def extraction_space(settings: ExtractSettings) -> str:
    """The cache space of extractions made with these settings by this code.

    The time and memory bounds are left out: only results within them are kept.
    """
    shaping = {"max_pages": settings.max_pages, "max_source_bytes": settings.max_source_bytes}
    return digest_of("extract", json.dumps(shaping, sort_keys=True), extractor_digest(),
                     _library_versions())


def cached_extraction(
    cache: BuildCache | None, kind: str, data: bytes, sha256: str, settings: ExtractSettings,
    extract: Callable[[str, bytes, ExtractSettings], Extraction],
) -> Extraction:
    """The extraction of a file: from the cache when this file was read before with the
    same settings and code, else from ``extract`` (the bounded extractor), kept when it
    succeeded.

    Failures are not kept (a file past its time bound has its own record in
    ``index.documents.extract.timeouts``), nor is anything read with OCR on: tesseract's output
    depends on binaries outside the project.
    """
    if cache is None or not cache.enabled or settings.ocr:
        return extract(kind, data, settings)
    space, name = extraction_space(settings), digest_of(kind, sha256)
    payload = cache.get("extract", space, name)
    if payload is not None:
        try:
            return Extraction.from_json(json.loads(payload.decode("utf-8")))
        except (ValueError, KeyError, TypeError):
            pass  # checksummed, so written by other code: read the file again
    result = extract(kind, data, settings)
    cache.computed["extract"] += 1
    if result.error is None and not result.timed_out:
        cache.put("extract", space, name,
                  json.dumps(result.to_json(), ensure_ascii=False).encode("utf-8"))
    return result
