"""Thin routes: check the request, call ``QAService`` off the event loop, shape the response.

``/health`` and the page are open to everyone; ``create_app`` puts every route of
``protected`` behind the rate limiter and the API-key check when those are configured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from starlette.convertors import Convertor, register_url_convertor

from api.deps import ServiceDep, StateDep, require_api_key
from api.models import (
    MAX_K,
    MIN_K,
    AnswerOut,
    AskRequest,
    DocumentListOut,
    DocumentOut,
    ErrorOut,
    HealthOut,
    ModelEndpointOut,
    PassageOut,
    ReadyOut,
    ReloadOut,
    SearchOut,
    SkippedOut,
)
from qa.service import QAService
from qa.settings import Settings

STATIC_DIR = Path(__file__).with_name("static")

# The page may only run its own script and style and talk to its own origin.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorOut} for code in codes}


def _counts(service: QAService) -> dict[str, int]:
    return {"documents": len(service.documents()), "passages": len(service.loaded.index.chunks)}


public = APIRouter()
protected = APIRouter(responses=_errors(422, 503))


def protected_guards(settings: Settings) -> tuple[list[Any], dict[int | str, dict[str, Any]]]:
    """The dependencies and extra error responses of the protected routes.

    Only what is configured is added, so the OpenAPI schema says exactly what a client
    needs: no security scheme when there is no API key, no 429 when there is no limit.
    The rate limit itself is middleware (``api.middleware.RateLimit``), ahead of routing,
    so guessing keys and requests refused before routing are rate limited too.
    """
    guards: list[Any] = []
    codes: list[int] = []
    if settings.rate_limit_per_minute > 0:
        codes.append(429)
    if settings.api_key:
        guards.append(Depends(require_api_key))
        codes.append(401)
    return guards, _errors(*codes)


KParam = Annotated[int, Query(ge=MIN_K, le=MAX_K, description="How many passages to return.")]


@public.get("/health", tags=["status"])
async def health() -> HealthOut:
    """Liveness: 200 whenever the process answers (no API key needed)."""
    return HealthOut()


@public.get("/", include_in_schema=False)
async def page() -> FileResponse:
    """The web page."""
    return FileResponse(STATIC_DIR / "index.html", headers=PAGE_HEADERS)


@protected.get("/ready", tags=["status"])
async def ready(service: ServiceDep) -> ReadyOut:
    """Readiness: 200 once the index is loaded, 503 until then; says whether the model
    endpoint (if one is configured) answers."""
    probe = await anyio.to_thread.run_sync(service.llm_probe)
    llm = None
    if probe is not None:
        llm = ModelEndpointOut(model=service.settings.llm_model or "", answers=probe.answers,
                               detail=probe.detail)
    return ReadyOut(ready=True, llm=llm, **_counts(service))


@protected.post("/ask", tags=["questions"], responses=_errors(400, 409, 413, 502, 504))
async def ask(body: AskRequest, service: ServiceDep, state: StateDep) -> AnswerOut:
    """Answer a question with verified citations, or abstain.

    The body is the same object ``qa ask --json`` prints. With ``answerer: llm`` the model
    endpoint failing gives 502, and it not replying within QA_LLM_TIMEOUT 504.
    """
    llm = body.answerer == "llm"
    answer = await state.run_query(service.ask, body.question, body.k, "hybrid", body.answerer,
                                   llm=llm)
    return AnswerOut.model_validate(answer.to_dict())


@protected.get("/search", tags=["questions"])
async def search(
    q: Annotated[str, Query(description="The query, in plain language.")],
    service: ServiceDep,
    state: StateDep,
    k: KParam = 5,
) -> SearchOut:
    """Ranked passages for a query (no answer extraction)."""
    passages = await state.run_query(service.search, q, k)
    return SearchOut(
        query=q.strip(),
        passages=[PassageOut.model_validate(p, from_attributes=True) for p in passages],
    )


@protected.get("/passages/{chunk_id}", tags=["sources"], responses=_errors(404))
async def passage(chunk_id: str, service: ServiceDep) -> PassageOut:
    """One passage by its chunk id, with its section path and offsets."""
    return PassageOut.model_validate(service.passage(chunk_id), from_attributes=True)


@protected.get("/documents", tags=["sources"])
async def documents(service: ServiceDep) -> DocumentListOut:
    """The ids of the indexed documents."""
    return DocumentListOut(documents=service.documents())


class _AnyPath(Convertor[str]):
    """Starlette's ``path``, newlines included (a file name may hold one)."""

    regex = "(?s:.*)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anypath", _AnyPath())


VersionParam = Annotated[str | None, Query(
    pattern=r"^v-\d{8}T\d{6}-[0-9a-f]{8}$",
    description="An answer's index_version: that version's text (the last few are kept; "
    "404 names those kept). Default: the loaded index.")]


@protected.get("/documents/{doc_id:anypath}", tags=["sources"], responses=_errors(404, 413))
async def document(
    doc_id: Annotated[str, PathParam(description="An indexed document id, e.g. 'report.txt'.")],
    service: ServiceDep,
    version: VersionParam = None,
) -> DocumentOut:
    """A source document's text, so a citation can be shown in context.

    The text is the one kept in the index, so it always matches the citations' offsets,
    whatever happened to the file since; with ``version``, the text of the index version
    an answer came from, even after a reload. Only indexed document ids are served (404).
    """
    served, doc = await anyio.to_thread.run_sync(service.versioned_document, doc_id, version)
    return DocumentOut(doc_id=doc_id, text=doc.text, kind=doc.kind,
                       pages=list(doc.pages) if doc.pages else None, version=served)


@protected.post("/reload", tags=["status"], responses=_errors(409))
async def reload(service: ServiceDep, state: StateDep) -> ReloadOut:
    """Re-check the corpus; rebuild the index if it changed and switch to it atomically.

    The rebuild runs in a worker thread while the old index keeps answering /ask; requests
    see either the old index or the new one, never a mix. One reload runs at a time (409).
    """
    if not state.reload_lock.acquire(blocking=False):
        raise HTTPException(status_code=409, detail="a reload is already running")
    try:
        reloaded = await anyio.to_thread.run_sync(service.reload)
    finally:
        state.reload_lock.release()
    skipped = [SkippedOut(path=s.path, reason=s.reason) for s in service.skipped()]
    return ReloadOut(reloaded=reloaded, skipped=skipped, **_counts(service))
