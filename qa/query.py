"""Question analysis: acronym expansion and the expected answer type."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.lexical import content_words, stem

ANSWER_TYPES = ("date", "quantity", "money", "person", "place", "organization", "name", "reason")

_TYPE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "money",
        re.compile(
            r"\bhow much\b.*\b(?:cost|budget|money|yen|dollars?|spend|pay|worth|expenditures?|funds?)\b|\bwhat (?:is|was) the (?:annual )?(?:average )?budget\b|\bhow much\b",
            re.I,
        ),
    ),
    (
        "date",
        re.compile(
            r"^\s*(?:since )?when\b|\bwhat (?:year|date|month|day|time)\b|\bwhich (?:year|date|month|day)\b|\bin (?:what|which) (?:year|month)\b|\bsince when\b|\bwhat year\b|\bhow long ago\b|\bby (?:what|which) (?:year|date)\b|\bon what date\b|\bwhen\b",
            re.I,
        ),
    ),
    (
        "quantity",
        re.compile(
            r"\bhow many\b|\bwhat (?:number|percentage|share|proportion)\b|\bhow (?:large|big|far|long|old)\b|\bhow much (?:land|area)\b",
            re.I,
        ),
    ),
    (
        "person",
        re.compile(
            r"^\s*(?:who|whom|whose)\b|\bwho\b|\bwhich (?:official|person|minister|president|secretary|leader|general|admiral|commander|student|people|officials|ministers)\b|\b(?:name|names) of the (?:official|person|minister|president|secretary|commander|student)\b",
            re.I,
        ),
    ),
    (
        "place",
        re.compile(
            r"^\s*where\b|\bwhere\b|\bin which (?:city|country|prefecture|location|place|base|camp|state|town)\b|\bat which (?:base|location|place|facility|camp|site|school|university)\b|\bwhich (?:city|country|prefecture|location|place|base|camp|site|facility|facilities|island|islands|school|university)\b|\bwhat (?:city|country|prefecture|location|place|base|school|university)\b",
            re.I,
        ),
    ),
    (
        "reason",
        re.compile(
            r"^\s*why\b|\bwhat (?:is|was) the (?:purpose|reason|aim|goal)\b|\bfor what purpose\b",
            re.I,
        ),
    ),
    (
        "name",
        re.compile(
            r"\bwhat (?:is|was) (?:the )?(?:name|title|called)\b|\bwhat (?:is|was|are|were) .* called\b|\bwhich (?:program|programme|project|exercise|agreement|treaty|system|initiative|framework|missile|ship|dialogue|document|statement|unit|regiment)\b|\bwhat (?:program|programme|project|exercise|agreement|treaty|system|initiative|framework|missile|ship|dialogue|document|unit|regiment)\b|\bname\b",
            re.I,
        ),
    ),
    (
        "organization",
        re.compile(
            r"\bwhich (?:organization|organisation|agency|ministry|department|body|committee|command|countries|country|states|nations)\b|\bwhat (?:organization|organisation|agency|ministry|department|body|committee|command)\b",
            re.I,
        ),
    ),
)


@dataclass(frozen=True)
class Query:
    """An analysed question."""

    text: str
    expanded: str
    answer_type: str | None
    terms: tuple[str, ...]  # stemmed content words of the question and its expansions
    question_terms: tuple[str, ...]  # stemmed content words of the question alone


def answer_type(question: str) -> str | None:
    """The kind of span the question asks for, or None for open questions."""
    for name, pattern in _TYPE_RULES:
        if pattern.search(question):
            return name
    return None


def expand_acronyms(question: str, acronyms: dict[str, str]) -> str:
    """Add long forms after acronyms and acronyms after long forms.

    Args:
        question: the user's question.
        acronyms: acronym -> long form, as extracted from the corpus.

    Returns:
        The question with expansions appended (the original text is kept first).
    """
    extra: list[str] = []
    lowered = question.lower()
    for acronym, long_form in acronyms.items():
        if re.search(rf"(?<![\w-]){re.escape(acronym)}s?(?![\w-])", question):
            extra.append(long_form)
        elif long_form.lower() in lowered:
            extra.append(acronym)
    return question if not extra else f"{question} ({'; '.join(extra)})"


def analyse(question: str, acronyms: dict[str, str]) -> Query:
    """Expand and type a question."""
    expanded = expand_acronyms(question, acronyms)
    return Query(
        text=question,
        expanded=expanded,
        answer_type=answer_type(question),
        terms=tuple(dict.fromkeys(stem(content_words(expanded)))),
        question_terms=tuple(dict.fromkeys(stem(content_words(question)))),
    )
