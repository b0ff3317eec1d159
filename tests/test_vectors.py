"""One contract for every vector index kind: flat is exact, ANN kinds recall, all round-trip."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from index.search.vectors import (
    INDEX_KINDS,
    VECTOR_KINDS,
    AnnParams,
    build_vector_index,
    choose_kind,
    index_kind,
    ivf_cells,
    load_vector_index,
    save_vector_index,
    search_vectors,
)

DIM = 32


def _unit(rows: np.ndarray) -> np.ndarray:
    out: np.ndarray = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    return out


@pytest.fixture(scope="module")
def clustered() -> tuple[np.ndarray, np.ndarray]:
    """4,000 unit vectors in 40 overlapping clusters, and 50 queries drawn like them."""
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((40, DIM))

    def draw(count: int) -> np.ndarray:
        return _unit(centres[rng.integers(0, 40, count)] + 0.8 * rng.standard_normal((count, DIM)))

    return draw(4_000), draw(50)


def _brute_force(data: np.ndarray, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    scores = data @ query
    order = np.argsort(-scores, kind="stable")[:k]
    return scores[order], order


def _recall_at_10(index: object, data: np.ndarray, queries: np.ndarray) -> float:
    found = 0
    for query in queries:
        _, exact = _brute_force(data, query, 10)
        _, ids = search_vectors(index, query, 10)
        found += len(set(exact.tolist()) & set(ids.tolist()))
    return found / (10 * len(queries))


@pytest.mark.parametrize("kind", INDEX_KINDS)
def test_index_contract(
    kind: str, clustered: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    data, queries = clustered
    index = build_vector_index(data, kind)
    assert index_kind(index) == kind
    assert int(index.ntotal) == len(data)

    # every kind finds a stored vector as its own best match, with cosine 1
    scores, ids = search_vectors(index, data[123], 5)
    assert ids[0] == 123
    assert scores[0] == pytest.approx(1.0, abs=1e-5)
    assert list(scores) == sorted(scores, reverse=True)

    if kind == "flat":
        for query in queries[:10]:
            want_scores, want_ids = _brute_force(data, query, 10)
            got_scores, got_ids = search_vectors(index, query, 10)
            np.testing.assert_allclose(got_scores, want_scores, rtol=0, atol=1e-5)
            assert set(got_ids.tolist()) == set(want_ids.tolist())
    else:
        assert _recall_at_10(index, data, queries) >= 0.9

    path = tmp_path / "dense.faiss"
    save_vector_index(index, path)
    loaded = load_vector_index(path)
    assert index_kind(loaded) == kind
    for query in queries[:5]:
        before = search_vectors(index, query, 10)
        after = search_vectors(loaded, query, 10)
        np.testing.assert_array_equal(before[1], after[1])
        np.testing.assert_allclose(before[0], after[0], atol=1e-6)


@pytest.mark.parametrize("kind", INDEX_KINDS)
def test_index_asked_for_more_than_it_holds(kind: str) -> None:
    data = _unit(np.random.default_rng(1).standard_normal((3, DIM)))
    index = build_vector_index(data, kind)
    scores, ids = search_vectors(index, data[0], 10)
    assert sorted(ids.tolist()) == [0, 1, 2]
    assert len(scores) == 3


def test_search_tuning_survives_a_round_trip(tmp_path: Path) -> None:
    import faiss

    data = _unit(np.random.default_rng(2).standard_normal((2_000, DIM)))
    params = AnnParams(ef_search=77, ivf_nprobe=5, ivfpq_nprobe=6, ivfpq_k_factor=9)
    save_vector_index(build_vector_index(data, "hnsw", params), tmp_path / "hnsw")
    save_vector_index(build_vector_index(data, "ivf", params), tmp_path / "ivf")
    save_vector_index(build_vector_index(data, "ivfpq", params), tmp_path / "ivfpq")
    assert load_vector_index(tmp_path / "hnsw").hnsw.efSearch == 77
    assert load_vector_index(tmp_path / "ivf").nprobe == 5
    ivfpq = load_vector_index(tmp_path / "ivfpq")
    assert faiss.extract_index_ivf(ivfpq).nprobe == 6
    assert ivfpq.k_factor == 9


def test_ivfpq_on_too_few_vectors_is_exact() -> None:
    data = _unit(np.random.default_rng(3).standard_normal((100, DIM)))
    index = build_vector_index(data, "ivfpq")
    assert index_kind(index) == "flat"
    for query in data[:5]:
        _, want_ids = _brute_force(data, query, 10)
        _, got_ids = search_vectors(index, query, 10)
        assert set(got_ids.tolist()) == set(want_ids.tolist())


def test_choose_kind_follows_the_threshold() -> None:
    assert choose_kind(0) == "flat"
    assert choose_kind(49_999, "auto", 50_000) == "flat"
    assert choose_kind(50_000, "auto", 50_000) == "hnsw"
    assert choose_kind(10, "auto", 5) == "hnsw"
    assert choose_kind(499_999) == "hnsw"
    assert choose_kind(500_000) == "ivfpq"  # 1M: HNSW missed the target, ivfpq met it
    assert choose_kind(10, "auto", 5, 10) == "ivfpq"
    for kind in INDEX_KINDS:
        assert choose_kind(10_000_000, kind) == kind
        assert choose_kind(1, kind) == kind


def test_unknown_kind_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown vector index kind 'annoy'") as caught:
        choose_kind(10, "annoy")
    for kind in VECTOR_KINDS:
        assert kind in str(caught.value)
    data = np.eye(4, dtype=np.float32)
    with pytest.raises(ValueError, match="flat, hnsw, ivf"):
        build_vector_index(data, "auto")


def test_ivf_cells_stay_trainable() -> None:
    assert ivf_cells(1_000_000, AnnParams()) == 2_564  # 100k samples / 39 caps 4 * 1000
    assert ivf_cells(1_000_000, AnnParams(ivf_train_size=200_000)) == 4_000
    assert ivf_cells(10_000, AnnParams()) == 256  # 10k / 39
    assert ivf_cells(10, AnnParams()) == 1
    assert ivf_cells(1_000_000, AnnParams(ivf_nlist=1024)) == 1024


def test_params_are_validated() -> None:
    with pytest.raises(ValueError, match="ef_search"):
        AnnParams(ef_search=0)
    with pytest.raises(ValueError, match="ivf_nlist"):
        AnnParams(ivf_nlist=-1)


def test_top_indices_matches_a_full_sort() -> None:
    import numpy as np

    from qa.retriever import top_indices

    rng = np.random.default_rng(7)
    for _ in range(200):
        scores = rng.integers(0, 5, size=int(rng.integers(1, 60))).astype(np.float32)
        k = int(rng.integers(1, 70))
        expected = np.argsort(-scores, kind="stable")[:k]
        got = top_indices(scores, k)
        # The same scores in the same order; among equal scores at the cut any may be kept.
        assert scores[got].tolist() == scores[expected].tolist()
        assert len(set(got.tolist())) == len(got)
        for a, b in itertools.pairwise(got):
            assert scores[a] > scores[b] or (scores[a] == scores[b] and a < b)
