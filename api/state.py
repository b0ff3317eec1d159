"""What one running app holds: the service, its loading state, the limiters."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

from api.ratelimit import RateLimiter
from api.redact import public_detail
from qa.errors import QAError
from qa.service import QAService
from qa.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

# Threads that may run queries at once (each encodes on QA_EMBED_THREADS threads); the rest
# of the default pool stays free for /reload and file reads.
QUERY_THREADS = 4
# Threads for questions the model answers: they wait on the model server (up to
# QA_LLM_TIMEOUT), so they get threads of their own and never hold up the reader's questions.
LLM_QUERY_THREADS = 4


def load_service(service: QAService, progress: bool = False) -> None:
    """Open the index (building it if needed) and load the model, so the first question is quick.

    Args:
        service: the service to open.
        progress: show a progress bar if the index is built.
    """
    service.open(rebuild=True, progress=progress)
    service.warm_up()  # the encoder and the question parser load lazily; load them now


class AppState:
    """The per-app state, kept on ``app.state.qa``.

    Args:
        settings: the tool's settings.
        service: the query service (one is created from the settings when omitted; it loads
            nothing until ``load`` runs).
    """

    def __init__(self, settings: Settings, service: QAService | None = None) -> None:
        self.settings = settings
        self.service = service if service is not None else QAService(settings)
        per_minute = settings.rate_limit_per_minute
        self.rate_limiter = RateLimiter(per_minute) if per_minute > 0 else None
        self.query_limiter = anyio.CapacityLimiter(QUERY_THREADS)
        self.llm_limiter = anyio.CapacityLimiter(LLM_QUERY_THREADS)
        self.reload_lock = threading.Lock()
        self.load_error: str | None = None
        self._loader: threading.Thread | None = None

    def start_loading(self) -> None:
        """Load the service in a background thread, unless it is loaded or loading already.

        The server answers /health at once and /ready with 503 until loading finishes.
        """
        if self.service.ready or self._loader is not None:
            return
        self._loader = threading.Thread(target=self._load, name="qa-load", daemon=True)
        self._loader.start()

    def _load(self) -> None:
        try:
            load_service(self.service)
        except QAError as exc:
            self.load_error = str(exc)
            log.error("the index could not be loaded: %s", exc)
        except Exception as exc:  # keep the server up so /ready can say what went wrong
            self.load_error = f"{type(exc).__name__}: {exc}"
            log.exception("the index could not be loaded")

    def not_ready_reason(self) -> str:
        """Why the service cannot answer yet."""
        if self.load_error is not None:
            # it goes to clients: without the server's paths (the log has them)
            return public_detail(f"the index could not be loaded: {self.load_error}",
                                 self.settings)
        return "the index is still loading; try again in a moment"

    async def run_query(self, func: Callable[..., T], *args: object, llm: bool = False) -> T:
        """Run a CPU-heavy call in a worker thread, off the event loop.

        Args:
            func: the call.
            args: its arguments.
            llm: it waits on the model server: run it on the model's own threads.
        """
        call = functools.partial(func, *args)
        limiter = self.llm_limiter if llm else self.query_limiter
        return await anyio.to_thread.run_sync(call, limiter=limiter)
