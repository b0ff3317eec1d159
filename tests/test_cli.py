"""The ``qa`` command: ``--json`` schema, plain output, and one-line error messages.

Most tests call ``qa.cli.main`` in-process against the session's real index; a few run
the installed console script in a subprocess, as a user would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from qa.cli import main

EDD_QUESTION = "When was the Extended Deterrence Dialogue established?"
OFF_TOPIC = "Who won the 2022 football World Cup?"
ANSWER_KEYS = {"question", "answer", "abstained", "confidence", "citations", "passages",
               "index_version", "answerer", "llm"}
CITATION_KEYS = {
    "doc_id", "chunk_id", "section", "start", "end", "quote", "score", "page_start", "page_end",
    "source",
}
PASSAGE_KEYS = {
    "doc_id", "chunk_id", "section", "start", "end", "text", "score", "page_start", "page_end",
}
QA_SCRIPT = Path(sys.executable).with_name("qa")


@pytest.fixture()
def real_env(real_service: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Point the CLI at the session's real corpus and its already built index."""
    settings = real_service.settings
    monkeypatch.setenv("QA_CORPUS_DIR", str(settings.corpus_dir))
    monkeypatch.setenv("QA_INDEX_DIR", str(settings.index_dir))
    return settings


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def document(settings: Any, doc_id: str) -> str:
    return (Path(settings.corpus_dir) / doc_id).read_bytes().decode("utf-8")


def assert_answer_schema(data: Any, question: str) -> None:
    """Exactly the documented ``--json`` object, with the documented types."""
    assert isinstance(data, dict)
    assert set(data) == ANSWER_KEYS
    assert data["question"] == question
    assert data["answer"] is None or isinstance(data["answer"], str)
    assert isinstance(data["abstained"], bool)
    assert isinstance(data["confidence"], float) and 0.0 <= data["confidence"] <= 1.0
    assert isinstance(data["citations"], list) and isinstance(data["passages"], list)
    for citation in data["citations"]:
        assert set(citation) == CITATION_KEYS
        assert_item_types(citation, "quote")
    for passage in data["passages"]:
        assert set(passage) == PASSAGE_KEYS
        assert_item_types(passage, "text")
    assert (data["answer"] is None) == data["abstained"]


def assert_item_types(item: dict[str, Any], text_key: str) -> None:
    for key in ("doc_id", "chunk_id", "section", text_key):
        assert isinstance(item[key], str) and item[key]
    for key in ("start", "end"):
        assert isinstance(item[key], int) and not isinstance(item[key], bool)
    assert 0 <= item["start"] < item["end"]
    assert isinstance(item["score"], float)
    # the chapter is Markdown: no pages (PDF pages are checked in test_ingest_real)
    assert item["page_start"] is None and item["page_end"] is None


def assert_one_error_line(status: int, err: str) -> str:
    """A non-zero exit, exactly one line on stderr starting ``qa: error:``, no traceback."""
    assert status != 0
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("qa: error: ")
    return lines[0]


# -- answers -------------------------------------------------------------------------------


@pytest.mark.slow
def test_ask_json_answers_with_a_verifiable_citation(
    real_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, "ask", EDD_QUESTION, "--json")
    assert status == 0
    data = json.loads(out)
    assert_answer_schema(data, EDD_QUESTION)
    assert data["abstained"] is False
    assert "2010" in data["answer"]
    assert data["citations"]
    for item in data["citations"]:
        assert item["quote"] == document(real_env, item["doc_id"])[item["start"] : item["end"]]
    assert len(data["passages"]) == real_env.k
    for item in data["passages"]:
        assert item["text"] == document(real_env, item["doc_id"])[item["start"] : item["end"]]


@pytest.mark.slow
def test_ask_json_abstains_off_topic(real_env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "ask", OFF_TOPIC, "--json", "--k", "3")
    assert status == 0
    data = json.loads(out)
    assert_answer_schema(data, OFF_TOPIC)
    assert data["abstained"] is True
    assert data["answer"] is None
    assert data["citations"] == []
    assert len(data["passages"]) == 3  # the nearest passages are still listed


@pytest.mark.slow
def test_ask_plain_output(real_env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "ask", EDD_QUESTION)
    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith("Answer: ") and "2010" in lines[0]
    assert "Citations:" in lines
    section = (
        "[1] 2 Japan-U.S. Security Arrangements › (2) Japan-U.S. Security and Defense "
        "Cooperation in Various Fields › A An Overview of Japan-U.S. Security and Defense "
        "Cooperation"
    )
    assert section in lines
    assert "“The EDD was established in 2010" in out
    assert "Passages:" in lines


