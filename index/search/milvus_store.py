"""An index version as a Milvus collection: write, checksum, switch the alias, clean up.

One collection per index version holds, per passage: its position (primary key), chunk
id, document id, section path, character offsets, pages (nullable, for paged sources),
the passage text, the lexical tokens (analysed by Milvus's built-in BM25 function into a
sparse vector) and the dense vector. A build writes a new collection; the index folder's
manifest names it, and the alias ``<prefix>`` is moved to it once the folder's ``CURRENT``
names the new version. A build killed mid-insert leaves a collection that no manifest
names: the previous version keeps serving, and the next build drops the leftover.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from index.search.backend import StoredPassage
from index.search.milvus import engine_errors
from index.search.milvus_target import MilvusTarget

TEXT_FIELDS = ("chunk_id", "doc_id", "section", "char_start", "char_end", "page_start",
               "page_end", "text", "lexical")
BATCH = 500
_MAX_CHARS = 65_535
# The vector index per kind chosen by size (index.search.vectors.choose_kind), as Milvus names it.
# Milvus has no refined fast-scan PQ under one name: ``ivfpq`` maps to its IVF_SQ8.
_INDEX = {"flat": ("FLAT", {}), "hnsw": ("HNSW", {"M": 32, "efConstruction": 200}),
          "ivf": ("IVF_FLAT", {"nlist": 1024}), "ivfpq": ("IVF_SQ8", {"nlist": 4096})}
BM25_PARAMS = {"bm25_k1": 1.5, "bm25_b": 0.75}  # bm25s's defaults, as the FAISS backend


def schema(client: Any, dim: int) -> Any:
    """The collection schema, with the BM25 function from ``lexical`` to ``sparse``."""
    from pymilvus import DataType, Function, FunctionType

    s = client.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("id", DataType.INT64, is_primary=True)
    for name in ("chunk_id", "doc_id", "section", "text"):
        s.add_field(name, DataType.VARCHAR, max_length=_MAX_CHARS)
    for name in ("char_start", "char_end"):
        s.add_field(name, DataType.INT64)
    for name in ("page_start", "page_end"):
        s.add_field(name, DataType.INT64, nullable=True)
    s.add_field("lexical", DataType.VARCHAR, max_length=_MAX_CHARS, enable_analyzer=True,
                analyzer_params={"tokenizer": "standard"})
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
    s.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                            input_field_names=["lexical"], output_field_names=["sparse"]))
    return s


def index_params(client: Any, kind: str) -> Any:
    """Vector index of the dense field (by kind) and the BM25 inverted index."""
    params = client.prepare_index_params()
    index_type, extra = _INDEX[kind]
    params.add_index("dense", index_type=index_type, metric_type="IP", params=extra)
    params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                     params=BM25_PARAMS)
    return params


def rows(passages: Sequence[StoredPassage], lexical: Sequence[str],
         vectors: np.ndarray) -> Iterator[dict[str, Any]]:
    """The collection rows, position order."""
    for p, lex, vec in zip(passages, lexical, vectors, strict=True):
        yield {"id": p.position, "chunk_id": p.chunk_id, "doc_id": p.doc_id,
               "section": p.section, "char_start": p.start, "char_end": p.end,
               "page_start": p.page_start, "page_end": p.page_end, "text": p.text,
               "lexical": lex, "dense": np.asarray(vec, dtype=np.float32).tolist()}


def row_digest(digest: Any, row: dict[str, Any]) -> None:
    """Feed one row (all fields but the derived sparse vector) into a SHA-256."""
    fields = [row["id"], *(row[f] for f in TEXT_FIELDS)]
    digest.update(json.dumps(fields, ensure_ascii=False).encode("utf-8"))
    digest.update(np.asarray(row["dense"], dtype=np.float32).tobytes())


def write_collection(client: Any, target: MilvusTarget, name: str, dim: int, kind: str,
                     batches: Iterable[list[dict[str, Any]]]) -> tuple[int, str]:
    """Create collection ``name`` and insert every row; return (count, checksum).

    Raises:
        BackendUnavailable: the engine failed or did not answer in time.
    """
    digest = hashlib.sha256()
    count = 0
    with engine_errors(target, f"writing collection {name}"):
        if client.has_collection(name, timeout=target.timeout):
            client.drop_collection(name, timeout=target.timeout)
        client.create_collection(name, schema=schema(client, dim),
                                 index_params=index_params(client, kind),
                                 consistency_level="Strong", timeout=target.timeout)
        for batch in batches:
            client.insert(name, batch, timeout=target.timeout)
            for row in batch:
                row_digest(digest, row)
            count += len(batch)
        client.flush(name, timeout=target.timeout)
    return count, digest.hexdigest()


def engine_count(client: Any, target: MilvusTarget, name: str) -> int:
    """How many rows collection ``name`` holds (-1 when it does not exist).

    The collection is loaded first: a Milvus Lite file opened by a new process holds its
    collections released (unsearchable) until ``load_collection``, and a Milvus server
    may have released it too. Loading a loaded collection does nothing.
    """
    with engine_errors(target, f"counting collection {name}"):
        if not client.has_collection(name, timeout=target.timeout):
            return -1
        client.load_collection(name, timeout=target.timeout)
        got = client.query(name, filter="", output_fields=["count(*)"],
                           timeout=target.timeout)
    return int(got[0]["count(*)"])


def engine_checksum(client: Any, target: MilvusTarget, name: str, count: int,
                    page: int = 1000) -> str:
    """SHA-256 of what collection ``name`` holds, read back in position order."""
    digest = hashlib.sha256()
    with engine_errors(target, f"reading collection {name}"):
        for start in range(0, count, page):
            got = client.query(name, filter=f"id >= {start} and id < {start + page}",
                               output_fields=["id", *TEXT_FIELDS, "dense"],
                               timeout=target.timeout)
            for row in sorted(got, key=lambda r: int(r["id"])):
                row_digest(digest, dict(row))
    return digest.hexdigest()


def switch_alias(client: Any, target: MilvusTarget, name: str) -> None:
    """Point the alias ``target.prefix`` at collection ``name`` (create it if new)."""
    with engine_errors(target, f"switching alias {target.prefix}"):
        aliases = client.list_aliases(timeout=target.timeout).get("aliases", [])
        if target.prefix in aliases:
            client.alter_alias(name, target.prefix, timeout=target.timeout)
        else:
            client.create_alias(name, target.prefix, timeout=target.timeout)


def drop_stale(client: Any, target: MilvusTarget, keep: set[str]) -> list[str]:
    """Drop this prefix's version collections that no kept version names."""
    dropped = []
    with engine_errors(target, "dropping old collections"):
        for name in client.list_collections(timeout=target.timeout):
            if name.startswith(f"{target.prefix}_v_") and name not in keep:
                client.drop_collection(name, timeout=target.timeout)
                dropped.append(name)
    return dropped
