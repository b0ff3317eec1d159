"""Make the span reader small without making it worse: try int8 variants, keep the smallest
that loses at most one F1 point on the dev documents.

    python -m eval.quantize_span_reader WORK_DIR          # WORK_DIR/model-fp32.onnx in
    python -m eval.quantize_span_reader WORK_DIR --out DIR

Variants (ONNX Runtime dynamic quantization, weights only; activations stay float):

* ``int8``: every MatMul and the embedding table, one scale per tensor;
* ``int8-pc``: the same with one scale per output channel;
* ``int8-pc-rr``: per channel with a 7-bit range (no u8*s8 saturation on AVX2 CPUs);
* ``int8-pc-head``: per channel, the answer head and each layer's output projection in fp32;
* ``int8-embed``: only the embedding table int8, the encoder in fp32.

A variant larger than one already within the rule is not scored (it cannot be chosen).
Each is scored like the trainer scores its export (``eval.span_dev.evaluate``: the
dev documents' questions over their best retrieved passages, the abstention margin chosen at
5 % false abstention). The chosen file is copied to ``DIR/model.onnx`` and the record's
hashes, precision and dev figures are rewritten; ``eval.span_choices`` then makes the
service-level choices on it. Every variant's figures are kept in the record.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path
from typing import Any

from eval.span_data import gold_files, load_split
from eval.span_dev import SHAPE, choose, dev_questions, evaluate, onnx_logits
from qa.reader.span_model import RECORD, sha256_file
from qa.reader.windows import load_tokenizer

MAX_F1_LOSS = 0.01


def plans(fp32: Path) -> dict[str, dict[str, Any]]:
    """``quantize_dynamic`` options of each variant of the export ``fp32``, by name."""
    import onnx

    graph = onnx.load(str(fp32), load_external_data=False).graph
    matmuls = [n.name for n in graph.node if n.op_type == "MatMul"]
    keep = [n for n in matmuls if n.endswith("qa_outputs/MatMul")
            or (n.endswith("output/dense/MatMul") and "attention" not in n)]
    return {
        "int8": {},
        "int8-pc": {"per_channel": True},
        "int8-pc-rr": {"per_channel": True, "reduce_range": True},
        "int8-pc-head": {"per_channel": True, "nodes_to_exclude": keep},
        "int8-embed": {"op_types_to_quantize": ["Gather"]},
    }


def quantize(fp32: Path, out: Path, options: dict[str, Any]) -> Path:
    """``fp32`` with int8 weights by ``options`` (one of ``plans``) into ``out``."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, **options)
    return out


def variants(fp32: Path, work: Path) -> dict[str, Path]:
    """Write each int8 variant of ``fp32`` into ``work``; their paths by name."""
    return {name: quantize(fp32, work / f"model-{name}.onnx", options)
            for name, options in plans(fp32).items()}


def pick(figures: dict[str, dict[str, Any]]) -> str:
    """The smallest file whose dev F1 is within ``MAX_F1_LOSS`` of fp32's (fp32 itself when
    none is); a tie in size goes to the better F1 + abstention recall, the criterion of every
    other choice (``eval.span_choices.criterion``): variants of one size differ in how they
    decline."""
    from eval.span_choices import criterion

    floor = figures["fp32"]["f1"] - MAX_F1_LOSS - 1e-9
    fit = [n for n, f in figures.items() if f["f1"] >= floor]
    return min(fit, key=lambda n: (figures[n]["mb"], -criterion(figures[n])))


def _cannot_win(figures: dict[str, dict[str, Any]], mb: float) -> bool:
    """True when a variant scored already is smaller than ``mb`` and within the rule."""
    best = pick(figures)
    return best != "fp32" and figures[best]["mb"] < round(mb, 1)


def shrink(work: Path, out: Path, threads: int = 2) -> str:
    """Score fp32 and every variant on dev, copy the chosen one to ``out/model.onnx`` and
    rewrite ``out``'s record (hashes, precision, dev figures, every variant's figures)."""
    fp32 = work / "model-fp32.onnx"
    tokenizer = load_tokenizer(out / "tokenizer.json")
    dev = dev_questions([p.stem for p in gold_files(load_split()["dev"])])
    figures: dict[str, dict[str, Any]] = {}
    choices: dict[str, dict[str, Any]] = {}
    paths = {"fp32": fp32, **variants(fp32, work)}
    for name, path in paths.items():
        if name != "fp32" and _cannot_win(figures, os.path.getsize(path) / 1e6):
            print(name, "not scored: a smaller variant is already within the rule", flush=True)
            continue
        rows = evaluate(onnx_logits(path, threads), tokenizer, dev, SHAPE)
        choices[name] = choose(rows)
        figures[name] = {**choices[name]["dev"], "mb": round(os.path.getsize(path) / 1e6, 1)}
        print(name, json.dumps(figures[name]), flush=True)
    chosen = pick(figures)
    shutil.copyfile(paths[chosen], out / "model.onnx")
    record_path = out / RECORD
    record = json.loads(record_path.read_text("utf-8"))
    record.pop("dev_other_precision", None)
    record.update(choices[chosen])
    record["files"]["model.onnx"] = sha256_file(out / "model.onnx")
    record["precision"] = chosen
    record["quantization"] = {
        "rule": f"the smallest variant within {MAX_F1_LOSS:.2f} F1 of fp32 on the dev "
                "documents (eval.quantize_span_reader)",
        "variants": figures,
    }
    record_path.write_text(json.dumps(record, indent=1) + "\n", "utf-8")
    print(f"chose {chosen} ({figures[chosen]['mb']} MB) into {out}", flush=True)
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.quantize_span_reader")
    parser.add_argument("work", type=Path, help="folder with model-fp32.onnx")
    parser.add_argument("--out", type=Path, default=None,
                        help="model folder to rewrite (default WORK/model)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    shrink(args.work, args.out or args.work / "model", args.threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
