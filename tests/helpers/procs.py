"""Run ``qa`` as a real subprocess: offline, quiet, and easy to kill."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
OFFLINE_SITE = Path(__file__).resolve().with_name("offline_site")
# Where a proxy-aware client would send traffic: the discard port on loopback, closed.
DEAD_PROXY = "http://127.0.0.1:9"


def offline_env(**overrides: str) -> dict[str, str]:
    """The environment for a subprocess that must not reach the network.

    Hub and transformers switches are set to offline, proxies point at a closed loopback
    port, and ``sitecustomize`` from ``offline_site`` refuses non-loopback sockets. Any
    ``QA_*`` setting of the developer's shell is dropped so the test decides them all.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        TRANSFORMERS_VERBOSITY="error",
        TOKENIZERS_PARALLELISM="false",
        HTTP_PROXY=DEAD_PROXY,
        HTTPS_PROXY=DEAD_PROXY,
        ALL_PROXY=DEAD_PROXY,
        http_proxy=DEAD_PROXY,
        https_proxy=DEAD_PROXY,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYTHONPATH=os.pathsep.join(
            p for p in (str(OFFLINE_SITE), str(REPO), env.get("PYTHONPATH", "")) if p
        ),
    )
    env.update(overrides)
    return env


def qa_command(*args: str | Path) -> list[str]:
    """The command line of ``qa`` run from this checkout with this interpreter."""
    return [sys.executable, "-m", "qa.cli", *(str(a) for a in args)]


def run_qa(*args: str | Path, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``qa`` to completion and capture its output."""
    return subprocess.run(
        qa_command(*args),
        cwd=REPO,
        env=offline_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_qa(*args: str | Path, log: Path | None = None, **env: str) -> subprocess.Popen[Any]:
    """Start ``qa`` in the background (its output to ``log``, or discarded)."""
    sink: Any = log.open("wb") if log is not None else subprocess.DEVNULL
    try:
        return subprocess.Popen(
            qa_command(*args),
            cwd=REPO,
            env=offline_env(**env),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    finally:
        if log is not None:
            sink.close()


def stop(process: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """End a process this test started: SIGTERM, then SIGKILL after ``grace`` seconds."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_kib(pid: int) -> int:
    """Resident memory of a process in KiB, from ``/proc/<pid>/status``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def wait_until(predicate: Any, timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
