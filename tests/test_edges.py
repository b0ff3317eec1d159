"""Issue 14, finding 5: settings, names and ids at the edges of the CLI and the API.

* List-valued settings read ``a,b`` as well as JSON (a plain origin was a pydantic traceback).
* File names go to the terminal with control characters escaped (a newline faked output
  lines, ESC coloured the terminal).
* Ids echoed in 404 bodies are cut to a short prefix.
* ``POST /reload`` lists the skipped files with their reasons.
* A hard-linked file is indexed, with a warning among the skipped/warned files.
* A file named with a newline is cited and served by ``GET /documents/...%0A...``.

Undecodable bytes on the command line are tested with the other question checks, in
``tests/test_content_free.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from api.app import create_app
from qa.cli import main
from qa.settings import Settings
from tests.helpers.procs import run_qa
from tests.helpers.servers import local_client

TEXT = "1 Alliance\n\nThe dialogue was established in 2010 and meets twice a year.\n"
QUESTION = "When was the dialogue established?"
LIST_SETTINGS = ("QA_CORS_ORIGINS", "QA_ALLOWED_HOSTS", "QA_TRUSTED_PROXIES")


# -- list-valued settings -------------------------------------------------------------------


@pytest.mark.parametrize("name", LIST_SETTINGS)
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://example.com", ["http://example.com"]),
        ("http://a.example, http://b.example", ["http://a.example", "http://b.example"]),
        ('["http://a.example", "http://b.example"]', ["http://a.example", "http://b.example"]),
        ("", []),
    ],
)
def test_list_settings_read_commas_and_json(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: list[str]
) -> None:
    monkeypatch.setenv(name, value)
    assert getattr(Settings(), name.removeprefix("QA_").lower()) == expected


def test_a_plain_origin_works_from_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text(TEXT, "utf-8")
    env = {"QA_CORPUS_DIR": str(tmp_path / "corpus"), "QA_INDEX_DIR": str(tmp_path / "index")}
    result = run_qa("index", "--check", QA_CORS_ORIGINS="http://example.com", **env)
    assert result.returncode == 1 and "Traceback" not in result.stderr  # 1: not built yet
    assert result.stdout.startswith("index is stale or damaged: no index in")
    result = run_qa("index", "--check", QA_CORS_ORIGINS='["http://a", ', **env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("qa: error: QA_CORS_ORIGINS: ")
    assert len(result.stderr.splitlines()) == 1


# -- names on a terminal --------------------------------------------------------------------


ODD_NAMES = {
    "fake\nindex is current.txt": "fake\\nindex is current.txt",
    "red\x1b[31mcolour.txt": "red\\x1b[31mcolour.txt",
}


def test_qa_index_escapes_control_characters_in_file_names(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(TEXT, "utf-8")
    (corpus / "bell\a.pdf").write_bytes(b"%PDF")  # skipped: listed with its reason
    env = {"QA_CORPUS_DIR": str(corpus), "QA_INDEX_DIR": str(tmp_path / "index"),
           "QA_MODEL": "hashing-64"}
    built = run_qa("index", **env)
    assert built.returncode == 0, built.stderr
    assert "skipped bell\\x07.pdf: not a PDF file" in built.stderr
    for name in ODD_NAMES:
        (corpus / name).write_text(TEXT, "utf-8")
    check = run_qa("index", "--check", **env)
    assert check.returncode == 1
    assert check.stdout.count("\n") == 1 and "\x1b" not in check.stdout
    for escaped in ODD_NAMES.values():
        assert f"document added: {escaped}" in check.stdout
    rebuilt = run_qa("ask", QUESTION, **env)
    assert rebuilt.returncode == 0 and "\x1b" not in rebuilt.stdout + rebuilt.stderr
    assert rebuilt.stderr.count("\n") == 1  # "building the index: ..." on one line


# -- ids in errors, skipped files, odd names over HTTP ---------------------------------------


@pytest.fixture()
def client_for(make_service: Callable[..., Any]) -> Callable[..., Any]:
    def make(files: dict[str, str | bytes]) -> Any:
        service = make_service(files)
        service.open()
        return local_client(create_app(service.settings, service))

    return make


@pytest.mark.parametrize("route", ["/passages/", "/documents/"])
def test_ids_echoed_in_404_bodies_are_cut_short(client_for: Callable[..., Any], route: str) -> None:
    client = client_for({"a.txt": TEXT})
    response = client.get(route + "z" * 5000)
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert len(detail) < 100 and detail.endswith("...") and "z" * 40 in detail


def test_reload_lists_the_skipped_files_with_their_reasons(
    client_for: Callable[..., Any],
) -> None:
    client = client_for({"a.txt": TEXT, "empty.txt": ""})
    body = client.post("/reload").json()
    assert body["reloaded"] is False
    assert body["skipped"] == [{"path": "empty.txt", "reason": "empty file"}]


def test_a_hard_linked_file_is_indexed_with_a_warning(
    make_service: Callable[..., Any], tmp_path: Path
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("2 Outside\n\nA text that also lives outside the corpus.\n", "utf-8")
    service = make_service({"a.txt": TEXT})
    os.link(outside, service.settings.corpus_dir / "linked.txt")
    service.open()
    assert service.documents() == ["a.txt", "linked.txt"]
    (warning,) = service.skipped()
    assert warning.path == "linked.txt"
    assert warning.reason.startswith("indexed with a warning: 2 hard links")
    client = local_client(create_app(service.settings, service))
    assert client.post("/reload").json()["skipped"][0]["path"] == "linked.txt"
    env = {"QA_CORPUS_DIR": str(service.settings.corpus_dir),
           "QA_INDEX_DIR": str(tmp_path / "cli-index"), "QA_MODEL": "hashing-64"}
    built = run_qa("index", **env)
    assert "warning linked.txt: 2 hard links to this file" in built.stderr
    assert "1 file(s) indexed with a warning" in built.stdout


def test_a_file_named_with_a_newline_is_cited_and_served(client_for: Callable[..., Any]) -> None:
    name = "two\nlines.txt"
    client = client_for({name: TEXT})
    answer = client.post("/ask", json={"question": QUESTION}).json()
    assert {p["doc_id"] for p in answer["passages"]} == {name}
    response = client.get("/documents/" + quote(name))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.pop("version").startswith("v-")  # the index version served (issue 24, no. 13)
    assert body == {"doc_id": name, "text": TEXT, "kind": "text", "pages": None}


def test_the_cli_answer_shows_an_odd_document_name_escaped(
    make_service: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    service = make_service({"red\x1b[31m.txt": TEXT}, model="hashing-64")
    service.open()
    monkeypatch.setenv("QA_CORPUS_DIR", str(service.settings.corpus_dir))
    monkeypatch.setenv("QA_INDEX_DIR", str(service.settings.index_dir))
    monkeypatch.setenv("QA_MODEL", "hashing-64")
    assert main(["search", QUESTION]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "red\\x1b[31m.txt" in out
