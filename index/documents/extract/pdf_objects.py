"""pdfminer's PDF document, made safe against reference loops.

pdfminer resolves an indirect object by following references until it reaches something
that is not one (``resolve1``); an object that is only a reference to itself, or two that
refer to each other (``6 0 obj 6 0 R endobj``), keeps it following them forever. Here every
object fetched is followed to its end at once, and a loop is an error naming the object.
"""

from __future__ import annotations

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
