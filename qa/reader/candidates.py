"""Candidate answer spans of a sentence, from its stored NLP annotations and a few
English rules.

Each candidate is a character span of the sentence with the generators that proposed it
(``kinds``) and its semantic type. Generators: named entities; noun chunks and the whole
phrase a noun heads; clauses and prepositional phrases; the complements of the question's
verb; the English rules of ``qa.reader.rules.spans`` and ``qa.reader.rules.phrases`` (dates, money, quantities,
definitions, marker clauses); and the sentence itself.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from index.text.annotate import Annotation, Token
from qa.query import Query, head_type
from qa.reader.rules.phrases import definition_span, open_answer, term_definition
from qa.reader.rules.spans import Span, find_spans, trim_span
from qa.reader.sentences import ScoredSentence

# spaCy's OntoNotes entity labels -> the answer types of qa.query
ENTITY_TYPES = {
    "PERSON": "person", "GPE": "place", "LOC": "place", "FAC": "place", "ORG": "organization",
    "NORP": "group", "DATE": "date", "TIME": "date", "CARDINAL": "quantity",
    "QUANTITY": "quantity", "PERCENT": "quantity", "MONEY": "money", "ORDINAL": "ordinal",
    "EVENT": "name", "LAW": "name", "WORK_OF_ART": "name", "PRODUCT": "name",
    "LANGUAGE": "name",
}
_CLAUSE_DEPS = frozenset({"advcl", "xcomp", "ccomp", "acl", "relcl", "pcomp"})
_PHRASE_DEPS = frozenset({"prep", "agent"})
_COMPLEMENT_DEPS = frozenset({"dobj", "attr", "xcomp", "ccomp", "prep", "oprd", "acomp", "advcl"})
MAX_TOKENS = 40
Add = Callable[[int, int, str, str], None]


@dataclass(frozen=True)
class Candidate:
    """A span of a sentence proposed as the answer; offsets are relative to the sentence."""

    sentence: ScoredSentence
    start: int
    end: int
    kinds: frozenset[str]
    type: str  # one of ENTITY_TYPES' values, "other" or "sentence"
    first: int  # first token (index in the sentence's annotation), -1 without annotation
    last: int  # one past the last token
    root: int  # the token whose head lies outside the span, -1 without annotation

    @property
    def text(self) -> str:
        """The candidate's characters."""
        return self.sentence.text[self.start : self.end]


class SentenceView:
    """An annotated sentence with its dependency tree at hand."""

    def __init__(self, annotation: Annotation) -> None:
        self.tokens: tuple[Token, ...] = annotation.tokens
        self.annotation = annotation

    @cached_property
    def children(self) -> list[list[int]]:
        """The dependents of each token."""
        kids: list[list[int]] = [[] for _ in self.tokens]
        for i, t in enumerate(self.tokens):
            if t.head != i:
                kids[t.head].append(i)
        return kids

    @cached_property
    def bounds(self) -> list[tuple[int, int]]:
        """The first and one-past-last token of each token's subtree."""
        out = [(i, i + 1) for i in range(len(self.tokens))]
        order = sorted(range(len(self.tokens)), key=self.depth, reverse=True)
        for i in order:  # deepest first, so children are done before their heads
            lo, hi = out[i]
            for k in self.children[i]:
                lo, hi = min(lo, out[k][0]), max(hi, out[k][1])
            out[i] = (lo, hi)
        return out

    def depth(self, i: int) -> int:
        """Steps from a token to the root (bounded, in case of a malformed tree)."""
        steps = 0
        while self.tokens[i].head != i and steps < 64:
            i, steps = self.tokens[i].head, steps + 1
        return steps

    @cached_property
    def _ends(self) -> list[int]:
        return [t.end for t in self.tokens]

    @cached_property
    def _starts(self) -> list[int]:
        return [t.start for t in self.tokens]

    def tokens_in(self, start: int, end: int) -> tuple[int, int]:
        """The token range covering the characters ``[start, end)``."""
        first = bisect.bisect_right(self._ends, start)  # first token ending after start
        last = bisect.bisect_left(self._starts, end)  # tokens starting before end
        return (first, last) if first < last else (-1, -1)

    def root_of(self, first: int, last: int) -> int:
        """The token of ``[first, last)`` whose head lies outside it (the leftmost if several)."""
        for i in range(first, last):
            head = self.tokens[i].head
            if head == i or not first <= head < last:
                return i
        return first


