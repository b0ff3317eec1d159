"""Bad corpus input: nothing crashes, nothing is dropped silently, offsets still round-trip.

One hostile corpus holds every kind of trouble at once: empty, binary and non-UTF-8
files, a 50 MB file, text without sentence punctuation, Markdown nested past six levels,
CRLF line endings, a byte order mark, very long lines, links leading into and out of the
corpus, hidden files, a FIFO, other file types and a file name that is not UTF-8. Every
entry must end up either indexed or listed with a reason (in the build report, the
manifest and on ``qa index``'s stderr).
"""

from __future__ import annotations

import json
import os
import random
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from index.documents.corpus import read_corpus
from index.errors import CorpusError
from index.loader import load_index
from index.store import current_version
from tests.helpers.procs import run_qa

BIG_MB = 50
# One 200,000-character "word" (not a repeated pattern: a line that is one text written
# twice is taken for a doubled caption and kept once).
LONG_WORD = "".join(random.Random(7).choices(string.ascii_letters + string.digits, k=200_000))
DEEP_MD = "".join(f"{'#' * n} Level {n}\n\nText at level {n}.\n\n" for n in range(1, 7)) + (
    "####### Seven hashes is no heading.\n\nText after it.\n"
)
GOOD = {
    "good.txt": "1 Alliance\n\nThe Extended Deterrence Dialogue was established in 2010.\n",
    "nopunct.txt": "\n".join(" ".join(f"word{i}x{j}" for j in range(40)) for i in range(60)),
    "deep.md": DEEP_MD,
    "crlf.txt": "1 Windows\r\n\r\nLines end in CRLF here. The capital is Tokyo.\r\nA wrapped line.\r\n",
    "bom.md": "\ufeff# Byte Order Mark\n\nThis file starts with a BOM. Offsets still hold.\n",
    "longword.txt": LONG_WORD,
    "longline.txt": "This is one of many sentences. " * 500 + "\n",
    "sub/nested.md": "# Nested\n\nA document in a sub-folder.\n",
}
# path -> words its skip reason must contain
SKIPPED = {
    "empty.txt": "empty",
    "binary.txt": "binary",
    "latin1.txt": "UTF-8",
    "big.txt": "too large",
    ".hidden.txt": "hidden file",
    ".git": "hidden folder",
    "notes.pdf": "damaged PDF",
    "notes.docx": "not one of the file types read",
    "escape.txt": "outside the corpus",
    "broken.txt": "broken symbolic link",
    "linked-folder": "link to a folder",
    "fifo.txt": "not a regular file",
    "caf\\xe9.txt": "not valid UTF-8",
}


