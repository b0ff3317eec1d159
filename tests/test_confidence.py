"""The confidence fit: a logistic model over the answer features, some of them dropped."""

from __future__ import annotations

import numpy as np
import pytest

from eval.confidence import fit_weights, main


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    good = rng.normal(0.8, 0.1, size=(40, 1))
    bad = rng.normal(0.3, 0.1, size=(40, 1))
    noise = rng.normal(0.0, 1.0, size=(80, 1))
    features = np.hstack([np.ones((80, 1)), np.vstack([good, bad]), noise])
    labels = np.array([1.0] * 40 + [0.0] * 40)
    return features, labels


def test_fit_separates_and_kept_features_only() -> None:
    features, labels = _data()
    weights = fit_weights(features, labels, l2=0.1)
    scores = features @ weights
    assert scores[:40].mean() > scores[40:].mean() and weights[1] > 0
    kept = fit_weights(features, labels, l2=0.1, keep=np.array([True, True, False]))
    assert kept[2] == 0.0 and kept[1] > 0


@pytest.mark.parametrize("drop", ["nonsense", "bias"])
def test_unknown_or_bias_feature_cannot_be_dropped(drop: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--drop", drop])
    assert exit_info.value.code == 2
    assert "cannot drop" in capsys.readouterr().err