def generate(query: Query, sentence: ScoredSentence, view: SentenceView | None,
             acronyms: dict[str, str]) -> list[Candidate]:
    """Every candidate span of one sentence, merged by offsets."""
    found: dict[tuple[int, int], tuple[set[str], str]] = {}
    text = sentence.text

    def add(start: int, end: int, kind: str, kind_type: str) -> None:
        start, end = trim_span(text, start, end)
        if end <= start:
            return
        kinds, old_type = found.setdefault((start, end), (set(), kind_type))
        kinds.add(kind)
        if old_type in ("other", "sentence") and kind_type not in ("other", "sentence"):
            found[(start, end)] = (kinds, kind_type)

    if view is not None:
        _from_annotation(query, view, add)
    for span in _rule_spans(query, sentence, acronyms):
        kind = "definition" if span.kind == "definition" else "rule"
        add(span.start, span.end, kind, span.kind if span.kind in _TYPES else "other")
    add(0, len(text), "sentence", "sentence")
    out = []
    for (start, end), (kinds, kind_type) in found.items():
        first, last = view.tokens_in(start, end) if view is not None else (-1, -1)
        root = view.root_of(first, last) if view is not None and first >= 0 else -1
        out.append(Candidate(sentence, start, end, frozenset(kinds), kind_type, first, last, root))
    return out


_TYPES = frozenset(ENTITY_TYPES.values())


def _from_annotation(query: Query, view: SentenceView, add: Add) -> None:
    tokens = view.tokens
    for i, j, label in view.annotation.ents:
        add(tokens[i].start, tokens[j - 1].end, "entity", ENTITY_TYPES.get(label, "other"))
    for i, j in view.annotation.chunks:
        add(tokens[i].start, tokens[j - 1].end, "chunk", _chunk_type(view, i, j))
        root = view.root_of(i, j)
        lo, hi = view.bounds[root]
        if hi - lo > j - i and hi - lo <= MAX_TOKENS:
            add(tokens[lo].start, tokens[hi - 1].end, "phrase", _chunk_type(view, i, j))
        if lo < i:  # coordinated modifiers the chunk left out: "a, b, and c fishing"
            add(tokens[lo].start, tokens[j - 1].end, "phrase", _chunk_type(view, i, j))
    for k, t in enumerate(tokens):
        lo, hi = view.bounds[k]
        if hi - lo < 2 or hi - lo > MAX_TOKENS:
            continue
        if t.dep in _CLAUSE_DEPS and t.pos in ("VERB", "AUX"):
            add(tokens[lo].start, tokens[hi - 1].end, "clause", "other")
        elif t.dep in _PHRASE_DEPS:
            add(tokens[lo].start, tokens[hi - 1].end, "pp", "other")
    if query.verb:
        for k, t in enumerate(tokens):
            if t.lemma.lower() != query.verb or t.pos not in ("VERB", "AUX"):
                continue
            for c in view.children[k]:
                if tokens[c].dep in _COMPLEMENT_DEPS:
                    lo, hi = view.bounds[c]
                    if hi - lo <= MAX_TOKENS:
                        add(tokens[lo].start, tokens[hi - 1].end, "complement", "other")


def _chunk_type(view: SentenceView, first: int, last: int) -> str:
    """A noun chunk's type: that of an entity inside it, else the type its head noun
    names (``finance ministers`` -> person), else "other"."""
    for i, j, label in view.annotation.ents:
        if i < last and j > first:
            return ENTITY_TYPES.get(label, "other")
    root = view.tokens[view.root_of(first, last)]
    return head_type(root.lemma.lower()) or "other" if root.pos == "NOUN" else "other"


def definitions(query: Query, sentence: ScoredSentence, view: SentenceView | None,
                acronyms: dict[str, str]) -> list[Candidate]:
    """Only the definitions a sentence gives of the acronym or term asked about."""
    return [c for c in generate(query, sentence, view, acronyms) if "definition" in c.kinds]


def _rule_spans(query: Query, sentence: ScoredSentence, acronyms: dict[str, str]) -> list[Span]:
    """What the English rules propose: typed patterns, definitions and open phrases."""
    text = sentence.text
    spans: list[Span] = []
    if query.defines:
        found = definition_span(text, query.defines, acronyms[query.defines])
        spans += [Span(found.start, found.end, "definition")] if found else []
    elif query.term:
        found = term_definition(text, query.term, sentence.chunk.context)
        spans += [Span(found.start, found.end, "definition")] if found else []
    if query.answer_type in ("date", "money", "quantity"):
        spans += find_spans(text, query.answer_type)
    phrase = open_answer(query.text, query.answer_type, text, frozenset(query.terms))
    if phrase is not None:
        spans.append(Span(phrase.start, phrase.end, "phrase"))
    return spans
