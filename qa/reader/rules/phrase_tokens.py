"""Tokens, English word lists and phrase edges shared by the phrase rules.

Holds the tokenizer of ``qa.reader.rules.phrases`` (cached per sentence), stemming of single words,
the English function words the rules read (determiners, clause openers, prepositions,
auxiliaries), ``clause_end`` (where a phrase stops) and ``phrase_span`` (tokens to a
trimmed span).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from index.text.lexical import STOPWORDS, content_words, fold_possessive, stem
from qa.reader.rules.spans import Span

_TOKEN = re.compile(r"[^\W_]+(?:[-'’.]+[^\W_]+)*\.?|[^\w\s]")
DETERMINERS = frozenset(
    "the a an its their his her our this these those that both all each any".split())
CLAUSE_WORDS = frozenset(
    "which who whom whose where while whereas although though but whereby when if".split())
PREPOSITIONS = frozenset(
    "of for against between to on in with from at across into toward towards within under "
    "among over about regarding through via by upon near".split())
AUXILIARIES = frozenset(
    "is was are were does did do has have had can could will would should must may might shall".split())
_RELATIVES = frozenset("which who whom whose".split())
_SUBJECT_PRONOUNS = frozenset("the it they he she we also".split())


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    text: str

    @property
    def lower(self) -> str:
        return self.text.lower()

    @property
    def is_word(self) -> bool:
        return self.text[0].isalnum()


def tokenize(text: str) -> list[Token]:
    return list(_token_tuple(text))


# Sentences and words recur across questions: tokenising and stemming them is cached
# (bounded, so memory stays flat on a large corpus).
@lru_cache(maxsize=8192)
def _token_tuple(text: str) -> tuple[Token, ...]:
    return tuple(Token(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(text))


@lru_cache(maxsize=65536)
def stem_of(word: str) -> str:
    return stem([fold_possessive(word.lower().rstrip("."))])[0]


def token_at(tokens: list[Token], offset: int) -> int | None:
    """Index of the first token starting at or after ``offset``, or None."""
    return next((k for k, t in enumerate(tokens) if t.start >= offset), None)


def novel_words(text: str, known: frozenset[str]) -> tuple[int, int]:
    """Content words of ``text`` the question does not contain, and all of them."""
    words = stem(content_words(text))
    return sum(w not in known for w in words), len(words)


def clause_end(text: str, tokens: list[Token], i: int, *, lists: bool, bare_and: bool,
                relatives: bool = False, limit: int = 40) -> int:
    """Token index (exclusive) where the phrase starting at token ``i`` ends: at a
    semicolon, colon, dash, closing bracket, footnote marker, relative or subordinate
    clause (with ``relatives``, a relative clause without a comma continues it),
    ``as well as``, or a comma that does not separate list items. With
    ``bare_and`` an ``and`` without a comma may continue the phrase."""
    j = i
    while j < len(tokens) and j - i < limit:
        token, lower = tokens[j], tokens[j].lower
        if j > i:
            if token.text in (";", ":", "—", "–", ")", "["):
                break
            if token.text == "(":
                if (j + 2 < len(tokens) and tokens[j + 2].text == ")"
                        and re.fullmatch(r"[A-Z][A-Za-z0-9&-]{1,11}s?", tokens[j + 1].text)):
                    j += 3  # an acronym in brackets belongs to the phrase
                    continue
                break
            if token.text == ",":
                following = tokens[j + 1].lower if j + 1 < len(tokens) else ""
                if following in CLAUSE_WORDS or following in ("as", "thereby"):
                    break
                if following in ("and", "or") and _opens_clause(tokens, j + 2):
                    break  # ", and stated that ...", ", and have been ...": a new clause
                if lists and (
                    re.match(r"[^;:()]*?,\s+(?:and|or)\s", text[token.end :])
                    or (following in ("and", "or") and j + 2 < len(tokens)
                        and tokens[j + 2].lower not in _SUBJECT_PRONOUNS)
                ):
                    j += 1
                    continue
                if re.match(r"\s*(?:[^\W_][\w.'’-]*\s+){1,2}(?:and|or)\s", text[token.end :]):
                    j += 1  # a short list of names: "among Ruritania, the U.K. and the Netherlands"
                    continue
                break
            after_preposition = lower in ("which", "whom") and tokens[j - 1].lower in PREPOSITIONS
            restrictive = relatives and lower in _RELATIVES and tokens[j - 1].is_word
            if lower in CLAUSE_WORDS and not after_preposition and not restrictive:
                break  # ("upon which ...", and with ``relatives`` "talents who will ...", continue)
            if (lower == "as" and j + 2 < len(tokens) and tokens[j + 1].lower == "well"
                    and tokens[j + 2].lower == "as"):
                break
            if (lower in ("and", "or") and not bare_and and not _joins_nouns(tokens, j)
                    and not (lists and re.match(r"[^;:()]*?,\s+(?:and|or)\s", text[token.end :]))):
                break  # (inside a list that goes on, "harbor and canal safety rules, and ...")
        j += 1
    return j


def _opens_clause(tokens: list[Token], k: int) -> bool:
    """Whether ``tokens[k]`` starts a verb phrase: an auxiliary, or a past-tense verb
    followed by ``that``, an article or ``to`` (``stated that``, ``expressed the``)."""
    if k >= len(tokens):
        return False
    word = tokens[k].lower
    if word in AUXILIARIES:
        return True
    after = tokens[k + 1].lower if k + 1 < len(tokens) else ""
    return bool(re.fullmatch(r"[a-z]+ed", word)) and after in ("that", "the", "a", "an", "to", "its", "their")


def _joins_nouns(tokens: list[Token], j: int) -> bool:
    """Whether the ``and`` at ``tokens[j]`` joins two nouns rather than two clauses: after
    a list comma, between names (``Ruritania, the U.K. and the Netherlands``), or before a last
    lower-case noun (``incidents and behavior.``)."""
    before = tokens[j - 1].text
    k = j + 1 + (j + 1 < len(tokens) and tokens[j + 1].lower in ("the", "a", "an"))
    after = tokens[k] if k < len(tokens) else None
    if before == "," or after is None:
        return before == ","
    if before[:1].isupper() and after.text[:1].isupper():
        return True
    ends = k + 1 >= len(tokens) or not tokens[k + 1].is_word or tokens[k + 1].lower in PREPOSITIONS
    return after.is_word and after.text[:1].islower() and after.lower not in STOPWORDS and ends


def phrase_span(text: str, tokens: list[Token], i: int, j: int) -> Span | None:
    if j <= i:
        return None
    start, end = tokens[i].start, tokens[j - 1].end
    while end > start and text[end - 1] in " ,;:.":
        if text[end - 1] == "." and re.search(r"\b(?:[A-Z]\.)+$", text[start:end]):
            break  # keep the period of "U.K."
        end -= 1
    return Span(start, end, "phrase") if text[start:end].strip() else None
