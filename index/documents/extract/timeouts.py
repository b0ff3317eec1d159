"""Files whose extraction ran past the time bound, remembered so that a rebuild does not
wait the whole bound again for a file that has not changed.

A record is an empty file named by a hash of the file's SHA-256, its kind, the time bound
and the extractor's code, in ``$XDG_CACHE_HOME/citeqa/extract-timeouts`` (else
``~/.cache/...``): a changed file, a larger ``QA_EXTRACT_SECONDS`` or a new extractor
is tried again. Writing a record is best effort (a read-only home only costs the wait).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from functools import lru_cache
from pathlib import Path


def timeouts_folder() -> Path:
    """Where the records are kept."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "citeqa" / "extract-timeouts"


@lru_cache(maxsize=1)
def extractor_digest() -> str:
    """A hash of the extraction code (every module of ``index/documents/extract``)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _record(sha256: str, kind: str, seconds: float) -> Path:
    key = f"{sha256}:{kind}:{seconds!r}:{extractor_digest()}"
    return timeouts_folder() / hashlib.sha256(key.encode()).hexdigest()


def timed_out_before(sha256: str, kind: str, seconds: float) -> bool:
    """Whether this file, read with this bound and this code, ran past the bound before."""
    return _record(sha256, kind, seconds).is_file()


def remember_timeout(sha256: str, kind: str, seconds: float) -> None:
    """Record that reading this file ran past the bound."""
    record = _record(sha256, kind, seconds)
    with contextlib.suppress(OSError):
        record.parent.mkdir(parents=True, exist_ok=True)
        record.touch()
