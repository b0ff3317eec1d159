"""Integrity: every index file damaged in turn is caught, named, and rebuilt from the corpus.

Each file of a built index (the data files, the manifest, the ``CURRENT`` pointer) is
truncated, has bytes flipped, or is deleted, in a fresh copy of the index. Loading must
raise ``CorruptIndex`` naming the file and saying how to rebuild; ``QAService.open()`` --
the path of ``qa ask`` and ``qa serve`` -- must rebuild and answer; ``qa index --check``
must report the damage.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from index.errors import CorruptIndex
from index.loader import check_index, load_index
from index.store import CURRENT, MANIFEST, REBUILD_HINT, current_version
from tests.helpers.procs import run_qa

CORPUS = {
    "alliance.txt": (
        "1 Extended Deterrence\n\n"
        "The Extended Deterrence Dialogue was established in 2010. "
        "It meets twice a year to discuss nuclear deterrence.\n"
    ),
    "support.md": (
        "# Host Nation Support\n\n"
        "Japan bears part of the cost of stationing U.S. Forces in Japan. "
        "The Special Measures Agreement sets the amount.\n"
    ),
    "islands.txt": "2 The Senkaku Islands\n\nThe Senkaku Islands are an inherent part of Japan.\n",
}
QUESTION = "When was the Extended Deterrence Dialogue established?"


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_bytes(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for offset in {len(data) // 2, len(data) - 2, 0}:
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def delete(path: Path) -> None:
    path.unlink()


DAMAGES: dict[str, Callable[[Path], None]] = {
    "truncated": truncate,
    "bytes flipped": flip_bytes,
    "deleted": delete,
}


@pytest.fixture()
def built(make_service: Callable[..., Any]) -> Any:
    """A service whose index is built (hashing embedder) over a three-document corpus."""
    service = make_service(CORPUS)
    service.open()
    return service


def index_files(index_dir: Path) -> list[str]:
    """Every file of the active index, relative to the index folder, ``CURRENT`` included."""
    version = current_version(index_dir)
    names = sorted(p.relative_to(version).as_posix() for p in version.rglob("*") if p.is_file())
    return [CURRENT, *(f"{version.name}/{n}" for n in names)]


def damaged_copy(index_dir: Path, target: Path, name: str, damage: str) -> Path:
    shutil.copytree(index_dir, target)
    DAMAGES[damage](target / name)
    return target


def test_every_damaged_index_file_is_detected_named_and_rebuilt(
    built: Any, tmp_path: Path, fake_embedder: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from qa.service import QAService
    from qa.settings import Settings

    index_dir = built.settings.index_dir
    names = index_files(index_dir)
    assert {"manifest.json", "chunks.jsonl", "dense.faiss"} <= {Path(n).name for n in names}
    assert any("/bm25/" in n for n in names)
    damaged = detected = rebuilt = 0
    for number, (name, damage) in enumerate((n, d) for n in names for d in DAMAGES):
        copy = damaged_copy(index_dir, tmp_path / f"copy{number}", name, damage)
        damaged += 1
        with pytest.raises(CorruptIndex) as caught:
            load_index(copy)
        message = str(caught.value)
        assert Path(name).name in message, f"{name} {damage}: {message}"
        assert REBUILD_HINT in message
        detected += 1

        service = QAService(
            Settings(corpus_dir=built.settings.corpus_dir, index_dir=copy),
            embedder=fake_embedder,
        )
        service.open()  # what `qa ask` and `qa serve` do: rebuild, then load
        answer = service.ask(QUESTION)
        assert "2010" in answer.passages[0].text, f"{name} {damage}: {answer}"
        load_index(copy)  # the rebuilt index passes every check
        rebuilt += 1
    with capsys.disabled():
        print(
            f"\n[integrity] damaged {damaged} times ({len(names)} files x {len(DAMAGES)} "
            f"damages): {detected} detected and named, {rebuilt} rebuilt by QAService.open"
        )
    assert detected == rebuilt == damaged


POINTER_DAMAGE: dict[str, Callable[[Path], object]] = {
    "pointing nowhere": lambda p: p.write_text("v-19990101T000000-00000000\n", "utf-8"),
    "empty": lambda p: p.write_text("", "utf-8"),
    "pointing outside": lambda p: p.write_text("../../etc\n", "utf-8"),
    "pointing at an unfinished version": lambda p: p.write_text(
        p.read_text("utf-8").split()[0] + ".tmp\n", "utf-8"
    ),
    "binary": lambda p: p.write_bytes(b"\xff\xfe\x00garbage"),
    "checksum garbled": lambda p: p.write_text(
        p.read_text("utf-8").split()[0] + " not-a-checksum\n", "utf-8"
    ),
}


@pytest.mark.parametrize("damage", POINTER_DAMAGE)
def test_a_damaged_pointer_is_named(built: Any, tmp_path: Path, damage: str) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(built.settings.index_dir, copy)
    POINTER_DAMAGE[damage](copy / CURRENT)
    with pytest.raises(CorruptIndex, match=rf"{CURRENT}.*{REBUILD_HINT}"):
        load_index(copy)


def _edit_manifest(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    manifest = json.loads(path.read_text("utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest, indent=2), "utf-8")


MANIFEST_DAMAGE: dict[str, Callable[[Path], object]] = {
    "not JSON": lambda p: p.write_text("{ this is not json", "utf-8"),
    "a list": lambda p: p.write_text("[]", "utf-8"),
    "valid JSON, a count changed": lambda p: _edit_manifest(
        p, lambda m: m["counts"].update(chunks=m["counts"]["chunks"] + 1)
    ),
    "valid JSON, a file left out": lambda p: _edit_manifest(
        p, lambda m: m["files"].pop("dense.faiss")
    ),
}


@pytest.mark.parametrize("damage", MANIFEST_DAMAGE)
def test_a_damaged_manifest_is_named(built: Any, tmp_path: Path, damage: str) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(built.settings.index_dir, copy)
    MANIFEST_DAMAGE[damage](current_version(copy) / MANIFEST)
    with pytest.raises(CorruptIndex, match=rf"{MANIFEST}.*{REBUILD_HINT}"):
        load_index(copy)


def test_a_missing_pointer_beside_built_versions_is_damage_not_absence(built: Any) -> None:
    index_dir = built.settings.index_dir
    (index_dir / CURRENT).unlink()
    with pytest.raises(CorruptIndex, match=rf"pointer missing.*{REBUILD_HINT}"):
        load_index(index_dir)


def test_check_reports_damage_the_settings_check_alone_would_miss(built: Any) -> None:
    settings = built.settings
    config = settings.build_config()
    assert check_index(settings.corpus_dir, settings.index_dir, config).current
    flip_bytes(current_version(settings.index_dir) / "dense.faiss")
    status = check_index(settings.corpus_dir, settings.index_dir, config)
    assert not status.current
    assert "dense.faiss" in status.reasons[0] and REBUILD_HINT in status.reasons[0]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("damaged", "damage"),
    [("dense.faiss", truncate), (MANIFEST, flip_bytes), (CURRENT, delete)],
    ids=["dense.faiss truncated", "manifest flipped", "CURRENT deleted"],
)
def test_qa_index_check_reports_the_damaged_file(
    built: Any, damaged: str, damage: Callable[[Path], None]
) -> None:
    settings = built.settings
    args = ("index", "--check", "--corpus", settings.corpus_dir, "--index-dir", settings.index_dir)
    assert run_qa(*args).returncode == 0
    version = current_version(settings.index_dir)
    damage(settings.index_dir / damaged if damaged == CURRENT else version / damaged)
    result = run_qa(*args)
    assert result.returncode == 1, result
    assert damaged in result.stdout and REBUILD_HINT in result.stdout, result.stdout


@pytest.mark.slow
def test_qa_ask_rebuilds_a_damaged_index_by_itself_and_answers(built: Any) -> None:
    """The real command, the real model: a flipped byte in the vectors, then `qa ask`."""
    settings = built.settings
    flip_bytes(current_version(settings.index_dir) / "dense.faiss")
    result = run_qa(
        "ask", QUESTION, "--json", "--corpus", settings.corpus_dir,
        "--index-dir", settings.index_dir,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "dense.faiss" in result.stderr, result.stderr  # it says why it rebuilds
    answer = json.loads(result.stdout)
    assert not answer["abstained"] and "2010" in answer["answer"], answer
    text = {p.name: p.read_text("utf-8") for p in settings.corpus_dir.iterdir()}
    for citation in answer["citations"]:
        assert text[citation["doc_id"]][citation["start"] : citation["end"]] == citation["quote"]
    assert load_index(settings.index_dir).manifest["model"]["dim"] == 384
