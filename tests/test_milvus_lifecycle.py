"""The index lifecycle on Milvus: a collection per version, the alias, checks, killed builds.

Milvus Lite runs in this process for most cases; the killed build and ``qa index --check``
use a Milvus server in a subprocess (Milvus Lite's gRPC server, the protocol of a
standalone Milvus), which two processes can share.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from index.search.legs import kept_collections
from index.search.milvus import connect
from index.search.milvus_target import MilvusTarget
from tests.helpers.milvus_server import milvus_server
from tests.helpers.procs import REPO, offline_env, run_qa

FILES = {
    "a.txt": "1 First\nThe first report was filed in 2001. It covers harbour dredging.\n",
    "b.txt": "2 Second\nThe second report was filed in 2002. It covers grain storage.\n",
}


def _collections(service: Any) -> tuple[set[str], str]:
    """The engine's collections of this prefix, and the collection the alias names."""
    target = service.settings.milvus_target()
    client = connect(target)
    names = {n for n in client.list_collections() if n.startswith(f"{target.prefix}_v_")}
    return names, client.describe_alias(target.prefix)["collection_name"]


def _current_collection(service: Any) -> str:
    return str(service.loaded.index.manifest["backend"]["collection"])


def test_each_build_writes_a_new_collection_and_moves_the_alias(
    make_service: Callable[..., Any], tmp_path: Path
) -> None:
    service = make_service(FILES, backend="milvus", chunk_tokens=24)
    service.open()
    first = _current_collection(service)
    assert _collections(service) == ({first}, first)
    (tmp_path / "corpus" / "c.txt").write_text("3 Third\nA third report, filed in 2003.\n")
    assert service.reload()
    second = _current_collection(service)
    assert second != first
    assert _collections(service) == ({first, second}, second)  # the previous one is kept
    service.build()
    service.reload()
    third = _current_collection(service)
    names, alias = _collections(service)
    assert names == {second, third} and alias == third  # older than previous: dropped
    assert kept_collections(service.settings.index_dir) == {second, third}
    answer = service.ask("When was the third report filed?")
    assert "2003" in (answer.answer or "")


def test_check_compares_the_engine_with_the_manifest(make_service: Callable[..., Any]) -> None:
    service = make_service(FILES, backend="milvus", chunk_tokens=24)
    service.open()
    assert service.status().current
    target = service.settings.milvus_target()
    client = connect(target)
    name = _current_collection(service)
    row = {k: v for k, v in client.get(name, ids=[0])[0].items() if k != "sparse"}
    client.upsert(name, [{**row, "text": row["text"] + " (altered)"}])
    status = service.status(verify=True)
    assert not status.current and "checksum mismatch" in " ".join(status.reasons)
    client.delete(name, ids=[0])
    status = service.status(verify=False)  # the count is compared even without verify
    assert not status.current and "holds" in " ".join(status.reasons)
    service.open()  # a damaged collection is rebuilt, like a damaged file
    assert service.status().current


def test_a_changed_uri_or_backend_makes_the_index_stale(make_service: Callable[..., Any],
                                                        tmp_path: Path) -> None:
    service = make_service(FILES, backend="milvus", chunk_tokens=24)
    service.open()
    moved = service.settings.model_copy(update={"milvus_uri": str(tmp_path / "other.db")})
    reasons = " ".join(type(service)(moved, embedder=service.embedder).status().reasons)
    assert "Milvus URI changed" in reasons
    plain = service.settings.model_copy(update={"backend": "faiss"})
    reasons = " ".join(type(service)(plain, embedder=service.embedder).status().reasons)
    assert "backend" in reasons


KILLED_BUILD = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    import pymilvus
    import index.search.legs
    from index.builder import build_index
    from index.config import BuildConfig
    from index.encode.hashing import HashingEmbedder
    from index.search.milvus_target import MilvusTarget

    index.search.legs.BATCH = 1
    calls = 0
    insert = pymilvus.MilvusClient.insert
    def dying_insert(self, *args, **kwargs):
        global calls
        calls += 1
        if calls == 3:  # two batches are in the engine: killed mid-insert
            os._exit(137)
        return insert(self, *args, **kwargs)
    pymilvus.MilvusClient.insert = dying_insert
    corpus, index_dir, uri = sys.argv[1:4]
    config = BuildConfig(model="hashing-64", backend="milvus")
    config = config.__class__(**{**config.__dict__, "chunking": config.chunking.__class__(24, 1)})
    build_index(Path(corpus), Path(index_dir), config, HashingEmbedder(),
                engine=MilvusTarget(uri))
""")


@pytest.mark.slow
def test_a_build_killed_mid_insert_leaves_the_previous_collection_serving(
    make_service: Callable[..., Any], tmp_path: Path
) -> None:
    with milvus_server(tmp_path / "engine") as (uri, _process):
        service = make_service(FILES, backend="milvus", milvus_uri=uri, chunk_tokens=24)
        service.open()
        before = _current_collection(service)
        (tmp_path / "corpus" / "c.txt").write_text(
            "3 Third\nA third report, filed in 2003. It covers roads.\n"
            "A fourth report followed in 2004. It covers bridges.\n"
        )
        killed = subprocess.run(
            [sys.executable, "-c", KILLED_BUILD, str(tmp_path / "corpus"),
             str(service.settings.index_dir), uri],
            cwd=REPO, env=offline_env(), capture_output=True, text=True, timeout=300,
        )
        assert killed.returncode == 137, killed.stderr[-2000:]
        names, alias = _collections(service)
        assert len(names) == 2 and alias == before  # the half-written one is there, unused
        fresh = type(service)(service.settings, embedder=service.embedder)
        fresh.open(rebuild=False)
        assert _current_collection(fresh) == before
        assert "2002" in (fresh.ask("When was the second report filed?").answer or "")
        fresh.build()  # the next build publishes and drops the leftover
        fresh.reload()
        names, alias = _collections(fresh)
        assert names == {before, _current_collection(fresh)} and alias != before


@pytest.mark.slow
def test_qa_index_check_reads_the_engine(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in FILES.items():
        (corpus / name).write_text(text)
    with milvus_server(tmp_path / "engine") as (uri, _process):
        env = {"QA_BACKEND": "milvus", "QA_MILVUS_URI": uri, "QA_MODEL": "hashing-64"}
        args = ("--corpus", corpus, "--index-dir", tmp_path / "index")
        built = run_qa("index", *args, **env)
        assert built.returncode == 0, built.stderr
        checked = run_qa("index", "--check", *args, **env)
        assert checked.returncode == 0 and "index is current" in checked.stdout
        client = connect(MilvusTarget(uri))
        name = next(n for n in client.list_collections() if n.startswith("citeqa_v_"))
        client.delete(name, ids=[0])
        checked = run_qa("index", "--check", *args, **env)
        assert checked.returncode == 1 and f"collection {name} holds" in checked.stdout
