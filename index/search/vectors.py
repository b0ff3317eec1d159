"""The dense leg: FAISS inner-product search over unit vectors.

Four kinds of index, chosen by corpus size unless forced:

- ``flat``: exact search, every vector compared; best below ``hnsw_threshold`` vectors.
- ``hnsw``: a graph (HNSW), approximate; no training, the default from the threshold up
  to ``ivfpq_threshold``.
- ``ivfpq``: k-means cells holding 4-bit product-quantised codes scanned with SIMD
  ("fast scan"), the best ``k * k_factor`` re-scored exactly on the float vectors; the
  default from ``ivfpq_threshold``: at 1M vectors recall@10 0.984 at p50 16 ms, built in
  4 minutes (bench/results/scale-1m-ivfpq.json), where HNSW reached 0.918 after a 42-minute
  build (bench/results/scale-1m.json).
- ``ivf``: k-means cells (IVF-Flat), approximate; only when asked for.

The kind is recorded in the manifest; the tuning (``AnnParams``) is stored by FAISS in
the index file itself (efSearch, nprobe), so a loaded index searches as it was built.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

INDEX_KINDS = ("flat", "hnsw", "ivf", "ivfpq")
VECTOR_KINDS = ("auto", *INDEX_KINDS)
DEFAULT_HNSW_THRESHOLD = 50_000
DEFAULT_IVFPQ_THRESHOLD = 500_000
MIN_PQ_TRAIN = 16 * 39  # 16 centroids per 4-bit code, 39 training points each


@dataclass(frozen=True)
class AnnParams:
    """Tuning of the approximate kinds (measured in ``bench/scale.py``).

    Attributes:
        hnsw_m: HNSW graph degree.
        ef_construction: HNSW build-time beam.
        ef_search: HNSW query-time beam.
        ivf_nlist: IVF cells; 0 picks about ``4 * sqrt(n)``.
        ivf_nprobe: IVF cells visited per query.
        ivf_train_size: at most this many vectors train the IVF k-means.
        ivfpq_nlist: cells of ``ivfpq``; 0 picks about ``4 * sqrt(n)``.
        ivfpq_nprobe: cells of ``ivfpq`` visited per query.
        ivfpq_k_factor: ``ivfpq`` re-scores ``k * k_factor`` candidates exactly.
    """

    hnsw_m: int = 32
    ef_construction: int = 40
    ef_search: int = 128
    ivf_nlist: int = 0
    ivf_nprobe: int = 64
    ivf_train_size: int = 100_000
    ivfpq_nlist: int = 0
    ivfpq_nprobe: int = 1024  # of 2564 cells at 1M: recall@10 0.984 at p50 16 ms there
    ivfpq_k_factor: int = 64

    def __post_init__(self) -> None:
        for name in ("hnsw_m", "ef_construction", "ef_search", "ivf_nprobe", "ivf_train_size",
                     "ivfpq_nprobe", "ivfpq_k_factor"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.ivf_nlist < 0 or self.ivfpq_nlist < 0:
            raise ValueError("ivf_nlist and ivfpq_nlist must be 0 (automatic) or more")


def _check_kind(kind: str, valid: tuple[str, ...]) -> None:
    if kind not in valid:
        raise ValueError(f"unknown vector index kind {kind!r}; choose one of {', '.join(valid)}")


def choose_kind(
    count: int,
    kind: str = "auto",
    hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD,
    ivfpq_threshold: int = DEFAULT_IVFPQ_THRESHOLD,
) -> str:
    """The index type for ``count`` vectors: ``kind`` itself unless it is ``auto``.

    Raises:
        ValueError: ``kind`` is not one of VECTOR_KINDS.
    """
    _check_kind(kind, VECTOR_KINDS)
    if kind != "auto":
        return kind
    if count >= ivfpq_threshold:
        return "ivfpq"
    return "hnsw" if count >= hnsw_threshold else "flat"


def ivf_cells(count: int, params: AnnParams, nlist: int | None = None) -> int:
    """The number of IVF cells for ``count`` vectors.

    ``nlist`` (default ``ivf_nlist``) when set, otherwise about 4 * sqrt(n); never so
    many that a cell gets fewer than 39 training vectors (FAISS's own lower bound for
    stable k-means).
    """
    wanted = (params.ivf_nlist if nlist is None else nlist) or 4 * math.isqrt(max(count, 1))
    trainable = min(count, params.ivf_train_size) // 39
    return max(1, min(wanted, trainable))


def build_vector_index(
    vectors: np.ndarray, kind: str = "flat", params: AnnParams | None = None
) -> Any:
    """Build a FAISS index over unit-length float32 rows.

    Args:
        vectors: (n, dim) float32, rows L2-normalised.
        kind: ``flat`` (exact), ``hnsw`` or ``ivf`` (approximate).
        params: tuning of the approximate kinds.

    Returns:
        The FAISS index with the vectors added.

    Raises:
        ValueError: unknown ``kind``.
    """
    import faiss

    _check_kind(kind, INDEX_KINDS)
    p = params or AnnParams()
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    count, dim = data.shape
    index: Any
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, p.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = p.ef_construction
        index.hnsw.efSearch = p.ef_search
    elif kind == "ivfpq":
        index = _ivfpq(data, p)
    else:
        nlist = ivf_cells(count, p)
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(_training_sample(data, p.ivf_train_size))
        index.nprobe = min(p.ivf_nprobe, nlist)
    index.add(data)
    return index


def _ivfpq(data: np.ndarray, p: AnnParams) -> Any:
    """IVF cells of 4-bit PQ codes (fast scan), candidates re-scored on the float rows.

    Below ``MIN_PQ_TRAIN`` vectors the 16 centroids of each code cannot be trained: the
    exact flat index is returned (and is the cheaper one at that size anyway).
    """
    import faiss

    count, dim = data.shape
    if count < MIN_PQ_TRAIN:
        return faiss.IndexFlatIP(dim)
    nlist = ivf_cells(count, p, p.ivfpq_nlist)
    subquantizers = dim // 4 if dim % 8 == 0 else dim // 2  # 4 (or 2) dimensions a code
    index: Any = faiss.index_factory(
        dim, f"IVF{nlist},PQ{subquantizers}x4fs,RFlat", faiss.METRIC_INNER_PRODUCT
    )
    index.train(_training_sample(data, p.ivf_train_size))
    index.k_factor = p.ivfpq_k_factor
    faiss.extract_index_ivf(index).nprobe = min(p.ivfpq_nprobe, nlist)
    return index


def _training_sample(data: np.ndarray, size: int) -> np.ndarray:
    """A fixed-seed random sample of rows for k-means (all rows when few)."""
    if len(data) <= size:
        return data
    rows = np.sort(np.random.default_rng(0).choice(len(data), size, replace=False))
    return np.ascontiguousarray(data[rows])


def index_kind(index: Any) -> str:
    """Which of INDEX_KINDS a FAISS index is (for reports and checks)."""
    import faiss

    if isinstance(index, faiss.IndexRefine):
        return "ivfpq"
    if isinstance(index, faiss.IndexHNSW):
        return "hnsw"
    if isinstance(index, faiss.IndexIVF):
        return "ivf"
    return "flat"


def save_vector_index(index: Any, path: Path) -> None:
    """Write the FAISS index to a plain file."""
    import faiss

    faiss.write_index(index, str(path))


def load_vector_index(path: Path) -> Any:
    """Read a FAISS index written by ``save_vector_index``."""
    import faiss

    return faiss.read_index(str(path))


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Run FAISS on the calling thread only, then restore its setting.

    OpenMP's thread count is per calling thread, so this does not touch other threads.
    A one-query flat scan split over threads waits on the slowest of them: on a busy
    2-core machine that cost 40 ms instead of 2 ms at 20k vectors (bench/scale.py).
    """
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def search_vectors(index: Any, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k inner products for one query vector, searched on the calling thread.

    Returns:
        (scores, ids) of the hits, best first, without FAISS's -1 padding.
    """
    k = min(k, int(index.ntotal))
    if k <= 0:
        return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
    with _one_thread():
        scores, ids = index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
    keep = ids[0] >= 0
    return scores[0][keep], ids[0][keep]
