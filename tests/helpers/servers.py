"""Serve an ASGI app on loopback from a thread, and talk to it with the standard library."""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn


@contextlib.contextmanager
def serve_in_thread(app: Any) -> Iterator[int]:
    """Run ``app`` with uvicorn on 127.0.0.1 (a free port) until the block ends.

    Yields:
        The port.
    """
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield int(server.servers[0].sockets[0].getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(30)


def request(
    port: int, method: str, path: str, body: Any = None, timeout: float = 60
) -> tuple[int, dict[str, str], Any]:
    """One HTTP request to 127.0.0.1:port: (status, headers, decoded JSON body or None)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        data = json.loads(raw) if raw and "json" in response.getheader("content-type", "") else None
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        connection.close()


def local_client(app: Any, **options: Any) -> Any:
    """A ``TestClient`` that sends ``Host: localhost``, a name the app answers to by default
    (its own default, ``testserver``, is refused by the Host check when no API key is set)."""
    from fastapi.testclient import TestClient

    return TestClient(app, base_url="http://localhost", **options)
