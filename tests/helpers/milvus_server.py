"""A Milvus server in a subprocess (Milvus Lite's gRPC server), and a port that hangs.

The server speaks the same protocol as a Milvus standalone, so ``http://127.0.0.1:PORT``
exercises the remote path of the backend: a server that can be killed mid-query.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.helpers.procs import free_port, offline_env, stop, wait_until


def _answers(uri: str) -> bool:
    from pymilvus import MilvusClient

    try:
        MilvusClient(uri=uri, timeout=1).list_collections(timeout=1)
    except Exception:
        return False
    return True


@contextlib.contextmanager
def milvus_server(data_dir: Path) -> Iterator[tuple[str, subprocess.Popen[Any]]]:
    """Start ``python -m milvus_lite server`` on a free port; yield (uri, process)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data_dir),
         "--host", "127.0.0.1", "--port", str(port)],
        env=offline_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        if not wait_until(lambda: process.poll() is None and _answers(uri), timeout=60):
            raise RuntimeError(f"Milvus Lite server did not start (exit {process.poll()})")
        yield uri, process
    finally:
        stop(process)


@contextlib.contextmanager
def silent_port() -> Iterator[str]:
    """A port that accepts connections and never answers: the hang a timeout must end."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not done.is_set():
            with contextlib.suppress(OSError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        done.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        listener.close()
