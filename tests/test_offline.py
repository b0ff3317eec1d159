"""Indexing and answering work with the network unavailable.

The session-wide guard in conftest refuses every non-loopback connection. These tests
check the guard is really on, then load the model afresh, build an index from scratch and
answer a question under it -- recording every connection attempt, so a silent fallback
(a library that tries the network, fails and carries on) is caught too.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from index.encode.base import DEFAULT_MODEL
from index.encode.onnx_embedder import OnnxEmbedder
from qa.service import QAService
from qa.settings import Settings

CHAPTER = Path(__file__).resolve().parents[1] / "corpus" / (
    "diplomatic-bluebook-2025-ch3-japan-us-security.txt"
)
PUBLIC_ADDRESSES = [("93.184.215.14", 80), ("1.1.1.1", 443), ("2606:4700:4700::1111", 443, 0, 0)]


def _is_loopback(address: Any) -> bool:
    if isinstance(address, (str, bytes)):
        return True
    host = str(address[0])
    return host in ("localhost", "::1", "") or host.startswith("127.")


@pytest.fixture()
def connection_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every INET connection attempted while the test runs (the guard still decides)."""
    attempts: list[Any] = []
    guarded_connect = socket.socket.connect
    guarded_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
        return guarded_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
        return guarded_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield attempts


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_the_guard_refuses_public_addresses(address: tuple[Any, ...]) -> None:
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        with pytest.raises(ConnectionRefusedError, match="tests run offline"):
            sock.connect(address)
        with pytest.raises(ConnectionRefusedError, match="tests run offline"):
            sock.connect_ex(address)


def test_the_guard_refuses_create_connection() -> None:
    with pytest.raises(OSError, match="tests run offline"):
        socket.create_connection(("1.1.1.1", 443), timeout=2)


def test_the_guard_allows_loopback() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2):
            pass


@pytest.mark.slow
def test_build_and_answer_offline(
    tmp_path: Path, connection_log: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the offline switches, a library that wanted the network would try it.
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CHAPTER, corpus / CHAPTER.name)
    # a fresh export of the model to ONNX (torch + sentence-transformers), not the session's
    embedder = OnnxEmbedder(DEFAULT_MODEL, cache=tmp_path / "encoders")
    folders: dict[str, Any] = {"corpus_dir": corpus, "index_dir": tmp_path / "index"}
    service = QAService(Settings(**folders), embedder=embedder)
    assert not service.status().current
    service.open()
    assert service.last_build is not None and service.last_build.chunks > 30
    assert service.status().current
    assert (tmp_path / "encoders" / embedder.encoder()["folder"] / "model.onnx").is_file()
    answer = service.ask("When was the Extended Deterrence Dialogue established?")
    assert not answer.abstained
    assert answer.answer is not None and "2010" in answer.answer
    text = (corpus / CHAPTER.name).read_bytes().decode("utf-8")
    citation = answer.citations[0]
    assert citation.quote == text[citation.start : citation.end]
    public = [a for a in connection_log if not _is_loopback(a)]
    assert public == [], f"network was attempted: {public}"
    # The guard is still on after all that.
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("1.1.1.1", 443))


def _network_namespace_available() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    probe = subprocess.run([unshare, "-rn", "true"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _network_namespace_available(), reason="cannot create a network namespace")
def test_console_script_without_any_network(tmp_path: Path) -> None:
    """The installed ``qa`` in a network namespace with no interface up: a real outage."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "accord.txt").write_text(
        "1 Accord\n\nThe Zorblat Accord was signed in Quito in 1987. It ended a dispute.\n",
        encoding="utf-8",
    )
    script = Path(sys.executable).with_name("qa")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    result = subprocess.run(
        [
            "unshare", "-rn", str(script), "ask", "When was the Zorblat Accord signed?",
            "--corpus", str(corpus), "--index-dir", str(tmp_path / "index"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "1987" in result.stdout
    assert (tmp_path / "index" / "CURRENT").is_file()


def test_name_lookups_of_public_hosts_are_refused() -> None:
    import socket

    import pytest as _pytest

    with _pytest.raises(socket.gaierror, match="offline"):
        socket.getaddrinfo("huggingface.co", 443)
    assert socket.getaddrinfo("127.0.0.1", 80)  # loopback still resolves
