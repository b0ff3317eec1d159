"""Synthetic data for the scale benchmark: clustered unit vectors and Zipfian token docs.

Real sentence embeddings are not uniform on the sphere: they share a common direction,
fall into topics, and most of their variance lies in a few dozen directions. The
generator imitates that (a shared mean, cluster centres, noise whose variance decays
over the dimensions) so that approximate search is neither trivial (well-separated
blobs) nor hopeless (isotropic noise, where no index beats a scan).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class VectorSpec:
    """Shape of the synthetic vector cloud.

    Attributes:
        dim: dimensions (384, as all-MiniLM-L6-v2).
        per_cluster: average points per cluster (topics grow with the corpus).
        shared: weight of the direction every vector shares.
        spread: noise scale around a cluster centre.
        decay: noise variance of dimension j falls as (j + 1) ** -decay.
        seed: random seed; the same spec gives the same vectors.
    """

    dim: int = 384
    per_cluster: int = 100
    shared: float = 0.35
    spread: float = 1.2
    decay: float = 1.0
    seed: int = 0


class ClusteredVectors:
    """Draws clustered unit vectors: a corpus of ``count`` rows and queries like it."""

    def __init__(self, count: int, spec: VectorSpec | None = None) -> None:
        self.spec = spec or VectorSpec()
        self.count = count
        s = self.spec
        rng = np.random.default_rng(s.seed)
        self._scale = ((np.arange(s.dim) + 1.0) ** (-s.decay / 2)).astype(np.float32)
        self._scale /= np.sqrt((self._scale**2).sum())
        basis = rng.standard_normal((s.dim, s.dim)).astype(np.float32)
        self._rotation, _ = np.linalg.qr(basis)  # the decaying axes, randomly oriented
        mean = rng.standard_normal(s.dim).astype(np.float32)
        mean /= np.linalg.norm(mean)
        clusters = max(1, count // s.per_cluster)
        centres = self._noise(rng, clusters) + s.shared * mean
        self._centres = centres / np.linalg.norm(centres, axis=1, keepdims=True)

    def _noise(self, rng: np.random.Generator, rows: int) -> np.ndarray:
        z = rng.standard_normal((rows, self.spec.dim), dtype=np.float32) * self._scale
        out: np.ndarray = z @ self._rotation.T
        return out

    def _draw(self, rng: np.random.Generator, rows: int) -> np.ndarray:
        which = rng.integers(0, len(self._centres), rows)
        x = self._centres[which] + self.spec.spread * self._noise(rng, rows)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return np.ascontiguousarray(x, dtype=np.float32)

    def batches(self, batch: int = 100_000) -> Iterator[np.ndarray]:
        """The corpus in row batches (the same rows on every call)."""
        rng = np.random.default_rng(self.spec.seed + 1)
        for start in range(0, self.count, batch):
            yield self._draw(rng, min(batch, self.count - start))

    def corpus(self) -> np.ndarray:
        """All ``count`` rows as one (count, dim) float32 array."""
        out = np.empty((self.count, self.spec.dim), dtype=np.float32)
        row = 0
        for part in self.batches():
            out[row : row + len(part)] = part
            row += len(part)
        return out

    def queries(self, count: int) -> np.ndarray:
        """New points from the same clusters (not corpus rows), as questions would be."""
        return self._draw(np.random.default_rng(self.spec.seed + 2), count)


def neighbour_profile(vectors: np.ndarray, sample: int = 500, seed: int = 0) -> dict[str, float]:
    """Mean cosine of random pairs, of the nearest and of the 10th nearest neighbour.

    Used to compare the synthetic cloud with real embeddings of the chapter.
    """
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(vectors), min(sample, len(vectors)), replace=False)
    sims = vectors[rows] @ vectors.T
    sims[np.arange(len(rows)), rows] = -np.inf  # not itself
    top = -np.sort(-sims, axis=1)
    pairs = sims[np.isfinite(sims)]
    tenth = top[:, min(9, top.shape[1] - 1)]
    return {
        "pair": round(float(pairs.mean()), 3),
        "top1": round(float(top[:, 0].mean()), 3),
        "top10": round(float(tenth.mean()), 3),
    }


def zipf_token_docs(
    count: int, vocab: int = 50_000, length: int = 60, exponent: float = 1.1, seed: int = 0
) -> tuple[list[np.ndarray], dict[str, int]]:
    """Documents as token-id arrays drawn from a Zipfian vocabulary, for BM25 at scale.

    Args:
        count: documents.
        vocab: vocabulary size; word ``w<rank>`` has id ``rank``.
        length: mean document length in tokens (lengths vary +-50 %); a 200-token chunk
            keeps about 60-90 stemmed content words.
        exponent: Zipf exponent (about 1 for English).
        seed: random seed.

    Returns:
        (one int32 id array per document, word -> id), as bm25s ``Tokenized`` takes them.
    """
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, vocab + 1) ** exponent
    cdf = np.cumsum(weights / weights.sum())
    lengths = rng.integers(length // 2, length + length // 2 + 1, count)
    ids = np.minimum(np.searchsorted(cdf, rng.random(int(lengths.sum()))), vocab - 1)
    docs = np.split(ids.astype(np.int32), np.cumsum(lengths)[:-1])
    return docs, {f"w{i}": i for i in range(vocab)}


def zipf_queries(count: int, vocab: int = 50_000, terms: int = 6, seed: int = 1) -> list[list[str]]:
    """Queries of mid-frequency words (ranks 50 to vocab/10), like a question's content words."""
    rng = np.random.default_rng(seed)
    return [[f"w{i}" for i in rng.integers(50, vocab // 10, terms)] for _ in range(count)]
