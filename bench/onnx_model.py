"""all-MiniLM-L6-v2 through ONNX Runtime, exported locally from the bundled weights.

sentence-transformers' own ``backend="onnx"`` needs ``optimum-onnx``, which pins
transformers below 4.58 (this project has 5.x), so the export is done here with
``torch.onnx.export`` and inference runs on ``onnxruntime`` + ``tokenizers`` directly:
the same tokenizer file, mean pooling over the attention mask and L2 normalisation
that the sentence-transformers pipeline of this model applies (modules.json:
Transformer -> Pooling(mean) -> Normalize). Nothing is downloaded.

Inference imports neither torch nor transformers, which also shortens a cold start.
The module is written to move to ``index/onnx_embedder.py`` unchanged (see the report).
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def export_onnx(model_dir: Path, out: Path, opset: int = 17) -> Path:
    """Export the transformer of a sentence-transformers folder to ONNX (token states).

    Args:
        model_dir: the model folder (config.json, model.safetensors, tokenizer.json).
        out: the .onnx file to write.
        opset: ONNX opset.

    Returns:
        ``out``.
    """
    import torch
    from transformers import AutoModel, AutoTokenizer

    bert = AutoModel.from_pretrained(str(model_dir)).eval()

    class TokenStates(torch.nn.Module):
        """The encoder with positional inputs, returning the token states only."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, ids: Any, mask: Any, types: Any) -> Any:
            out = self.bert(input_ids=ids, attention_mask=mask, token_type_ids=types)
            return out.last_hidden_state

    model = TokenStates()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    sample = tokenizer(["an example sentence", "a second one"], padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "token_states")}
    out.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            model,
            (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
            str(out),
            input_names=list(INPUTS),
            output_names=["token_states"],
            dynamic_axes=axes,
            opset_version=opset,
            dynamo=False,
        )
    return out


def quantize_int8(source: Path, out: Path) -> Path:
    """Dynamic int8 quantization of the ONNX model's weights (activations stay float)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(out), weight_type=QuantType.QInt8)
    return out


def cache_dir() -> Path:
    """Where exported models are kept: ``$XDG_CACHE_HOME/citeqa/onnx`` (or ~/.cache)."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "citeqa" / "onnx"


def cached_onnx(model_dir: Path, int8: bool = False) -> Path:
    """The exported (optionally int8) model of ``model_dir``, exported once per weights.

    The folder is named by the checksum of the weights, so other weights never reuse it;
    a file is written under a temporary name and renamed, so a reader never sees half.
    """
    digest = hashlib.sha256((model_dir / "model.safetensors").read_bytes()).hexdigest()[:16]
    folder = cache_dir() / digest
    fp32 = folder / "model.onnx"
    if not fp32.exists():
        partial = folder / f"model.{os.getpid()}.tmp.onnx"
        export_onnx(model_dir, partial)
        os.replace(partial, fp32)
    if not int8:
        return fp32
    quantized = folder / "model-int8.onnx"
    if not quantized.exists():
        partial = folder / f"model-int8.{os.getpid()}.tmp.onnx"
        quantize_int8(fp32, partial)
        os.replace(partial, quantized)
    return quantized


class OnnxEmbedder:
    """The Embedder interface over an exported ONNX model, loaded on first use.

    Args:
        model_dir: the sentence-transformers folder (default: the bundled weights of
            ``name``).
        onnx_path: the exported model (default: exported once into ``cache_dir()``).
        threads: ONNX Runtime intra-op threads.
        max_tokens: the model's sequence limit (256 for all-MiniLM-L6-v2).
        batch_size: texts per forward pass.
        name: the model name recorded in the index manifest.
    """

    def __init__(
        self,
        model_dir: Path | None = None,
        onnx_path: Path | None = None,
        threads: int = 1,
        max_tokens: int = 256,
        batch_size: int = 32,
        name: str = "all-MiniLM-L6-v2",
    ) -> None:
        if threads < 1 or batch_size < 1:
            raise ValueError("threads and batch_size must be at least 1")
        self.name = name
        self.threads = threads
        self.batch_size = batch_size
        self._max_tokens = max_tokens
        self._model_dir = model_dir
        self._onnx_path = onnx_path
        self._loaded: tuple[Any, Any, Any] | None = None
        self._dim: int | None = None
        self._lock = threading.Lock()

    def _parts(self) -> tuple[Any, Any, Any]:
        """(token counter, batch tokenizer, session), created once, thread-safely."""
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = self._load()
        return self._loaded

    def _load(self) -> tuple[Any, Any, Any]:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from index.embedder import resolve_model_path

        model_dir = self._model_dir or Path(resolve_model_path(self.name))
        onnx_path = self._onnx_path or cached_onnx(model_dir)
        counter = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        counter.no_truncation()
        counter.no_padding()
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=self._max_tokens)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        return counter, tokenizer, session

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self._forward(["dimension probe"]).shape[1])
        return self._dim

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def count_tokens(self, text: str) -> int:
        return len(self._parts()[0].encode(text).ids)

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths together
        parts = []
        for start in range(0, len(texts), self.batch_size):
            batch = [texts[i] for i in order[start : start + self.batch_size]]
            parts.append(self._forward(batch))
        out = np.concatenate(parts)
        result = np.empty_like(out)
        result[order] = out
        return result

    def _forward(self, batch: list[str]) -> np.ndarray:
        _, tokenizer, session = self._parts()
        encoded = tokenizer.encode_batch(batch)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        types = np.array([e.type_ids for e in encoded], dtype=np.int64)
        (states,) = session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        )
        weights = mask[:, :, None].astype(np.float32)
        pooled = (states * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(pooled, dtype=np.float32)
