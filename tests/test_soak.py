"""Load and network: a bounded soak on loopback, the rate limit, and the offline guard.

* Soak: the real server (``qa serve`` in a subprocess, real model, real chapter) takes
  8 client threads for ``QA_SOAK_SECONDS`` (30 by default) of mostly distinct questions,
  so the answer cache keeps turning over; zero errors, and the server's resident memory
  (``VmRSS``) may not grow by more than a generous bound.
* Rate limit: ``QA_RATE_LIMIT_PER_MINUTE`` set low -> 429 with ``Retry-After``.
* Offline: the guard of ``tests/conftest.py`` refuses public addresses in the test process,
  and the subprocesses the tests start are guarded too (``tests/helpers/offline_site``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.helpers.procs import (
    REPO,
    free_port,
    offline_env,
    rss_kib,
    start_qa,
    stop,
    wait_until,
)
from tests.helpers.servers import request, serve_in_thread

CLIENTS = 8
SOAK_SECONDS = float(os.environ.get("QA_SOAK_SECONDS", "30"))
# The trained reader (fp32, 8 passages of up to 320 tokens) leaves its activations with the
# allocator of each server thread: +340 to +420 MB over 8 clients, measured 2026-12-06, against
# +40 to +50 MB with the feature reader. Not a leak shown to grow without bound, but not
# proven otherwise either: a two-period soak (growth in the second period ~0) is the next step.
MAX_GROWTH_MB = 600
PUBLIC_ADDRESS = ("203.0.113.7", 80)  # TEST-NET-3: public, routable nowhere


def gold_questions() -> list[str]:
    with (REPO / "eval" / "gold.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line)["question"] for line in handle if line.strip()]


# -- soak ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, int]]:
    """``qa serve`` on 127.0.0.1 over a copy of the real corpus, ready to answer."""
    root = tmp_path_factory.mktemp("soak")
    shutil.copytree(REPO / "corpus", root / "corpus")
    port = free_port()
    log = root / "server.log"
    process = start_qa(
        "serve", "--corpus", root / "corpus", "--index-dir", root / "index",
        "--host", "127.0.0.1", "--port", str(port),
        log=log, QA_RATE_LIMIT_PER_MINUTE="0",
    )  # fmt: skip

    def ready() -> bool:
        if process.poll() is not None:
            return True
        try:
            return request(port, "GET", "/ready", timeout=5)[0] == 200
        except OSError:
            return False

    try:
        wait_until(ready, timeout=600, interval=0.5)
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        yield process, port
    finally:
        stop(process)


class Soak:
    """Counts of a soak run, shared by the client threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.served: Counter[str] = Counter()
        self.errors: list[str] = []

    def record(self, kind: str, error: str | None) -> None:
        with self.lock:
            self.served[kind] += 1
            if error is not None:
                self.errors.append(f"{kind}: {error}")


def _check_answer(body: Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("passages"), list):
        return f"not an answer: {str(body)[:200]}"
    if not body["abstained"] and not body["citations"]:
        return "an answer without citations"
    return None


def _client(port: int, number: int, deadline: float, questions: list[str], soak: Soak) -> None:
    count = 0
    while time.monotonic() < deadline:
        count += 1
        question = questions[(number * 7919 + count) % len(questions)]
        if count % 4 != 0:  # distinct text: the cache cannot answer it
            question = f"{question} ({number}.{count})"
        kind = ("ask", "ask", "ask", "ask", "ask", "ask", "search", "ready")[count % 8]
        try:
            if kind == "ask":
                status, _, body = request(port, "POST", "/ask", {"question": question})
                error = _check_answer(body) if status == 200 else f"HTTP {status}: {body}"
            elif kind == "search":
                status, _, body = request(port, "GET", f"/search?q={quote(question)}&k=5")
                error = None if status == 200 and body["passages"] else f"HTTP {status}: {body}"
            else:
                status, _, body = request(port, "GET", "/ready")
                error = None if status == 200 and body["ready"] else f"HTTP {status}: {body}"
        except Exception as exc:  # a refused or dropped connection is an error too
            error = f"{type(exc).__name__}: {exc}"
        soak.record(kind, error)


