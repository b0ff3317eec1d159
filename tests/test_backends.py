"""One contract, every backend: the same cases run on FAISS + bm25s and on Milvus Lite.

The retrieval interface is tested, not the engine: dense search, lexical search, hybrid
search, fetch by id, counts, pages, and verified citations through the whole service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from index.text.lexical import lexical_tokens
from qa.errors import NotFound

ALLIANCE = """\
1 The Alliance
(1) Extended deterrence
The Extended Deterrence Dialogue was established in 2010. It meets twice a year to \
discuss regional security and nuclear policy.
(2) Host nation support
Host nation support pays for facilities used by forces stationed abroad.
"""
TRADE = """\
2 Trade
Soybean exports rose by nine percent in the second quarter, the ministry reported.
Tariff talks resumed in the autumn after a pause of two years.
"""
FILES = {"alliance.txt": ALLIANCE, "notes/trade.md": TRADE}
BACKENDS = ("faiss", "milvus")


@pytest.fixture(params=BACKENDS)
def service(request: pytest.FixtureRequest, make_service: Callable[..., Any]) -> Any:
    """An opened service over the small corpus, on each backend in turn."""
    svc = make_service(FILES, backend=request.param, chunk_tokens=24)
    svc.open()
    assert svc.loaded.index.backend.name == request.param
    return svc


def _texts(service: Any, positions: list[int]) -> list[str]:
    return [service.loaded.index.chunks[i].text for i in positions]


def test_counts_match_the_chunks(service: Any) -> None:
    index = service.loaded.index
    assert index.backend.count() == len(index.chunks) > 2


def test_dense_search_finds_a_passage_by_its_own_vector(service: Any) -> None:
    index = service.loaded.index
    for position, chunk in enumerate(index.chunks):
        vector = service.embedder.embed([chunk.text])[0]
        ranked = index.backend.dense(vector, 3)
        assert len(ranked) == min(3, len(index.chunks))
        scores = [s for _, s in ranked]
        assert scores == sorted(scores, reverse=True)
        # the chunk's own text is its nearest neighbour (cosine 1 up to float error)
        top = [i for i, s in ranked if s > scores[0] - 1e-4]
        assert position in top or index.chunks[ranked[0][0]].text == chunk.text


def test_lexical_search_ranks_by_bm25_and_skips_misses(service: Any) -> None:
    backend = service.loaded.index.backend
    ranked = backend.lexical(lexical_tokens("soybean exports"), 5)
    assert ranked and "Soybean" in _texts(service, [ranked[0][0]])[0]
    assert all(score > 0 for _, score in ranked)
    assert backend.lexical(lexical_tokens("zyzzyva"), 5) == []


def test_hybrid_search_puts_the_matching_passage_first(service: Any) -> None:
    hits = service.loaded.retriever.search("When did tariff talks resume?", 3)
    assert 1 <= len(hits) <= 3
    assert "Tariff talks" in service.loaded.index.chunks[hits[0].index].text
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_every_mode_returns_distinct_valid_positions(service: Any, mode: str) -> None:
    hits = service.loaded.retriever.search("nuclear policy dialogue", 4, mode=mode)
    positions = [h.index for h in hits]
    assert positions and len(set(positions)) == len(positions)
    assert all(0 <= p < len(service.loaded.index.chunks) for p in positions)


def test_fetch_returns_the_document_text_at_the_offsets(service: Any) -> None:
    index = service.loaded.index
    positions = list(range(len(index.chunks)))[::-1]
    fetched = index.backend.fetch(positions)
    assert [p.position for p in fetched] == positions
    for p in fetched:
        chunk = index.chunks[p.position]
        assert (p.chunk_id, p.doc_id, p.start, p.end) == (
            chunk.chunk_id, chunk.doc_id, chunk.start, chunk.end)
        assert service.document(p.doc_id)[p.start : p.end] == p.text
        assert p.page_start is None and p.page_end is None  # text sources have no pages
    assert index.backend.fetch([len(index.chunks) + 5]) == []


def test_passage_by_id_and_unknown_id(service: Any) -> None:
    chunk = service.loaded.index.chunks[0]
    passage = service.passage(chunk.chunk_id)
    assert (passage.chunk_id, passage.text) == (chunk.chunk_id, chunk.text)
    with pytest.raises(NotFound):
        service.passage("no-such-chunk")


def test_answers_cite_the_document_verbatim(service: Any) -> None:
    answer = service.ask("When was the Extended Deterrence Dialogue established?")
    assert not answer.abstained and "2010" in (answer.answer or "")
    for c in answer.citations:
        assert service.document(c.doc_id)[c.start : c.end] == c.quote
    for p in answer.passages:
        assert service.document(p.doc_id)[p.start : p.end] == p.text


def test_weighted_fusion_ranks_on_both_backends(make_service: Callable[..., Any]) -> None:
    for backend in BACKENDS:
        svc = make_service(FILES, backend=backend, fusion="weighted", chunk_tokens=24)
        svc.open()
        hits = svc.loaded.retriever.search("soybean exports quarter", 2)
        assert "Soybean" in svc.loaded.index.chunks[hits[0].index].text
        assert np.isfinite([h.score for h in hits]).all()
