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

from index.text.lexical import content_words, stem
from qa.query import Query
from qa.reader.candidates import Candidate, SentenceView
from qa.reader.sentences import stems_of
from qa.reader.syntax import Anchors, pull, syntax_features

_KINDS = ("entity", "chunk", "phrase", "clause", "pp", "complement", "rule", "definition",
          "sentence")
# The types a question's expected type accepts from a candidate.
_ACCEPTS = {
    "date": {"date"}, "money": {"money"}, "quantity": {"quantity", "money"},
    "person": {"person"}, "place": {"place"}, "organization": {"organization", "group", "name"},
    "name": {"name", "organization", "group"},
}
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
        **_lexical_features(query, candidate, anchors),
        **syntax_features(query, candidate, view, anchors, idf, max_idf),
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


def _lexical_features(query: Query, candidate: Candidate, anchors: Anchors) -> dict[str, float]:
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
        "pull": pull(anchors, candidate.start, candidate.end),
        "focus_in": float(bool(query.head) and query.head in words),
        "length": math.log1p(n_tokens), "long": float(n_tokens > 12),
        "granularity_ok": granularity_ok, "granularity_bad": granularity_bad,
        "counted_ok": _counted(query, s.text, candidate.start, candidate.end),
        "proper": float(candidate.text[:1].isupper()),
        "edge_known": _edge_known(candidate.text, known),
    }


def _edge_known(text: str, known: frozenset[str]) -> float:
    """The share of the span's first and last content words that the question already
    has (``new tariffs [on steel]`` for a question about tariffs on steel)."""
    ends = _edge_stems(text)
    return sum(e in known for e in ends) / 2.0 if ends else 0.0


@lru_cache(maxsize=16384)
def _edge_stems(text: str) -> tuple[str, ...]:
    edges = content_words(text)
    return tuple(stem([edges[0], edges[-1]])) if edges else ()


def matrix(rows: Sequence[list[float]]) -> np.ndarray:
    """Feature rows as a float array of shape (n, len(FEATURES))."""
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(FEATURES))


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