@pytest.mark.slow
def test_soak_eight_clients_no_errors_bounded_memory(
    live_server: tuple[Any, int], capsys: pytest.CaptureFixture[str]
) -> None:
    process, port = live_server
    questions = gold_questions()
    warm = Soak()  # a short warm-up, so lazily created buffers are not counted as growth
    _client(port, 99, time.monotonic() + 3, questions, warm)
    assert not warm.errors, warm.errors[:5]
    baseline = peak = rss_kib(process.pid)
    soak = Soak()
    started = time.monotonic()
    deadline = started + SOAK_SECONDS
    with ThreadPoolExecutor(CLIENTS) as pool:
        clients = [pool.submit(_client, port, n, deadline, questions, soak) for n in range(CLIENTS)]
        while not all(c.done() for c in clients):
            peak = max(peak, rss_kib(process.pid))
            time.sleep(0.5)
        for client in clients:
            client.result()
    elapsed = time.monotonic() - started
    final = rss_kib(process.pid)
    growth_mb = (final - baseline) / 1024
    served = sum(soak.served.values())
    with capsys.disabled():
        print(
            f"\n[soak] {CLIENTS} clients, {elapsed:.0f} s: {served} requests served "
            f"({dict(soak.served)}, {served / elapsed:.1f}/s), {len(soak.errors)} errors; "
            f"server RSS {baseline / 1024:.0f} MB -> {final / 1024:.0f} MB "
            f"(peak {peak / 1024:.0f} MB, growth {growth_mb:+.1f} MB)"
        )
    assert process.poll() is None, "the server died"
    assert not soak.errors, soak.errors[:10]
    assert soak.served["ask"] >= CLIENTS
    assert growth_mb < MAX_GROWTH_MB


# -- rate limit ------------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(
    make_service: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.app import create_app

    monkeypatch.setenv("QA_RATE_LIMIT_PER_MINUTE", "3")  # read by Settings, as `qa serve` does
    service = make_service({"a.txt": "The Extended Deterrence Dialogue was established in 2010."})
    settings = service.settings
    assert settings.rate_limit_per_minute == 3
    service.open()
    with serve_in_thread(create_app(settings, service)) as port:
        body = {"question": "When was the dialogue established?"}
        statuses = [request(port, "POST", "/ask", body)[0] for _ in range(3)]
        status, headers, refused = request(port, "POST", "/ask", body)
        assert statuses == [200, 200, 200]
        assert status == 429, refused
        assert 1 <= int(headers["retry-after"]) <= 60
        assert "retry" in refused["detail"]
        assert request(port, "GET", "/health")[0] == 200, "liveness is never rate limited"


# -- offline ---------------------------------------------------------------------------------


def test_the_offline_guard_refuses_public_addresses() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        with pytest.raises(ConnectionRefusedError, match="tests run offline"):
            sock.connect(PUBLIC_ADDRESS)
        with pytest.raises(ConnectionRefusedError, match="tests run offline"):
            sock.connect_ex(PUBLIC_ADDRESS)
    with pytest.raises(urllib.error.URLError, match="tests run offline"):
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy
        direct.open(f"http://{PUBLIC_ADDRESS[0]}/", timeout=2)


def test_the_offline_guard_lets_loopback_through() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=2):
            pass


def test_subprocesses_started_by_the_tests_are_offline_too() -> None:
    probe = (
        "import os, socket\n"
        "assert os.environ['HF_HUB_OFFLINE'] == '1' and os.environ['TRANSFORMERS_OFFLINE'] == '1'\n"
        "for attempt in (lambda: socket.create_connection(('203.0.113.7', 80), timeout=2),\n"
        "                lambda: socket.getaddrinfo('huggingface.co', 443)):\n"
        "    try:\n        attempt()\n    except OSError as exc:\n"
        "        assert 'tests run offline' in str(exc), exc\n"
        "    else:\n        raise SystemExit('reached the network')\n"
        "print('offline')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO,
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stdout.strip() == "offline", result.stderr
    assert Path(offline_env()["PYTHONPATH"].split(os.pathsep)[0], "sitecustomize.py").is_file()
