"""Reaching Milvus: where it is, one client per target, engine errors made plain.

A ``uri`` that is a local file path (ending in ``.db``) runs Milvus Lite inside this
process (PyPI package ``milvus-lite``); ``http://host:19530`` reaches a Milvus standalone
or distributed server. Every call carries ``timeout`` seconds, so an engine that is down
or hangs gives ``BackendUnavailable`` instead of a wait without end.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from index.errors import BackendUnavailable, ConfigError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


@dataclass(frozen=True)
class MilvusTarget:
    """Where the Milvus collections live and how long to wait for them.

    Attributes:
        uri: a ``.db`` file path (Milvus Lite) or ``http(s)://host:port``.
        token: ``user:password`` or an API key; never written to the manifest or logs.
        timeout: seconds for connecting and for each call.
        prefix: collection names start with it; the alias of the current one is the prefix.
    """

    uri: str
    token: str = ""
    timeout: float = 10.0
    prefix: str = "citeqa"

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.prefix):
            raise ConfigError(
                f"Milvus collection prefix {self.prefix!r} must be letters, digits and _"
            )
        if self.timeout <= 0:
            raise ConfigError("the Milvus timeout must be above 0 seconds")
        remote = self.uri.startswith(("http://", "https://", "tcp://"))
        if not remote and not self.uri.endswith(".db"):
            raise ConfigError(
                f"QA_MILVUS_URI {self.uri!r}: give a local file ending in .db (Milvus Lite) "
                "or http://host:19530"
            )

    @property
    def lite(self) -> bool:
        """Whether the URI runs Milvus Lite in this process."""
        return self.uri.endswith(".db") and "://" not in self.uri

    def collection(self, version: str) -> str:
        """The collection name of an index version folder (``v-<time>-<rand>``)."""
        return f"{self.prefix}_{re.sub(r'[^A-Za-z0-9]', '_', version)}"


def _engine_exceptions() -> tuple[type[BaseException], ...]:
    import grpc
    from pymilvus.exceptions import MilvusException

    return (MilvusException, grpc.RpcError, grpc.FutureTimeoutError, ConnectionError)


@contextlib.contextmanager
def engine_errors(target: MilvusTarget, doing: str) -> Iterator[None]:
    """Turn what the engine or the connection to it raises into ``BackendUnavailable``."""
    kinds = _engine_exceptions()
    try:
        yield
    except kinds as exc:
        reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        raise BackendUnavailable(
            f"Milvus at {target.uri} failed while {doing} ({reason.splitlines()[0][:200]}); "
            f"check that it runs and QA_MILVUS_URI (timeout {target.timeout:g} s)"
        ) from exc


def connect(target: MilvusTarget) -> Any:
    """A ``MilvusClient`` for the target (Milvus Lite starts on first use of its file).

    Raises:
        BackendUnavailable: the server cannot be reached within the timeout.
    """
    from pymilvus import MilvusClient

    if target.lite:
        from pathlib import Path

        Path(target.uri).parent.mkdir(parents=True, exist_ok=True)
    with engine_errors(target, "connecting"):
        return MilvusClient(uri=target.uri, token=target.token, timeout=target.timeout)
