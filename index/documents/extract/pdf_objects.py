"""pdfminer's PDF document, made safe against reference loops, and what it holds beside
the pages' text: its outline and the names of its attached files.

pdfminer resolves an indirect object by following references until it reaches something
that is not one (``resolve1``); an object that is only a reference to itself, or two that
refer to each other (``6 0 obj 6 0 R endobj``), keeps it following them forever. Here every
object fetched is followed to its end at once, and a loop is an error naming the object.
"""

from __future__ import annotations

from typing import Any

from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfparser import PDFSyntaxError
from pdfminer.pdftypes import PDFObjRef


class ReferenceLoop(PDFSyntaxError):
    """An object that is a reference leading, through references only, back to itself."""


class LoopSafeDocument(PDFDocument):
    """A ``PDFDocument`` whose ``getobj`` never returns a bare reference: it follows the
    chain itself and raises ``ReferenceLoop`` when the chain comes back on itself."""

    def getobj(self, objid: int) -> object:
        seen = [objid]
        found = super().getobj(objid)
        while isinstance(found, PDFObjRef):
            if found.objid in seen:
                loop = [*seen[seen.index(found.objid):], found.objid]
                chain = " → ".join(str(n) for n in loop)
                raise ReferenceLoop(f"a reference loop: object {chain}")
            seen.append(found.objid)
            found = super().getobj(found.objid)
        return found


def attachments(document: Any, pages: list[Any]) -> tuple[str, ...]:
    """Names of the files embedded in the document (its ``/EmbeddedFiles`` name tree) and
    attached to its pages (``/FileAttachment`` annotations), as far as they can be read."""
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.pdftypes import resolve1
    from pdfminer.psparser import PSException

    found: list[str] = []
    try:
        names = resolve1(resolve1(document.catalog.get("Names")) or {}).get("EmbeddedFiles")
        pending, visited = [names], 0
        while pending and visited < 10_000:  # a name tree may loop through its /Kids
            node = resolve1(pending.pop(0))
            visited += 1
            if isinstance(node, dict):
                pending += list(resolve1(node.get("Kids")) or [])
                entries = list(resolve1(node.get("Names")) or [])
                found += [_file_name(spec, key)
                          for key, spec in zip(entries[::2], entries[1::2], strict=False)]
        for page in pages:
            for annotation in resolve1(page.annots) or []:
                annotation = resolve1(annotation)
                if (isinstance(annotation, dict)
                        and getattr(annotation.get("Subtype"), "name", None) == "FileAttachment"):
                    found.append(_file_name(annotation.get("FS"), b""))
    except (PDFSyntaxError, PSException, AttributeError, KeyError, TypeError, ValueError):
        pass  # a damaged list of attachments: the text is read all the same
    return tuple(found)


def _file_name(spec: object, key: object) -> str:
    """A file specification's name (``/UF``, else ``/F``, else the name-tree key), printable."""
    from pdfminer.pdftypes import resolve1
    from pdfminer.utils import decode_text

    spec = resolve1(spec)
    raw = resolve1(key)
    if isinstance(spec, dict):
        raw = next((v for v in (resolve1(spec.get("UF")), resolve1(spec.get("F")))
                    if isinstance(v, bytes)), raw)
    name = decode_text(raw) if isinstance(raw, bytes) else ""
    return "".join(c if c.isprintable() else "?" for c in name)[:200] or "(no name)"


def outline_entries(document: Any) -> list[tuple[int, str]]:
    """(level, title) of every outline entry; empty when there is none or it is broken."""
    from pdfminer.pdfdocument import PDFNoOutlines
    from pdfminer.psparser import PSException

    try:
        return [(int(level), str(title)) for level, title, *_ in document.get_outlines()
                if isinstance(title, str) and title.strip()]
    except (PDFNoOutlines, PSException, KeyError, TypeError, ValueError, RecursionError):
        return []
