"""The lexical leg: BM25 with bm25s over stemmed content words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from index.imports import import_hiding
from index.text.lexical import lexical_tokens


def _import_bm25s() -> Any:
    # bm25s imports numba when installed (a dev tool's dependency here) for a retrieval
    # backend this project does not use: get_scores is NumPy either way.
    return import_hiding("bm25s", ("numba",))


def build_bm25(texts: list[str]) -> Any:
    """Index texts with bm25s (Lucene scoring, default k1/b).

    The vocabulary is numbered in sorted order: bm25s numbers it in the order of a set of
    strings, which changes from process to process, so the same texts gave different
    files (the scores were the same). Sorted, an index is the same bytes however built.
    """
    bm25s = _import_bm25s()
    tokens = [lexical_tokens(t) or ["__empty__"] for t in texts]
    vocab = {token: i for i, token in enumerate(sorted({t for doc in tokens for t in doc}))}
    retriever = bm25s.BM25()
    retriever.index(([[vocab[t] for t in doc] for doc in tokens], vocab), show_progress=False)
    return retriever


def save_bm25(retriever: Any, folder: Path) -> None:
    """Write the BM25 index as .npy and .json files (no pickle)."""
    retriever.save(str(folder), allow_pickle=False, show_progress=False)


def load_bm25(folder: Path) -> Any:
    """Read a BM25 index written by ``save_bm25``."""
    bm25s = _import_bm25s()

    return bm25s.BM25.load(str(folder), allow_pickle=False, show_progress=False, verbosity=0)


def bm25_scores(retriever: Any, query: str | list[str], count: int) -> np.ndarray:
    """BM25 score of every document for a query (zeros when no query word is indexed).

    Args:
        retriever: the bm25s index.
        query: the query text, or its lexical tokens.
        count: the number of documents (the length of the result).
    """
    tokens = lexical_tokens(query) if isinstance(query, str) else query
    ids = retriever.get_tokens_ids(tokens) if tokens else []
    if not ids:
        return np.zeros(count, dtype=np.float32)
    return np.asarray(retriever.get_scores(ids), dtype=np.float32)
