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
    "definition_asked", "typed_left", "phrase_anchors",
)


class Anchors:
    """The tokens of a sentence that the question names, and each token's distance in the
    dependency tree to the nearest of them; computed once per question and sentence."""

    def __init__(self, query: Query, view: SentenceView | None, idf: dict[str, float],
                 max_idf: float) -> None:
        self.tokens: frozenset[int] = frozenset()
        self.distance: list[int] = []
        self.weight: dict[int, float] = {}
        if view is None:
            return
        known = set(query.terms)
        lemmas = query.lemmas | ({query.verb} if query.verb else set())
        words = stem([t.lemma.lower() for t in view.tokens])
        self.tokens = frozenset(i for i, (t, w) in enumerate(zip(view.tokens, words, strict=True))
                                if t.pos not in ("PUNCT", "SPACE", "DET", "ADP", "AUX", "CCONJ", "PART")
                                and (t.lemma.lower() in lemmas or w in known))
        self.weight = {i: idf.get(words[i], max_idf) for i in self.tokens}
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
    named = {
        **_sentence_features(candidate, rank),
        **_type_features(query, candidate),
        **_lexical_features(query, candidate, idf, max_idf),
        **_syntax_features(query, candidate, view, anchors, idf, max_idf),
    }
    named["typed_left"] = named["type_match"] * named["left_match"]
    return [named[name] for name in FEATURES]


def _sentence_features(candidate: Candidate, rank: int) -> dict[str, float]:
    s = candidate.sentence
    return {"sent_score": s.score, "sent_top": float(rank == 0), "sent_rank": 1.0 / (1 + rank),
            "sent_dense": s.dense, "sent_coverage": s.coverage, "passage_rank": 1.0 / (1 + s.rank)}


def _type_features(query: Query, candidate: Candidate) -> dict[str, float]:
    """Agreement of the span's type and generators with what the question asks for."""
    expected = query.answer_type
    accepts = _ACCEPTS.get(expected or "", set())
    typed = bool(accepts)
    ctype, kinds = candidate.type, candidate.kinds
    untyped = ctype in ("other", "sentence")
    return {
        "type_match": float(ctype in accepts),
        "type_conflict": float(typed and ctype not in accepts and not untyped),
        "typed_other": float(typed and untyped), "open_question": float(expected is None),
        "reason_question": float(expected == "reason"),
        **{f"kind_{k}": float(k in kinds) for k in _KINDS},
        "reason_clause": float(expected == "reason" and bool(kinds & {"clause", "rule"})),
        "open_phrase": float(expected in (None, "name")
                             and bool(kinds & {"rule", "complement", "definition"})),
        "typed_entity": float(typed and "entity" in kinds and ctype in accepts),
        "kinds": float(len(kinds)),
        "definition_asked": float(bool(query.defines or query.term) and "definition" in kinds),
    }


def _lexical_features(query: Query, candidate: Candidate, idf: dict[str, float],
                      max_idf: float) -> dict[str, float]:
    """What the span's words share with the question, and where the question's words are."""
    s = candidate.sentence
    words = stems_of(candidate.text)
    known = frozenset(query.terms)
    overlap = len(words & known) / len(words) if words else 1.0
    n_tokens = (max(candidate.last - candidate.first, 1) if candidate.first >= 0
                else len(candidate.text.split()))
    granularity_ok, granularity_bad = _granularity(query, candidate.text)
    return {
        "q_overlap": overlap, "all_in_question": float(bool(words) and overlap == 1.0),
        "novel_words": math.log1p(len(words - known)),
        "pull": pull(query, s.text, candidate.start, candidate.end, idf, max_idf),
        "focus_in": float(bool(query.head) and query.head in words),
        "length": math.log1p(n_tokens), "long": float(n_tokens > 12),
        "granularity_ok": granularity_ok, "granularity_bad": granularity_bad,
        "counted_ok": _counted(query, s.text, candidate.start, candidate.end),
        "proper": float(candidate.text[:1].isupper()),
        "edge_known": _edge_known(candidate.text, known),
    }


def _syntax_features(query: Query, candidate: Candidate, view: SentenceView | None,
                     anchors: Anchors, idf: dict[str, float], max_idf: float) -> dict[str, float]:
    """Where the span sits in the sentence's dependency tree relative to the question."""
    root_dep = view.tokens[candidate.root].dep if view is not None and candidate.root >= 0 else ""
    left, right, attach, inside = _context(candidate, view, anchors, idf, max_idf)
    return {
        "head_in_question": _head_in_question(query, candidate, view),
        "root_subject": float(root_dep in _SUBJECT), "root_object": float(root_dep in _OBJECT),
        "root_appos": float(root_dep == "appos"),
        "verb_near": _verb_near(query, candidate, view),
        "focus_root": float(view is not None and candidate.root >= 0 and query.focus is not None
                            and view.tokens[candidate.root].lemma.lower() == query.focus),
        "left_match": left, "right_match": right, "attach_near": attach,
        "anchors_inside": inside, "role_match": _role_match(query, candidate, view),
        "phrase_anchors": _phrase_anchors(candidate, view, anchors, max_idf),
    }


def _phrase_anchors(candidate: Candidate, view: SentenceView | None, anchors: Anchors,
                    max_idf: float) -> float:
    """IDF of the question words in the noun phrase around the span but outside it: the
    title in *Defense Minister [KIHARA]*, the noun in *[the 9th] dialogue*."""
    if view is None or candidate.root < 0 or not anchors.tokens:
        return 0.0
    head = candidate.root
    while view.tokens[head].dep in ("compound", "appos", "amod", "nmod", "nummod", "poss") \
            and view.tokens[head].head != head:
        head = view.tokens[head].head
    lo, hi = view.bounds[head]
    return sum(anchors.weight[i] for i in anchors.tokens
               if lo <= i < hi and not candidate.first <= i < candidate.last) / (3 * max_idf)


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


def _context(candidate: Candidate, view: SentenceView | None, anchors: Anchors,
             idf: dict[str, float], max_idf: float) -> tuple[float, ...]:
    """Question words just before and just after the span (IDF-weighted: a title such as
    *Defense Minister* before a name counts more than *Minister* alone), how close its
    attachment point is to one in the tree, and the share of them the span swallows."""
    if view is None or candidate.first < 0 or not anchors.tokens:
        return 0.0, 0.0, 0.0, 0.0
    first, last = candidate.first, candidate.last

    def run(indices: range) -> float:
        """IDF of the unbroken run of question words next to the span."""
        total = 0.0
        for i in indices:
            if i not in anchors.tokens:
                break
            total += anchors.weight[i]
        return total / (3 * max_idf)

    left = run(range(first - 1, max(first - 4, -1), -1))
    right = run(range(last, min(last + 3, len(view.tokens))))
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
