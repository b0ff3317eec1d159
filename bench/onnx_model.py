"""ONNX variants for bench/variants.py: an int8 copy of the tool's ONNX export.

The fp32 export and the encoder itself are the tool's own (``index.encode.onnx_export``,
``index.encode.onnx_embedder``); this adds only dynamic int8 quantization of the weights
(activations stay float), in a sibling folder of the export with the same tokenizer.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def int8_export(folder: Path) -> Path:
    """``<folder>-int8``: the export with its weights quantized to int8, made once."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = folder.with_name(folder.name + "-int8")
    if (target / "encoder.json").is_file():
        return target
    staging = folder.with_name(f"{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in ("tokenizer.json", "encoder.json"):
        shutil.copy2(folder / name, staging / name)
    quantize_dynamic(str(folder / "model.onnx"), str(staging / "model.onnx"),
                     weight_type=QuantType.QInt8)
    os.replace(staging, target)
    return target
