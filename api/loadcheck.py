"""Measure ``POST /ask`` latency and throughput of a running server, on loopback only.

    python -m api.loadcheck --url http://127.0.0.1:8000

Three bounded phases: one client asking distinct questions (so the answer cache never
helps), one client repeating one question (the cached path), and several clients at once
asking distinct questions (requests per second). Standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import itertools
import json
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

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


@dataclass
class Phase:
    """The outcome of one phase."""

    name: str
    clients: int
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    errors: int = 0
    wall: float = 0.0

    def summary(self) -> dict[str, float | int | str]:
        done = len(self.latencies)
        return {
            "phase": self.name,
            "clients": self.clients,
            "requests": done,
            "errors": self.errors,
            "p50_ms": round(percentile(self.latencies, 50) * 1000, 1),
            "p95_ms": round(percentile(self.latencies, 95) * 1000, 1),
            "max_ms": round(max(self.latencies, default=0.0) * 1000, 1),
            "requests_per_s": round(done / self.wall, 2) if self.wall > 0 else 0.0,
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


class Client:
    """One keep-alive HTTP connection asking questions."""

    def __init__(self, host: str, port: int, api_key: str | None, timeout: float) -> None:
        self.connection = http.client.HTTPConnection(host, port, timeout=timeout)
        self.headers = {"Content-Type": "application/json"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"

    def ask(self, question: str, k: int) -> float:
        """Seconds the request took; raises on a non-200 answer."""
        body = json.dumps({"question": question, "k": k}).encode()
        started = time.perf_counter()
        self.connection.request("POST", "/ask", body=body, headers=self.headers)
        response = self.connection.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {payload[:200]!r}")
        return elapsed

    def close(self) -> None:
        self.connection.close()


def run_phase(
    name: str,
    questions: list[str],
    clients: int,
    make_client: Callable[[], Client],
    k: int,
    deadline: float,
) -> Phase:
    """Ask ``questions`` spread over ``clients`` threads, stopping at ``deadline``."""
    phase = Phase(name, clients)
    lock = threading.Lock()
    queue = iter(questions)

    def worker() -> None:
        client = make_client()
        try:
            while time.monotonic() < deadline:
                with lock:
                    question = next(queue, None)
                if question is None:
                    return
                try:
                    elapsed = client.ask(question, k)
                except (OSError, RuntimeError, http.client.HTTPException) as exc:
                    with lock:
                        phase.errors += 1
                    print(f"  error: {exc}", file=sys.stderr)
                    client.close()
                    client = make_client()
                    continue
                with lock:
                    phase.latencies.append(elapsed)
        finally:
            client.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.wall = time.perf_counter() - started
    return phase


def _loopback_target(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme != "http" or not loopback:
        raise SystemExit(f"loadcheck: only http:// on loopback is allowed, not {url!r}")
    return host, parts.port or 80


def main(argv: Sequence[str] | None = None) -> int:
    """Run the three phases and print their figures."""
    parser = argparse.ArgumentParser(prog="python -m api.loadcheck", description=__doc__)
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

    def make_client() -> Client:
        return Client(host, port, api_key, args.timeout)

    deadline = time.monotonic() + args.max_seconds
    fresh = distinct_questions(2 * args.requests + 1, tag=args.tag)
    warm = make_client()
    warm.ask(fresh[0], args.k)  # the first request pays for lazy set-up; not counted
    warm.close()
    phases = [
        run_phase(
            "distinct, 1 client", fresh[1 : args.requests + 1], 1, make_client, args.k, deadline
        ),
        run_phase(
            "repeated, 1 client", [fresh[0]] * args.requests, 1, make_client, args.k, deadline
        ),
        run_phase(
            f"distinct, {args.clients} clients",
            fresh[args.requests + 1 :],
            args.clients,
            make_client,
            args.k,
            deadline,
        ),
    ]
    rows = [p.summary() for p in phases]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(
            f"{'phase':<22} {'n':>4} {'err':>4} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'req/s':>7}"
        )
        for r in rows:
            print(
                f"{r['phase']!s:<22} {r['requests']:>4} {r['errors']:>4} {r['p50_ms']:>9} "
                f"{r['p95_ms']:>9} {r['max_ms']:>9} {r['requests_per_s']:>7}"
            )
    return 1 if any(p.errors for p in phases) else 0


if __name__ == "__main__":
    sys.exit(main())
