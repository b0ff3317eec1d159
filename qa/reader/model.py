"""The ranker's and the confidence's linear models, stored as plain JSON.

Both are logistic regressions fitted by ``python -m eval.train_reader`` on the dev splits;
applying them needs only NumPy (no scikit-learn on the query path).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import ConfigError

MODEL_FILE = Path(__file__).with_name("model.json")


@dataclass(frozen=True)
class Logistic:
    """A standardised logistic model: ``sigmoid(((x - mean) / scale) . coef + intercept)``."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Decision values of rows ``x`` (shape ``(n, len(features))``)."""
        return np.asarray(((x - self.mean) / self.scale) @ self.coef + self.intercept)

    def proba(self, x: np.ndarray) -> np.ndarray:
        """Probabilities of rows ``x``."""
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(self.logits(x), -50, 50))))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"features": list(self.features), "mean": self.mean.round(6).tolist(),
                "scale": self.scale.round(6).tolist(), "coef": self.coef.round(6).tolist(),
                "intercept": round(float(self.intercept), 6)}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Logistic:
        """The inverse of ``to_dict``."""
        model = cls(tuple(raw["features"]), np.asarray(raw["mean"], dtype=np.float64),
                    np.asarray(raw["scale"], dtype=np.float64),
                    np.asarray(raw["coef"], dtype=np.float64), float(raw["intercept"]))
        if not len(model.features) == len(model.mean) == len(model.scale) == len(model.coef):
            raise ValueError("feature, mean, scale and coef lengths differ")
        return model


    @classmethod
    def zero(cls, features: tuple[str, ...]) -> Logistic:
        """A model that scores every row 0 (what training starts from)."""
        n = len(features)
        return cls(features, np.zeros(n), np.ones(n), np.zeros(n), 0.0)


@dataclass(frozen=True)
class ReaderModel:
    """The span ranker, the confidence model over the top span, the abstention threshold."""

    ranker: Logistic
    confidence: Logistic
    threshold: float

    @classmethod
    def untrained(cls, ranker: tuple[str, ...], confidence: tuple[str, ...]) -> ReaderModel:
        """Zero models that never abstain: the reader as the trainer first runs it."""
        return cls(Logistic.zero(ranker), Logistic.zero(confidence), 0.0)


def load_model(path: Path | None = None, threshold: float | None = None,
               expected: tuple[str, ...] = ()) -> ReaderModel:
    """The reader's models from their JSON file.

    Args:
        path: the model file (default: ``qa/reader/model.json``).
        threshold: an abstention threshold overriding the fitted one.
        expected: the ranker features the code computes; a file fitted on others is refused.

    Raises:
        ConfigError: the file is missing, malformed or fitted on other features.
    """
    source = path or MODEL_FILE
    refit = "refit with: python -m eval.train_reader"
    try:
        raw = json.loads(source.read_text("utf-8"))
        model = ReaderModel(Logistic.from_dict(raw["ranker"]), Logistic.from_dict(raw["confidence"]),
                            float(raw["threshold"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"reader model {source} cannot be read ({exc}); {refit}") from exc
    if expected and model.ranker.features != expected:
        raise ConfigError(f"reader model {source} was fitted on other features; {refit}")
    if threshold is not None:
        model = ReaderModel(model.ranker, model.confidence, threshold)
    return model


def save_model(model: ReaderModel, note: str, path: Path | None = None) -> Path:
    """Write the models with a one-line note on how they were fitted (the figures behind
    them are kept by the trainer, outside the package)."""
    target = path or MODEL_FILE
    payload = {"ranker": model.ranker.to_dict(), "confidence": model.confidence.to_dict(),
               "threshold": round(model.threshold, 6), "fitted": note}
    target.write_text(json.dumps(payload, indent=1) + "\n", "utf-8")
    return target
