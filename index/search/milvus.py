"""Reaching Milvus: where it is, one client per target, engine errors made plain.

A ``uri`` that is a local file path (ending in ``.db``) runs Milvus Lite inside this
process (PyPI package ``milvus-lite``); ``http://host:19530`` reaches a Milvus standalone
or distributed server (the target: ``index.search.milvus_target``). Every call carries
``timeout`` seconds, so an engine that is down or hangs gives ``BackendUnavailable``
instead of a wait without end. Messages name the URI without its credentials
(``MilvusTarget.shown``), and the libraries' own logging is kept quiet: each failure
reaches the user once, as the error this module raises.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from index.errors import BackendUnavailable
from index.search.milvus_target import MilvusTarget


def _engine_exceptions() -> tuple[type[BaseException], ...]:
    import grpc
    from pymilvus.exceptions import MilvusException

    return (MilvusException, grpc.RpcError, grpc.FutureTimeoutError, ConnectionError)


@contextlib.contextmanager
def engine_errors(target: MilvusTarget, doing: str) -> Iterator[None]:
    """Turn what the engine or the connection to it raises into one ``QAError``.

    A Milvus server gives ``BackendUnavailable``; a Milvus Lite file is told apart
    (``index.search.milvus_lite.lite_error``): held by another process, damaged, or slow.
    """
    kinds = _engine_exceptions()
    try:
        yield
    except kinds as exc:
        reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        reason = target.scrub(reason).splitlines()[0][:200]  # scrubbed whole, then cut
        if target.lite:
            from index.search.milvus_lite import lite_error

            raise lite_error(target, exc, doing, reason) from exc
        raise BackendUnavailable(
            f"Milvus at {target.shown} failed while {doing} ({reason}); "
            f"check that it runs and QA_MILVUS_URI (timeout {target.timeout:g} s)"
        ) from exc


def quiet_engine_logs() -> None:
    """Silence pymilvus's and milvus-lite's logging (idempotent).

    pymilvus logs every failed call with its traceback on a handler of its own (13 to 51
    lines on stderr), milvus-lite a failed start the same way; each failure reaches the
    user as the one error ``engine_errors`` raises instead.
    """
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL + 1)
    logging.getLogger("milvus_lite").setLevel(logging.CRITICAL + 1)


def connect(target: MilvusTarget) -> Any:
    """A ``MilvusClient`` for the target (Milvus Lite starts on first use of its file).

    Raises:
        BackendUnavailable: the server cannot be reached within the timeout.
        EngineLocked: another process holds the Milvus Lite file.
        EngineDamaged: the Milvus Lite file cannot be opened.
    """
    from pymilvus import MilvusClient

    quiet_engine_logs()  # after the import: pymilvus configures its loggers when imported
    if not target.lite:
        with engine_errors(target, "connecting"):
            return MilvusClient(uri=target.uri, token=target.token, timeout=target.timeout)
    from index.search.milvus_lite import opening

    with opening(target), engine_errors(target, "opening the database"):
        return MilvusClient(uri=target.uri, token=target.token, timeout=target.timeout)
