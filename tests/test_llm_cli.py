"""The model answerer where users meet it: ``qa ask --llm``, ``qa eval --answerer llm`` and
``qa serve``, each a real subprocess over the real chapter, against a scripted
OpenAI-compatible server on loopback."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.fake_llm import MODEL, FakeLLM, answer_json, fake_llm_server, quoting
from tests.helpers.procs import free_port, run_qa, start_qa, stop, wait_until

pytestmark = pytest.mark.slow  # the real chapter, index and reader in subprocesses

QUESTION = "When was the Extended Deterrence Dialogue established?"
EDD_WORDS = "The EDD was established in 2010"
UNVERIFIED = "the model's answer could not be checked against the sources"
GOLD_IDS = ("q001", "q002", "q003")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLM]:
    with fake_llm_server() as server:
        yield server


@pytest.fixture()
def env(real_service: Any, fake: FakeLLM) -> dict[str, str]:
    """The settings of a subprocess: the session's chapter index and the fake model."""
    fake.set()
    settings = real_service.settings
    return {"QA_CORPUS_DIR": str(settings.corpus_dir), "QA_INDEX_DIR": str(settings.index_dir),
            "QA_LLM_URL": fake.url, "QA_LLM_MODEL": MODEL, "QA_LLM_TIMEOUT": "4"}


def one_error_line(result: Any) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: error: "), result.stderr
    assert result.stdout == ""
    return str(lines[0])


