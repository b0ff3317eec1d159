"""Milvus Lite's failures told apart: another process holds the file, damaged, or slow.

Milvus Lite keeps a database in a folder named like a file (``milvus.db``) and opens it in
one process at a time (an advisory lock). When it cannot start, pymilvus says only "Open
local milvus failed" and milvus-lite logs the cause; ``opening`` keeps that cause so the
error can name it. A damaged database (a truncated or garbled data file, a garbled
``aliases.json``, a file in place of the folder) is moved aside by a build
(``move_aside``), never deleted: what it held stays on disk for whoever wants it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

from index.errors import BackendUnavailable, EngineDamaged, EngineLocked, QAError
from index.search.milvus_target import MilvusTarget

REBUILD = "`qa index --force` moves it aside and builds a new one"
# pymilvus starts Milvus Lite through this module and logs, without raising, why it failed.
_STARTER_LOG = "milvus_lite.server_manager"


class _StartFailures(logging.Handler):
    """Keeps the exception of each failed Milvus Lite start, by database path."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.by_path: dict[str, BaseException] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None and record.args:
            path = record.args[0] if isinstance(record.args, tuple) else None
            self.by_path[str(path)] = record.exc_info[1]


_FAILURES = _StartFailures()


@contextlib.contextmanager
def opening(target: MilvusTarget) -> Iterator[None]:
    """Around the first connection to a Milvus Lite file: its folder, and why it failed.

    Raises:
        EngineDamaged: a file stands where the database folder should be.
        BackendUnavailable: the folder holding the database cannot be created.
    """
    path = Path(target.uri)
    if path.exists() and not path.is_dir():
        raise EngineDamaged(
            f"the Milvus Lite database {path} is damaged: it is a file, not the folder "
            f"Milvus Lite keeps; {REBUILD}"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackendUnavailable(
            f"the folder of the Milvus Lite database {path} cannot be created "
            f"({exc.strerror or exc}); check QA_MILVUS_URI and QA_INDEX_DIR"
        ) from exc
    starter = logging.getLogger(_STARTER_LOG)
    if _FAILURES not in starter.handlers:
        starter.addHandler(_FAILURES)
        starter.setLevel(logging.ERROR)  # its parent, milvus_lite, is kept quiet
        starter.propagate = False  # recorded here, printed nowhere
    _FAILURES.by_path.pop(os.path.abspath(path), None)
    yield


def lite_error(target: MilvusTarget, exc: BaseException, doing: str, reason: str) -> QAError:
    """The error to raise for what Milvus Lite raised while ``doing``.

    Args:
        target: the Milvus Lite target.
        exc: what pymilvus raised.
        doing: what was being done ("opening the database", "counting collection x").
        reason: the first line of the engine's message, credentials removed.
    """
    path = target.uri
    failed_start = _FAILURES.by_path.pop(os.path.abspath(path), None)
    if failed_start is not None:
        from milvus_lite.exceptions import DataDirLockedError

        if isinstance(failed_start, DataDirLockedError):
            return EngineLocked(
                f"the Milvus Lite database {path} is in use by another process (Milvus Lite "
                "opens a database in one process at a time): wait for the other qa command "
                "or stop the qa serve that holds it, or use a Milvus server"
            )
        reason = target.scrub(f"{type(failed_start).__name__}: {failed_start}".splitlines()[0])
    if _timed_out(exc, reason):
        return BackendUnavailable(
            f"the Milvus Lite database {path} did not answer within {target.timeout:g} s "
            f"while {doing}; try again, or raise QA_MILVUS_TIMEOUT"
        )
    if "[Errno" in reason and "File exists" not in reason:
        return BackendUnavailable(
            f"the Milvus Lite database {path} cannot be used while {doing} ({reason[:200]})"
        )
    return EngineDamaged(
        f"the Milvus Lite database {path} is damaged: {doing} failed ({reason[:200]}); "
        f"{REBUILD}"
    )


def _timed_out(exc: BaseException, reason: str) -> bool:
    import grpc

    if isinstance(exc, grpc.FutureTimeoutError):
        return True
    if isinstance(exc, grpc.RpcError) and exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
        return True
    return "deadline exceeded" in reason.lower()


def move_aside(target: MilvusTarget) -> Path:
    """Rename a damaged Milvus Lite database to ``<name>.damaged-<UTC time>``; return it.

    This process's Milvus Lite server on the file is stopped first, so its lock is freed.

    Raises:
        EngineDamaged: the database cannot be renamed (the message says why).
    """
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(target.uri)
    path = Path(target.uri)
    aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}")
    try:
        path.rename(aside)
    except OSError as exc:
        raise EngineDamaged(
            f"the Milvus Lite database {path} is damaged and cannot be moved aside "
            f"({exc.strerror or exc}); move or delete it, then run `qa index --force`"
        ) from exc
    return aside
