"""Atomic index writes: a build killed at any moment leaves the old index or the new one.

Three levels of proof:

* every file-system step of a build, crashed in turn (a forked child dies with
  ``os._exit`` just before step N: exhaustive and fast, hashing embedder);
* the real ``qa index --force`` process, real model, SIGKILLed at random moments -- some
  drawn over the whole run (imports, model load, chunking, embedding), some drawn inside
  the short window in which the new version is written and published;
* the leftovers a killed build leaves are harmless and the next build removes them.

After every crash the index must load with every checksum verified and answer the marker
question with the marker of the previous build or of the killed one -- never anything else.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from index.builder import build_index
from index.config import BuildConfig
from index.errors import CorruptIndex
from index.loader import LoadedIndex, load_index
from index.store import CURRENT, read_pointer
from tests.helpers.procs import REPO, offline_env, qa_command, wait_until

CHAPTER = REPO / "corpus" / "diplomatic-bluebook-2025-ch3-japan-us-security.txt"
MARKER = re.compile(r"The build marker is (\w+)\.")
QUESTION = "What is the build marker?"
KILLS = int(os.environ.get("QA_TEST_KILLS", "20"))
LANES = 2
# Builds a lane may start per kill it must make: a build that ends before its kill is not
# counted, and how often that happens depends on the machine's load, not on the code.
ATTEMPTS_PER_KILL = 5


def write_corpus(corpus: Path, token: str, excerpt_chars: int = 2500) -> None:
    """A small corpus whose marker document names ``token``; each build gets its own."""
    corpus.mkdir(parents=True, exist_ok=True)
    excerpt = CHAPTER.read_text("utf-8")[:excerpt_chars]
    (corpus / "excerpt.txt").write_text(excerpt, "utf-8")
    (corpus / "marker.txt").write_text(
        f"Build Log\n\nThe build marker is {token}. It changes with every build.\n", "utf-8"
    )


def marker_of(index: LoadedIndex) -> str:
    """The marker token the loaded index was built with."""
    found = {m.group(1) for c in index.chunks for m in MARKER.finditer(c.text)}
    assert len(found) == 1, f"expected one marker in the index, found {found}"
    return found.pop()


def published_versions(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.glob("v-*") if not p.name.endswith(".tmp"))


def leftovers(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.glob("*.tmp"))


def assert_old_or_new(index_dir: Path, old: str, new: str) -> str:
    """Load with every checksum verified; the marker must be the old or the new one."""
    index = load_index(index_dir, verify=True)
    marker = marker_of(index)
    assert marker in (old, new), f"index holds marker {marker!r}, neither {old!r} nor {new!r}"
    assert index.manifest["counts"]["chunks"] == len(index.chunks)
    return marker


# -- every step of a build, crashed in turn -------------------------------------------------


class CrashBuilder:
    """Drives ``tests/helpers/crash_build.py``: one warm process forking dying builds."""

    def __init__(self, corpus: Path, index_dir: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.helpers.crash_build", str(corpus), str(index_dir)],
            cwd=REPO,
            env=offline_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.readline() == "ready"

    def readline(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def build(self, die_before_step: int) -> int:
        """Exit status of a build that dies before the given step (0: it finished)."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{die_before_step}\n")
        self.process.stdin.flush()
        return int(self.readline())

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(30)


def test_a_crash_at_every_step_of_a_build_leaves_the_old_or_the_new_index(
    tmp_path: Path,
) -> None:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_corpus(corpus, "initial")
    builder = CrashBuilder(corpus, index_dir)
    try:
        assert builder.build(10**9) == 0
        committed = assert_old_or_new(index_dir, "initial", "initial")
        outcomes: Counter[str] = Counter()
        for step in range(1, 200):
            token = f"step{step}"
            write_corpus(corpus, token)
            status = builder.build(step)
            assert status in (0, 137), f"the build failed at step {step} (status {status})"
            marker = assert_old_or_new(index_dir, committed, token)
            if status == 0:
                break
            outcomes["new version live" if marker == token else "old version live"] += 1
            committed = marker
        else:
            pytest.fail("the build never finished")
    finally:
        builder.close()
    assert marker == token, "the build that was not interrupted must publish its version"
    assert outcomes["old version live"] >= 5 and outcomes["new version live"] >= 1, outcomes
    assert leftovers(index_dir) == [], "a finished build removes what crashed builds left"
    assert len(published_versions(index_dir)) <= 2


