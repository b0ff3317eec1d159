"""Write a trained span reader: the ONNX export, its dev figures and the model folder.

``export`` turns a PyTorch question-answering model into ONNX; ``write_model`` exports it,
scores it on the dev documents, writes the folder (model, tokenizer, record with the dev
choices, the training settings and the data hashes) and lets ``eval.quantize_span_reader``
keep the smallest export within one F1 point. The trainer, the distiller and the weight
averager all finish here. torch is imported inside, never on the query path.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from eval.span_data import file_hashes, gold_files, load_split
from eval.span_dev import SHAPE, choose, dev_questions, evaluate, onnx_logits
from qa.reader.span_model import RECORD, sha256_file

WHAT = "MiniLM-L6 (all-MiniLM-L6-v2 weights) fine-tuned as an extractive span reader"


def export(model: Any, out: Path) -> None:
    """The model as ONNX (``start_logits``, ``end_logits``), batch and length dynamic, with
    the eager attention: an additive mask. torch's SDPA attention exports its mask as
    ``Where`` + ``IsNaN`` over every score, 16 % of an int8 run on this 2-core machine; the
    eager graph's int8 file is ~1.2x faster, with the same weights."""
    import warnings

    import torch

    before = model.config._attn_implementation
    model.set_attn_implementation("eager")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = tuple(torch.ones((2, 16), dtype=torch.long) for _ in names)

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, ids: Any, mask: Any, types: Any) -> tuple[Any, Any]:
            o = self.inner(input_ids=ids, attention_mask=mask, token_type_ids=types)
            return o.start_logits, o.end_logits

    axes = {n: {0: "batch", 1: "tokens"} for n in (*names, "start_logits", "end_logits")}
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(Wrapped(), sample, str(out), input_names=names,
                              output_names=["start_logits", "end_logits"], dynamic_axes=axes,
                              opset_version=17, dynamo=False)
    finally:  # the caller's model keeps its own attention
        model.set_attn_implementation(before)


def write_model(model: Any, tokenizer: Any, base: Path, work: Path, target: Path, *, threads: int,
                quantize: bool, training: dict[str, Any], train_hashes: dict[str, str],
                what: str = WHAT) -> str:
    """Export ``model`` to ``work`` as fp32, score it on the dev documents, write ``target``
    (model, tokenizer, record with the dev choices, ``training`` and the data hashes), then
    unless told otherwise let ``eval.quantize_span_reader`` keep the smallest export within
    one F1 point. Returns the precision written."""
    from eval.quantize_span_reader import shrink

    dev_files = gold_files(load_split()["dev"])
    fp32 = work / "model-fp32.onnx"
    export(model, fp32)
    rows = evaluate(onnx_logits(fp32, threads), tokenizer,
                    dev_questions([p.stem for p in dev_files]), SHAPE)
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(fp32, target / "model.onnx")
    shutil.copyfile(base / "tokenizer.json", target / "tokenizer.json")
    record = {
        "what": what,
        "files": {n: sha256_file(target / n) for n in ("model.onnx", "tokenizer.json")},
        "precision": "fp32",
        "shape": {"max_length": SHAPE.max_length, "stride": SHAPE.stride,
                  "max_answer_tokens": SHAPE.max_answer_tokens},
        **choose(rows),
        "training": training,
        "data": {"train": train_hashes, "dev": file_hashes(dev_files)},
    }
    (target / RECORD).write_text(json.dumps(record, indent=1) + "\n", "utf-8")
    (work / "dev-rows.json").write_text(json.dumps(rows, indent=0) + "\n", "utf-8")
    return str(shrink(work, target, threads)) if quantize else "fp32"
