"""A missing or unusable spaCy pipeline: ``load_nlp`` raises ``NlpModelError``, and the ``qa``
command says so in one line naming ``QA_NLP_MODEL``, without a traceback or a half-built index."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from index.errors import NlpModelError, QAError
from index.store import CURRENT
from index.text.nlp import load_nlp
from tests.helpers.procs import REPO, offline_env

QA_SCRIPT = Path(sys.executable).with_name("qa")
MISSING = "no_such_pipeline"
CORPUS = {"harbor.txt": "1 Harbor\n\nThe harbor opened in 1901. It has 40 berths.\n"}
QUESTION = "When did the harbor open?"


def run_script(*argv: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The installed console script, offline, with only the ``QA_*`` settings given here."""
    assert QA_SCRIPT.is_file(), f"console script not installed next to {sys.executable}"
    return subprocess.run(
        [str(QA_SCRIPT), *(str(a) for a in argv)],
        cwd=REPO,
        env=offline_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def assert_one_line_naming_the_setting(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("qa: error: "), lines[0]
    assert "QA_NLP_MODEL" in lines[0] and MISSING in lines[0], lines[0]
    return lines[0]


def test_load_nlp_raises_nlp_model_error_for_a_missing_pipeline() -> None:
    with pytest.raises(NlpModelError) as caught:
        load_nlp(MISSING)
    message = str(caught.value)
    assert MISSING in message and "QA_NLP_MODEL" in message
    assert "\n" not in message
    assert isinstance(caught.value, QAError)  # so the CLI and the API translate it
    with pytest.raises(NlpModelError):  # a failure is not remembered as a loaded pipeline
        load_nlp(MISSING)


def test_load_nlp_refuses_a_pipeline_without_tagger_parser_and_ner(tmp_path: Path) -> None:
    import spacy

    path = tmp_path / "blank_en"
    spacy.blank("en").to_disk(path)
    with pytest.raises(NlpModelError, match=r"lacks ner, parser, tagger.*QA_NLP_MODEL"):
        load_nlp(str(path))


def test_load_nlp_loads_the_default_pipeline_once() -> None:
    nlp = load_nlp()
    assert {"tagger", "parser", "ner"} <= set(nlp.pipe_names)
    assert load_nlp() is nlp


@pytest.mark.slow
def tiny_corpus(tmp_path: Path) -> tuple[Path, Path]:
    """A one-document corpus folder and an index folder (not built) under ``tmp_path``."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "harbor.txt").write_text(CORPUS["harbor.txt"], "utf-8")
    return corpus, tmp_path / "index"


def test_qa_index_with_a_missing_pipeline_fails_in_one_line(tmp_path: Path) -> None:
    corpus, index_dir = tiny_corpus(tmp_path)
    result = run_script("index", "--corpus", corpus, "--index-dir", index_dir, QA_NLP_MODEL=MISSING)
    assert_one_line_naming_the_setting(result)
    assert result.stdout == ""
    assert not (index_dir / CURRENT).exists()  # nothing published


@pytest.mark.slow
def test_qa_ask_with_a_missing_pipeline_and_no_index_fails_in_one_line(tmp_path: Path) -> None:
    corpus, index_dir = tiny_corpus(tmp_path)
    result = run_script(
        "ask", QUESTION, "--corpus", corpus, "--index-dir", index_dir, QA_NLP_MODEL=MISSING
    )
    assert_one_line_naming_the_setting(result)
    assert result.stdout == ""
    assert not (index_dir / CURRENT).exists()


@pytest.mark.slow
def test_qa_ask_with_a_missing_pipeline_leaves_a_built_index_alone(
    make_service: Callable[..., Any],
) -> None:
    service = make_service(CORPUS)
    service.open()  # built with the default pipeline
    settings = service.settings
    pointer = (settings.index_dir / CURRENT).read_text("utf-8")
    result = run_script(
        "ask",
        QUESTION,
        "--json",
        "--corpus",
        settings.corpus_dir,
        "--index-dir",
        settings.index_dir,
        QA_NLP_MODEL=MISSING,
    )
    assert_one_line_naming_the_setting(result)
    assert result.stdout == ""
    assert (settings.index_dir / CURRENT).read_text("utf-8") == pointer
