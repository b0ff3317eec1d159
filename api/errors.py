"""Errors at the HTTP edge: every failure becomes a JSON ``ErrorOut`` body, never a stack trace.

Core errors (``QAError`` subclasses) are translated here, in one handler, and nowhere else.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.redact import public_detail
from qa.errors import (
    InvalidQuestion,
    LLMError,
    LLMNotConfigured,
    LLMTimeout,
    NotFound,
    QAError,
    TooLarge,
)

log = logging.getLogger(__name__)

# Checked in order; anything else the core raises (no index, index locked or damaged, corpus
# unreadable) means the service cannot answer right now: 503. The model endpoint is an
# upstream server: 504 when it is late, 502 when it fails.
_STATUS_BY_ERROR: tuple[tuple[type[QAError], int], ...] = (
    (InvalidQuestion, 422), (NotFound, 404), (TooLarge, 413), (LLMNotConfigured, 409),
    (LLMTimeout, 504), (LLMError, 502),
)
_UNAVAILABLE = 503


def error_response(
    status: int,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A JSON error body in the ``ErrorOut`` shape."""
    body: dict[str, Any] = {"detail": detail}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers)


def status_for(exc: QAError) -> int:
    """The HTTP status of a core error."""
    return next((code for kind, code in _STATUS_BY_ERROR if isinstance(exc, kind)), _UNAVAILABLE)


async def _qa_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, QAError)
    status = status_for(exc)
    if status == _UNAVAILABLE:
        log.warning("service unavailable: %s", exc)
    elif status >= 500:
        log.warning("model endpoint failed: %s", exc)
    return error_response(status, _public(request, str(exc) or type(exc).__name__))


def _public(request: Request, detail: str) -> str:
    """The message without the server's absolute paths (the log above keeps them)."""
    state = getattr(request.app.state, "qa", None)
    return public_detail(detail, state.settings) if state is not None else detail


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Only where and what: the offending input is not echoed back (it may be large).
    return [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in jsonable_encoder(exc.errors())
    ]


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error["loc"] if part != "body") or "request body"
    return f"{where}: {error['msg']}"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _field_errors(exc)
    if any(e["type"] == "json_invalid" for e in errors):
        return error_response(400, "the request body is not valid JSON", errors)
    return error_response(422, "; ".join(_describe(e) for e in errors) or "invalid request", errors)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal error; the server log has the details")


def install_error_handlers(app: FastAPI) -> None:
    """Register the JSON error handlers on ``app``."""
    app.add_exception_handler(QAError, _qa_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
