"""Concurrency: builders take turns, readers always see a whole index, answers never stop.

* Builders: the flock build lock serialises builds in threads and in processes; two real
  ``qa index --force`` at once both succeed, one after the other, while a reader loads the
  index over and over and never sees a broken one.
* The service: ``QAService.reload`` rebuilds while questions keep being answered from the
  old index, then switches to the new one in one step; the same through ``POST /reload``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.builder import build_index
from index.encode.hashing import HashingEmbedder
from index.errors import IndexLocked
from index.loader import load_index
from index.store import build_lock
from tests.helpers.procs import REPO, offline_env, qa_command
from tests.helpers.servers import request, serve_in_thread

CORPUS = {
    "alliance.txt": (
        "1 Extended Deterrence\n\n"
        "The Extended Deterrence Dialogue was established in 2010. "
        "It meets twice a year to discuss nuclear deterrence.\n"
    ),
    "support.txt": (
        "2 Host Nation Support\n\n"
        "Japan bears part of the cost of stationing U.S. Forces in Japan. "
        "The Special Measures Agreement sets the amount.\n"
    ),
}
NEW_DOCUMENT = ("zebra.txt", "3 Code Words\n\nThe reload code word is zebra. It is new.\n")
QUESTION = "What is the reload code word?"


GATE_SECONDS = 300  # the longest a held build waits for its test to let it go on


class SlowBuildEmbedder(HashingEmbedder):
    """The hashing embedder, but a build (a batch of many texts) takes ``delay`` seconds,
    or, once ``hold`` was called, waits until the test opens the gate ``hold`` returned; so
    questions can be asked while it runs, as many as the test wants however fast or slow
    the machine is. ``building`` is set when such a batch starts."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.building = threading.Event()
        self._gate: threading.Event | None = None

    def hold(self) -> threading.Event:
        """Hold the next builds inside their first batch until the returned event is set."""
        self.building.clear()
        self._gate = threading.Event()
        return self._gate

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        if len(texts) > 1:
            self.building.set()
            if self._gate is None:
                time.sleep(self.delay)
            else:
                self._gate.wait(GATE_SECONDS)
        return super().embed(texts, progress=progress)


# -- builders --------------------------------------------------------------------------------


def test_the_build_lock_makes_a_second_builder_wait(tmp_path: Path) -> None:
    with (
        build_lock(tmp_path),
        pytest.raises(IndexLocked, match="another process"),
        build_lock(tmp_path, wait_seconds=0.3),
    ):
        pass
    with build_lock(tmp_path, wait_seconds=0.3):
        pass  # free again once the first builder is done


def test_the_build_lock_holds_across_processes(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from index.store import build_lock\n"
        "from index.errors import IndexLocked\n"
        "try:\n    with build_lock(Path(sys.argv[1]), wait_seconds=0.5): pass\n"
        "except IndexLocked: sys.exit(3)\n"
    )
    command = [sys.executable, "-c", script, str(tmp_path)]
    with build_lock(tmp_path):
        held = subprocess.run(command, cwd=REPO, env=offline_env(), timeout=60)
    free = subprocess.run(command, cwd=REPO, env=offline_env(), timeout=60)
    assert (held.returncode, free.returncode) == (3, 0)


def test_builds_in_two_threads_take_turns(make_service: Callable[..., Any]) -> None:
    settings = make_service(CORPUS).settings
    embedder = SlowBuildEmbedder(0.3)

    def build() -> Path:
        config = settings.build_config()
        return build_index(settings.corpus_dir, settings.index_dir, config, embedder).version

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(lambda _: build(), range(2))
    assert first != second
    assert load_index(settings.index_dir).version in (first, second)


