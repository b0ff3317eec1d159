"""The extraction child: ``python -m index.documents.extract.child KIND SETTINGS_JSON`` < file bytes.

Caps its own address space and CPU time first, then prints the ``Extraction`` as JSON on stdout.
"""

from __future__ import annotations

import json
import math
import resource
import sys

from index.documents.extract.records import Extraction, ExtractSettings


def main() -> None:
    kind, raw = sys.argv[1], json.loads(sys.argv[2])
    settings = ExtractSettings(**raw)
    limit = settings.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # CPU time never exceeds the parent's wall-clock bound in a normal run; this one only
    # ends a child whose parent was killed before it could end it (a SIGKILLed build)
    seconds = math.ceil(settings.seconds) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))
    data = sys.stdin.buffer.read()
    try:
        result = _extract(kind, data, settings)
    except MemoryError:
        result = Extraction(error=f"needs more than {settings.memory_mb} MB of memory to read "
                            "(raise QA_EXTRACT_MEMORY_MB)")
    except RecursionError:
        result = Extraction(error="too deeply nested to read")
    sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False))


def _extract(kind: str, data: bytes, settings: ExtractSettings) -> Extraction:
    if kind == "pdf":
        from index.documents.extract.pdf import extract_pdf

        return extract_pdf(data, settings)
    from selectolax.lexbor import SelectolaxError

    from index.documents.extract.html import extract_html

    try:
        return extract_html(data)
    except SelectolaxError as exc:  # lexbor says no more than this when it runs out of memory
        return Extraction(error=f"the HTML parser gave up ({exc}); within {settings.memory_mb} MB"
                          " of memory a page this large may not fit (raise QA_EXTRACT_MEMORY_MB)")


if __name__ == "__main__":
    main()
