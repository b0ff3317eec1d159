"""Features of a candidate span: what the ranker weighs.

Every feature is a plain number computed from the question record, the candidate's
sentence score and the sentence's stored annotations; nothing names a corpus word.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from index.lexical import content_words, stem
from qa.query import Query, dependency_role
from qa.reader.candidates import Candidate, SentenceView
from qa.reader.sentences import stems_of

_KINDS = ("entity", "chunk", "phrase", "clause", "pp", "complement", "rule", "definition",
          "sentence")
# The types a question's expected type accepts from a candidate.
_ACCEPTS = {
    "date": {"date"}, "money": {"money"}, "quantity": {"quantity", "money"},
    "person": {"person"}, "place": {"place"}, "organization": {"organization", "group", "name"},
    "name": {"name", "organization", "group"},
}
_SUBJECT = frozenset({"nsubj", "nsubjpass", "csubj"})
_OBJECT = frozenset({"dobj", "pobj", "attr", "oprd"})
_YEAR = re.compile(r"(?<!\d)(?:1[89]|20)\d{2}(?!\d)")
_MONTH = re.compile(r"\b(?:January|February|March|April|May|June|July|August|September|"
                    r"October|November|December)\b")

FEATURES: tuple[str, ...] = (
    "sent_score", "sent_top", "sent_rank", "sent_dense", "sent_coverage", "passage_rank",
    "type_match", "type_conflict", "typed_other", "open_question", "reason_question",
    *(f"kind_{k}" for k in _KINDS),
    "reason_clause", "open_phrase", "typed_entity", "kinds",
    "q_overlap", "all_in_question", "novel_words", "pull", "focus_in", "head_in_question",
    "root_subject", "root_object", "root_appos", "length", "long", "granularity_ok",
    "granularity_bad", "counted_ok", "proper", "edge_known", "verb_near", "focus_root",
    "left_match", "right_match", "attach_near", "anchors_inside", "role_match",
    "definition_asked", "typed_left",
)


class Anchors:
    """The tokens of a sentence that the question names, and each token's distance in the
    dependency tree to the nearest of them; computed once per question and sentence."""

    def __init__(self, query: Query, view: SentenceView | None) -> None:
        self.tokens: frozenset[int] = frozenset()
        self.distance: list[int] = []
        if view is None:
            return
        known = set(query.terms)
        lemmas = query.lemmas | ({query.verb} if query.verb else set())
        words = stem([t.lemma.lower() for t in view.tokens])
        self.tokens = frozenset(i for i, (t, w) in enumerate(zip(view.tokens, words, strict=True))
                                if t.pos not in ("PUNCT", "SPACE", "DET", "ADP", "AUX", "CCONJ", "PART")
                                and (t.lemma.lower() in lemmas or w in known))
        far = len(view.tokens) + 1
        self.distance = [0 if i in self.tokens else far for i in range(len(view.tokens))]
        frontier = list(self.tokens)
        while frontier:  # breadth-first over the undirected tree
            nxt = []
            for i in frontier:
                for j in [view.tokens[i].head, *view.children[i]]:
                    if self.distance[j] > self.distance[i] + 1:
                        self.distance[j] = self.distance[i] + 1
                        nxt.append(j)
            frontier = nxt


def featurize(query: Query, candidate: Candidate, view: SentenceView | None, rank: int,
              idf: dict[str, float], max_idf: float, anchors: Anchors) -> list[float]:
    """The features of a candidate, in FEATURES order.

    Args:
        query: the parsed question.
        candidate: the span.
        view: the annotations of its sentence (None when the index has none for it).
        rank: the rank of its sentence among the candidate sentences.
        idf: stem -> inverse document frequency; max_idf: its maximum.
        anchors: the sentence's tokens named by the question.
    """
    s = candidate.sentence
    expected = query.answer_type
    accepts = _ACCEPTS.get(expected or "", set())
    typed = bool(accepts)
    ctype = candidate.type
    kinds = candidate.kinds
    words = stems_of(candidate.text)
    known = frozenset(query.terms)
    overlap = len(words & known) / len(words) if words else 1.0
    novel = len(words - known)
    n_tokens = max(candidate.last - candidate.first, 1) if candidate.first >= 0 else len(
        candidate.text.split())
    root_dep = view.tokens[candidate.root].dep if view is not None and candidate.root >= 0 else ""
    values = [
        s.score, float(rank == 0), 1.0 / (1 + rank), s.dense, s.coverage, 1.0 / (1 + s.rank),
        float(ctype in accepts), float(typed and ctype not in accepts and ctype not in ("other", "sentence")),
        float(typed and ctype in ("other", "sentence")), float(expected is None),
        float(expected == "reason"),
        *(float(k in kinds) for k in _KINDS),
        float(expected == "reason" and bool(kinds & {"clause", "rule"})),
        float(expected in (None, "name") and bool(kinds & {"rule", "complement", "definition"})),
        float(typed and "entity" in kinds and ctype in accepts),
        float(len(kinds)),
        overlap, float(bool(words) and overlap == 1.0), math.log1p(novel),
        pull(query, s.text, candidate.start, candidate.end, idf, max_idf),
        float(bool(query.head) and query.head in words),
        _head_in_question(query, candidate, view),
        float(root_dep in _SUBJECT), float(root_dep in _OBJECT), float(root_dep == "appos"),
        math.log1p(n_tokens), float(n_tokens > 12),
        *_granularity(query, candidate.text),
        _counted(query, s.text, candidate.start, candidate.end),
        float(candidate.text[:1].isupper()),
        _edge_known(candidate.text, known),
        _verb_near(query, candidate, view),
        float(view is not None and candidate.root >= 0 and query.focus is not None
              and view.tokens[candidate.root].lemma.lower() == query.focus),
        *_context(candidate, view, anchors),
        _role_match(query, candidate, view),
    ]
    asks_definition = bool(query.defines or query.term)
    values += [float(asks_definition and "definition" in kinds),
               values[FEATURES.index("type_match")] * values[FEATURES.index("left_match")]]
    return values


def _role_match(query: Query, candidate: Candidate, view: SentenceView | None) -> float:
    """1 when the span plays the role the wh-phrase plays in the question (the subject of
    *who praised ...* is the subject of the sentence's verb)."""
    if view is None or candidate.root < 0 or query.role is None:
        return 0.0
    i = candidate.root
    for _ in range(4):  # "A, B and C": a conjunct takes the role of the first one
        if view.tokens[i].dep != "conj":
            break
        i = view.tokens[i].head
    return float(dependency_role(view.tokens[i].dep) == query.role)


def _context(candidate: Candidate, view: SentenceView | None, anchors: Anchors) -> tuple[float, ...]:
    """Question words just before and just after the span, how close its attachment point
    is to one in the tree, and the share of them the span swallows."""
    if view is None or candidate.first < 0 or not anchors.tokens:
        return 0.0, 0.0, 0.0, 0.0
    first, last = candidate.first, candidate.last
    left = sum(i in anchors.tokens for i in range(max(first - 3, 0), first)) / 3.0
    right = sum(i in anchors.tokens for i in range(last, min(last + 3, len(view.tokens)))) / 3.0
    head = view.tokens[candidate.root].head
    attach = 0.0 if head == candidate.root else 1.0 / (1 + anchors.distance[head])
    inside = sum(first <= i < last for i in anchors.tokens) / len(anchors.tokens)
    return left, right, attach, inside


def _edge_known(text: str, known: frozenset[str]) -> float:
    """The share of the span's first and last content words that the question already
    has (``new tariffs [on steel]`` for a question about tariffs on steel)."""
    edges = content_words(text)
    if not edges:
        return 0.0
    ends = stem([edges[0], edges[-1]])
    return sum(e in known for e in ends) / 2.0


def _verb_near(query: Query, candidate: Candidate, view: SentenceView | None) -> float:
    """Closeness, in tokens, of the span to the question's main verb in the sentence."""
    if view is None or candidate.first < 0 or not query.verb:
        return 0.0
    best = 0.0
    for i, t in enumerate(view.tokens):
        if t.lemma.lower() != query.verb:
            continue
        gap = candidate.first - i if i < candidate.first else (i - candidate.last + 1 if i >= candidate.last else 0)
        best = max(best, math.exp(-gap / 4.0))
    return best


def matrix(rows: Sequence[list[float]]) -> np.ndarray:
    """Feature rows as a float array of shape (n, len(FEATURES))."""
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(FEATURES))


