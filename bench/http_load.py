"""Load on a running server over HTTP, loopback only: the benchmarks' server and load, and
a command that measures ``POST /ask`` of a server already running.

    python -m bench.http_load --url http://127.0.0.1:8000

The command runs three bounded phases: one client asking distinct questions (so the answer
cache never helps), one client repeating one question (the cached path), and several
clients at once asking distinct questions (requests per second). ``bench.run`` and
``bench.serve_memory`` start the real server in a subprocess on a free loopback port
(``running_server``, ``server_process``) and put load on it with the same client and
``concurrent_load``. Only loopback addresses are ever contacted; every loop is bounded by a
request count and a deadline.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.measure import latency

HOST = "127.0.0.1"
TOPICS = (
    "the Extended Deterrence Dialogue",
    "host nation support",
    "the Senkaku Islands",
    "the Japan-U.S. Security Consultative Committee",
    "U.S. Forces in Japan",
    "Okinawa",
    "the Guidelines for Japan-U.S. Defense Cooperation",
    "the SEED program",
    "the DICAS Forum",
    "the Alliance Coordination Mechanism",
    "the relocation of Futenma",
    "the Special Measures Agreement",
    "missile defense",
    "the United Nations Command",
    "extended deterrence",
)
TEMPLATES = (
    "When was {} established?",
    "What is {}?",
    "Who discussed {}?",
    "Where was the meeting on {} held?",
    "Why does {} matter to the Alliance?",
    "What did the ministers agree about {}?",
    "How is {} funded?",
)
PREFIXES = ("", "Please tell me: ", "In the Diplomatic Bluebook, ")


def distinct_questions(count: int, tag: str = "", seed: int = 7) -> list[str]:
    """``count`` different questions about the chapter, in a fixed shuffled order.

    Args:
        count: how many.
        tag: appended to every question, so that a second run against the same server does
            not hit its answer cache.
        seed: the shuffle.
    """
    suffix = f" ({tag})" if tag else ""
    pool = [
        p + t.format(topic) + suffix
        for p, t, topic in itertools.product(PREFIXES, TEMPLATES, TOPICS)
    ]
    if count > len(pool):
        raise ValueError(f"at most {len(pool)} distinct questions are available")
    random.Random(seed).shuffle(pool)
    return pool[:count]


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
    """One keep-alive connection that posts questions to /ask.

    Args:
        port: the server's port.
        timeout: seconds per request.
        host: a loopback address (``HOST`` by default).
        api_key: sent as a bearer token when given.
    """

    def __init__(self, port: int, timeout: float = 120.0, host: str = HOST,
                 api_key: str | None = None) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self._conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def ask(self, question: str, k: int | None = None) -> tuple[int, float, dict[str, Any] | None]:
        """(status, milliseconds, body) for one question; status 0 on a connection error.

        ``k`` is sent when given (else the server's default)."""
        request: dict[str, Any] = {"question": question}
        if k is not None:
            request["k"] = k
        started = time.perf_counter()
        try:
            self._conn.request("POST", "/ask", body=json.dumps(request).encode(),
                               headers=self.headers)
            response = self._conn.getresponse()
            raw = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            parsed = json.loads(raw) if response.status == 200 else None
            return response.status, elapsed, parsed
        except (OSError, http.client.HTTPException, ValueError):
            self.close()
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            return 0, (time.perf_counter() - started) * 1000, None

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


@dataclass
class Load:
    """What ``run_load`` measured: successful latencies and error statuses."""

    clients: int
    times_ms: list[float] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)  # statuses; 0: no answer at all
    unsent: int = 0
    wall_s: float = 0.0


def run_load(port: int, questions: Sequence[str], clients: int, stop_at: float,
             host: str = HOST, k: int | None = None, api_key: str | None = None,
             timeout: float = 120.0) -> Load:
    """``clients`` threads share out ``questions`` (each asked once) as fast as answered,
    until they are all asked or ``time.monotonic()`` passes ``stop_at``."""
    load = Load(clients)
    lock = threading.Lock()
    queue = list(reversed(questions))

    def worker() -> None:
        client = AskClient(port, timeout, host, api_key)
        try:
            while time.monotonic() < stop_at:
                with lock:
                    if not queue:
                        return
                    question = queue.pop()
                status, ms, _ = client.ask(question, k)
                with lock:
                    if status == 200:
                        load.times_ms.append(ms)
                    else:
                        load.errors.append(status)
        finally:
            client.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load.wall_s = time.perf_counter() - started
    load.unsent = len(queue)
    return load


