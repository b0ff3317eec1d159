"""Milvus down, silent or killed mid-query: one clear error (CLI) or a 503 (HTTP), no hang."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from index.search.milvus import connect
from index.search.milvus_target import MilvusTarget
from qa.errors import BackendUnavailable, ConfigError, QAError
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


def ready_then_ask(service: Any) -> tuple[Any, Any]:
    """``/ready`` once the service stopped loading (or ten timeouts passed), then an ``/ask``."""
    with local_client(create_app(service.settings, service)) as client:
        deadline = time.monotonic() + 10 * TIMEOUT
        ready = client.get("/ready")
        while "still loading" in ready.text and time.monotonic() < deadline:
            time.sleep(0.1)
            ready = client.get("/ready")
        asked = client.post("/ask", json={"question": "When was the first report filed?"})
    return ready, asked


def test_http_with_milvus_unreachable_at_start_answers_503(
    make_service: Callable[..., Any],
) -> None:
    uri = f"http://127.0.0.1:{free_port()}"
    service = make_service(FILES, backend="milvus", milvus_uri=uri, milvus_timeout=TIMEOUT)
    ready, asked = ready_then_ask(service)
    assert ready.status_code == 503 and f"Milvus at {uri}" in ready.json()["detail"]
    assert asked.status_code == 503 and f"Milvus at {uri}" in asked.json()["detail"]


# -- issue 24, finding 2: the libraries' logging stays off the terminal ---------------------


def test_a_failing_engine_call_logs_nothing(make_service: Callable[..., Any],
                                            capfd: pytest.CaptureFixture[str]) -> None:
    service = make_service(FILES, backend="milvus", chunk_tokens=24, cache_size=0)
    service.open()
    target = service.settings.milvus_target()
    connect(target).drop_collection(service.loaded.index.manifest["backend"]["collection"])
    capfd.readouterr()
    with pytest.raises(QAError) as failed:
        service.ask("When was the second report filed?")
    message = str(failed.value)
    assert message.startswith(f"the Milvus Lite database {target.uri}")
    assert "check that it runs" not in message  # a local file: nothing to start
    assert capfd.readouterr() == ("", "")  # pymilvus logged 15 lines of traceback here


# -- issue 24, finding 24: credentials in QA_MILVUS_URI are never shown ----------------------

SECRET = "s3cret-Pw0rd"


def test_a_password_in_the_uri_is_not_in_any_cli_line(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(FILES["a.txt"])
    args = ("--corpus", corpus, "--index-dir", tmp_path / "index")
    env = {"QA_BACKEND": "milvus", "QA_MILVUS_TIMEOUT": str(TIMEOUT), "QA_MODEL": "hashing-64"}
    port = free_port()
    for uri, command in (
        (f"http://admin:{SECRET}@127.0.0.1:{port}", ("index",)),
        (f"http://admin:{SECRET}@127.0.0.1:{port}", ("ask", "When was it filed?")),
        (f"ftp://admin:{SECRET}@milvus.internal/x", ("index",)),  # refused by its scheme
    ):
        result = run_qa(*command, *args, QA_MILVUS_URI=uri, **env)
        assert result.returncode == 2, result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("qa: error: ") and "admin:" not in last
        assert f"://***@{uri.split('@')[1].split('/')[0]}" in last
        assert SECRET not in result.stdout + result.stderr


def test_a_password_in_the_uri_is_not_in_a_503(make_service: Callable[..., Any]) -> None:
    uri = f"http://admin:{SECRET}@127.0.0.1:{free_port()}"
    service = make_service(FILES, backend="milvus", milvus_uri=uri, milvus_timeout=TIMEOUT)
    ready, asked = ready_then_ask(service)
    for response in (ready, asked):
        assert response.status_code == 503
        assert "Milvus at http://***@127.0.0.1:" in response.json()["detail"]
        assert SECRET not in response.text


def test_secrets_are_scrubbed_from_engine_messages() -> None:
    target = MilvusTarget(f"http://admin:{SECRET}@db:19530", token=f"root:{SECRET}2")
    said = target.scrub(f"refused http://admin:{SECRET}@db:19530 for root:{SECRET}2 ({SECRET})")
    assert said == "refused http://***@db:19530 for *** (***)"
    assert target.shown == "http://***@db:19530"
    assert MilvusTarget("/data/milvus.db").shown == "/data/milvus.db"


@pytest.mark.slow
def test_a_password_in_the_uri_is_not_written_to_the_manifest(
    make_service: Callable[..., Any], tmp_path: Path
) -> None:
    with milvus_server(tmp_path / "engine") as (uri, _process):
        with_password = uri.replace("http://", f"http://admin:{SECRET}@")
        service = make_service(FILES, backend="milvus", milvus_uri=with_password,
                               chunk_tokens=24)
        service.open()
        manifest = (service.loaded.index.version / "manifest.json").read_text("utf-8")
        assert SECRET not in manifest and "http://***@127.0.0.1" in manifest
        assert service.status().current
        # another password for the same server: the same index, nothing to rebuild
        other = service.settings.model_copy(
            update={"milvus_uri": uri.replace("http://", "http://admin:other@")})
        assert type(service)(other, embedder=service.embedder).status().current
