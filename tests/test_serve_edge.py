"""Issue 14, finding 4: forwarded headers, refused requests, Host names and slow sockets,
against the real server (``qa serve`` in a subprocess; the fake embedder keeps it quick).

* ``X-Forwarded-For`` is ignored unless the peer is in ``QA_TRUSTED_PROXIES`` (uvicorn
  trusted 127.0.0.1 by default, so a limited local client got 200s again by naming another).
* Requests refused before routing (400, 404, 413) count against the rate limit.
* With no API key, the ``Host`` header must name an allowed host (DNS rebinding).
* A connection that sends no request head, or sends it a byte at a time, is closed after
  ``QA_HEADER_TIMEOUT_SECONDS``; an idle keep-alive one after ``QA_IDLE_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from qa.service import QAService
from qa.settings import Settings
from tests.helpers.procs import free_port, start_qa, stop, wait_until
from tests.helpers.servers import local_client

TEXT = "1 Alliance\n\nThe dialogue was established in 2010 and meets twice a year.\n"
HEAD_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-document corpus with its index built, so each server starts at once."""
    root = tmp_path_factory.mktemp("serve-edge")
    (root / "corpus").mkdir()
    (root / "corpus" / "a.txt").write_text(TEXT, "utf-8")
    QAService(settings_for(root)).open()
    return root


def settings_for(root: Path) -> Settings:
    return Settings(corpus_dir=root / "corpus", index_dir=root / "index", model="hashing-64")


@contextlib.contextmanager
def serving(root: Path, log: Path, **env: str) -> Iterator[int]:
    port = free_port()
    server = start_qa(
        "serve", "--port", str(port), log=log, QA_MODEL="hashing-64",
        QA_CORPUS_DIR=str(root / "corpus"), QA_INDEX_DIR=str(root / "index"),
        QA_HEADER_TIMEOUT_SECONDS=str(HEAD_TIMEOUT), QA_IDLE_TIMEOUT_SECONDS="1", **env,
    )
    try:
        assert wait_until(lambda: get(port, "/health")[0] == 200, 120), log.read_text()
        yield port
    finally:
        stop(server)
    assert "Traceback" not in log.read_text()