def concurrent_load(
    port: int, questions: Sequence[str], clients: int, deadline_s: float = 300.0
) -> dict[str, Any]:
    """``clients`` threads share out ``questions`` (each asked once) as fast as answered.

    Returns:
        p50/p95 latency, requests per second over the wall time, errors and counts.
    """
    load = run_load(port, questions, clients, time.monotonic() + deadline_s)
    wall = load.wall_s
    return {
        "clients": clients,
        "requests": len(load.times_ms) + len(load.errors),
        "unsent": load.unsent,
        "errors": len(load.errors),
        "error_statuses": sorted(set(load.errors)),
        "wall_s": round(wall, 2),
        "rps": round(len(load.times_ms) / wall, 3) if wall > 0 else 0.0,
        "latency_ms": latency(load.times_ms),
    }


# -- the command: three phases against a running server -------------------------------


def phase_row(name: str, load: Load) -> dict[str, float | int | str]:
    """One line of the command's table."""
    done = len(load.times_ms)
    return {
        "phase": name,
        "clients": load.clients,
        "requests": done,
        "errors": len(load.errors),
        "p50_ms": round(percentile(load.times_ms, 50), 1),
        "p95_ms": round(percentile(load.times_ms, 95), 1),
        "max_ms": round(max(load.times_ms, default=0.0), 1),
        "requests_per_s": round(done / load.wall_s, 2) if load.wall_s > 0 else 0.0,
    }


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile with linear interpolation (0.0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _loopback_target(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme != "http" or not loopback:
        raise SystemExit(f"http_load: only http:// on loopback is allowed, not {url!r}")
    return host, parts.port or 80


def main(argv: Sequence[str] | None = None) -> int:
    """Run the three phases against ``--url`` and print their figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.http_load", description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the server (loopback)")
    parser.add_argument("--requests", type=int, default=50, help="requests per phase (max 150)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (max 32)")
    parser.add_argument("--k", type=int, default=5, help="passages per answer")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="stop after this long")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--tag",
        default=f"run {os.getpid()}-{int(time.time()) % 100_000}",
        help="appended to each question so reruns miss the server's answer cache",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= 150 or not 1 <= args.clients <= 32:
        parser.error("--requests must be 1-150 and --clients 1-32")
    host, port = _loopback_target(args.url)
    api_key = os.environ.get("QA_API_KEY")
    stop_at = time.monotonic() + args.max_seconds

    def phase(questions: list[str], clients: int) -> Load:
        return run_load(port, questions, clients, stop_at, host, args.k, api_key, args.timeout)

    fresh = distinct_questions(2 * args.requests + 1, tag=args.tag)
    warm = AskClient(port, args.timeout, host, api_key)
    status, _, _ = warm.ask(fresh[0], args.k)  # the first request pays for lazy set-up
    warm.close()
    if status != 200:
        raise SystemExit(f"http_load: the first request failed ({status or 'no answer'})")
    phases = {
        "distinct, 1 client": phase(fresh[1 : args.requests + 1], 1),
        "repeated, 1 client": phase([fresh[0]] * args.requests, 1),
        f"distinct, {args.clients} clients": phase(fresh[args.requests + 1 :], args.clients),
    }
    rows = [phase_row(name, load) for name, load in phases.items()]
    _print_rows(rows, args.json)
    return 1 if any(load.errors for load in phases.values()) else 0


def _print_rows(rows: list[dict[str, float | int | str]], as_json: bool) -> None:
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'phase':<22} {'n':>4} {'err':>4} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'req/s':>7}")
    for r in rows:
        print(
            f"{r['phase']!s:<22} {r['requests']:>4} {r['errors']:>4} {r['p50_ms']:>9} "
            f"{r['p95_ms']:>9} {r['max_ms']:>9} {r['requests_per_s']:>7}"
        )


if __name__ == "__main__":
    sys.exit(main())
