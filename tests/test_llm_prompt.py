"""Packing the prompt: numbered passages with document and section, best first, within the
token budget counted with cl100k_base, the last one cut at a sentence end."""

from __future__ import annotations

from dataclasses import replace

import pytest

from index.text.tokens import count_tokens
from qa.errors import LLMError
from qa.llm.prompt import SYSTEM, messages, pack, prompt_budget, sentence_ends
from qa.llm.records import Endpoint, Source
from qa.records import Passage

QUESTION = "When did the council first meet?"


def passage(n: int, sentences: int) -> Passage:
    text = " ".join(f"Sentence {s} of passage {n} says the council met in year {1900 + s}."
                    for s in range(sentences))
    return Passage(f"doc{n}.txt", f"c{n}", f"{n} Part › ({n}) Detail", 0, len(text), text,
                   1.0 / n)


def prompt_tokens(sources: list[Source]) -> int:
    return sum(count_tokens(m["content"]) for m in messages(QUESTION, sources))


def test_everything_fits_in_a_large_window_best_first_and_numbered() -> None:
    passages = [passage(n, 3) for n in range(1, 4)]
    sources = pack(QUESTION, passages, [[]] * 3, 6000)
    assert [s.number for s in sources] == [1, 2, 3]
    assert [s.passage for s in sources] == passages
    user = messages(QUESTION, sources)[1]["content"]
    assert "[2] document: doc2.txt · section: 2 Part › (2) Detail\n" in user
    assert user.index("[1]") < user.index("[2]") < user.index("[3]") < user.index(QUESTION)
    assert messages(QUESTION, sources)[0]["content"] == SYSTEM


@pytest.mark.parametrize("budget", [700, 900, 1200])
def test_the_budget_holds_and_the_last_passage_is_cut_at_a_sentence_end(budget: int) -> None:
    passages = [passage(n, 12) for n in range(1, 6)]
    sources = pack(QUESTION, passages, [[]] * 5, budget)
    assert prompt_tokens(sources) <= budget
    assert sum(len(s.text) for s in sources) < sum(len(p.text) for p in passages)
    assert [s.passage for s in sources] == passages[: len(sources)]  # best first
    for s in sources:
        assert s.passage.text.startswith(s.text)
        assert s.text.endswith(".")  # whole sentences only
    # the cut is the longest that fits: one more sentence would not have
    last = sources[-1]
    if last.text != last.passage.text:
        longer = next(last.passage.text[:e] for e in sentence_ends(last.passage.text)
                      if e > len(last.text) + 1)
        grown = [*sources[:-1], replace(last, text=longer)]
        assert prompt_tokens(grown) > budget - 60  # 60: the allowance for chat templates


def test_stored_sentence_ends_are_used_when_given() -> None:
    p = passage(1, 12)
    first_end = p.text.index(".") + 1
    sources = pack(QUESTION, [p], [[first_end, len(p.text)]], 420)
    assert sources[0].text == p.text[:first_end]


def test_a_window_too_small_for_one_sentence_is_an_error() -> None:
    with pytest.raises(LLMError, match="QA_LLM_CONTEXT_TOKENS"):
        pack(QUESTION, [passage(1, 3)], [[]], 200)


def test_the_budget_leaves_the_answer_and_a_margin() -> None:
    endpoint = Endpoint("http://x/v1", "m", "", 60, 8192, 512)
    assert prompt_budget(endpoint) == int(8192 * 0.85) - 512


def test_sentence_ends_by_punctuation() -> None:
    text = 'One. "Two?" Three'
    assert sentence_ends(text) == [4, 11, len(text)]
