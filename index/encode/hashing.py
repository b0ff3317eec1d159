"""A deterministic bag-of-words embedder (feature hashing) for fast tests and crash drills."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import numpy as np

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
