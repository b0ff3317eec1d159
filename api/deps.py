"""Dependencies of the routes, declared once as ``Annotated`` aliases."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.state import AppState
from qa.service import QAService


async def get_state(request: Request) -> AppState:
    """The app's state (async: dependencies that do no I/O stay on the event loop)."""
    state: AppState = request.app.state.qa
    return state


StateDep = Annotated[AppState, Depends(get_state)]

_bearer = HTTPBearer(
    auto_error=False,
    description="Needed only when the server runs with QA_API_KEY set.",
)


async def require_api_key(
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """401 unless the request carries ``Authorization: Bearer <QA_API_KEY>`` (when one is set)."""
    expected = state.settings.api_key
    if not expected:
        return
    given = credentials.credentials if credentials is not None else ""
    if not secrets.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            status_code=401,
            detail="missing or wrong API key; send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


async def get_service(state: StateDep) -> QAService:
    """The loaded service, or 503 while the index is loading (or failed to load)."""
    if not state.service.ready:
        raise HTTPException(status_code=503, detail=state.not_ready_reason())
    return state.service


ServiceDep = Annotated[QAService, Depends(get_service)]
