"""``qa serve``: build the index if needed (with progress), load the model, run uvicorn."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import sys

import h11
import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.app import allowed_hosts, create_app
from api.state import load_service
from index.documents.corpus import printable_path
from qa.errors import ConfigError
from qa.service import QAService
from qa.settings import Settings


def page_url(host: str, port: int) -> str:
    """The address a user should open for a server listening on ``host``."""
    if host in ("0.0.0.0", "", "::"):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port_free(host: str, port: int) -> None:
    """Fail fast, before the slow loading, when the address cannot be bound.

    Raises:
        ConfigError: the port is taken or the host is not an address of this machine.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            probe.bind(address)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


# The largest request head (request line and headers) accepted; larger ones get 400.
MAX_HEAD_BYTES = 16 * 1024


class HeadTimeoutProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request head is late.

    uvicorn closes a keep-alive connection only once it has answered on it, so a client
    that connects and sends nothing, or sends its headers a byte at a time, holds a
    connection for ever. Here the whole request head must arrive within ``head_timeout``
    seconds of the connection opening or of the previous response.
    """

    head_timeout = 10.0
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the request head is in
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_late)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def uvicorn_config(app: FastAPI, settings: Settings) -> uvicorn.Config:
    """uvicorn's settings: forwarded headers from trusted proxies only, and timeouts.

    ``X-Forwarded-For`` names the client only when it comes from an address in
    ``QA_TRUSTED_PROXIES``; otherwise it is ignored (uvicorn trusts 127.0.0.1 by default,
    which let any local client pick its rate-limit identity).
    """
    protocol = type("QAProtocol", (HeadTimeoutProtocol,),
                    {"head_timeout": settings.header_timeout_seconds})
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        server_header=False,
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or "",
        http=protocol,
        timeout_keep_alive=settings.idle_timeout_seconds,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
    )


class _Server(uvicorn.Server):
    """uvicorn's server, saying where to point the browser once it listens."""

    def __init__(self, config: uvicorn.Config, url: str) -> None:
        super().__init__(config)
        self.url = url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            print(f"citeqa is ready: open {self.url}  (API docs: {self.url}docs)", flush=True)


def serve(settings: Settings) -> int:
    """Run the HTTP API and the web page until interrupted.

    The index is built (with a progress bar) and the model loaded before the server starts
    listening, so the first question is answered at full speed.

    Args:
        settings: the tool's settings (host, port, limits, API key, ...).

    Returns:
        The process exit status.

    Raises:
        ConfigError: the address cannot be bound.
        QAError: the index cannot be built or loaded.
    """
    check_port_free(settings.host, settings.port)
    service = QAService(settings)
    status = service.status()
    if not status.current:
        print("building the index: " + printable_path("; ".join(status.reasons)), file=sys.stderr)
    print("loading the index and the model ...", file=sys.stderr)
    load_service(service, progress=not status.current)
    probe = service.llm_probe()
    if probe is not None:
        detail = printable_path(probe.detail)
        if probe.answers:
            print(f"model endpoint: {detail}; answerer 'llm' is on", file=sys.stderr)
        else:
            print(f"warning: model endpoint: {detail}; answerer 'llm' will fail until it "
                  "answers", file=sys.stderr)
    if not settings.api_key and not _is_loopback(settings.host):
        print(
            f"warning: listening on {settings.host} without an API key; "
            "set QA_API_KEY to require one (until then only the Host names in "
            "QA_ALLOWED_HOSTS are served: " + ", ".join(allowed_hosts(settings)) + ")",
            file=sys.stderr,
        )
    config = uvicorn_config(create_app(settings, service), settings)
    server = _Server(config, page_url(settings.host, settings.port))
    try:
        server.run()
    except SystemExit as exc:  # uvicorn exits this way when it cannot bind the port
        return exc.code if isinstance(exc.code, int) else 1
    return 0 if server.started else 1
