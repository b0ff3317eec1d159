"""The FastAPI application: ``create_app(settings)`` wires routes, errors and limits together.

Nothing is loaded at import time or in ``create_app``; the lifespan starts loading the index
and model in a background thread, so ``/health`` answers at once and ``/ready`` says 503 until
the service can answer.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from api.errors import install_error_handlers
from api.middleware import BodySizeLimit, HostCheck, RateLimit
from api.routes import STATIC_DIR, protected, protected_guards, public
from api.state import AppState
from index.documents.textfold import has_content
from qa.service import QAService
from qa.settings import Settings

DESCRIPTION = """\
Ask questions of the indexed documents; every answer quotes its source, with the character
offsets of the quote in the document. When the sources do not contain the answer, the
service abstains and lists the nearest passages.

When the server runs with `QA_API_KEY` set, every route below except `/health` needs
`Authorization: Bearer <key>`; the web page, its assets and these docs stay open (the page
has a key field). `POST /reload` rebuilds in a worker thread while `/ask` keeps answering
from the previous index, then switches atomically.
"""


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    state: AppState = app.state.qa
    state.start_loading()
    yield


def _char_class(ranges: list[list[int]], escape: bool) -> str:
    parts = []
    for first, last in ranges:
        a, b = (f"\\u{first:04x}", f"\\u{last:04x}") if escape else (chr(first), chr(last))
        parts.append(a if first == last else f"{a}-{b}")
    return "[" + "".join(parts) + "]"


@functools.cache
def has_content_patterns() -> tuple[str, str]:
    """Two JSON Schema patterns, one for the Basic Multilingual Plane, one beyond it: a
    text matching either has a character ``index.documents.textfold.has_content`` counts (a letter or
    digit, itself or once NFKC-normalised).

    The characters are spelled out as code point ranges, so that ECMA-262 and Python regexes
    read them alike (``\\w`` is ASCII-only in one). BMP ones are ``\\uXXXX`` escapes, valid
    with or without ECMA's ``u`` flag; the others can only be written as themselves, which
    ECMA reads as whole code points only with the ``u`` flag (as JSON Schema validators such
    as ajv use it) -- hence a pattern of their own, under ``anyOf``, where validators that
    compile patterns without the flag (Swagger UI's parameter check) do not look.
    """
    ranges: list[list[int]] = []
    for code in range(0x110000):
        char = chr(code)
        if unicodedata.category(char) in ("Cn", "Cs", "Co"):
            continue
        # A character NFKC leaves alone is cleaned to itself (or dropped, if it is a format
        # character: never a letter or digit), so only the others need the full check.
        plain = unicodedata.is_normalized("NFKC", char)
        if not (char.isalnum() if plain else has_content(char)):
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    bmp = [r for r in ranges if r[1] <= 0xFFFF]  # U+FFFF is no character: no range spans it
    astral = [r for r in ranges if r[0] > 0xFFFF]
    return _char_class(bmp, escape=True), _char_class(astral, escape=False)


def _document_question_limits(app: FastAPI, max_chars: int) -> None:
    """Add the question rules ``qa.questions.check_question`` enforces to the OpenAPI schema.

    They are checked by the service (one rule, one message, for the CLI and the API alike);
    the schema states them so clients and the schema fuzzer know which questions are valid.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        fresh = app.openapi_schema is None
        schema = generate()
        if fresh:
            content = [{"pattern": pattern} for pattern in has_content_patterns()]
            rules = {"minLength": 1, "maxLength": max_chars, "anyOf": content}
            schema["components"]["schemas"]["AskRequest"]["properties"]["question"].update(rules)
            for parameter in schema["paths"]["/search"]["get"]["parameters"]:
                if parameter["name"] == "q":
                    parameter["schema"].update(rules)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def allowed_hosts(settings: Settings) -> list[str]:
    """The host names the server answers to: ``QA_ALLOWED_HOSTS``, else the localhost names
    and the address it is bound to."""
    return settings.allowed_hosts or ["localhost", "127.0.0.1", "::1", settings.host]


def create_app(settings: Settings, service: QAService | None = None) -> FastAPI:
    """Build the app.

    Args:
        settings: the tool's settings (limits, API key, CORS origins).
        service: the query service; created from the settings when omitted. A service that
            is already open is used as it is; otherwise the lifespan opens it.

    Returns:
        The ASGI application.
    """
    app = FastAPI(
        title="citeqa",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=_lifespan,
    )
    app.state.qa = AppState(settings, service)
    install_error_handlers(app)
    app.include_router(public)
    guards, responses = protected_guards(settings)
    app.include_router(protected, dependencies=guards, responses=responses)
    _document_question_limits(app, settings.max_question_chars)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.allowed_hosts or not settings.api_key:
        app.add_middleware(HostCheck, allowed=allowed_hosts(settings))
    if app.state.qa.rate_limiter is not None:  # outside the others: what they refuse counts
        app.add_middleware(RateLimit, limiter=app.state.qa.rate_limiter)
    if settings.cors_origins:  # added last, so it is outermost: errors carry CORS headers too
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    return app
