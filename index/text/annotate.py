"""Annotate every sentence at index time: tokens, lemmas, tags, dependencies, entities
and noun chunks, stored as plain records so the query path parses only the question.

The text given to the pipeline is the folded form (``index.documents.textfold``); every offset kept
here is mapped back to the original sentence, relative to its start.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.documents.textfold import fold


@dataclass(frozen=True)
class Token:
    """One token; ``start``/``end`` are offsets in the original sentence text."""

    start: int
    end: int
    lemma: str
    pos: str
    tag: str
    dep: str
    head: int  # index of the syntactic head within the sentence (itself for the root)


@dataclass(frozen=True)
class Annotation:
    """The annotations of one sentence ``(doc_id, start, end)`` of a document.

    ``ents`` holds ``(first token, last token + 1, label)``; ``chunks`` the noun chunks as
    ``(first token, last token + 1)``.
    """

    doc_id: str
    start: int
    end: int
    tokens: tuple[Token, ...]
    ents: tuple[tuple[int, int, str], ...]
    chunks: tuple[tuple[int, int], ...]

    @property
    def key(self) -> tuple[str, int, int]:
        """The sentence key used by the index: ``(doc_id, start, end)``."""
        return (self.doc_id, self.start, self.end)


def annotate(
    nlp: Any, sentences: Sequence[tuple[str, int, int]], texts: Sequence[str],
    batch_size: int = 64,
) -> list[Annotation]:
    """Run the pipeline over sentences.

    Args:
        nlp: a spaCy ``Language`` with tagger, parser, lemmatizer and ner.
        sentences: the sentence keys ``(doc_id, start, end)``.
        texts: the original text of each sentence.
        batch_size: sentences per ``nlp.pipe`` batch.
    """
    folded = [fold(t) for t in texts]
    docs = nlp.pipe((f for f, _ in folded), batch_size=batch_size)
    return [_record(key, doc, origin)
            for key, doc, (_, origin) in zip(sentences, docs, folded, strict=True)]


def _record(key: tuple[str, int, int], doc: Any, origin: list[int]) -> Annotation:
    tokens = tuple(
        Token(origin[t.idx], origin[t.idx + len(t.text) - 1] + 1, t.lemma_, t.pos_, t.tag_,
              t.dep_, t.head.i)
        for t in doc
    )
    ents = tuple((e.start, e.end, e.label_) for e in doc.ents)
    chunks = tuple((c.start, c.end) for c in doc.noun_chunks)
    return Annotation(key[0], key[1], key[2], tokens, ents, chunks)


def write_annotations(annotations: Iterable[Annotation], path: Path) -> None:
    """One JSON object per sentence; tokens as arrays to keep the file small."""
    with path.open("w", encoding="utf-8") as handle:
        for a in annotations:
            row = {
                "d": a.doc_id, "s": a.start, "e": a.end,
                "t": [[t.start, t.end, t.lemma, t.pos, t.tag, t.dep, t.head] for t in a.tokens],
                "ents": [list(e) for e in a.ents],
                "nc": [list(c) for c in a.chunks],
            }
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_annotations(path: Path) -> dict[tuple[str, int, int], Annotation]:
    """The annotations by sentence key."""
    out: dict[tuple[str, int, int], Annotation] = {}
    for a in _rows(path):
        out[a.key] = a
    return out


def _rows(path: Path) -> Iterator[Annotation]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            tokens = tuple(Token(int(s), int(e), str(lemma), str(pos), str(tag), str(dep), int(h))
                           for s, e, lemma, pos, tag, dep, h in row["t"])
            ents = tuple((int(i), int(j), str(label)) for i, j, label in row["ents"])
            chunks = tuple((int(i), int(j)) for i, j in row["nc"])
            yield Annotation(str(row["d"]), int(row["s"]), int(row["e"]), tokens, ents, chunks)
