"""``python -m bench.http_load``: its arithmetic, its loopback-only rule, one tiny real run."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn

from api.app import create_app
from bench.http_load import distinct_questions, main, percentile


def test_percentile_interpolates() -> None:
    assert percentile([], 50) == 0.0
    assert percentile([3.0], 95) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile(list(map(float, range(101))), 95) == pytest.approx(95.0)


def test_questions_are_distinct_and_stable() -> None:
    questions = distinct_questions(301)
    assert len(set(questions)) == 301
    assert distinct_questions(10) == questions[:10]
    assert distinct_questions(2, tag="run 1") == [q + " (run 1)" for q in questions[:2]]
    with pytest.raises(ValueError, match="at most"):
        distinct_questions(10_000)


@pytest.mark.parametrize("url", ["http://example.com:8000", "https://127.0.0.1", "http://10.0.0.1"])
def test_only_loopback_http_is_allowed(url: str) -> None:
    with pytest.raises(SystemExit, match="loopback"):
        main(["--url", url, "--requests", "1"])


@pytest.fixture()
def live_url(make_service: Callable[..., Any]) -> Iterator[str]:
    service = make_service({"a.txt": "1 Alliance\n\nThe EDD was established in 2010.\n"})
    service.open()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(service.settings, service), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


def test_a_small_run_reports_all_three_phases(
    live_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--url", live_url, "--requests", "4", "--clients", "2", "--json"]) == 0
    out = capsys.readouterr().out
    for phase in ("distinct, 1 client", "repeated, 1 client", "distinct, 2 clients"):
        assert phase in out
    assert '"errors": 0' in out
