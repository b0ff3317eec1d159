"""What the engine holds against what the manifest says (Milvus versions only)."""

from __future__ import annotations

from typing import Any

from index.errors import ConfigError, CorruptIndex, EngineDamaged
from index.search.milvus import connect
from index.search.milvus_backend import MilvusBackend
from index.search.milvus_store import engine_checksum, engine_count
from index.search.milvus_target import MilvusTarget, shown_uri
from index.store import REBUILD_HINT, backend_name


def _entry(manifest: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = manifest.get("backend", {})
    return entry


def open_engine(manifest: dict[str, Any], engine: MilvusTarget | None) -> MilvusBackend:
    """The backend of a Milvus version, its collection checked to exist.

    Raises:
        ConfigError: no Milvus target is configured.
        CorruptIndex: the engine has no such collection.
        BackendUnavailable: the engine cannot be reached.
    """
    if engine is None:
        raise ConfigError("this index lives in Milvus: set QA_BACKEND=milvus and QA_MILVUS_URI")
    name = str(_entry(manifest).get("collection", ""))
    backend = MilvusBackend(engine, name)
    if engine_count(backend.client, engine, name) < 0:
        raise CorruptIndex(f"Milvus at {engine.shown} has no collection {name}; {REBUILD_HINT}")
    return backend


def check_engine(manifest: dict[str, Any], engine: MilvusTarget | None,
                 verify: bool) -> list[str]:
    """Reasons a Milvus version does not match its engine (empty when it does).

    The count is always compared; with ``verify`` every row is read back and its
    SHA-256 compared with the one recorded at build time. A damaged Milvus Lite database
    is a reason, like a damaged index file. URIs are compared and shown without their
    credentials (a new password does not make the index stale).

    Raises:
        BackendUnavailable: the engine cannot be reached.
        EngineLocked: another process holds the Milvus Lite database.
    """
    if backend_name(manifest) != "milvus":
        return []
    entry = _entry(manifest)
    if engine is None:
        return ["the index lives in Milvus but QA_BACKEND is not milvus"]
    built_uri = shown_uri(str(entry.get("uri")))
    if built_uri != engine.shown:
        return [f"Milvus URI changed: {built_uri!r} -> {engine.shown!r}"]
    try:
        return _compare(manifest, engine, verify)
    except EngineDamaged as exc:
        return [str(exc)]


def _compare(manifest: dict[str, Any], engine: MilvusTarget, verify: bool) -> list[str]:
    entry = _entry(manifest)
    client = connect(engine)
    name = str(entry.get("collection"))
    held = engine_count(client, engine, name)
    if held < 0:
        return [f"collection {name} is missing from Milvus"]
    if held != entry.get("count"):
        return [f"collection {name} holds {held} passages; the manifest says {entry.get('count')}"]
    if verify and engine_checksum(client, engine, name, held) != entry.get("checksum"):
        return [f"collection {name} differs from the manifest (checksum mismatch)"]
    return []