@pytest.mark.slow
def test_search_json(real_env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "search", "ballistic missile defense", "--json", "--k", "4")
    assert status == 0
    passages = json.loads(out)
    assert isinstance(passages, list) and len(passages) == 4
    for item in passages:
        assert set(item) == PASSAGE_KEYS
        assert_item_types(item, "text")
        assert item["text"] == document(real_env, item["doc_id"])[item["start"] : item["end"]]
    assert any("Missile Defense" in item["section"] for item in passages)
    scores = [item["score"] for item in passages]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.slow
def test_index_check_on_the_real_index(real_env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "index", "--check")
    assert status == 0
    assert out.startswith("index is current")


# -- errors: one line on stderr, non-zero exit, no traceback ----------------------------------


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question(
    question: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "ask", question, "--corpus", str(tmp_path / "nowhere"))
    line = assert_one_error_line(status, err)
    assert "empty" in line
    assert out == ""


def test_empty_search_query(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "search", "  ")
    assert "empty" in assert_one_error_line(status, err)


def test_missing_corpus_folder_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-folder"
    status, out, err = run(
        capsys, "ask", "What?", "--corpus", str(missing), "--index-dir", str(tmp_path / "i")
    )
    assert status != 0
    assert "Traceback" not in err
    assert f"qa: error: corpus folder not found: {missing}" in err.splitlines()
    assert out == ""


def test_corpus_of_unreadable_files_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02 binary")
    (folder / "latin1.md").write_bytes("café".encode("latin-1"))
    (folder / "empty.txt").write_bytes(b"")
    status, _, err = run(
        capsys, "ask", "What?", "--corpus", str(folder), "--index-dir", str(tmp_path / "i")
    )
    assert status != 0
    assert "Traceback" not in err
    line = err.splitlines()[-1]
    assert line.startswith("qa: error: no indexable document (.txt, .md, .pdf, .html, .htm) in ")
    for name in ("binary.txt", "latin1.md", "empty.txt"):
        assert name in line


def test_missing_corpus_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(
        capsys, "ask", "What?", "--corpus", str(tmp_path / "nope"), "--index-dir", str(tmp_path)
    )
    assert "corpus folder not found" in assert_one_error_line(status, err)


def test_unreadable_corpus_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02")
    status, _, err = run(capsys, "ask", "What?", "--corpus", str(folder), "--index-dir", str(tmp_path / "i"))
    assert "no indexable" in assert_one_error_line(status, err)


def test_index_command_on_missing_corpus_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(
        capsys, "index", "--corpus", str(tmp_path / "nope"), "--index-dir", str(tmp_path / "i")
    )
    assert "corpus folder not found" in assert_one_error_line(status, err)


@pytest.mark.slow
@pytest.mark.parametrize("k", ["0", "51"])
def test_out_of_range_k(real_env: Any, k: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "ask", EDD_QUESTION, "--k", k)
    assert "k must be between 1 and 50" in assert_one_error_line(status, err)
    assert out == ""


def test_invalid_setting_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QA_CHUNK_TOKENS", "5")
    status, _, err = run(capsys, "index", "--check")
    assert_one_error_line(status, err)


# -- the installed console script, in a subprocess -----------------------------------------------


def run_script(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    assert QA_SCRIPT.is_file(), f"console script not installed next to {sys.executable}"
    return subprocess.run(
        [str(QA_SCRIPT), *argv],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.mark.slow
def test_console_script_ask_json(real_service: Any) -> None:
    settings = real_service.settings
    result = run_script(
        "ask",
        EDD_QUESTION,
        "--json",
        env={"QA_CORPUS_DIR": str(settings.corpus_dir), "QA_INDEX_DIR": str(settings.index_dir)},
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert_answer_schema(data, EDD_QUESTION)
    assert "2010" in data["answer"]
    citation = data["citations"][0]
    assert citation["quote"] == document(settings, citation["doc_id"])[
        citation["start"] : citation["end"]
    ]


def test_console_script_empty_question() -> None:
    result = run_script("ask", "")
    assert "empty" in assert_one_error_line(result.returncode, result.stderr)
    assert result.stdout == ""


def test_console_script_missing_corpus(tmp_path: Path) -> None:
    result = run_script("index", "--corpus", str(tmp_path / "nope"), "--index-dir", str(tmp_path))
    assert "corpus folder not found" in assert_one_error_line(result.returncode, result.stderr)


def test_console_script_usage_error() -> None:
    result = run_script("ask")  # the question is missing: argparse's usage error
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "the following arguments are required: question" in result.stderr
