"""Write the two search legs of a new index version to its backend.

FAISS + bm25s: files in the version folder (checksummed with the rest). Milvus: one new
collection per version (``index.search.milvus_store``), named in the manifest; after the
version is published, the alias moves to it and collections no kept version names are
dropped (the previous version's stays, as its folder does).
"""

from __future__ import annotations

import contextlib
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import ConfigError, EngineDamaged, QAError
from index.records import Chunk
from index.search.backend import stored_passage
from index.search.bm25 import build_bm25, save_bm25
from index.search.milvus import connect, engine_errors
from index.search.milvus_lite import move_aside
from index.search.milvus_store import BATCH, drop_stale, rows, switch_alias, write_collection
from index.search.milvus_target import MilvusTarget
from index.search.vectors import build_vector_index, save_vector_index
from index.store import BM25_DIR, DENSE, MANIFEST
from index.text.lexical import lexical_tokens


def check_reachable(backend: str, engine: MilvusTarget | None) -> str | None:
    """Fail before any heavy work when the backend's engine cannot be reached.

    A damaged Milvus Lite database is moved aside (``index.search.milvus_lite.move_aside``) and
    a new one started, so a rebuild gets out of the damage.

    Returns:
        What was done to the engine that the user should hear of, or None.

    Raises:
        ConfigError: Milvus is chosen but no target is given.
        BackendUnavailable: Milvus does not answer within its timeout.
        EngineLocked: another process holds the Milvus Lite database.
    """
    if backend != "milvus":
        return None
    if engine is None:
        raise ConfigError("QA_BACKEND=milvus needs QA_MILVUS_URI")
    try:
        _list_collections(engine)
        return None
    except EngineDamaged:  # only a Milvus Lite file is found damaged
        aside = move_aside(engine)
        _list_collections(engine)
        return (f"the Milvus Lite database {engine.uri} was damaged: it was moved to {aside} "
                "and a new one is built")


def _list_collections(engine: MilvusTarget) -> None:
    client = connect(engine)
    with engine_errors(engine, "listing collections"):
        client.list_collections(timeout=engine.timeout)


def write_legs(staging: Path, chunks: list[Chunk], lexical: list[str], vectors: np.ndarray,
               kind: str, backend: str, engine: MilvusTarget | None) -> dict[str, Any]:
    """Write the dense and lexical legs; return the manifest's ``backend`` entry.

    Args:
        staging: the version folder being written (``v-...tmp``).
        chunks: the chunks, in position order.
        lexical: the text the lexical leg indexes for each chunk.
        vectors: the chunk embeddings (unit rows).
        kind: the vector index kind (``flat``, ``hnsw``, ``ivf``).
        backend: ``faiss`` or ``milvus``.
        engine: where Milvus is (required for ``milvus``).
    """
    if backend == "faiss":
        save_vector_index(build_vector_index(vectors, kind), staging / DENSE)
        bm25_dir = staging / BM25_DIR
        bm25_dir.mkdir()
        save_bm25(build_bm25(lexical), bm25_dir)
        return {"name": "faiss"}
    if engine is None:
        raise ConfigError("QA_BACKEND=milvus needs QA_MILVUS_URI")
    name = engine.collection(staging.name.removesuffix(".tmp"))
    passages = [stored_passage(i, c) for i, c in enumerate(chunks)]
    tokens = [" ".join(lexical_tokens(t)) or "__empty__" for t in lexical]
    all_rows = rows(passages, tokens, vectors)
    batches = iter(lambda: list(itertools.islice(all_rows, BATCH)), [])
    count, checksum = write_collection(connect(engine), engine, name, int(vectors.shape[1]),
                                       kind, batches)
    return {"name": "milvus", "uri": engine.shown, "collection": name, "alias": engine.prefix,
            "count": count, "checksum": checksum}


def after_publish(index_dir: Path, entry: dict[str, Any], engine: MilvusTarget | None) -> None:
    """Move the alias to the new collection and drop the collections of gone versions."""
    if entry.get("name") != "milvus" or engine is None:
        return
    client = connect(engine)
    switch_alias(client, engine, entry["collection"])
    drop_stale(client, engine, keep=kept_collections(index_dir))


def drop_unpublished(staging: Path, backend: str, engine: MilvusTarget | None) -> None:
    """Drop the collection of a build that failed (best effort: the next build drops it too)."""
    if backend != "milvus" or engine is None:
        return
    with contextlib.suppress(QAError):
        client = connect(engine)
        with engine_errors(engine, "dropping an unfinished collection"):
            client.drop_collection(engine.collection(staging.name.removesuffix(".tmp")),
                                   timeout=engine.timeout)


def kept_collections(index_dir: Path) -> set[str]:
    """The collections named by the published version folders in ``index_dir``."""
    keep = set()
    for folder in index_dir.glob("v-*"):
        if folder.name.endswith(".tmp") or not (folder / MANIFEST).is_file():
            continue
        try:
            entry = json.loads((folder / MANIFEST).read_text("utf-8")).get("backend", {})
        except (OSError, ValueError):
            continue
        if isinstance(entry, dict) and entry.get("collection"):
            keep.add(str(entry["collection"]))
    return keep