@pytest.mark.slow
def test_two_qa_index_processes_at_once_and_a_reader_meanwhile(
    make_service: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    service = make_service(CORPUS)
    service.open()  # an index exists (hashing embedder); the real builds replace it
    settings = service.settings
    command = qa_command(
        "index", "--force", "--corpus", settings.corpus_dir, "--index-dir", settings.index_dir
    )
    builders = [
        subprocess.Popen(
            command, cwd=REPO, env=offline_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    seen: Counter[str] = Counter()
    most_staging = 0
    while any(b.poll() is None for b in builders):
        # A reader meanwhile: every load verifies every checksum.
        index = load_index(settings.index_dir)
        seen[index.manifest["model"]["name"] + f"/{index.manifest['model']['dim']}"] += 1
        staging = [n for n in os.listdir(settings.index_dir) if n.endswith(".tmp")]
        most_staging = max(most_staging, len(staging))
        time.sleep(0.05)
    outputs = [b.communicate() for b in builders]
    for builder, (out, err) in zip(builders, outputs, strict=True):
        assert builder.returncode == 0, err
        assert b"indexed 2 documents" in out
    final = load_index(settings.index_dir)
    assert final.manifest["model"]["dim"] == 384  # both real builds published in turn
    assert most_staging <= 1, "two builds wrote at the same time"
    assert sum(seen.values()) > 0
    with capsys.disabled():
        print(f"\n[concurrency] two qa index at once: both exit 0; reader loads {dict(seen)}")


# -- the service -----------------------------------------------------------------------------


def _has_code_word(answer: Any) -> bool:
    return any("zebra" in p.text for p in answer.passages)


def test_the_service_answers_during_a_rebuild_then_switches_at_once(
    make_service: Callable[..., Any],
) -> None:
    service = make_service(CORPUS)
    service.embedder = embedder = SlowBuildEmbedder(1.5)
    service.open()
    assert not _has_code_word(service.ask(QUESTION))
    name, text = NEW_DOCUMENT
    (service.settings.corpus_dir / name).write_text(text, "utf-8")

    gate = embedder.hold()  # the rebuild goes on once three questions were answered
    reload = threading.Thread(target=service.reload)
    reload.start()
    during: list[bool] = []
    while reload.is_alive():
        during.append(_has_code_word(service.ask(QUESTION, k=3)))
        if len(during) >= 3:
            gate.set()
    gate.set()
    reload.join()
    after = service.ask(QUESTION, k=3)
    assert len(during) >= 3, "the service must keep answering while it rebuilds"
    switched = during.index(True) if True in during else len(during)
    assert not any(during[:switched]) and all(during[switched:]), "one switch, no flapping"
    assert switched >= 2, "answers came from the old index while the rebuild ran"
    assert _has_code_word(after)
    assert (
        "2010"
        in service.ask("When was the Extended Deterrence Dialogue established?", k=1)
        .passages[0]
        .text
    )


def test_post_reload_switches_while_ask_keeps_answering(
    make_service: Callable[..., Any],
) -> None:
    from api.app import create_app

    # no build cache: the reload embeds every text again, so it is slow enough to ask during
    # (with the cache it embeds the new file's few texts only, and is over at once)
    service = make_service(CORPUS, build_cache_mb=0)
    service.embedder = embedder = SlowBuildEmbedder(1.5)
    service.open()
    name, text = NEW_DOCUMENT
    (service.settings.corpus_dir / name).write_text(text, "utf-8")
    gate = embedder.hold()  # the reload goes on once three questions were answered
    with serve_in_thread(create_app(service.settings, service)) as port:
        with ThreadPoolExecutor(1) as pool:
            reloading = pool.submit(request, port, "POST", "/reload")
            assert embedder.building.wait(GATE_SECONDS), "the reload did not start building"
            second = request(port, "POST", "/reload")
            statuses: Counter[int] = Counter()
            try:
                while not reloading.done():
                    status, _, body = request(port, "POST", "/ask", {"question": QUESTION})
                    statuses[status] += 1
                    assert status == 200, body
                    if statuses[200] >= 3:
                        gate.set()
            finally:
                gate.set()
            status, _, reloaded = reloading.result()
        assert second[0] == 409, "one reload at a time"
        assert status == 200 and reloaded["reloaded"] is True, reloaded
        assert statuses[200] >= 3
        _, _, documents = request(port, "GET", "/documents")
        assert name in documents["documents"]
        _, _, answer = request(port, "POST", "/ask", {"question": QUESTION})
        assert any("zebra" in p["text"] for p in answer["passages"])
