"""Chunk and sentence embeddings through the build cache, keyed by (text, model).

The cache space is a digest of the model: its name, the encoder record (the ONNX and
tokenizer files' checksums) and its token limit. Within it, one entry per document
(named by a digest of its id) holds the SHA-256 of each of its texts and their vectors.
A rebuild looks every text up by its hash in the entry of its document -- a changed
document finds its unchanged sentences there -- embeds only the texts not found, and
rewrites the entries of the documents that had any. A text's vector does not depend on
the texts embedded with it (the encoder is batch-independent, which the identity test
of ``tests/test_incremental.py`` checks), so the result equals a full build's.
"""

from __future__ import annotations

import hashlib
import json
import struct
import sys
from collections.abc import Sequence

import numpy as np

from index.cache import BuildCache, changed_packs, digest_of, read_packs
from index.encode.base import Embedder

_SLICE = 256  # texts per call to the embedder, so the progress bar moves
_HEAD = struct.Struct("<QQ")  # rows, dim


def model_space(embedder: Embedder) -> str:
    """The cache space of one model's embeddings."""
    record = json.dumps(embedder.encoder(), sort_keys=True)
    return digest_of("embed", embedder.name, record, str(embedder.max_tokens))


def text_key(text: str) -> bytes:
    """The raw SHA-256 a text is found by."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def embed_cached(
    cache: BuildCache, embedder: Embedder, texts: Sequence[str], owners: Sequence[str],
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Embed texts, reusing the vectors the cache holds.

    Args:
        cache: the build cache (when off, every text is embedded).
        embedder: the model.
        texts: the texts, in the order of the rows returned.
        owners: the document each text belongs to (whose cache entry holds it).
        progress: show a progress bar counting the texts embedded.

    Returns:
        (the vectors, one unit row per text; a boolean per text: embedded now).
    """
    keys = [text_key(t) for t in texts]
    space = model_space(embedder) if cache.enabled else ""
    known, stored = read_packs(owners, lambda o: _read_pack(cache, space, o, embedder.dim))
    missing = list(dict.fromkeys(k for k in keys if k not in known))
    first_text = {k: t for k, t in zip(keys, texts, strict=True)}
    fresh = _embed(embedder, [first_text[k] for k in missing], progress)
    known.update(zip(missing, fresh, strict=True))
    cache.computed["embed"] += len(missing)
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for row, key in enumerate(keys):
        out[row] = known[key]
    if cache.enabled:
        _write_packs(cache, space, keys, owners, stored, known)
    missing_set = set(missing)
    return out, np.array([k in missing_set for k in keys], dtype=bool)


def _embed(embedder: Embedder, texts: list[str], progress: bool) -> np.ndarray:
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    bar = None
    if progress and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=len(texts), desc="embedding", unit="text", leave=False)
    parts = []
    for start in range(0, len(texts), _SLICE):
        parts.append(embedder.embed(texts[start : start + _SLICE]))
        if bar is not None:
            bar.update(len(parts[-1]))
    if bar is not None:
        bar.close()
    return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)


def _read_pack(cache: BuildCache, space: str, owner: str, dim: int) -> dict[bytes, np.ndarray]:
    payload = cache.get("embed", space, digest_of(owner)) if cache.enabled else None
    if payload is None or len(payload) < _HEAD.size:
        return {}
    rows, width = _HEAD.unpack_from(payload)
    if width != dim or len(payload) != _HEAD.size + rows * (32 + 4 * dim):
        return {}  # checksummed but not this layout: ignored, and rewritten
    keys_end = _HEAD.size + 32 * rows
    vectors = np.frombuffer(payload, dtype="<f4", offset=keys_end).reshape(rows, dim)
    return {payload[i : i + 32]: vectors[n]
            for n, i in enumerate(range(_HEAD.size, keys_end, 32))}


def _write_packs(
    cache: BuildCache, space: str, keys: list[bytes], owners: Sequence[str],
    stored: dict[str, set[bytes]], known: dict[bytes, np.ndarray],
) -> None:
    """Rewrite the entry of each document whose texts differ from what it holds."""
    for owner, ordered in changed_packs(keys, owners, stored).items():
        vectors = np.ascontiguousarray(np.vstack([known[k] for k in ordered]), dtype="<f4")
        payload = _HEAD.pack(len(ordered), vectors.shape[1]) + b"".join(ordered)
        cache.put("embed", space, digest_of(owner), payload + vectors.tobytes())
