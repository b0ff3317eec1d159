"""Corpus files read by a bounded pool: the same result as one at a time, failures listed."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from index.documents.corpus import read_corpus
from index.documents.extract.pool import map_bounded
from tests.helpers.pdfs import minimal_pdf


def test_the_pool_reads_what_one_worker_reads_and_lists_the_failures(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(4):
        (corpus / f"good{n}.pdf").write_bytes(minimal_pdf([[f"Pier {n} was built in 19{n}0."]]))
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4\n" + b"\x00garbage" * 50)
    (corpus / "empty.html").write_bytes(b"")
    (corpus / "notes.txt").write_text("The harbour opened in 1923.\n", "utf-8")
    one = read_corpus(corpus, workers=1)
    four = read_corpus(corpus, workers=4)
    assert one == four
    assert [d.doc_id for d in four.documents] == [
        "good0.pdf", "good1.pdf", "good2.pdf", "good3.pdf", "notes.txt"]
    reasons = {s.path: s.reason for s in four.skipped}
    assert set(reasons) == {"broken.pdf", "empty.html"} and reasons["empty.html"] == "empty file"


def test_at_most_workers_calls_run_at_once_and_order_is_kept() -> None:
    running, peak, lock = [0], [0], threading.Lock()
    # the first three calls wait for each other: three at once is reached on any machine,
    # however slowly the threads start (a broken barrier: fewer than three ran at once)
    first_three = threading.Barrier(3, timeout=120)

    def slow(n: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        if n < 3:
            first_three.wait()
        time.sleep(0.02 * (5 - n % 5))  # later items finish first
        with lock:
            running[0] -= 1
        return n * n

    done: list[int] = []
    assert map_bounded(slow, list(range(12)), 3, done.append) == [n * n for n in range(12)]
    assert peak[0] == 3 and sorted(done) == [n * n for n in range(12)]
    with pytest.raises(ValueError, match="at least 1"):
        map_bounded(slow, [1], 0)
