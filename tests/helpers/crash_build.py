"""Build indexes that die abruptly just before a chosen file-system step.

    python -m tests.helpers.crash_build CORPUS INDEX_DIR

Reads one number N per line on stdin. For each, a forked child builds the index and dies
with ``os._exit`` -- no cleanup, no ``finally`` -- just before the N-th call that writes,
flushes, renames or deletes index files, as if killed at that moment. The parent prints
the child's exit status (0: the build finished before step N; 137: it died) and waits for
the next number, so the test can inspect the index folder between crashes. Forking from
one warm process keeps each crash to a fraction of a second. Uses the hashing embedder:
this exercises the store, not the model.
"""

from __future__ import annotations

import functools
import os
import pathlib
import shutil
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import index.store
from index.builder import build_index
from index.config import BuildConfig
from index.encode.hashing import HashingEmbedder
from index.text.tokens import count_tokens

DIED = 137


def _dying_at(step: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    calls = 0

    def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def counted(*args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls == step:
                os._exit(DIED)
            return func(*args, **kwargs)

        return counted

    return wrap


def _build_and_die(corpus: Path, index_dir: Path, step: int) -> None:
    wrap = _dying_at(step)
    index.store._fsync_path = wrap(index.store._fsync_path)
    os.rename = wrap(os.rename)
    os.replace = wrap(os.replace)
    shutil.rmtree = wrap(shutil.rmtree)  # type: ignore[assignment]
    pathlib.Path.write_text = wrap(pathlib.Path.write_text)  # type: ignore[method-assign]
    build_index(corpus, index_dir, BuildConfig(), HashingEmbedder())


def main(argv: list[str]) -> int:
    corpus, index_dir = Path(argv[0]), Path(argv[1])
    import bm25s  # noqa: F401  -- load once, before forking
    import faiss  # noqa: F401

    count_tokens("warm up")  # loads the tokenizer's tables

    print("ready", flush=True)
    for line in sys.stdin:
        step = int(line)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _build_and_die(corpus, index_dir, step)
            except BaseException:
                traceback.print_exc()
                code = 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
