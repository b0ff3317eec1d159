"""Run one file's extraction in a child process bounded in time and memory."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from dataclasses import asdict

from index.documents.extract.records import Extraction, ExtractSettings


def extract_bounded(kind: str, data: bytes, settings: ExtractSettings) -> Extraction:
    """The extraction of ``data`` (``kind`` is ``pdf`` or ``html``), never raising.

    The child gets ``settings.seconds`` of wall-clock time and ``settings.memory_mb`` of
    address space; past either, or when it dies, the result carries the reason.
    """
    command = [sys.executable, "-m", "index.documents.extract.child", kind, json.dumps(asdict(settings))]
    try:
        child = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: OCR helpers die with it
        )
    except OSError as exc:
        return Extraction(error=f"the extractor could not start ({exc})")
    try:
        out, err = child.communicate(data, timeout=settings.seconds)
    except subprocess.TimeoutExpired:
        _kill_group(child)
        return Extraction(error=timeout_reason(len(data), settings.seconds), timed_out=True)
    finally:
        if child.poll() is None:
            _kill_group(child)
    if child.returncode != 0:
        last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        if "MemoryError" in last[0] or child.returncode < 0:
            return Extraction(error=f"reading it needs more than {settings.memory_mb} MB of "
                              "memory (raise QA_EXTRACT_MEMORY_MB)")
        return Extraction(error=f"the extractor failed ({last[0][:200]})")
    try:
        return Extraction.from_json(json.loads(out.decode("utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        return Extraction(error=f"the extractor gave no readable result ({exc})")


SECONDS_PER_KB = 0.2  # a slow reading (about 5 KB of PDF per page, 1 s a page): more
# time than this for a file means it is not the file's size that takes it


def timeout_reason(size: int, seconds: float) -> str:
    """Why a file of ``size`` bytes was not read within ``seconds``: raising the bound is
    advised only when a file that size could need more time."""
    if size / 1024 * SECONDS_PER_KB > seconds:
        return f"reading it took longer than {seconds:g} s (raise QA_EXTRACT_SECONDS)"
    return (f"reading it took longer than {seconds:g} s, though it is only {size / 1024:.1f} KB:"
            " it is damaged or built to never finish (a loop); more time would not help")


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.communicate()