# -- the real `qa index`, SIGKILLed at random moments ----------------------------------------


def _new_staging(index_dir: Path, before: set[str]) -> bool:
    try:
        return any(
            e.name.startswith("v-") and e.name.endswith(".tmp") and e.name not in before
            for e in os.scandir(index_dir)
        )
    except FileNotFoundError:
        return False


def _pointer(index_dir: Path) -> str:
    try:
        return (index_dir / CURRENT).read_text("utf-8")
    except FileNotFoundError:
        return ""


def _start_build(corpus: Path, index_dir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        qa_command("index", "--force", "--corpus", corpus, "--index-dir", index_dir),
        cwd=REPO,
        env=offline_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _timed_build(corpus: Path, index_dir: Path) -> tuple[float, float]:
    """Run one build to the end: (its seconds, the seconds from the moment its version
    folder appears to the moment CURRENT names it)."""
    before = set(os.listdir(index_dir)) if index_dir.exists() else set()
    pointer = _pointer(index_dir)
    started = time.monotonic()
    process = _start_build(corpus, index_dir)
    staged = published = 0.0
    while process.poll() is None:
        now = time.monotonic() - started
        if not staged and _new_staging(index_dir, before):
            staged = now
        if not published and _pointer(index_dir) != pointer:
            published = now
        time.sleep(0.001)
    assert process.returncode == 0
    return time.monotonic() - started, max(published - staged, 0.0)


def _kill_lane(root: Path, kills_wanted: int, rng: random.Random, embedder: Any) -> Counter[str]:
    """Build and SIGKILL ``qa index --force`` until ``kills_wanted`` builds were killed.

    Returns:
        How many kills landed before, while and after the new version was written,
        plus ``seconds`` (the length of a whole build) and ``window_ms``.
    """
    from qa.service import QAService
    from qa.settings import Settings

    corpus, index_dir = root / "corpus", root / "index"
    write_corpus(corpus, f"{root.name}initial")
    total, write_time = _timed_build(corpus, index_dir)
    # A kill drawn in this window lands before, during or after the switch of CURRENT.
    window = max(0.05, 3 * write_time)
    committed = assert_old_or_new(index_dir, f"{root.name}initial", f"{root.name}initial")
    settings = Settings(corpus_dir=corpus, index_dir=index_dir)
    kills: Counter[str] = Counter()
    for attempt in range(ATTEMPTS_PER_KILL * kills_wanted):
        if sum(kills.values()) >= kills_wanted:
            break
        token = f"{root.name}t{attempt}"
        write_corpus(corpus, token)
        before, pointer = set(os.listdir(index_dir)), _pointer(index_dir)
        launched = time.monotonic()
        process = _start_build(corpus, index_dir)
        if attempt % 2 == 0:  # anywhere: imports, model load, reading, chunking, embedding
            time.sleep(rng.uniform(0, total))
        else:  # around the writing and publishing of the new version
            wait_until(
                lambda: _new_staging(index_dir, before) or process.poll() is not None,  # noqa: B023
                timeout=300,
                interval=0.001,
            )
            time.sleep(rng.uniform(0, window))
        if process.poll() is not None:
            assert process.returncode == 0
            committed = assert_old_or_new(index_dir, committed, token)
            # it finished before the kill: not counted; the machine builds faster now than
            # when ``total`` was measured, so later kills are drawn within this build's time
            total = min(total, time.monotonic() - launched)
            continue
        process.send_signal(signal.SIGKILL)
        process.wait()
        if _pointer(index_dir) != pointer:
            kills["after the switch"] += 1
        elif set(os.listdir(index_dir)) - before:
            kills["while writing"] += 1
        else:
            kills["before writing"] += 1

        marker = assert_old_or_new(index_dir, committed, token)
        service = QAService(settings, embedder=embedder)
        service.open(rebuild=False)
        answer = service.ask(QUESTION)
        assert any(f"marker is {marker}" in p.text for p in answer.passages[:3]), answer
        committed = marker

    process = _start_build(corpus, index_dir)
    assert process.wait(300) == 0, "a build after the kills must succeed"
    assert assert_old_or_new(index_dir, committed, token) == token
    assert leftovers(index_dir) == [], "the build after the kills removes their leftovers"
    assert len(published_versions(index_dir)) <= 2
    kills["seconds"], kills["window_ms"] = round(total), round(1000 * write_time)
    return kills


@pytest.mark.slow
def test_sigkill_of_qa_index_at_random_moments_never_breaks_the_index(
    tmp_path: Path, real_embedder: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = int(os.environ.get("QA_TEST_SEED", str(random.randrange(1 << 30))))
    started = time.monotonic()
    real_embedder.embed(["warm up"])
    # Two independent lanes (own corpus, own index): one build mostly waits on imports,
    # so two at once roughly halve the wall time on two cores.
    lanes = [(tmp_path / f"lane{n}", random.Random(seed + n)) for n in range(LANES)]
    with ThreadPoolExecutor(LANES) as pool:
        futures = [
            pool.submit(_kill_lane, root, -(-KILLS // LANES), rng, real_embedder)
            for root, rng in lanes
        ]
        results = [f.result() for f in futures]
    phases = ("before writing", "while writing", "after the switch")
    made = sum(r[p] for r in results for p in phases)
    assert made >= KILLS
    with capsys.disabled():
        print(
            f"\n[durability] qa index SIGKILLed {made} times, index intact after {made}: "
            + ", ".join(f"{p} {sum(r[p] for r in results)}" for p in phases)
            + f"; build {results[0]['seconds']} s, write window {results[0]['window_ms']} ms"
            + f"; seed {seed}; {time.monotonic() - started:.0f} s"
        )


# -- leftovers --------------------------------------------------------------------------------


def _fake_build(corpus: Path, index_dir: Path) -> Path:
    from index.encode.hashing import HashingEmbedder

    return build_index(corpus, index_dir, BuildConfig(), HashingEmbedder()).version


def test_leftovers_of_killed_builds_are_ignored_then_removed(tmp_path: Path) -> None:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_corpus(corpus, "first")
    first = _fake_build(corpus, index_dir)
    # What killed builds leave: a half-written version, a published version that never
    # became current, a pointer that was never moved into place.
    half = index_dir / "v-20990101T000000-deadbeef.tmp"
    (half / "bm25").mkdir(parents=True)
    (half / "chunks.jsonl").write_text('{"truncated', "utf-8")
    orphan = index_dir / "v-20990101T000000-0rphan00"
    shutil.copytree(first, orphan)
    (index_dir / f"{CURRENT}.cafebabe.tmp").write_text(half.name, "utf-8")

    assert read_pointer(index_dir)[0] == first, "readers follow CURRENT only"
    assert marker_of(load_index(index_dir)) == "first"

    write_corpus(corpus, "second")
    second = _fake_build(corpus, index_dir)
    assert marker_of(load_index(index_dir)) == "second"
    assert leftovers(index_dir) == []
    assert published_versions(index_dir) == sorted([first.name, second.name])


def test_a_pointer_to_an_unfinished_version_is_refused(tmp_path: Path) -> None:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_corpus(corpus, "first")
    version = _fake_build(corpus, index_dir)
    unfinished = version.with_name(version.name + ".tmp")
    shutil.copytree(version, unfinished)
    (index_dir / CURRENT).write_text(unfinished.name + "\n", "utf-8")
    with pytest.raises(CorruptIndex, match="CURRENT"):
        load_index(index_dir)


def test_a_reader_whose_version_is_deleted_mid_load_retries_on_the_new_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import index.loader
    import index.store

    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_corpus(corpus, "first")
    _fake_build(corpus, index_dir)
    real_verify: Callable[..., None] = index.store.verify_files
    calls: list[Path] = []

    def two_builds_meanwhile(version: Path, manifest: dict[str, Any]) -> None:
        if not calls:  # two builds publish while this reader is loading: its version goes
            for token in ("second", "third"):
                write_corpus(corpus, token)
                _fake_build(corpus, index_dir)
            assert not version.exists()
        calls.append(version)
        real_verify(version, manifest)

    monkeypatch.setattr(index.loader, "verify_files", two_builds_meanwhile)
    assert marker_of(load_index(index_dir)) == "third"
    assert len(calls) == 2
