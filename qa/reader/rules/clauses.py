"""Clauses that answer *who <verb>*, *why*, *how*, *what did X <verb>* and *who is <Name>*.

``subject_phrase`` takes the subject of the question's verb; ``marker_clause`` the clause
opened by a purpose, cause or manner marker; ``question_verb``, ``verb_complement`` and
``to_do_clause`` what follows the question's verb; ``identity_question`` and
``identity_phrase`` what a sentence says a named person is.
"""

from __future__ import annotations

import re

from index.text.lexical import STOPWORDS
from qa.reader.rules.noun_phrases import wh_phrase
from qa.reader.rules.phrase_tokens import (
    AUXILIARIES,
    CLAUSE_WORDS,
    DETERMINERS,
    PREPOSITIONS,
    Token,
    clause_end,
    novel_words,
    phrase_span,
    stem_of,
    token_at,
    tokenize,
)
from qa.reader.rules.spans import TITLES, Span

# "since" gives a cause, but not before a time ("since 2006", "since FY1999", "since April")
_SINCE = r"since(?!\s+(?:\d|FY|fiscal|the\s+(?:start|end|beginning)|(?:January|February|March|April|May|June|July|August|September|October|November|December)\b|then\b|last\b))"
_REASON_MARKERS = (
    r"in order to", r"so as to", r"so that", r"with the aim of", r"with a view to", r"aimed at",
    r"for the purpose of", r"in an effort to", r"with the hope that", r"in the hope that",
    r"with the hope of", r"in the hope of", r"because", _SINCE, r"to ensure",
    r"as (?=\w+ \w+ (?:concurred|agreed|believed|considered|recognized|noted)\b)",
)
_CAUSE_MARKERS = (r"because", _SINCE)
_MANNER_MARKERS = (
    r"through", r"by (?=\w+ing\b|the\b|a\b|an\b|its\b|their\b)", r"via", r"how to",
)
_HOW_CLAUSE = re.compile(
    r"\s*how (?:did|does|do|is|was|are|were|has|have|can|could|will|would)\b", re.I)
_DO_SUPPORT = re.compile(
    r"\b(?:what|which)\b[^,?]*?\b(?:did|does|do|could|can|will|would|should|must|might|has|have|had)\b([^,?]*)\?",
    re.I,
)


_WHO_VERB = re.compile(r"\s*who\s+([a-z]+)\b", re.I)


def subject_phrase(question: str, text: str, known: frozenset[str]) -> Span | None:
    """For *who <verb> ...*: the noun phrase right before that verb in ``text``
    (``Who trains on ...`` -> ``Harbor Agency rescue divers [train on ...]``)."""
    match = _WHO_VERB.match(question)
    if not match or match.group(1).lower() in AUXILIARIES:
        return None
    verb_stem = stem_of(match.group(1))
    tokens = tokenize(text)
    for k, token in enumerate(tokens):
        if not (k and token.is_word and token.text[0].islower() and stem_of(token.text) == verb_stem):
            continue
        i = k
        while i > 0 and tokens[i - 1].is_word and tokens[i - 1].lower not in STOPWORDS:
            i -= 1
        if i > 0 and tokens[i - 1].lower in DETERMINERS:
            i -= 1
        span = phrase_span(text, tokens, i, k)
        if span is not None and novel_words(span.text(text), known)[0]:
            return span
    return None


def marker_clause(question: str, text: str, known: frozenset[str], reason: bool) -> Span | None:
    """For *why* (``reason``) and *how*: the first clause opened by a purpose or cause
    marker (and, for *how*, a manner marker) that adds two words to the question."""
    is_how = bool(_HOW_CLAUSE.match(question))
    if not reason and not is_how:
        return None
    # *how* asks for a means or a cause ("how was he able to ..." -> "since ..."), not a purpose
    markers = _REASON_MARKERS if reason else _CAUSE_MARKERS + _MANNER_MARKERS
    tokens = tokenize(text)
    best: Span | None = None
    for marker in markers:
        for match in re.finditer(rf"(?:(?<=^)|(?<=[\s,(]))(?:{marker})\b", text, re.I):
            i = token_at(tokens, match.start())
            if i is None:
                continue
            span = phrase_span(text, tokens, i, clause_end(text, tokens, i, lists=True, bare_and=True, relatives=True))
            if span is None or novel_words(span.text(text), known)[0] < 2:
                continue
            if best is None or span.start < best.start:
                best = span
    return best


def question_verb(question: str) -> str | None:
    """The main verb of *what ... did/does/could <subject> <verb> ...?*: the first
    lower-case base-form word after the auxiliary that ends the question or precedes a
    preposition (``did the Harbor Agency approve at ...`` -> approve)."""
    match = _DO_SUPPORT.search(question)
    if not match:
        return None
    words = re.findall(r"[A-Za-z][A-Za-z'’.-]*", match.group(1))
    for k, word in enumerate(words):
        lower = word.lower()
        if lower in STOPWORDS or lower in PREPOSITIONS or not word[0].islower():
            continue
        if re.search(r"[^su]s$", lower) or (k and words[k - 1].lower() in DETERMINERS):
            continue  # a noun: the verb after do-support has its base form
        if k == len(words) - 1 or words[k + 1].lower() in PREPOSITIONS:
            if (k + 2 < len(words) and words[k + 1].lower() == "to" and words[k + 2][0].islower()
                    and words[k + 2].lower() not in STOPWORDS):
                return str(words[k + 2])  # "decide to bear": the embedded verb
            return str(word)
    return None