def make_hostile_corpus(root: Path) -> Path:
    corpus = root / "corpus"
    for name, text in GOOD.items():
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)
        (corpus / name).write_bytes(text.encode("utf-8"))
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (corpus / "latin1.txt").write_bytes("Café, résumé, naïve.".encode("latin-1"))
    line = b"All work and no play makes Jack a dull boy. " * 1000 + b"\n"
    with (corpus / "big.txt").open("wb") as handle:
        for _ in range(BIG_MB * 1024 * 1024 // len(line) + 1):
            handle.write(line)
    (corpus / ".hidden.txt").write_text("A hidden note.", "utf-8")
    (corpus / ".git").mkdir()
    (corpus / ".git" / "notes.md").write_text("# Git internals\n\nNot a document.\n", "utf-8")
    (corpus / "notes.pdf").write_bytes(b"%PDF-1.7\n")
    (corpus / "notes.docx").write_bytes(b"PK\x03\x04")
    outside = root / "outside.txt"
    outside.write_text("The outside secret is walrus.\n", "utf-8")
    (corpus / "escape.txt").symlink_to(outside)
    (corpus / "inside-link.txt").symlink_to("good.txt")
    (corpus / "broken.txt").symlink_to(root / "nowhere.txt")
    (corpus / "linked-folder").symlink_to(corpus / "sub")
    os.mkfifo(corpus / "fifo.txt")
    os.close(os.open(os.fsencode(corpus) + b"/caf\xe9.txt", os.O_CREAT | os.O_WRONLY, 0o644))
    return corpus


@pytest.fixture(scope="module")
def hostile_corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield make_hostile_corpus(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def hostile_service(hostile_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A service with the hostile corpus indexed (hashing embedder)."""
    from index.encode.hashing import HashingEmbedder
    from qa.service import QAService
    from qa.settings import Settings

    settings = Settings(corpus_dir=hostile_corpus, index_dir=tmp_path_factory.mktemp("index"))
    service = QAService(settings, embedder=HashingEmbedder())
    service.open()
    return service


def all_entries(corpus: Path) -> set[str]:
    """Every file, link and hidden folder under the corpus, as a path relative to it."""
    entries = set()
    for folder, dirs, files in os.walk(corpus):
        for name in [*dirs, *files]:
            path = Path(folder, name)
            relative = path.relative_to(corpus).as_posix()
            if path.is_symlink() or not path.is_dir() or name.startswith("."):
                entries.add(relative)
        dirs[:] = [d for d in dirs if not d.startswith(".")]
    return entries


def test_every_entry_is_indexed_or_skipped_with_its_reason(hostile_service: Any) -> None:
    report = hostile_service.last_build
    skipped = {s.path: s.reason for s in report.skipped}
    for path, words in SKIPPED.items():
        assert words in skipped.get(path, ""), f"{path}: {skipped.get(path)!r}"
    indexed = set(hostile_service.documents())
    assert indexed == {*GOOD, "inside-link.txt"}
    assert set(skipped) == set(SKIPPED)
    entries = {e.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
               for e in all_entries(hostile_service.settings.corpus_dir)}  # fmt: skip
    assert entries == indexed | set(skipped), "no entry may be dropped silently"
    manifest = load_index(hostile_service.settings.index_dir).manifest
    assert {s["path"]: s["reason"] for s in manifest["skipped"]} == skipped
    assert manifest["counts"]["documents"] == len(indexed)


def test_no_text_from_outside_the_corpus_is_indexed(hostile_service: Any) -> None:
    chunks = hostile_service.loaded.index.chunks
    assert not any("walrus" in c.text for c in chunks)
    answer = hostile_service.ask("What is the outside secret?")
    assert not any("walrus" in p.text for p in answer.passages)


def test_offsets_round_trip_in_every_indexed_document(hostile_service: Any) -> None:
    for chunk in hostile_service.loaded.index.chunks:
        text = hostile_service.document(chunk.doc_id)  # the file as it is on disk
        assert text[chunk.start : chunk.end] == chunk.text, chunk.doc_id
        for start, end in chunk.sentences:
            assert chunk.start <= start < end <= chunk.end
    crlf = [c for c in hostile_service.loaded.index.chunks if c.doc_id == "crlf.txt"]
    assert any("\r\n" in c.text for c in crlf), "CRLF text is kept as it is on disk"
    answer = hostile_service.ask("What is the capital?")
    for citation in answer.citations:
        text = hostile_service.document(citation.doc_id)
        assert text[citation.start : citation.end] == citation.quote


def test_text_without_punctuation_and_long_lines_is_fully_covered(hostile_service: Any) -> None:
    chunks = hostile_service.loaded.index.chunks
    for doc_id in ("nopunct.txt", "longline.txt", "longword.txt"):
        text = hostile_service.document(doc_id)
        covered = bytearray(len(text))
        for chunk in (c for c in chunks if c.doc_id == doc_id):
            covered[chunk.start : chunk.end] = b"\x01" * (chunk.end - chunk.start)
        missing = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
        assert not missing, f"{doc_id}: {len(missing)} characters in no passage"
    assert any(LONG_WORD in c.text for c in chunks)


def test_markdown_headings_nest_six_levels_and_no_deeper(hostile_service: Any) -> None:
    deep = [c for c in hostile_service.loaded.index.chunks if c.doc_id == "deep.md"]
    assert max(len(c.section) for c in deep) == 6
    deepest = next(c for c in deep if "Seven hashes" in c.text)
    assert deepest.section == tuple(f"Level {n}" for n in range(1, 7))


def test_a_byte_order_mark_does_not_hide_the_first_heading(hostile_service: Any) -> None:
    bom = [c for c in hostile_service.loaded.index.chunks if c.doc_id == "bom.md"]
    assert any(c.section[:1] == ("Byte Order Mark",) for c in bom)


def test_the_index_of_a_hostile_corpus_stays_current(hostile_service: Any) -> None:
    """Skipped files are fingerprinted too, so the next start does not rebuild for nothing."""
    assert hostile_service.status().current
    assert not hostile_service.reload()


def test_a_corpus_with_nothing_indexable_gives_one_clear_error(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.md").write_bytes(b"\x00\x01\x02")
    (corpus / "latin1.txt").write_bytes("Café".encode("latin-1"))
    (corpus / "spaces.txt").write_text("  \n\t\n", "utf-8")
    with pytest.raises(CorpusError) as caught:
        read_corpus(corpus)
    message = str(caught.value)
    assert "\n" not in message
    for name in ("empty.txt", "binary.md", "latin1.txt", "spaces.txt"):
        assert name in message

    result = run_qa("index", "--corpus", corpus, "--index-dir", tmp_path / "index")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: error: no indexable"), result.stderr
    assert all(name in lines[0] for name in ("empty.txt", "binary.md", "latin1.txt"))
    assert not (tmp_path / "index" / "CURRENT").exists()


def test_a_file_over_the_size_limit_is_skipped_and_named(make_service: Any) -> None:
    service = make_service(
        {"small.txt": "A small file. It fits.", "large.txt": "Too big. " * 300},
        max_file_mb=0.001,
    )
    service.open()
    skipped = {s.path: s.reason for s in service.last_build.skipped}
    assert "too large" in skipped["large.txt"] and "QA_MAX_FILE_MB" in skipped["large.txt"]
    assert service.documents() == ["small.txt"]
    assert service.status().current


@pytest.mark.slow
def test_qa_index_lists_every_skipped_file_on_stderr(hostile_corpus: Path, tmp_path: Path) -> None:
    """The real command and model over the hostile corpus."""
    result = run_qa("index", "--corpus", hostile_corpus, "--index-dir", tmp_path / "index")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("skipped ")]
    for path, words in SKIPPED.items():
        assert any(line.startswith(f"skipped {path}: ") and words in line for line in lines), (
            path,
            result.stderr,
        )
    assert "indexed 9 documents" in result.stdout
    manifest = json.loads((current_version(tmp_path / "index") / "manifest.json").read_text())
    assert manifest["model"]["dim"] == 384
