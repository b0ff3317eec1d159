"""The embedder of the tool: a sentence-transformers model run on ONNX Runtime.

The model is exported to ONNX once (``index.encode.onnx_export``, which needs torch) into a cache
folder named by the model and a checksum of its files: ``$XDG_CACHE_HOME/citeqa/encoders``
(``~/.cache/citeqa/encoders``). A build records the export it used in the index manifest
(folder and SHA-256 of the ONNX and tokenizer files); a query process loads exactly that
export, checks both checksums, and imports neither torch nor sentence-transformers nor
transformers. Tokenisation (``tokenizers``), pooling (mean over the attention mask, or the
CLS token) and L2 normalisation are done as sentence-transformers does them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import CorruptIndex

ENCODER_FORMAT = "onnx-1"  # recorded in the index settings: other encoders make it stale
_PROGRESS_MIN_TEXTS = 512  # a progress bar only for builds long enough to need one


def cache_root() -> Path:
    """Where exports are kept (``$XDG_CACHE_HOME/citeqa/encoders`` or ``~/.cache/...``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "citeqa" / "encoders"


@dataclass(frozen=True)
class _Encoder:
    """A loaded export: its session, tokenizers, settings and manifest record."""

    session: Any
    tokenizer: Any  # pads and truncates, for embedding
    counter: Any  # neither, for counting tokens
    meta: dict[str, Any]
    record: dict[str, Any]


class OnnxEmbedder:
    """The Embedder interface over an exported model, loaded on first use or on ``bind``.

    Args:
        name: the model (``all-MiniLM-L6-v2``: the bundled weights; or any
            sentence-transformers name or folder), recorded in the manifest.
        threads: ONNX Runtime intra-op threads per encode.
        batch_size: texts per forward pass.
        cache: the export cache (default ``cache_root()``).
        export: an export folder to use instead of the cached export of ``name`` (the
            benchmark's variants, e.g. a quantized copy).
    """

    def __init__(
        self,
        name: str,
        threads: int = 1,
        batch_size: int = 32,
        cache: Path | None = None,
        export: Path | None = None,
    ) -> None:
        if threads < 1 or batch_size < 1:
            raise ValueError("threads and batch_size must be at least 1")
        self.name = name
        self.threads = threads
        self.batch_size = batch_size
        self.cache = cache or cache_root()
        self.export = export
        self._encoder: _Encoder | None = None
        self._lock = threading.Lock()

    # -- which export -------------------------------------------------------------------

    def encoder(self) -> dict[str, Any]:
        """The manifest record of the export in use (exporting it first if needed)."""
        return self._loaded().record

    def bind(self, record: dict[str, Any] | None) -> None:
        """Use the export an index was built with (from its manifest), checksums checked.

        Raises:
            CorruptIndex: the export is gone and a new one differs from the recorded one.
        """
        if not record or record.get("format") != ENCODER_FORMAT:
            return  # built by another embedder: this one's own export is used
        with self._lock:
            if self._encoder is not None and self._encoder.record == record:
                return
            folder = self.cache / str(record.get("folder", ""))
            if not (folder / "encoder.json").is_file():
                folder = self._export()
            encoder = self._open(folder)
            if encoder.record != record:
                raise CorruptIndex(
                    f"the ONNX export in {folder} differs from the one the index was built "
                    "with; rebuild with: qa index --force"
                )
            self._encoder = encoder

    def _loaded(self) -> _Encoder:
        if self._encoder is None:
            with self._lock:
                if self._encoder is None:
                    self._encoder = self._open(self.export or self._export())
        return self._encoder

    def _export(self) -> Path:
        """The export folder of this model, exported now if it is not cached."""
        from index.encode.onnx_export import RECIPE, export_model, model_digest, resolve_model_dir

        model_dir = resolve_model_dir(self.name)
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", self.name.lower()).strip("-.")[-60:]
        folder = self.cache / f"{slug}-{model_digest(model_dir)[:16]}-r{RECIPE}"
        if not (folder / "encoder.json").is_file():
            export_model(self.name, model_dir, folder)
        return folder

    def _open(self, folder: Path) -> _Encoder:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model = folder / "model.onnx"
        try:
            meta = json.loads((folder / "encoder.json").read_text("utf-8"))
            vocab = (folder / "tokenizer.json").read_bytes()
            with model.open("rb") as handle:  # streamed: a 90 MB bytes object would add to the peak
                model_sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
        except (OSError, ValueError) as exc:
            raise CorruptIndex(f"the ONNX export in {folder} cannot be read ({exc}); "
                               "delete that folder to export again") from exc
        record = {
            "format": ENCODER_FORMAT,
            "folder": folder.name,
            "onnx_sha256": model_sha256,
            "tokenizer_sha256": hashlib.sha256(vocab).hexdigest(),
        }
        counter = Tokenizer.from_str(vocab.decode("utf-8"))
        counter.no_truncation()
        counter.no_padding()
        tokenizer = Tokenizer.from_str(vocab.decode("utf-8"))
        tokenizer.enable_truncation(max_length=int(meta["max_tokens"]))
        tokenizer.enable_padding(pad_id=int(meta["pad_id"]), pad_token=str(meta["pad_token"]))
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: a query prints nothing of its own
        session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        return _Encoder(session, tokenizer, counter, meta, record)

    # -- the Embedder interface -----------------------------------------------------------

    @property
    def dim(self) -> int:
        return int(self._loaded().meta["dim"])

    @property
    def max_tokens(self) -> int:
        return int(self._loaded().meta["max_tokens"])

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for ``text``, special tokens included."""
        return len(self._loaded().counter.encode(self._prepare_text(text)).ids)

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """Embed texts into float32 rows of unit length (longest first, in batches)."""
        encoder = self._loaded()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")  # like lengths together
        starts = range(0, len(texts), self.batch_size)
        if progress and len(texts) >= _PROGRESS_MIN_TEXTS and sys.stderr.isatty():
            from tqdm import tqdm

            starts = tqdm(starts, desc="embedding", unit="batch", leave=False)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in starts:
            rows = order[start : start + self.batch_size]
            out[rows] = self._forward(encoder, [texts[i] for i in rows])
        return out

    def _prepare_text(self, text: str) -> str:
        # sentence-transformers strips each text (and lower-cases it for do_lower_case models)
        text = text.strip()
        return text.lower() if self._loaded().meta.get("lowercase") else text

    def _forward(self, encoder: _Encoder, batch: list[str]) -> np.ndarray:
        encoded = encoder.tokenizer.encode_batch([self._prepare_text(t) for t in batch])
        columns = {
            "input_ids": [e.ids for e in encoded],
            "attention_mask": [e.attention_mask for e in encoded],
            "token_type_ids": [e.type_ids for e in encoded],
        }
        feed = {n: np.array(columns[n], dtype=np.int64) for n in encoder.meta["inputs"]}
        (hidden,) = encoder.session.run(None, feed)
        if encoder.meta["pooling"] == "cls":
            pooled = hidden[:, 0, :]
        else:
            weights = np.array(columns["attention_mask"], dtype=np.float32)[:, :, None]
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(pooled / norms, dtype=np.float32)
