"""Reaching Milvus: where it is, one client per target, engine errors made plain.

A ``uri`` that is a local file path (ending in ``.db``) runs Milvus Lite inside this
process (PyPI package ``milvus-lite``); ``http://host:19530`` reaches a Milvus standalone
or distributed server. Every call carries ``timeout`` seconds, so an engine that is down
or hangs gives ``BackendUnavailable`` instead of a wait without end. Messages name the
URI without its credentials (``MilvusTarget.shown``), and the libraries' own logging is
kept quiet: each failure reaches the user once, as the error this module raises.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from index.errors import BackendUnavailable, ConfigError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")
HIDDEN = "***"


def shown_uri(uri: str) -> str:
    """``uri`` with its user and password (``scheme://user:pass@host``) replaced by ***."""
    return _USERINFO.sub(rf"\g<1>{HIDDEN}@", uri)


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
                f"QA_MILVUS_URI {self.shown!r}: give a local file ending in .db (Milvus Lite) "
                "or http://host:19530"
            )

    @property
    def shown(self) -> str:
        """The URI as messages and the manifest show it: without credentials."""
        return shown_uri(self.uri)

    def scrub(self, text: str) -> str:
        """``text`` with the URI shown without credentials and any secret replaced by ***."""
        text = text.replace(self.uri, self.shown)
        userinfo = _USERINFO.match(self.uri)
        secrets = [self.token, *self.token.split(":", 1)[1:]]
        if userinfo:
            credentials = userinfo.group(0)[len(userinfo.group(1)):-1]
            secrets += [credentials, *credentials.split(":", 1)[1:]]
        for secret in sorted(filter(None, secrets), key=len, reverse=True):
            text = text.replace(secret, HIDDEN)
        return text

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
    """Turn what the engine or the connection to it raises into one ``QAError``.

    A Milvus server gives ``BackendUnavailable``; a Milvus Lite file is told apart
    (``index.milvus_lite.lite_error``): held by another process, damaged, or slow.
    """
    kinds = _engine_exceptions()
    try:
        yield
    except kinds as exc:
        reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        reason = target.scrub(reason).splitlines()[0][:200]  # scrubbed whole, then cut
        if target.lite:
            from index.milvus_lite import lite_error

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
    from index.milvus_lite import opening

    with opening(target), engine_errors(target, "opening the database"):
        return MilvusClient(uri=target.uri, token=target.token, timeout=target.timeout)
