"""A real ``qa index`` SIGKILLed during incremental builds: the previous version keeps
serving, no cache entry is left damaged, and the next build equals a build from nothing.

Each round adds a document of new sentences (all to be annotated, their entries written)
and kills the build at a moment drawn over the length of an uninterrupted incremental
build: during start-up, reading, embedding, annotating, writing cache entries, writing
or publishing the version. The fake encoder (``QA_MODEL=hashing-64``) keeps it fast: the
cache is the same code whatever the model.
"""

from __future__ import annotations

import json
import random
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from index.builder import build_index
from index.cache import damaged_entries
from index.config import BuildConfig
from index.encode.hashing import HashingEmbedder
from index.loader import load_index
from index.store import MANIFEST, read_pointer
from tests.helpers.procs import REPO, offline_env, qa_command
from tests.test_incremental import CHAPTER, TIMES

MARKER = re.compile(r"Round marker (\w+)\.")
KILLS = 6


def add_round(corpus: Path, token: str) -> None:
    """A document whose every sentence is new: the chapter's paragraphs, each prefixed."""
    paragraphs = [p for p in CHAPTER.read_text("utf-8").split("\n\n") if p.strip()][:60]
    body = "\n\n".join(f"In round {token}, {p[:1].lower()}{p[1:]}" for p in paragraphs)
    (corpus / f"round-{token}.txt").write_text(f"Round marker {token}.\n\n{body}\n", "utf-8")


def markers(index_dir: Path) -> set[str]:
    """The round markers of the index as loaded, every checksum verified."""
    index = load_index(index_dir, verify=True)
    return {m.group(1) for c in index.chunks for m in MARKER.finditer(c.text)}


def run_build(corpus: Path, index_dir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        qa_command("index", "--corpus", corpus, "--index-dir", index_dir),
        cwd=REPO, env=offline_env(QA_MODEL="hashing-64"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def content(version: Path) -> dict[str, Any]:
    manifest = json.loads((version / MANIFEST).read_text("utf-8"))
    return {k: v for k, v in manifest.items() if k not in TIMES}


def test_a_kill_during_an_incremental_build_leaves_the_old_version_and_a_sound_cache(
    tmp_path: Path,
) -> None:
    corpus, index_dir = (tmp_path / "corpus").resolve(), (tmp_path / "index").resolve()
    corpus.mkdir()
    (corpus / "chapter.txt").write_bytes(CHAPTER.read_bytes())
    add_round(corpus, "r0")
    assert run_build(corpus, index_dir).wait(300) == 0
    add_round(corpus, "r1")
    started = time.monotonic()
    assert run_build(corpus, index_dir).wait(300) == 0
    length = time.monotonic() - started
    served = written = {"r0", "r1"}
    assert markers(index_dir) == served
    rng = random.Random(22)
    killed = before_publish = 0
    for attempt in range(3 * KILLS):
        if killed == KILLS:
            break
        token = f"k{attempt}"
        add_round(corpus, token)
        written = written | {token}
        before = read_pointer(index_dir)[0]
        process = run_build(corpus, index_dir)
        time.sleep(rng.uniform(0.3, 1.1) * length)
        finished = process.poll() is not None
        process.send_signal(signal.SIGKILL)
        process.wait()
        now = markers(index_dir)
        if read_pointer(index_dir)[0] == before:
            assert now == served, "the previous version serves until the new one is published"
            before_publish += not finished
        else:
            assert now == written, "the new version holds every round in the corpus"
            served = now
        killed += not finished
        assert damaged_entries(index_dir) == [], "a killed build leaves no damaged entry"
    assert killed == KILLS, f"only {killed} builds were killed before they finished"
    assert before_publish >= KILLS // 2, f"{before_publish} kills landed before the publish"
    print(f"\n[incremental kill] {killed} builds killed, {before_publish} before the publish")
    assert run_build(corpus, index_dir).wait(300) == 0
    after = read_pointer(index_dir)[0]
    fresh = build_index(corpus, tmp_path / "fresh", BuildConfig(model="hashing-64",
                        cache_bytes=0), HashingEmbedder(64))
    assert content(after) == content(fresh.version), "the cache was not poisoned"
    assert not list((index_dir / "cache").rglob("*.tmp")), "leftovers of killed writes removed"
