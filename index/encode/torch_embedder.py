"""The default model on torch through sentence-transformers: the reference the ONNX
embeddings are checked against, and the torch floor of the benchmark (not used by the tool)."""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

from index.encode.base import DEFAULT_MODEL, resolve_model_path


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
