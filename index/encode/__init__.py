"""Stage 3 of the build and of every query: texts into unit vectors.

``base`` holds the ``Embedder`` interface and the default model; ``onnx_embedder`` runs a
sentence-transformers model on ONNX Runtime from an export that ``onnx_export`` makes once
(the only module that imports torch); ``torch_embedder`` is the torch reference and
``hashing`` the deterministic fake; ``embed_cache`` keeps embeddings in the build cache.
``make_embedder`` picks the embedder for a model setting.
"""

from __future__ import annotations

import re

from index.encode.base import Embedder
from index.encode.hashing import HashingEmbedder


def make_embedder(name: str, threads: int = 1) -> Embedder:
    """The embedder for a model setting: ``hashing-<dim>`` gives the deterministic fake
    (for tests and crash drills), anything else a sentence-transformers model (a name or
    a folder) exported to ONNX and run on ONNX Runtime with ``threads`` threads."""
    match = re.fullmatch(r"hashing-(\d+)", name)
    if match:
        return HashingEmbedder(dim=int(match.group(1)))
    from index.encode.onnx_embedder import OnnxEmbedder

    return OnnxEmbedder(name, threads=threads)
