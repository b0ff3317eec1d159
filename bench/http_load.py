"""The real server in a subprocess on a free loopback port, and bounded load against it.

Only 127.0.0.1 is ever contacted. Every loop is bounded by a request count and a deadline.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.measure import latency

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port that is free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _get_status(port: int, path: str, timeout: float = 2.0) -> int:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@contextmanager
def running_server(
    corpus: Path,
    index_dir: Path,
    log: Path,
    env: dict[str, str] | None = None,
    ready_s: float = 300,
) -> Iterator[int]:
    """Start ``qa serve`` on a free loopback port; yield the port once /ready says 200.

    Raises:
        RuntimeError: the server exited or was not ready within ``ready_s`` (the log's tail
            is in the message).
    """
    with server_process(corpus, index_dir, log, env, ready_s) as (port, _process):
        yield port


@contextmanager
def server_process(
    corpus: Path,
    index_dir: Path,
    log: Path,
    env: dict[str, str] | None = None,
    ready_s: float = 300,
    python: str = sys.executable,
    cwd: Path | None = None,
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """``running_server`` with the process, run by ``python`` in ``cwd`` (another checkout)."""
    port = free_port()
    command = [python, "-m", "qa.cli", "serve", "--corpus", str(corpus)]
    command += ["--index-dir", str(index_dir), "--host", HOST, "--port", str(port)]
    full_env = {**os.environ, **(env or {})}
    with log.open("w") as handle:
        process = subprocess.Popen(
            command, stdout=handle, stderr=subprocess.STDOUT, env=full_env, cwd=cwd
        )
    try:
        deadline = time.monotonic() + ready_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited ({process.returncode}): {_tail(log)}")
            try:
                if _get_status(port, "/ready") == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server was not ready in {ready_s:.0f} s: {_tail(log)}")
            time.sleep(0.2)
        yield port, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class AskClient:
    """One keep-alive connection that posts questions to /ask."""

    def __init__(self, port: int, timeout: float = 120.0) -> None:
        self.port = port
        self.timeout = timeout
        self._conn = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def ask(self, question: str) -> tuple[int, float, dict[str, Any] | None]:
        """(status, milliseconds, body) for one question; status 0 on a connection error."""
        body = json.dumps({"question": question}).encode()
        headers = {"Content-Type": "application/json"}
        started = time.perf_counter()
        try:
            self._conn.request("POST", "/ask", body=body, headers=headers)
            response = self._conn.getresponse()
            raw = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            parsed = json.loads(raw) if response.status == 200 else None
            return response.status, elapsed, parsed
        except (OSError, http.client.HTTPException, ValueError):
            self.close()
            self._conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            return 0, (time.perf_counter() - started) * 1000, None

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


def concurrent_load(
    port: int, questions: Sequence[str], clients: int, deadline_s: float = 300.0
) -> dict[str, Any]:
    """``clients`` threads share out ``questions`` (each asked once) as fast as answered.

    Returns:
        p50/p95 latency, requests per second over the wall time, errors and counts.
    """
    lock = threading.Lock()
    queue = list(reversed(questions))
    times: list[float] = []
    errors: list[int] = []
    stop_at = time.monotonic() + deadline_s

    def worker() -> None:
        client = AskClient(port)
        try:
            while time.monotonic() < stop_at:
                with lock:
                    if not queue:
                        return
                    question = queue.pop()
                status, ms, _ = client.ask(question)
                with lock:
                    if status == 200:
                        times.append(ms)
                    else:
                        errors.append(status)
        finally:
            client.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    done = len(times) + len(errors)
    return {
        "clients": clients,
        "requests": done,
        "unsent": len(queue),
        "errors": len(errors),
        "error_statuses": sorted(set(errors)),
        "wall_s": round(wall, 2),
        "rps": round(len(times) / wall, 3) if wall > 0 else 0.0,
        "latency_ms": latency(times),
    }
