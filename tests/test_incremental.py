"""Incremental builds: the build cache reuses unchanged results and never changes them.

An index built with a warm cache after files were added, changed and deleted must equal,
file for file (every checksum in the manifest), an index built from nothing over the same
corpus -- with the real encoder and the real spaCy pipeline, where batching or order could
change a bit. A damaged cache entry is reported by the check, deleted and recomputed; the
cache stays within its bound by dropping the entries unused longest.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.builder import BuildReport, build_index
from index.cache import CACHE_DIR, cache_bytes, damaged_entries, digest_of
from index.config import BuildConfig
from index.encode.hashing import HashingEmbedder
from index.loader import check_index
from index.store import MANIFEST
from tests.helpers.pdfs import minimal_pdf
from tests.helpers.render import html_of_text

CHAPTER = Path(__file__).resolve().parents[1] / "corpus" / (
    "diplomatic-bluebook-2025-ch3-japan-us-security.txt")
TIMES = ("created_at", "build_seconds")


def chapter_parts(count: int) -> list[str]:
    """The chapter cut into ``count`` pieces at paragraph breaks."""
    text = CHAPTER.read_text("utf-8")
    cuts = [0] + [text.index("\n\n", len(text) * n // count) + 2 for n in range(1, count)]
    return [text[a:b] for a, b in zip(cuts, [*cuts[1:], len(text)], strict=True)]


def write_first_corpus(corpus: Path) -> None:
    parts = chapter_parts(4)
    corpus.mkdir(parents=True)
    for n, part in enumerate(parts[:3]):
        (corpus / f"part{n}.txt").write_text(part, "utf-8")
    (corpus / "page.html").write_text(html_of_text("page", parts[3], "page.txt"), "utf-8")
    (corpus / "notes.pdf").write_bytes(minimal_pdf([["The pier was built in 1901."]]))


def change_corpus(corpus: Path) -> None:
    """Add a PDF, change a text and delete another."""
    (corpus / "added.pdf").write_bytes(minimal_pdf([["The harbour office opened in 1923.",
                                                     "It closed in 1987."]]))
    part = corpus / "part1.txt"
    part.write_text(part.read_text("utf-8") + "\nThe dialogue met again in 2025.\n", "utf-8")
    (corpus / "part2.txt").unlink()


def version_content(report: BuildReport) -> dict[str, Any]:
    """The manifest of a built version without its timestamps (its ``files`` entry holds
    the SHA-256 of every file, so equal content means byte-identical files)."""
    manifest = json.loads((report.version / MANIFEST).read_text("utf-8"))
    return {k: v for k, v in manifest.items() if k not in TIMES}


def test_an_incremental_build_equals_a_full_build_real_model(
    tmp_path: Path, real_embedder: Any
) -> None:
    corpus, warm, cold = tmp_path / "corpus", tmp_path / "warm", tmp_path / "cold"
    write_first_corpus(corpus)
    first = build_index(corpus, warm, BuildConfig(), real_embedder)
    assert first.work is not None and first.work.new == 5
    change_corpus(corpus)
    incremental = build_index(corpus, warm, BuildConfig(), real_embedder)
    full = build_index(corpus, cold, BuildConfig(), real_embedder)
    assert version_content(incremental) == version_content(full)
    for name in ("sentences.npy", "annotations.jsonl", "dense.faiss", "chunks.jsonl"):
        assert (incremental.version / name).read_bytes() == (full.version / name).read_bytes()
    work = incremental.work
    assert work is not None and (work.new, work.changed, work.removed) == (1, 1, 1)
    assert work.extracted == 1, "only the added PDF is read; the others come from the cache"
    assert 0 < work.chunks_embedded < work.chunks / 3, work
    assert 0 < work.annotated < work.sentences / 3, work
    assert full.work is not None and full.work.chunks_embedded == full.work.chunks
    assert "1 new, 1 changed, 1 removed documents;" in incremental.summary()
    assert f"{work.chunks_embedded} of {work.chunks} chunks embedded" in incremental.summary()


def test_the_cache_off_gives_the_same_index(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_first_corpus(corpus)
    cached = version_content(build_index(corpus, tmp_path / "a", BuildConfig(), HashingEmbedder()))
    again = build_index(corpus, tmp_path / "a", BuildConfig(), HashingEmbedder())
    off = build_index(corpus, tmp_path / "b", BuildConfig(cache_bytes=0), HashingEmbedder())
    assert version_content(again) == version_content(off) == cached
    assert again.work is not None and again.work.chunks_embedded == again.work.annotated == 0
    assert not (tmp_path / "b" / CACHE_DIR).exists()


def _entries(index_dir: Path) -> list[Path]:
    return sorted(p for p in (index_dir / CACHE_DIR).rglob("*") if p.is_file())


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty"])
def test_a_damaged_entry_is_reported_then_recomputed_never_used(
    tmp_path: Path, damage: str
) -> None:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_first_corpus(corpus)
    config, embedder = BuildConfig(), HashingEmbedder()
    clean = version_content(build_index(corpus, index_dir, config, embedder))
    assert check_index(corpus, index_dir, config, cache=True).current
    embed_entry = next(p for p in _entries(index_dir) if "/embed/" in p.as_posix())
    data = embed_entry.read_bytes()
    if damage == "flip":  # a vector's bits change; the header still looks right
        embed_entry.write_bytes(data[:-3] + bytes([data[-3] ^ 0x40]) + data[-2:])
    else:
        embed_entry.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"")
    name = embed_entry.relative_to(index_dir).as_posix()
    assert damaged_entries(index_dir) == [name]
    status = check_index(corpus, index_dir, config, cache=True)
    assert not status.current
    assert status.reasons == (f"build cache entry damaged: {name} (recomputed at the next build)",)
    assert check_index(corpus, index_dir, config).current, "the index itself is intact"
    rebuilt = build_index(corpus, index_dir, config, embedder)
    assert version_content(rebuilt) == clean
    assert rebuilt.work is not None and rebuilt.work.chunks_embedded > 0, "recomputed"
    assert rebuilt.notices == ("build cache entries found damaged (deleted, recomputed): 1",)
    assert damaged_entries(index_dir) == []
    assert check_index(corpus, index_dir, config, cache=True).current


def test_a_damaged_entry_no_document_uses_is_deleted_by_the_next_build(tmp_path: Path) -> None:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_first_corpus(corpus)
    build_index(corpus, index_dir, BuildConfig(), HashingEmbedder())
    (corpus / "part0.txt").unlink()
    build_index(corpus, index_dir, BuildConfig(), HashingEmbedder())
    gone = [p for p in _entries(index_dir) if p.name == digest_of("part0.txt")]
    assert len(gone) == 2  # its embeddings and annotations, kept until the bound needs room
    gone[0].write_bytes(b"citeqa-cache-1 " + b"0" * 64 + b"\n")
    assert damaged_entries(index_dir) != []
    build_index(corpus, index_dir, BuildConfig(), HashingEmbedder())
    assert damaged_entries(index_dir) == []
    assert not gone[0].exists() and gone[1].exists()


def test_the_cache_keeps_within_its_bound_dropping_the_entries_unused_longest(
    tmp_path: Path,
) -> None:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_first_corpus(corpus)
    embedder = HashingEmbedder()
    build_index(corpus, index_dir, BuildConfig(), embedder)
    shutil.copy(corpus / "part0.txt", tmp_path / "part0.txt")
    (corpus / "part0.txt").unlink()  # its entries are now the ones unused longest
    build_index(corpus, index_dir, BuildConfig(), embedder)
    old = {p for p in _entries(index_dir) if p.name == digest_of("part0.txt")}
    assert len(old) == 2
    bound = cache_bytes(index_dir) - sum(p.stat().st_size for p in old)
    build_index(corpus, index_dir, BuildConfig(cache_bytes=bound), embedder)
    assert cache_bytes(index_dir) <= bound
    remaining = set(_entries(index_dir))
    assert not old & remaining and remaining, "exactly the unused entries went"
    (corpus / "part0.txt").write_bytes((tmp_path / "part0.txt").read_bytes())
    back = build_index(corpus, index_dir, BuildConfig(cache_bytes=bound), embedder)
    assert back.work is not None and back.work.chunks_embedded > 0  # recomputed, not lost


def test_an_entry_of_another_model_is_never_read(tmp_path: Path) -> None:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_first_corpus(corpus)
    build_index(corpus, index_dir, BuildConfig(), HashingEmbedder(dim=64))
    other = build_index(corpus, index_dir, BuildConfig(), HashingEmbedder(dim=32))
    assert other.work is not None and other.work.chunks_embedded == other.work.chunks
    assert other.work.annotated == 0, "the annotations do not depend on the encoder"
    vectors = np.load(other.version / "sentences.npy")
    assert vectors.shape[1] == 32


def test_qa_index_says_what_it_did_and_check_names_a_damaged_entry(tmp_path: Path) -> None:
    from tests.helpers.procs import run_qa

    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_first_corpus(corpus)
    args = ("index", "--corpus", corpus, "--index-dir", index_dir)
    first = run_qa(*args, QA_MODEL="hashing-64", QA_BUILD_WORKERS="2")
    assert first.returncode == 0, first.stderr
    said = re.search(r"5 new, 0 changed, 0 removed documents; (\d+) of \1 chunks embedded$",
                     first.stdout.strip())
    assert said, first.stdout
    (corpus / "part3.txt").write_text("Late Notes\n\nThe ferry left at noon.\n", "utf-8")
    second = run_qa(*args, QA_MODEL="hashing-64")
    assert second.returncode == 0, second.stderr
    again = re.search(r"1 new, 0 changed, 0 removed documents; (\d+) of (\d+) chunks embedded$",
                      second.stdout.strip())
    assert again, second.stdout
    assert int(again[1]) == int(again[2]) - int(said[1]) > 0, "only the new file's chunks"
    entry = next(p for p in _entries(index_dir) if "/annotate/" in p.as_posix())
    entry.write_bytes(entry.read_bytes().replace(b'"', b"'", 1))
    check = run_qa(*args, "--check", QA_MODEL="hashing-64")
    assert check.returncode == 1
    name = entry.relative_to(index_dir).as_posix()
    assert check.stdout.strip() == (f"index is stale or damaged: build cache entry damaged: "
                                    f"{name} (recomputed at the next build)")
    third = run_qa(*args, QA_MODEL="hashing-64")
    assert third.returncode == 0 and "0 new, 0 changed, 0 removed" in third.stdout
    assert run_qa(*args, "--check", QA_MODEL="hashing-64").returncode == 0
