"""*What/which <noun>* questions: the asked-for noun and its noun phrase in a sentence.

``wh_phrase`` and ``open_heads`` read the noun a question asks for; ``head_phrase`` cuts
that noun's phrase out of a sentence, with its modifiers, a following name, its
prepositional tail and (for *what kind of <noun>*) the examples that follow it.
"""

from __future__ import annotations

import re

from index.text.lexical import STOPWORDS
from qa.reader.rules.phrase_tokens import (
    AUXILIARIES,
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
from qa.reader.rules.spans import Span

_CLASS_WORDS = frozenset("kind kinds type types sort sorts form forms".split())
_ORDINALS = frozenset(
    "first second third fourth fifth sixth seventh eighth ninth tenth last final".split())


def wh_phrase(question: str) -> list[str]:
    """The words after *which/what* up to a function word, auxiliary, preposition or
    verb (``which flat-bottomed boat did`` -> flat-bottomed, boat); ``kind of`` and
    ``type of`` pass the question on to the next noun."""
    for wh in re.finditer(r"\b(?:which|what)\b", question, re.I):
        tokens = tokenize(question[wh.end() :])
        words: list[str] = []
        k = 0
        while k < len(tokens) and tokens[k].is_word:
            word, lower = tokens[k].text, tokens[k].lower
            if lower in _CLASS_WORDS and k + 1 < len(tokens) and tokens[k + 1].lower == "of":
                words, k = [], k + 2
                continue
            if lower in STOPWORDS or lower in AUXILIARIES or lower in PREPOSITIONS:
                break
            if words and re.fullmatch(r"[a-z]+ed", word):
                break  # "which land return completed ...": a verb
            if (words and _is_plural(word) and not words[-1].endswith("s")
                    and k + 1 < len(tokens) and tokens[k + 1].is_word
                    and tokens[k + 1].lower not in AUXILIARIES | STOPWORDS):
                break  # "which resolution forbids night fishing ...": a verb
            words.append(word)
            k += 1
        if words:
            return words
    return []


def open_heads(question: str) -> list[str]:
    """The noun a *what/which* question asks for (the last word of its wh-phrase),
    then the earlier words of the phrase."""
    return [w for w in reversed(wh_phrase(question)) if w.lower() not in STOPWORDS and not w[0].isdigit()]


def _noun_phrase(text: str, tokens: list[Token], head: int, outside: frozenset[str],
                 plural: bool = False) -> Span | None:
    """The noun phrase around ``tokens[head]``: its modifiers (``_modifiers_start``) and
    what follows the noun (``_noun_tail_end``)."""
    i = _modifiers_start(tokens, head, outside)
    return phrase_span(text, tokens, i, _noun_tail_end(text, tokens, head, plural))


def _modifiers_start(tokens: list[Token], head: int, outside: frozenset[str]) -> int:
    """Token index where the modifiers left of ``tokens[head]`` start (one coordinated
    modifier allowed: ``nuclear and non-nuclear military matters``, ``per- and
    polyfluoroalkyl substances``; not an adverb, a verb after ``to``, nor a word of the
    question outside its wh-phrase, which would be the verb)."""
    i = head
    while i > 0:
        token = tokens[i - 1]
        if token.text == ")" and i >= 3 and tokens[i - 3].text == "(":
            i -= 3
            continue
        if not token.is_word or token.lower.endswith("ly") or stem_of(token.text) in outside:
            break
        if i >= 2 and tokens[i - 2].lower == "to" and i < head and token.text[0].islower():
            break  # "to implement new harbor rules": a verb
        if token.lower in STOPWORDS:
            if (token.lower in ("and", "or") and i >= 4 and tokens[i - 2].text == "-"
                    and tokens[i - 3].is_word):
                i -= 3  # a suspended hyphen: "per- and polyfluoroalkyl"
                continue
            if (token.lower in ("and", "or") and i >= 3 and tokens[i - 2].is_word
                    and tokens[i - 2].lower not in STOPWORDS
                    and (tokens[i - 3].lower in STOPWORDS or not tokens[i - 3].is_word)):
                i -= 2
                continue
            if token.lower in DETERMINERS:
                i -= 1
            break
        i -= 1
    return i


def _noun_tail_end(text: str, tokens: list[Token], head: int, plural: bool) -> int:
    """Token index (exclusive) where the noun phrase of ``tokens[head]`` ends: after a
    name or number right after the noun, a prepositional tail, a list of the same noun
    (``fuel costs ..., repair costs, and mooring costs``) and, when the question asks
    for a plural, a coordinated noun phrase (``compounds (VOCs) and heavy metals``)."""
    j = head + 1
    while (j < len(tokens) and tokens[j].is_word and tokens[j].lower not in STOPWORDS
           and (tokens[j].text[0].isupper() or tokens[j].text[0].isdigit())):
        j += 1
    if j < len(tokens) and tokens[j].text in ("“", '"'):
        close = next((k for k in range(j + 1, min(j + 12, len(tokens))) if tokens[k].text in ("”", '"')), None)
        if close is not None:
            j = close + 1  # a quoted name: exercise “Blue Heron 12”
    if j + 2 < len(tokens) and tokens[j].text == "(" and tokens[j + 2].text == ")":
        j += 3  # its acronym
    if plural and j + 1 < len(tokens) and tokens[j].lower in ("and", "or") and tokens[j + 1].is_word:
        j = clause_end(text, tokens, j + 1, lists=False, bare_and=False, limit=12)
    if j < len(tokens) and tokens[j].lower in PREPOSITIONS - {"by"}:
        j = clause_end(text, tokens, j, lists=False, bare_and=False, limit=20)
    if j < len(tokens) and tokens[j].text == ",":
        end = clause_end(text, tokens, head, lists=True, bare_and=True, limit=30)
        last = re.findall(r"[^\W_]+", text[tokens[head].start : tokens[end - 1].end])[-1:]
        if last and stem_of(last[0]) == stem_of(tokens[head].text) and end > j:
            j = end
    return j


_EXAMPLES = re.compile(r"\s*,?\s*(?:including|such as|like|e\.g\.,?)\s+", re.I)


def _examples(text: str, tokens: list[Token], span: Span) -> Span | None:
    """The examples that follow a noun phrase (``threats, including [hypersonic weapons]``)."""
    match = _EXAMPLES.match(text, span.end)
    if not match:
        return None
    i = token_at(tokens, match.end())
    if i is None:
        return None
    return phrase_span(text, tokens, i, clause_end(text, tokens, i, lists=False, bare_and=True))


def _is_plural(word: str) -> bool:
    """A lower-case word in -s (not -ss, -us): a plural noun, or a verb's third person."""
    return bool(re.fullmatch(r"[a-z]+[^su]s", word))


def _head_positions(tokens: list[Token], heads: list[str]) -> list[int]:
    """Where the asked-for noun occurs; failing that, where another word of the
    wh-phrase occurs inside a name (``cargo crane parts`` ->
    ``Harbor Cargo Crane Works``)."""
    head_stem = stem_of(heads[0])
    found = [k for k, t in enumerate(tokens) if t.is_word and stem_of(t.text) == head_stem]
    for word in heads[1:]:
        if found:
            break
        word_stem = stem_of(word)
        found = [k for k, t in enumerate(tokens)
                 if t.is_word and t.text[0].isupper() and stem_of(t.text) == word_stem]
    return found


def head_phrase(question: str, text: str, known: frozenset[str]) -> Span | None:
    """For *what/which <noun>*: the noun phrase of that noun in ``text`` that says most
    the question does not (for *what kind of <noun>*, the examples that follow it).
    None when the noun is absent or only repeats the question."""
    phrase_words = wh_phrase(question)
    heads = open_heads(question)
    if not heads:
        return None
    tokens = tokenize(text)
    asked = {t.lower for t in tokenize(question)}
    outside = known - frozenset(stem_of(w) for w in phrase_words)
    kind_of = bool(re.search(r"\b(?:kinds?|types?|sorts?) of\b", question, re.I))
    best: tuple[float, Span] | None = None
    for k in _head_positions(tokens, heads):
        span = _noun_phrase(text, tokens, k, outside, plural=_is_plural(heads[0]))
        if span is None:
            continue
        examples = _examples(text, tokens, span) if kind_of else None
        if examples is not None:
            span = examples
        phrase = span.text(text)
        if asked & _ORDINALS and not asked & _ORDINALS & {w.lower() for w in phrase.split()}:
            continue  # "the third bridge" is not any bridge
        novel, total = novel_words(phrase, known)
        score = novel - 0.5 * (total - novel)
        if novel and (best is None or score > best[0]):
            best = (score, span)
    return best[1] if best else None