def get(port: int, path: str, method: str = "GET", body: bytes | None = None,
        **headers: str) -> tuple[int, Any]:
    """(status, JSON body or None); (0, None) when nothing listens yet."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body,
                           headers={k.replace("_", "-"): v for k, v in headers.items()})
        response = connection.getresponse()
        raw = response.read()
        is_json = "json" in response.getheader("content-type", "")
        return response.status, json.loads(raw) if raw and is_json else None
    except OSError:
        return 0, None
    finally:
        connection.close()


# -- forwarded headers and the rate limit -------------------------------------------------------


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(corpus: Path, tmp_path: Path) -> None:
    with serving(corpus, tmp_path / "log", QA_RATE_LIMIT_PER_MINUTE="3") as port:
        for n in range(3):
            assert get(port, "/documents", X_Forwarded_For=f"10.0.0.{n}")[0] == 200
        status, body = get(port, "/documents", X_Forwarded_For="10.0.0.99")
        assert status == 429 and "too many requests" in body["detail"]


def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(
    corpus: Path, tmp_path: Path
) -> None:
    env = {"QA_RATE_LIMIT_PER_MINUTE": "2", "QA_TRUSTED_PROXIES": "127.0.0.1"}
    with serving(corpus, tmp_path / "log", **env) as port:
        assert [get(port, "/documents", X_Forwarded_For="10.0.0.1")[0] for _ in range(3)] == [
            200, 200, 429
        ]
        assert get(port, "/documents", X_Forwarded_For="10.0.0.2")[0] == 200


def test_requests_refused_before_routing_count_against_the_limit(
    corpus: Path, tmp_path: Path
) -> None:
    with serving(corpus, tmp_path / "log", QA_RATE_LIMIT_PER_MINUTE="3") as port:
        json_type = {"Content_Type": "application/json"}
        assert get(port, "/ask", "POST", b"{not json", **json_type)[0] == 400
        assert get(port, "/ask", "POST", b"x" * 20_000, **json_type)[0] == 413
        assert get(port, "/no/such/route")[0] == 404
        assert get(port, "/documents")[0] == 429
        assert get(port, "/health")[0] == 200  # liveness is never limited


# -- Host ---------------------------------------------------------------------------------------


def test_without_an_api_key_only_allowed_hosts_are_served(corpus: Path, tmp_path: Path) -> None:
    with serving(corpus, tmp_path / "log") as port:
        status, body = get(port, "/documents", Host=f"rebound.example:{port}")
        assert status == 400 and "QA_ALLOWED_HOSTS" in body["detail"]
        assert get(port, "/", Host="rebound.example")[0] == 400  # the page too
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", "LOCALHOST"):
            assert get(port, "/documents", Host=host) == (200, {"documents": ["a.txt"]}), host
        assert get(port, "/health", Host="rebound.example")[0] == 200
    with serving(corpus, tmp_path / "log2", QA_ALLOWED_HOSTS="qa.internal, [::1]") as port:
        assert get(port, "/documents", Host=f"qa.internal:{port}")[0] == 200
        assert get(port, "/documents", Host=f"[::1]:{port}")[0] == 200
        assert get(port, "/documents", Host=f"localhost:{port}")[0] == 400


def test_with_an_api_key_any_host_is_served(make_service: Callable[..., Any]) -> None:
    service = make_service({"a.txt": TEXT}, api_key="k")
    service.open()
    client = local_client(create_app(service.settings, service))
    response = client.get("/documents", headers={"Host": "rebound.example",
                                                 "Authorization": "Bearer k"})
    assert response.status_code == 200


# -- slow and idle sockets ----------------------------------------------------------------------


def closed_within(sock: socket.socket, seconds: float, drip: bytes = b"") -> float | None:
    """Seconds until the server closed ``sock`` (sending ``drip`` every 0.2 s meanwhile),
    or None if it was still open after ``seconds``."""
    started = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - started < seconds:
        try:
            if drip:
                sock.sendall(drip)
            if sock.recv(4096) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - started
    return None


@pytest.fixture(scope="module")
def plain_server(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with serving(corpus, tmp_path_factory.mktemp("log") / "log") as port:
        yield port


def test_a_connection_that_sends_nothing_is_closed(plain_server: int) -> None:
    with socket.create_connection(("127.0.0.1", plain_server)) as sock:
        waited = closed_within(sock, 6 * HEAD_TIMEOUT)
    assert waited is not None and waited >= 0.8 * HEAD_TIMEOUT


def test_a_request_head_sent_a_byte_at_a_time_is_cut_off(plain_server: int) -> None:
    with socket.create_connection(("127.0.0.1", plain_server)) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
        waited = closed_within(sock, 6 * HEAD_TIMEOUT, drip=b"X")
    assert waited is not None


def test_an_idle_keep_alive_connection_is_closed(plain_server: int) -> None:
    with socket.create_connection(("127.0.0.1", plain_server)) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        sock.settimeout(10)
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        waited = closed_within(sock, 6)
    assert waited is not None


def test_an_unfinished_request_head_over_the_size_cap_is_refused(plain_server: int) -> None:
    # The head never ends: without a cap the server would buffer it until the timeout.
    with socket.create_connection(("127.0.0.1", plain_server)) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + b"p" * 20_000)
        sock.settimeout(10)
        assert sock.recv(4096).startswith(b"HTTP/1.1 400 ")  # the timeout sends no response
    assert get(plain_server, "/health")[0] == 200


def test_a_prompt_client_on_a_kept_alive_connection_is_served(plain_server: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", plain_server, timeout=10)
    try:
        for _ in range(3):  # the timer restarts after every response
            connection.request("GET", "/health")
            assert connection.getresponse().read() == b'{"status":"ok"}'
            time.sleep(0.6 * HEAD_TIMEOUT)
    finally:
        connection.close()
