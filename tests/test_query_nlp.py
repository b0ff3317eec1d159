"""The question parser of the query path: the pipeline without its entity recogniser, spaCy
imported without torch; the parses are those of the whole pipeline."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from index.text.nlp import load_nlp, load_query_nlp
from qa.query import parse_question
from tests.conftest import REPO


def every_gold_question() -> list[str]:
    files = [REPO / "eval" / "gold.jsonl", *sorted((REPO / "eval" / "corpora").glob("*/gold.jsonl"))]
    return list(dict.fromkeys(
        json.loads(line)["question"] for path in files
        for line in path.read_text("utf-8").splitlines() if line.strip()
    ))


def token_view(doc: object) -> list[tuple[str, str, str, str, int, bool]]:
    return [(t.text, t.tag_, t.pos_, t.dep_, t.head.i, t.is_stop) for t in doc]  # type: ignore[attr-defined]


def test_query_pipeline_parses_every_gold_question_as_the_whole_pipeline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a process that loaded the whole pipeline reuses it: start from none loaded
    monkeypatch.setattr("index.text.nlp._LOADED", {})
    query_nlp, full = load_query_nlp(), load_nlp()
    assert "ner" not in query_nlp.pipe_names and "ner" in full.pipe_names
    questions = every_gold_question()
    assert len(questions) > 300
    for question in questions:
        light, whole = query_nlp(question), full(question, disable=["ner"])
        assert token_view(light) == token_view(whole), question
        assert [t.lemma_ for t in light] == [t.lemma_ for t in whole], question
        assert parse_question(light) == parse_question(whole), question


IMPORT_CHECK = """
import sys
from index.text.nlp import import_spacy
spacy = import_spacy()
assert "torch" not in sys.modules, "spaCy pulled in torch"
from thinc.compat import has_torch
assert not has_torch
import torch  # still importable for the ONNX export of a build
print("ok", torch.__version__)
"""


@pytest.mark.slow
def test_spacy_is_imported_without_torch_and_torch_stays_importable() -> None:
    result = subprocess.run([sys.executable, "-c", IMPORT_CHECK], cwd=REPO, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok ")
