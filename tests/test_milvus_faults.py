"""Milvus down, silent or killed mid-query: one clear error (CLI) or a 503 (HTTP), no hang."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from qa.errors import BackendUnavailable, ConfigError
from tests.helpers.milvus_server import milvus_server, silent_port
from tests.helpers.procs import free_port, run_qa, stop
from tests.helpers.servers import local_client

FILES = {
    "a.txt": "1 First\nThe first report was filed in 2001. It covers harbour dredging.\n",
    "b.txt": "2 Second\nThe second report was filed in 2002. It covers grain storage.\n",
}
TIMEOUT = 2.0


def test_cli_with_milvus_unreachable_prints_one_line_and_fails(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(FILES["a.txt"])
    uri = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    result = run_qa("ask", "When was the first report filed?", "--corpus", corpus,
                    "--index-dir", tmp_path / "index", QA_BACKEND="milvus", QA_MILVUS_URI=uri,
                    QA_MILVUS_TIMEOUT=str(TIMEOUT), QA_MODEL="hashing-64")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"qa: error: Milvus at {uri} failed while connecting")
    assert time.monotonic() - started < 120  # the model is never loaded: it fails first


def test_a_port_that_never_answers_times_out(make_service: Callable[..., Any]) -> None:
    with silent_port() as uri:
        service = make_service(FILES, backend="milvus", milvus_uri=uri,
                               milvus_timeout=TIMEOUT)
        started = time.monotonic()
        with pytest.raises(BackendUnavailable, match=f"Milvus at {uri}"):
            service.open()
        assert time.monotonic() - started < 10 * TIMEOUT


def test_a_bad_uri_is_a_config_error(make_service: Callable[..., Any]) -> None:
    service = make_service(FILES, backend="milvus", milvus_uri="/tmp/not-a-db-file")
    with pytest.raises(ConfigError, match="QA_MILVUS_URI"):
        service.open()


@pytest.mark.slow
def test_server_killed_mid_query_gives_an_error_then_a_503(
    make_service: Callable[..., Any], tmp_path: Path
) -> None:
    with milvus_server(tmp_path / "engine") as (uri, process):
        service = make_service(FILES, backend="milvus", milvus_uri=uri,
                               milvus_timeout=TIMEOUT, cache_size=0)
        service.open()
        # the engine answers before it is killed (which year the reader picks is not the
        # point here: the trained reader takes the second report's year on this toy corpus)
        before = service.ask("When was the first report filed?")
        assert not before.abstained and before.answer in {"2001", "2002"}
        with local_client(create_app(service.settings, service)) as client:
            ok = client.post("/ask", json={"question": "When was the second report filed?"})
            assert ok.status_code == 200, ok.text
            stop(process)
            started = time.monotonic()
            with pytest.raises(BackendUnavailable, match=f"Milvus at {uri}"):
                service.ask("What does the second report cover?")
            down = client.post("/ask", json={"question": "What does the first report cover?"})
            assert time.monotonic() - started < 20 * TIMEOUT
    assert down.status_code == 503
    body = down.json()
    assert f"Milvus at {uri}" in body["detail"] and "Traceback" not in down.text


def test_http_with_milvus_unreachable_at_start_answers_503(
    make_service: Callable[..., Any],
) -> None:
    uri = f"http://127.0.0.1:{free_port()}"
    service = make_service(FILES, backend="milvus", milvus_uri=uri, milvus_timeout=TIMEOUT)
    with local_client(create_app(service.settings, service)) as client:
        deadline = time.monotonic() + 10 * TIMEOUT
        ready = client.get("/ready")
        while "still loading" in ready.text and time.monotonic() < deadline:
            time.sleep(0.1)
            ready = client.get("/ready")
        asked = client.post("/ask", json={"question": "When was the first report filed?"})
    assert ready.status_code == 503 and f"Milvus at {uri}" in ready.json()["detail"]
    assert asked.status_code == 503 and f"Milvus at {uri}" in asked.json()["detail"]
