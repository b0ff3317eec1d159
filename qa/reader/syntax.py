"""Where a candidate span sits in its sentence's dependency tree relative to the words of
the question: the question words beside it, in its noun phrase and near its attachment
point, the role it plays, the distance to the question's verb."""

from __future__ import annotations

import math
import re
from functools import lru_cache

from index.text.lexical import stem
from qa.query import Query, dependency_role
from qa.reader.candidates import Candidate, SentenceView

_SUBJECT = frozenset({"nsubj", "nsubjpass", "csubj"})
_OBJECT = frozenset({"dobj", "pobj", "attr", "oprd"})


class Anchors:
    """The tokens of a sentence that the question names, and each token's distance in the
    dependency tree to the nearest of them; computed once per question and sentence."""

    def __init__(self, query: Query, view: SentenceView | None, idf: dict[str, float],
                 max_idf: float, text: str = "") -> None:
        self.tokens: frozenset[int] = frozenset()
        self.distance: list[int] = []
        self.weight: dict[int, float] = {}
        self.verbs: tuple[int, ...] = ()
        # per question concept: its IDF weight and where the sentence names it
        self.hits = [(max((idf.get(t, max_idf) for t in c.words), default=0.0),
                      [(a, b) for a, b, w in word_stems(text) if w in c.words | c.alternative])
                     for c in query.concepts]
        self.total = sum(w for w, _ in self.hits)
        if view is None:
            return
        self.verbs = tuple(i for i, t in enumerate(view.tokens)
                           if query.verb and t.lemma.lower() == query.verb)
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


def syntax_features(query: Query, candidate: Candidate, view: SentenceView | None,
                     anchors: Anchors, idf: dict[str, float], max_idf: float) -> dict[str, float]:
    """Where the span sits in the sentence's dependency tree relative to the question."""
    root_dep = view.tokens[candidate.root].dep if view is not None and candidate.root >= 0 else ""
    left, right, attach, inside = _context(candidate, view, anchors, idf, max_idf)
    return {
        "head_in_question": _head_in_question(query, candidate, view),
        "root_subject": float(root_dep in _SUBJECT), "root_object": float(root_dep in _OBJECT),
        "root_appos": float(root_dep == "appos"),
        "verb_near": _verb_near(candidate, anchors),
        "focus_root": float(view is not None and candidate.root >= 0 and query.focus is not None
                            and view.tokens[candidate.root].lemma.lower() == query.focus),
        "left_match": left, "right_match": right, "attach_near": attach,
        "anchors_inside": inside, "role_match": _role_match(query, candidate, view),
        "phrase_anchors": _phrase_anchors(candidate, view, anchors, max_idf),
    }


def _phrase_anchors(candidate: Candidate, view: SentenceView | None, anchors: Anchors,
                    max_idf: float) -> float:
    """IDF of the question words in the noun phrase around the span but outside it: the
    title in *Harbor Minister [DUPONT]*, the noun in *[the 4th] review*."""
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
    *Harbor Minister* before a name counts more than *Minister* alone), how close its
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


def _verb_near(candidate: Candidate, anchors: Anchors) -> float:
    """Closeness, in tokens, of the span to the question's main verb in the sentence."""
    if candidate.first < 0 or not anchors.verbs:
        return 0.0
    best = 0.0
    for i in anchors.verbs:
        gap = candidate.first - i if i < candidate.first else (i - candidate.last + 1 if i >= candidate.last else 0)
        best = max(best, math.exp(-gap / 4.0))
    return best


def pull(anchors: Anchors, start: int, end: int) -> float:
    """How strongly the question's words point at a span: each question concept found in
    the sentence pulls with its IDF, decaying with its distance in characters; the share
    of the question's total weight."""
    if not anchors.total:
        return 0.0
    got = 0.0
    for weight, places in anchors.hits:
        best = 0.0
        for a, b in places:
            if a >= end:
                best = max(best, math.exp(-(a - end) / 40.0))
            elif b <= start:
                best = max(best, math.exp(-(start - b) / 40.0))
            else:
                best = max(best, 0.5)
        got += weight * best
    return got / anchors.total


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
