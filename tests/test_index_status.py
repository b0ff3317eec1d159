"""Stale-index detection and automatic rebuild; ``qa index --check``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qa.cli import main
from qa.service import QAService
from qa.settings import Settings

FILES = {
    "treaty.txt": "1 Treaty\n\nThe friendship treaty was signed in Lisbon in 1994.\n",
    "notes/guide.md": "# Guide\n\nThe harbour opens at dawn every day.\n",
}


@pytest.fixture()
def built(make_service: Any) -> Any:
    """A service over FILES with its index built and current."""
    service = make_service(FILES)
    service.build()
    assert service.status().current
    return service


def corpus(service: Any) -> Path:
    path: Path = service.settings.corpus_dir
    return path


def check(service: Any) -> tuple[int, str]:
    """Run ``qa index --check`` against the service's folders; (exit status, stdout)."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(
            [
                "index",
                "--check",
                "--corpus",
                str(service.settings.corpus_dir),
                "--index-dir",
                str(service.settings.index_dir),
            ]
        )
    return status, out.getvalue()


def test_no_index_yet(make_service: Any) -> None:
    service = make_service(FILES)
    status = service.status()
    assert not status.current
    assert len(status.reasons) == 1
    assert "no index" in status.reasons[0]


def test_fresh_build_is_current(built: Any) -> None:
    status = built.status()
    assert status.current
    assert status.reasons == ()
    manifest = json.loads((built.loaded.index.version / "manifest.json").read_text("utf-8"))
    assert set(manifest["corpus"]["files"]) == set(FILES)


def test_editing_a_file_makes_it_stale(built: Any) -> None:
    (corpus(built) / "treaty.txt").write_text(FILES["treaty.txt"].replace("1994", "1995"))
    status = built.status()
    assert not status.current
    assert status.reasons == ("document changed: treaty.txt",)


def test_touching_a_file_without_changing_it_keeps_it_current(built: Any) -> None:
    path = corpus(built) / "treaty.txt"
    path.write_text(path.read_text("utf-8"))  # new modification time, same bytes
    assert built.status().current


def test_adding_a_file_makes_it_stale(built: Any) -> None:
    (corpus(built) / "extra.md").write_text("# Extra\n\nMore text.\n")
    (corpus(built) / "ignored.docx").write_bytes(b"PK\x03\x04")  # not a corpus file
    status = built.status()
    assert not status.current
    assert status.reasons == ("document added: extra.md",)


def test_deleting_a_file_makes_it_stale(built: Any) -> None:
    (corpus(built) / "notes" / "guide.md").unlink()
    status = built.status()
    assert not status.current
    assert status.reasons == ("document removed: notes/guide.md",)


@pytest.mark.parametrize(
    ("override", "named"),
    [({"chunk_tokens": 120}, "chunking"), ({"chunk_overlap": 0}, "chunking"),
     ({"model": "another-model"}, "model")],
)
def test_changing_settings_makes_it_stale(
    built: Any, make_service: Any, override: dict[str, Any], named: str
) -> None:
    other = make_service(FILES, **override)
    assert other.settings.index_dir == built.settings.index_dir
    status = other.status()
    assert not status.current
    assert len(status.reasons) == 1
    assert status.reasons[0].startswith(f"setting {named} changed")
    assert built.status().current  # the original settings still match


def test_several_changes_are_all_named(built: Any) -> None:
    (corpus(built) / "treaty.txt").write_text("1 Treaty\n\nChanged.\n")
    (corpus(built) / "notes" / "guide.md").unlink()
    (corpus(built) / "new.txt").write_text("New text.\n")
    assert set(built.status().reasons) == {
        "document changed: treaty.txt",
        "document removed: notes/guide.md",
        "document added: new.txt",
    }


def test_index_check_command(built: Any) -> None:
    status, out = check(built)
    assert status == 0
    assert out.startswith("index is current")
    (corpus(built) / "treaty.txt").write_text("1 Treaty\n\nChanged.\n")
    (corpus(built) / "added.md").write_text("# Added\n\nText.\n")
    status, out = check(built)
    assert status == 1
    assert out.startswith("index is stale or damaged: ")
    assert "document changed: treaty.txt" in out
    assert "document added: added.md" in out


def test_index_check_before_any_build(make_service: Any) -> None:
    service = make_service(FILES)
    status, out = check(service)
    assert status == 1
    assert "no index" in out
    assert not service.settings.index_dir.exists() or not any(
        service.settings.index_dir.glob("v-*")
    )


def test_open_rebuilds_a_stale_index_and_answers_from_new_text(built: Any) -> None:
    old_version = built.loaded.index.version
    path = corpus(built) / "treaty.txt"
    path.write_text(path.read_text("utf-8") + "\nThe zorblat accord was ratified in Quito in 1987.\n")
    assert not built.status().current
    built.open()
    assert built.status().current
    assert built.loaded.index.version != old_version
    assert built.last_build is not None and built.last_build.documents == 2
    top = built.search("zorblat accord ratified", k=1)[0]
    assert "zorblat accord was ratified in Quito in 1987" in top.text
    assert top.doc_id == "treaty.txt"


def test_open_rebuilds_after_settings_change(built: Any, make_service: Any) -> None:
    other = make_service(FILES, chunk_tokens=64)
    other.open()
    assert other.status().current
    assert not built.status().current  # the index now matches the new settings
    manifest = other.loaded.index.manifest
    assert manifest["settings"]["chunking"] == {"max_tokens": 64, "overlap_sentences": 1}


def test_open_without_rebuild_keeps_the_old_index(built: Any) -> None:
    version = built.loaded.index.version
    (corpus(built) / "treaty.txt").write_text("1 Treaty\n\nChanged.\n")
    built.open(rebuild=False)
    assert built.loaded.index.version == version
    assert not built.status().current


@pytest.mark.slow
def test_rebuilt_index_answers_with_the_real_model(
    tmp_path: Path, real_embedder: Any
) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "harbour.txt").write_text(
        "1 Harbour\n\nThe harbour of Porto Azul opens at dawn. Fishing boats leave early.\n"
    )
    folders: dict[str, Any] = {"corpus_dir": folder, "index_dir": tmp_path / "index"}
    service = QAService(Settings(**folders), embedder=real_embedder)
    service.open()
    (folder / "accord.txt").write_text(
        "1 Accord\n\nThe Zorblat Accord was signed in Quito in 1987. It ended a long dispute.\n"
    )
    assert service.status().reasons == ("document added: accord.txt",)
    service.open()
    assert service.status().current
    answer = service.ask("When was the Zorblat Accord signed?")
    assert not answer.abstained
    assert answer.answer is not None and "1987" in answer.answer
    assert answer.citations[0].doc_id == "accord.txt"
    text = (folder / "accord.txt").read_bytes().decode("utf-8")
    citation = answer.citations[0]
    assert citation.quote == text[citation.start : citation.end]