_TO_DO = re.compile(r"\b([a-z]+)\s+(?:(?:the|a|an|them|him|her|us|[A-Z][\w.-]*|[a-z]+s)\s+){0,4}to\s+do\b")


def to_do_clause(question: str, text: str, known: frozenset[str]) -> Span | None:
    """For *what did X urge/ask/encourage Y to do?*: the ``to ...`` clause after that verb
    in ``text`` (``encouraged them [to play an active role ...]``)."""
    match = _TO_DO.search(question)
    if not match or match.group(1) in STOPWORDS or match.group(1) in AUXILIARIES:
        return None
    verb_stem = stem_of(match.group(1))
    tokens = tokenize(text)
    for k, token in enumerate(tokens):
        if not (token.is_word and token.text[0].islower() and stem_of(token.text) == verb_stem):
            continue
        to = next((m for m in range(k + 1, min(k + 7, len(tokens))) if tokens[m].lower == "to"), None)
        if to is None:
            continue
        span = phrase_span(text, tokens, to, clause_end(text, tokens, to, lists=True, bare_and=False))
        if span and novel_words(span.text(text), known)[0]:
            return span
    return None


def verb_complement(question: str, text: str, known: frozenset[str]) -> Span | None:
    """What follows the question's verb in ``text`` (``welcomed [the Harbor Agency's proposal to ...]``)."""
    if _TO_DO.search(question):
        return to_do_clause(question, text, known)
    verb = question_verb(question)
    if verb is None:
        return None
    verb_stem = stem_of(verb)
    tokens = tokenize(text)
    for k, token in enumerate(tokens):
        if not (token.is_word and token.text[0].islower() and token.lower not in STOPWORDS
                and stem_of(token.text) == verb_stem):
            continue
        i = k + 1 + (k + 1 < len(tokens) and tokens[k + 1].lower in PREPOSITIONS)
        span = phrase_span(text, tokens, i, _known_tail(tokens, i, clause_end(text, tokens, i, lists=True, bare_and=False), known))
        if span and novel_words(span.text(text), known)[0] and _keeps_wh_words(question, text, span):
            return span
    return None


def _known_tail(tokens: list[Token], i: int, j: int, known: frozenset[str]) -> int:
    """Drop a closing prepositional phrase the question already says (``a new bridge
    [near the lake]`` for *what did they build near the lake*)."""
    for k in range(j - 1, i, -1):
        if tokens[k].lower in PREPOSITIONS:
            tail = [t for t in tokens[k + 1 : j] if t.is_word and t.lower not in STOPWORDS]
            if tail and all(stem_of(t.text) in known for t in tail):
                return k
            break
    return j


def _keeps_wh_words(question: str, text: str, span: Span) -> bool:
    """A complement must contain the words of the wh-phrase that the sentence has
    (``what cargo crane parts did they observe`` is not answered by the
    other thing they observed)."""
    wanted = {stem_of(w) for w in wh_phrase(question) if w.lower() not in STOPWORDS}
    present = wanted & {stem_of(t.text) for t in tokenize(text) if t.is_word}
    inside = {stem_of(t.text) for t in tokenize(span.text(text)) if t.is_word}
    return not present or bool(present & inside)


_IDENTITY = re.compile(r"^\s*(?i:who)\s+(?i:is|was|are|were)\s+((?:[A-Z][\w.'’-]*\s*){1,5})\??\s*$")


def identity_question(question: str) -> str | None:
    """The name in *Who is/was <Name>?*, a question about a person's role, or None."""
    match = _IDENTITY.match(question)
    return match.group(1).strip() if match else None


def identity_phrase(question: str, text: str) -> Span | None:
    """What ``text`` says the named person is: the apposition after the name
    (``DUPONT Marie, second year pupil at ...``, ``Moreau (Director, HDB ...)``)
    or the title before it (``Harbor Minister Dupont``)."""
    name = identity_question(question)
    if not name:
        return None
    words = [re.escape(w) for w in name.split()]
    match = re.search(r"\b" + r"(?:\s+[A-Z][\w.'’-]*)*?\s+".join(words) + r"(?:\s+[A-Z][\w.'’-]*)*", text, re.I)
    if not match:
        return None
    tokens = tokenize(text)
    after = token_at(tokens, match.end())
    if after is not None and tokens[after].text in (",", "(") and after + 1 < len(tokens):
        i = after + 1
        end = i
        while end < len(tokens) and tokens[end].text not in (")", ";") and not (
                tokens[end].text == "," and end > i and tokens[end + 1 : end + 2]
                and tokens[end + 1].lower in CLAUSE_WORDS | AUXILIARIES):
            end += 1
        if tokens[after].text == ",":
            end = min(end, clause_end(text, tokens, i, lists=False, bare_and=True))
        span = phrase_span(text, tokens, i, end)
        if span is not None:
            return span
    title = re.search(rf"(?:{TITLES})\s*$", text[: match.start()])
    return Span(title.start(), title.start() + len(title.group(0).rstrip()), "phrase") if title else None
