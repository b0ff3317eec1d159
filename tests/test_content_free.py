"""Issue 14, finding 1: a question with no letter or digit is refused, not answered.

Questions are NFKC-normalised and stripped of format characters (Unicode Cf) before
anything else; what is left must hold a letter or a digit, or the CLI says so in one line
(exit 2) and the API answers 422. The OpenAPI schema states the same rule as a pattern, so
the schema fuzzer (``tests/test_api_fuzz.py``) expects exactly these questions refused.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from api.app import create_app, has_content_patterns
from index.documents.textfold import has_content
from qa.cli import main
from tests.helpers.procs import REPO, offline_env, qa_command
from tests.helpers.servers import local_client

FILES = {
    "alliance.txt": "1 Alliance\n\nThe Extended Deterrence Dialogue was established in 2010.\n"
}
CONTENT_FREE = ["\u200b\u200b", "\ufeff", "?", "...", " \u2060 ?! \u00ad", "\u200d\u200c", "¿¡"]
WITH_CONTENT = ["a", "2010?", "\uff37hen?", "\u2460", "日米", "\U0001d400?"]  # fullwidth W, ①, 𝐀


@pytest.fixture()
def client(make_service: Callable[..., Any]) -> TestClient:
    service = make_service(FILES)
    service.open()
    return local_client(create_app(service.settings, service))


@pytest.mark.parametrize("question", CONTENT_FREE)
def test_a_content_free_question_is_422(client: TestClient, question: str) -> None:
    response = client.post("/ask", json={"question": question})
    assert response.status_code == 422, response.text
    assert "no letter or digit" in response.json()["detail"]
    response = client.get("/search", params={"q": question})
    assert response.status_code == 422, response.text
    assert "no letter or digit" in response.json()["detail"]


@pytest.mark.parametrize("question", WITH_CONTENT)
def test_a_question_with_one_letter_or_digit_is_asked(client: TestClient, question: str) -> None:
    response = client.post("/ask", json={"question": question})
    assert response.status_code == 200, response.text
    assert response.json()["question"] == question  # echoed as asked, not as cleaned


@pytest.mark.parametrize("question", ["\u200b", "?", "..."])
def test_the_cli_refuses_a_content_free_question_in_one_line(
    question: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The corpus does not exist: the question is refused before any index work.
    status = main(["ask", question, "--corpus", str(tmp_path / "nowhere")])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("qa: error: ")
    assert "no letter or digit" in err
    assert main(["search", question, "--corpus", str(tmp_path / "nowhere")]) == 2
    assert "no letter or digit" in capsys.readouterr().err


def test_undecodable_bytes_on_the_command_line_are_one_clear_line(tmp_path: Path) -> None:
    """``qa ask $'Where \\xff is X?'``: Python hands the byte over as a lone surrogate."""
    result = subprocess.run(
        [*qa_command("ask"), b"Where \xff is the base?", "--corpus", str(tmp_path / "nowhere")],
        cwd=REPO, env=offline_env(), capture_output=True, timeout=120,
    )
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, err
    assert "Traceback" not in err and err.count("\n") == 1
    assert "not valid text" in err


def schema_accepts(text: str) -> bool:
    """What the OpenAPI schema says: the question matches one of the ``anyOf`` patterns."""
    return any(re.search(pattern, text) for pattern in has_content_patterns())


def test_the_schema_states_the_rule_the_service_applies(client: TestClient) -> None:
    question = client.get("/openapi.json").json()["components"]["schemas"]["AskRequest"]
    assert [p["pattern"] for p in question["properties"]["question"]["anyOf"]] == list(
        has_content_patterns()
    )
    for text in CONTENT_FREE:
        assert not schema_accepts(text) and not has_content(text)
    for text in WITH_CONTENT:
        assert schema_accepts(text) and has_content(text)


def test_the_schema_patterns_and_the_service_agree_on_every_character() -> None:
    for code in range(0x110000):
        if not 0xD800 <= code <= 0xDFFF:
            char = chr(code)
            assert schema_accepts(char) == has_content(char), hex(code)


def test_the_bmp_pattern_needs_no_unicode_flag() -> None:
    bmp, astral = has_content_patterns()
    assert bmp.isascii()  # \uXXXX escapes only: one meaning with or without ECMA's u flag
    assert all(ord(c) > 0xFFFF for c in astral[1:-1] if c != "-")


@settings(max_examples=500, deadline=None)
@given(st.text(st.characters(exclude_categories=["Cs"]), max_size=8))
def test_the_schema_pattern_and_the_service_agree_on_any_text(text: str) -> None:
    assert schema_accepts(text) == has_content(text)


@pytest.mark.slow
def test_zero_width_characters_inside_a_question_do_not_change_the_answer(
    real_service: Any,
) -> None:
    plain = real_service.ask("When was the Extended Deterrence Dialogue established?")
    odd = real_service.ask("When\u200b was the Ex\u200dtended Deterrence\u2060 Dialogue established?")
    assert not plain.abstained and "2010" in plain.answer
    assert (odd.answer, odd.abstained) == (plain.answer, plain.abstained)
