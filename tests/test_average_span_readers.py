"""eval.average_span_readers: the weight mean of readers trained from the same start."""

from __future__ import annotations

import pytest
import torch

from eval.average_span_readers import average_states


def test_mean_of_float_weights_and_shared_integer_buffers() -> None:
    ids = torch.arange(4)
    a = {"w": torch.tensor([1.0, 2.0]), "ids": ids.clone()}
    b = {"w": torch.tensor([3.0, 6.0]), "ids": ids.clone()}
    mean = average_states([a, b])
    assert torch.equal(mean["w"], torch.tensor([2.0, 4.0])) and mean["w"].dtype == torch.float32
    assert torch.equal(mean["ids"], ids)


def test_checkpoints_that_do_not_match_are_refused() -> None:
    with pytest.raises(ValueError, match="different parameters"):
        average_states([{"w": torch.zeros(2)}, {"v": torch.zeros(2)}])
    with pytest.raises(ValueError, match="buffer ids"):
        average_states([{"ids": torch.arange(3)}, {"ids": torch.arange(1, 4)}])
