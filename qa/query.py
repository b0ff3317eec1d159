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
class Concept:
    """One thing the question mentions, matched by its own words or an equivalent form.

    A plain word has one stem and no alternative; an acronym (``GPI``) has its long form's
    stems as the alternative, and a long form has the acronym.
    """

    words: frozenset[str]
    alternative: frozenset[str] = frozenset()

    def matched_by(self, terms: set[str] | frozenset[str]) -> bool:
        """Whether a text with these stemmed terms mentions the concept."""
        return _covers(self.words, terms) or bool(self.alternative and _covers(self.alternative, terms))


def _covers(words: frozenset[str], terms: set[str] | frozenset[str]) -> bool:
    if len(words) <= 2:
        return words <= terms
    return len(words & terms) * 3 >= len(words) * 2


@dataclass(frozen=True)
class Query:
    """An analysed question."""

    text: str
    expanded: str
    answer_type: str | None
    terms: tuple[str, ...]  # stemmed content words of the question and its expansions
    question_terms: tuple[str, ...]  # stemmed content words of the question alone
    concepts: tuple[Concept, ...] = ()
    granularity: str | None = None  # for dates: "year", "month" or "day"
    head: str | None = None  # stem of the noun the question asks for ("which prefecture")


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
    question_stems = set(stem(content_words(question)))
    for acronym, long_form in acronyms.items():
        long_stems = set(stem(content_words(long_form)))
        if re.search(rf"(?<![\w-]){re.escape(acronym)}s?(?![\w-])", question):
            extra.append(long_form)
        elif len(long_stems) >= 2 and long_stems <= question_stems:
            extra.append(acronym)
    return question if not extra else f"{question} ({'; '.join(extra)})"


def concepts(question: str, acronyms: dict[str, str]) -> tuple[Concept, ...]:
    """The question's concepts: acronyms and long forms grouped, other words one by one."""
    found: list[Concept] = []
    grouped: set[str] = set()
    question_stems = set(stem(content_words(question)))
    for acronym, long_form in acronyms.items():
        long_stems = frozenset(stem(content_words(long_form)))
        acronym_stems = frozenset(stem(content_words(acronym)))
        if not long_stems or not acronym_stems:
            continue
        if re.search(rf"(?<![\w-]){re.escape(acronym)}s?(?![\w-])", question):
            found.append(Concept(acronym_stems, long_stems))
            grouped |= acronym_stems
        elif len(long_stems) >= 2 and long_stems <= question_stems:
            found.append(Concept(long_stems, acronym_stems))
            grouped |= long_stems
    for term in dict.fromkeys(stem(content_words(question))):
        if term not in grouped:
            found.append(Concept(frozenset({term})))
    return tuple(found)


def date_granularity(question: str) -> str | None:
    """Which part of a date the question wants: ``year``, ``month``, ``day`` or None."""
    q = question.lower()
    if re.search(r"\b(?:what|which) (?:year|fiscal year)\b|\bin what year\b", q):
        return "year"
    if re.search(r"\b(?:what|which) month\b|\bin what month\b", q):
        return "month"
    if re.search(r"\b(?:what|which) (?:date|day|days)\b|\bon what (?:date|day)\b", q):
        return "day"
    return None


_HEAD = re.compile(
    r"\b(?:which|what)\s+(?:U\.S\.\s+|Japanese\s+|American\s+)?([a-z]+)\b", re.I
)
_NOT_HEADS = frozenset("is are was were does did do has have had can could will would should "
                       "kind kinds type types sort of the a an".split())


def head_noun(question: str) -> str | None:
    """The stem of the noun after *which*/*what* (``which prefecture`` -> ``prefectur``)."""
    match = _HEAD.search(question)
    if not match or match.group(1).lower() in _NOT_HEADS:
        return None
    stems = stem([match.group(1).lower()])
    return stems[0] if stems else None


def analyse(question: str, acronyms: dict[str, str]) -> Query:
    """Expand and type a question."""
    expanded = expand_acronyms(question, acronyms)
    kind = answer_type(question)
    return Query(
        text=question,
        expanded=expanded,
        answer_type=kind,
        terms=tuple(dict.fromkeys(stem(content_words(expanded)))),
        question_terms=tuple(dict.fromkeys(stem(content_words(question)))),
        concepts=concepts(question, acronyms),
        granularity=date_granularity(question) if kind == "date" else None,
        head=head_noun(question),
    )
