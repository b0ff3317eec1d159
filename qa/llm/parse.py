"""Read the model's JSON leniently: code fences, text before or after the object, a passage
number written as a string. Anything else is an error naming what is wrong."""

from __future__ import annotations

import json
from typing import Any

from qa.errors import LLMBadReply
from qa.llm.records import ModelAnswer, ModelQuote

MAX_SHOWN = 120  # characters of a bad reply quoted in the error


def parse_reply(text: str) -> ModelAnswer:
    """The answer and quotes in a reply ``{"answer": ..., "quotes": [...]}``.

    Args:
        text: the model's reply, as it came.

    Returns:
        The parsed answer (``answer`` None when the model says the passages do not answer).

    Raises:
        LLMBadReply: no JSON object in the reply, or one without the asked-for fields.
    """
    data = _first_object(text)
    if data is None:
        raise LLMBadReply(f"the model's reply is not the JSON asked for: {_shown(text)}")
    if "answer" not in data:
        raise LLMBadReply(f"the model's JSON has no \"answer\": {_shown(text)}")
    answer = data["answer"]
    if answer is None or (isinstance(answer, str) and not answer.strip()):
        return ModelAnswer(None)
    if not isinstance(answer, str):
        raise LLMBadReply(f"the model's \"answer\" is not text: {_shown(text)}")
    quotes = data.get("quotes") or []
    if not isinstance(quotes, list):
        raise LLMBadReply(f"the model's \"quotes\" is not a list: {_shown(text)}")
    return ModelAnswer(answer.strip(), tuple(_quote(q, text) for q in quotes))


def whole_then_padding(text: str) -> bool:
    """Whether ``text`` holds one whole JSON object followed only by white space: a reply cut
    at the answer budget while a model in JSON mode padded a finished object (small models
    under a server's JSON grammar do)."""
    at = text.find("{")
    if at < 0:
        return False
    try:
        _, end = json.JSONDecoder().raw_decode(text, at)
    except json.JSONDecodeError:
        return False
    return not text[end:].strip()


def _first_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text`` (inside a code fence or not), or None."""
    decoder = json.JSONDecoder()
    at = text.find("{")
    while at >= 0:
        try:
            value, _ = decoder.raw_decode(text, at)  # stops at the object's end
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            return value
        at = text.find("{", at + 1)
    return None


def _quote(item: Any, reply: str) -> ModelQuote:
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        raise LLMBadReply(f"a quote in the model's JSON is not {{\"passage\": n, \"text\": \"...\"}}: "
                       f"{_shown(reply)}")
    number = item.get("passage")
    if isinstance(number, str) and number.strip().lstrip("[").rstrip("]").isdigit():
        number = int(number.strip().lstrip("[").rstrip("]"))
    if not isinstance(number, int) or isinstance(number, bool):
        raise LLMBadReply(f"a quote in the model's JSON names no passage number: {_shown(reply)}")
    return ModelQuote(number, item["text"])


def _shown(text: str) -> str:
    flat = " ".join(text.split())
    if not flat:
        return "(an empty reply)"
    return repr(flat[:MAX_SHOWN] + ("…" if len(flat) > MAX_SHOWN else ""))
