"""Reading the model's reply leniently, and refusing what is not the JSON asked for."""

from __future__ import annotations

import pytest

from qa.errors import LLMBadReply
from qa.llm.parse import parse_reply, whole_then_padding
from qa.llm.records import ModelAnswer, ModelQuote

EXPECTED = ModelAnswer("In 2010.", (ModelQuote(2, "was established in 2010"),))
BODY = '{"answer": "In 2010.", "quotes": [{"passage": 2, "text": "was established in 2010"}]}'


@pytest.mark.parametrize("reply", [
    BODY,
    f"```json\n{BODY}\n```",
    f"Sure! Here is the JSON:\n{BODY}\nI hope this helps {{smile}}.",
    BODY.replace('"passage": 2', '"passage": "2"'),
    BODY.replace('"passage": 2', '"passage": "[2]"'),
])
def test_lenient_forms(reply: str) -> None:
    assert parse_reply(reply) == EXPECTED


@pytest.mark.parametrize("reply", ['{"answer": null}', '{"answer": ""}', '```{"answer": null}```'])
def test_no_answer(reply: str) -> None:
    assert parse_reply(reply) == ModelAnswer(None)


@pytest.mark.parametrize(("reply", "message"), [
    ("The answer is 2010.", "not the JSON asked for"),
    ("", "an empty reply"),
    ('{"answer": "In 2010.", "quotes": [{"passage": 2, "text": "was est', "not the JSON"),
    ('{"result": "2010"}', 'no "answer"'),
    ('{"answer": 2010}', "not text"),
    ('{"answer": "x", "quotes": "was established"}', "not a list"),
    ('{"answer": "x", "quotes": [{"text": "was established"}]}', "no passage number"),
    ('{"answer": "x", "quotes": [{"passage": 1}]}', "is not"),
])
def test_unusable_replies(reply: str, message: str) -> None:
    with pytest.raises(LLMBadReply, match=message):
        parse_reply(reply)


@pytest.mark.parametrize(("reply", "whole"), [
    (BODY + "\n \t\n  \t", True),  # a finished object padded with white space (JSON grammar)
    (BODY, True),
    ('{"answer": "In 20', False),  # cut inside the object
    (BODY + " and then", False),  # words after it: not padding
    ("no object", False),
])
def test_a_reply_cut_in_its_padding_is_whole(reply: str, whole: bool) -> None:
    assert whole_then_padding(reply) is whole