def test_ask_llm_prints_the_models_answer_and_who_quoted_what(env: dict[str, str],
                                                              fake: FakeLLM) -> None:
    fake.set(content=quoting("It was established in 2010.", EDD_WORDS))
    result = run_qa("ask", QUESTION, "--llm", **env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Answer (written by {MODEL}; every quote found in the sources):"
    assert lines[1] == "  It was established in 2010."
    assert "(quoted by the model)" in result.stdout and f"“{EDD_WORDS}”" in result.stdout
    assert UNVERIFIED not in result.stdout


def test_ask_llm_json_cites_exact_offsets_of_the_chapter(env: dict[str, str], fake: FakeLLM,
                                                         chapter_text: str) -> None:
    fake.set(content=quoting("It was established in 2010.", EDD_WORDS))
    result = run_qa("ask", QUESTION, "--llm", "--json", **env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["answerer"] == "llm" and data["llm"]["outcome"] == "verified"
    assert data["confidence"] is None and data["answer"] == "It was established in 2010."
    (citation,) = data["citations"]
    assert citation["source"] == "model" and citation["quote"] == EDD_WORDS
    assert chapter_text[citation["start"]:citation["end"]] == EDD_WORDS


def test_an_unverified_answer_shows_why_and_the_readers_answer(env: dict[str, str],
                                                               fake: FakeLLM) -> None:
    fake.set(content=quoting("It was established in 2012.", EDD_WORDS))
    result = run_qa("ask", QUESTION, "--llm", **env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Note: {UNVERIFIED}: the number '2012' in the answer is in no quote."
    assert lines[1] == "The extractive reader's answer is shown instead."
    assert lines[3].startswith("Answer: ") and "2012" not in lines[3]
    assert "(quoted by the model)" not in result.stdout and "(cut by the reader)" in result.stdout


def test_without_an_endpoint_ask_llm_is_one_line(env: dict[str, str]) -> None:
    env = {k: v for k, v in env.items() if k != "QA_LLM_URL"}
    line = one_error_line(run_qa("ask", QUESTION, "--llm", **env))
    assert "no model endpoint is configured" in line and "QA_LLM_URL" in line


def test_a_url_without_a_model_name_is_one_line(env: dict[str, str]) -> None:
    env = {k: v for k, v in env.items() if k != "QA_LLM_MODEL"}
    assert "QA_LLM_MODEL" in one_error_line(run_qa("ask", QUESTION, "--llm", **env))


@pytest.mark.parametrize(("behaviour", "words"), [
    ({"kind": "stall", "seconds": 600}, "did not reply within 4 s (QA_LLM_TIMEOUT)"),
    ({"kind": "endless"}, "QA_LLM_TIMEOUT"),
    ({"kind": "status", "status": 500, "error": "boom"}, "answered 500: boom"),
    ({"content": "no JSON here"}, "not the JSON asked for"),
    ({"content": '{"answer": "It', "finish_reason": "length"}, "QA_LLM_MAX_TOKENS"),
])
def test_server_failures_are_one_line_never_a_hang(env: dict[str, str], fake: FakeLLM,
                                                   behaviour: dict[str, Any], words: str) -> None:
    fake.set(**behaviour)
    line = one_error_line(run_qa("ask", QUESTION, "--llm", timeout=900, **env))
    ended = time.monotonic()
    assert words in line
    # from the model being asked to the process gone: the timeout (4 s) and an exit, no more
    (asked,) = fake.arrivals
    assert ended - asked < 4 + 15


def test_a_server_that_is_down_and_a_wrong_model_are_one_line(env: dict[str, str]) -> None:
    down = one_error_line(run_qa("ask", QUESTION, "--llm",
                                 **{**env, "QA_LLM_URL": "http://127.0.0.1:9/v1"}))
    assert "cannot be reached" in down
    wrong = one_error_line(run_qa("ask", QUESTION, "--llm", **{**env, "QA_LLM_MODEL": "nope"}))
    assert "answered 404" in wrong and "QA_LLM_MODEL='nope'" in wrong


# -- qa eval --answerer llm -----------------------------------------------------------------


def first_sentence_reply(wrong_number_for: str) -> Any:
    """A model quoting a sentence of passage 1 as its answer; for a question holding
    ``wrong_number_for`` it adds a year no passage gives."""
    def reply(prompt: str) -> str:
        text = prompt.split("\n", 3)[3]  # passage 1, after "Passages:", a blank and its header
        sentences = re.split(r"(?<=[.!?])\s+", text.split("\n\n[2] document: ")[0])
        sentence = next(s for s in sentences if len(s.split()) >= 6)
        quote = " ".join(sentence.split()[:20])
        extra = " in 1234" if wrong_number_for in prompt.rsplit("Question: ", 1)[1] else ""
        return answer_json(quote + extra, (1, quote))
    return reply


def gold_file(tmp_path: Path) -> Path:
    items = [json.loads(line) for line in Path("eval/gold.jsonl").read_text("utf-8").splitlines()]
    chosen = [item for item in items if item["id"] in GOLD_IDS]
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in chosen), encoding="utf-8")
    return path


def test_eval_with_the_model_counts_verified_and_unverified_answers(
        env: dict[str, str], fake: FakeLLM, tmp_path: Path) -> None:
    gold = gold_file(tmp_path)
    fake.set(content=first_sentence_reply("Roughly how many"))  # q002 only
    result = run_qa("eval", "--gold", str(gold), "--answerer", "llm", "--json", timeout=600,
                    **env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data["systems"]) == ["hybrid"]  # no baselines with the model
    metrics = data["systems"]["hybrid"]
    assert metrics["questions"] == 3
    assert metrics["llm_verified"] == pytest.approx(2 / 3)
    assert metrics["llm_unverified"] == pytest.approx(1 / 3)
    assert metrics["llm_abstained"] == 0 and metrics["llm_failed"] == 0
    outcomes = {q["id"]: q["llm_outcome"] for q in data["questions"]}
    assert outcomes == {"q001": "verified", "q002": "unverified", "q003": "verified"}
    assert metrics["citation_verification"] == 1.0  # every citation is the document's text


def test_eval_text_report_says_the_share_verified(env: dict[str, str], fake: FakeLLM,
                                                  tmp_path: Path) -> None:
    fake.set(content='{"answer": "x"}')  # no quotes at all: nothing verified
    result = run_qa("eval", "--gold", str(gold_file(tmp_path)), "--answerer", "llm",
                    timeout=600, **env)
    assert result.returncode == 0, result.stderr
    assert ("model answers (answerer llm): verified 0.000, unverified 1.000, abstained 0.000, "
            "failed 0.000") in result.stdout


def test_eval_llm_without_an_endpoint_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    env = {k: v for k, v in env.items() if k != "QA_LLM_URL"}
    line = one_error_line(run_qa("eval", "--gold", str(gold_file(tmp_path)),
                                 "--answerer", "llm", **env))
    assert "QA_LLM_URL" in line


# -- qa serve ------------------------------------------------------------------------------


@pytest.mark.parametrize("up", [True, False])
def test_serve_says_at_start_up_whether_the_endpoint_answers(
        env: dict[str, str], fake: FakeLLM, tmp_path: Path, up: bool) -> None:
    url = fake.url if up else "http://127.0.0.1:9/v1"
    expected = ("answerer 'llm' is on" if up else
                "warning: model endpoint: the model server at http://127.0.0.1:9/v1 cannot be "
                "reached")
    port = free_port()
    log = tmp_path / "serve.log"
    process = start_qa("serve", "--port", str(port), log=log, **{**env, "QA_LLM_URL": url})
    try:
        assert wait_until(lambda: "citeqa is ready" in log.read_text("utf-8", "replace")
                          or process.poll() is not None, 300)
        text = log.read_text("utf-8")
        assert expected in text, text
        ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=30).json()
        assert ready["llm"]["answers"] is up and ready["llm"]["model"] == MODEL
    finally:
        stop(process)
