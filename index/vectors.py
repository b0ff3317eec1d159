"""The dense leg: FAISS inner-product search over unit vectors.

Exact flat search below ``hnsw_threshold`` vectors, HNSW above it; the choice is
recorded in the manifest and can be forced with ``kind``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

VECTOR_KINDS = ("auto", "flat", "hnsw")
DEFAULT_HNSW_THRESHOLD = 50_000


def choose_kind(
    count: int, kind: str = "auto", hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD
) -> str:
    """The index type for ``count`` vectors.

    Raises:
        ValueError: ``kind`` is not one of VECTOR_KINDS.
    """
    if kind not in VECTOR_KINDS:
        raise ValueError(
            f"unknown vector index kind {kind!r}; choose one of {', '.join(VECTOR_KINDS)}"
        )
    if kind != "auto":
        return kind
    return "hnsw" if count >= hnsw_threshold else "flat"


def build_vector_index(
    vectors: np.ndarray,
    kind: str = "flat",
    hnsw_m: int = 32,
    ef_construction: int = 80,
    ef_search: int = 64,
) -> Any:
    """Build a FAISS index over unit-length float32 rows.

    Args:
        vectors: (n, dim) float32, rows L2-normalised.
        kind: ``flat`` (exact) or ``hnsw`` (approximate).
        hnsw_m: HNSW graph degree.
        ef_construction: HNSW build-time beam.
        ef_search: HNSW query-time beam.

    Returns:
        The FAISS index with the vectors added.
    """
    import faiss

    dim = int(vectors.shape[1])
    index: Any
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        index.hnsw.efSearch = ef_search
    else:
        raise ValueError(f"unknown vector index kind {kind!r}; choose flat or hnsw")
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def save_vector_index(index: Any, path: Path) -> None:
    """Write the FAISS index to a plain file."""
    import faiss

    faiss.write_index(index, str(path))


def load_vector_index(path: Path) -> Any:
    """Read a FAISS index written by ``save_vector_index``."""
    import faiss

    return faiss.read_index(str(path))


def search_vectors(index: Any, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k inner products for one query vector.

    Returns:
        (scores, ids) of the hits, best first, without FAISS's -1 padding.
    """
    k = min(k, int(index.ntotal))
    if k <= 0:
        return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
    scores, ids = index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
    keep = ids[0] >= 0
    return scores[0][keep], ids[0][keep]
