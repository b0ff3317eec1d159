"""The Milvus backend: both legs, RRF fusion and fetch-by-id run in the engine."""

from __future__ import annotations

from typing import Any

import numpy as np

from index.search.backend import Ranked, StoredPassage, best_first
from index.search.milvus import connect, engine_errors
from index.search.milvus_store import TEXT_FIELDS
from index.search.milvus_target import MilvusTarget

TIE_MARGIN = 10


class MilvusBackend:
    """Searches one collection (one index version) of a Milvus server or Milvus Lite file.

    Args:
        target: where the engine is, and its timeout.
        collection: the collection the index version's manifest names.
        ef_search: HNSW query beam (used when the collection has an HNSW index).
        client: an open ``MilvusClient`` (connected from ``target`` when omitted).
    """

    name = "milvus"

    def __init__(self, target: MilvusTarget, collection: str, ef_search: int = 128,
                 client: Any = None) -> None:
        self.target = target
        self.collection = collection
        self.ef_search = ef_search
        self.client = client if client is not None else connect(target)

    def count(self) -> int:
        with engine_errors(self.target, "counting passages"):
            got = self.client.query(self.collection, filter="", output_fields=["count(*)"],
                                    timeout=self.target.timeout)
        return int(got[0]["count(*)"])

    def _dense_params(self, k: int) -> dict[str, Any]:
        return {"metric_type": "IP", "params": {"ef": max(self.ef_search, k)}}

    def dense(self, vector: np.ndarray, k: int) -> Ranked:
        with engine_errors(self.target, "searching vectors"):
            got = self.client.search(
                self.collection, data=[_floats(vector)], anns_field="dense", limit=k,
                search_params=self._dense_params(k), timeout=self.target.timeout,
            )
        return best_first([(int(h["id"]), float(h["distance"])) for h in got[0]])

    def lexical(self, tokens: list[str], k: int) -> Ranked:
        if not tokens:
            return []
        with engine_errors(self.target, "searching words"):
            got = self.client.search(
                self.collection, data=[" ".join(tokens)], anns_field="sparse", limit=k,
                search_params={"metric_type": "BM25"}, timeout=self.target.timeout,
            )
        # Milvus Lite reports BM25 as a negated distance, a Milvus server as a score.
        return best_first([(int(h["id"]), abs(float(h["distance"]))) for h in got[0]])

    def hybrid(self, vector: np.ndarray, tokens: list[str], k: int, depth: int,
               rrf_k: int) -> Ranked | None:
        if not tokens:
            return None  # only the dense leg: the retriever takes it as it is
        from pymilvus import AnnSearchRequest, RRFRanker

        requests = [
            AnnSearchRequest(data=[_floats(vector)], anns_field="dense",
                             param=self._dense_params(depth), limit=depth),
            AnnSearchRequest(data=[" ".join(tokens)], anns_field="sparse",
                             param={"metric_type": "BM25"}, limit=depth),
        ]
        # A few more than k, so that ties at the cut are settled by our rule, not the engine's.
        with engine_errors(self.target, "running the hybrid search"):
            got = self.client.hybrid_search(self.collection, requests, RRFRanker(rrf_k),
                                            limit=k + TIE_MARGIN, timeout=self.target.timeout)
        return best_first([(int(h["id"]), float(h["distance"])) for h in got[0]])[:k]

    def fetch(self, positions: list[int]) -> list[StoredPassage]:
        if not positions:
            return []
        with engine_errors(self.target, "fetching passages"):
            got = self.client.get(self.collection, ids=list(positions),
                                  output_fields=["id", *TEXT_FIELDS],
                                  timeout=self.target.timeout)
        by_id = {int(r["id"]): _passage(r) for r in got}
        return [by_id[p] for p in positions if p in by_id]


def _floats(vector: np.ndarray) -> list[float]:
    values: list[float] = np.asarray(vector, dtype=np.float32).reshape(-1).tolist()
    return values


def _passage(row: Any) -> StoredPassage:
    def page(name: str) -> int | None:
        value = row.get(name)
        return None if value is None else int(value)

    return StoredPassage(
        int(row["id"]), str(row["chunk_id"]), str(row["doc_id"]), str(row["section"]),
        int(row["char_start"]), int(row["char_end"]), str(row["text"]),
        page("page_start"), page("page_end"),
    )