def pull(query: Query, text: str, start: int, end: int, idf: dict[str, float],
         max_idf: float) -> float:
    """How strongly the question's words point at a span: each question concept found in
    the sentence pulls with its IDF, decaying with its distance in characters; the share
    of the question's total weight."""
    total = 0.0
    got = 0.0
    for concept in query.concepts:
        weight = max((idf.get(t, max_idf) for t in concept.words), default=0.0)
        total += weight
        best = 0.0
        for term in concept.words | concept.alternative:
            for a, b, word in word_stems(text):
                if word != term:
                    continue
                if a >= end:
                    best = max(best, math.exp(-(a - end) / 40.0))
                elif b <= start:
                    best = max(best, math.exp(-(start - b) / 40.0))
                else:
                    best = max(best, 0.5)
        got += weight * best
    return got / total if total else 0.0


@lru_cache(maxsize=8192)
def word_stems(text: str) -> tuple[tuple[int, int, str], ...]:
    """Every word of a text with its offsets and stem (cached across questions)."""
    found = list(re.finditer(r"[^\W_]+", text))
    stems = stem([m.group(0).lower() for m in found])
    return tuple((m.start(), m.end(), s) for m, s in zip(found, stems, strict=True))


def _head_in_question(query: Query, candidate: Candidate, view: SentenceView | None) -> float:
    """1 when the word the span hangs on (up to two steps up the tree) is a question word:
    ``established [in 2010]`` for *when was it established*."""
    if view is None or candidate.root < 0:
        return 0.0
    i = view.tokens[candidate.root].head
    for _ in range(2):
        if view.tokens[i].lemma.lower() in query.lemmas or view.tokens[i].lemma.lower() == query.verb:
            return 1.0
        i = view.tokens[i].head
    return 0.0


def _granularity(query: Query, text: str) -> tuple[float, float]:
    if query.granularity is None:
        return 0.0, 0.0
    ok = {"year": bool(_YEAR.search(text)), "month": bool(_MONTH.search(text)),
          "day": bool(_MONTH.search(text) and re.search(r"\b\d{1,2}\b", text))}[query.granularity]
    return float(ok), float(not ok)


def _counted(query: Query, text: str, start: int, end: int) -> float:
    """1 when a *how many X* question's X is in the span or closely follows it."""
    if not query.counted:
        return 0.0
    near = text[start:end] + " " + " ".join(text[end : end + 60].split()[:5])
    return float(bool(query.counted & set(stem(content_words(near)))))
