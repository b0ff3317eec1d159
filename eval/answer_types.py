"""The answer type of a gold question, for the per-type breakdown of the reports.

The gold set labels each question with its kind (``when``, ``who``, ``where``,
``how_many``, ``how_much``, ``what``, ``which``, ``why``, ``how``, or
``unanswerable``). The reports group by what the answer is instead
(:data:`ANSWER_TYPES`): the kinds that say it map directly, the others are settled by
the noun the question asks for ("which *prefecture*"), by the head noun of the gold
answer ("Georgetown *University*") or by the wording of a request for a definition
("What does MCAS stand for?"). An unanswerable question gets the kind its wh-word
implies, so abstention can be read per type too.

The word lists hold English common nouns only, never names from the documents.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["ANSWER_TYPES", "answer_type", "question_kind"]

#: The answer types of the report breakdowns, in report order.
ANSWER_TYPES: tuple[str, ...] = (
    "date",
    "number",
    "money",
    "person",
    "place",
    "organisation",
    "definition",
    "why/how",
    "other",
)

_DIRECT = {
    "when": "date",
    "how_many": "number",
    "where": "place",
    "why": "why/how",
    "how": "why/how",
}
_NOUNS = {
    "date": frozenset("year month day date decade century".split()),
    "place": frozenset(
        "city cities prefecture prefectures country countries region island islands state "
        "states base bases camp location site town village province capital place".split()
    ),
    "organisation": frozenset(
        "agency ministry department committee council command government office "
        "organization organisation company corporation university school team body force "
        "forces navy army association institute bank party".split()
    ),
    "person": frozenset(
        "person people president minister secretary commander official general admiral "
        "leader ambassador officer student students".split()
    ),
}
_MONEY_WORDS = frozenset(
    "yen dollar dollars euro euros pound pounds won cost costs budget pay paying paid price "
    "financially fund funding spend".split()
)
_DEFINITION_RE = re.compile(
    r"\b(stand for|short for|abbreviation|acronym|mean|define|definition|formal name|"
    r"full name|full title)\b|^what (is|are) (an? )?\W*\w+(\W+\w+)?\W*\?$"
)
# Words that end the noun phrase after "what"/"which": auxiliaries, prepositions, articles.
_PHRASE_END = frozenset(
    "is are was were do does did has have had can could will would should may of in on at "
    "to for from by with under the a an".split()
)
_PHRASE_START_SKIP = frozenset({"is", "are", "was", "were", "the", "a", "an"})
_PHRASE_MAX_WORDS = 4
_PREPOSITIONS = frozenset({"of", "for", "in", "on", "at", "to", "from", "by", "with", "between"})
_WORD_RE = re.compile(r"[a-z0-9][a-z0-9'.-]*")
_WH_RE = re.compile(
    r"\b(how many|how much|how long|when|where|whose|whom|who|why|how|which|what)\b"
)
_WH_KIND = {
    "how many": "how_many",
    "how much": "how_much",
    "how long": "how_many",
    "when": "when",
    "where": "where",
    "who": "who",
    "whom": "who",
    "whose": "who",
    "why": "why",
    "how": "how",
    "which": "which",
    "what": "what",
}


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower())


def question_kind(question: str) -> str:
    """The gold-style kind of a question from its first wh-word (``what`` if none).

    Args:
        question: The question as asked.

    Returns:
        One of ``when``, ``who``, ``where``, ``how_many``, ``how_much``, ``why``,
        ``how``, ``which``, ``what``; "in what year" counts as ``when``.
    """
    text = question.lower()
    if re.search(r"\b(what|which) (year|month|day|date)\b", text):
        return "when"
    found = _WH_RE.search(text)
    return _WH_KIND[found.group(1)] if found else "what"


def _asked_nouns(question: str) -> list[str]:
    """Candidates for the noun a "what"/"which" question asks for, most likely first.

    The phrase after the wh-word ("what is the *capital city* of", "which *team* won
    the") ends at an auxiliary, a preposition or an article, after at most four words;
    its last word is the head noun unless the phrase ran on into a verb, so its first
    word is the second candidate.
    """
    words = _words(question)
    for i, word in enumerate(words):
        if word in ("what", "which"):
            following = words[i + 1 :]
            while following and following[0] in _PHRASE_START_SKIP:
                following = following[1:]
            phrase: list[str] = []
            for next_word in following[:_PHRASE_MAX_WORDS]:
                if next_word in _PHRASE_END:
                    break
                phrase.append(next_word)
            return [phrase[-1], phrase[0]] if phrase else []
    return []


def _answer_head(answer: str) -> str | None:
    """The head noun of an answer: its last word before a preposition."""
    head: str | None = None
    for word in _words(answer):
        if word in _PREPOSITIONS and head is not None:
            break
        head = word
    return head


def _noun_type(word: str | None) -> str | None:
    return next((kind for kind, nouns in _NOUNS.items() if word in nouns), None)


def answer_type(kind: str | None, question: str, answers: Sequence[str]) -> str:
    """The answer type of a gold question (one of :data:`ANSWER_TYPES`).

    Args:
        kind: The gold item's ``type`` field; ``None`` or ``unanswerable`` to take it
            from the question's wh-word (:func:`question_kind`).
        question: The question as asked.
        answers: The gold answers (empty for an unanswerable question).

    Returns:
        ``when`` → date, ``how_many`` → number, ``where`` → place, ``why``/``how`` →
        why/how; ``how_much`` → money when the question or an answer speaks of money,
        else number; ``who`` → organisation when the answer's head noun names one, else
        person; ``what``/``which`` → definition, or the type of the asked-for noun or of
        the answer's head noun, else other.
    """
    if kind is None or kind == "unanswerable":
        kind = question_kind(question)
    if kind in _DIRECT:
        return _DIRECT[kind]
    heads = [_answer_head(a) for a in answers[:1]]
    if kind == "how_much":
        words = set(_words(question)) | {w for a in answers for w in _words(a)}
        return "money" if words & _MONEY_WORDS or any("$" in a for a in answers) else "number"
    if kind == "who":
        return "organisation" if any(_noun_type(h) == "organisation" for h in heads) else "person"
    if _DEFINITION_RE.search(question.lower().strip()):
        return "definition"
    for word in (*_asked_nouns(question), *heads):
        noun_type = _noun_type(word)
        if noun_type is not None:
            return noun_type
    return "other"
