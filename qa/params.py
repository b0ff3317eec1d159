"""Answer parameters: defaults, overridden by the calibration file ``qa/calibration.json``
that ``qa eval --calibrate`` writes from the dev split."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from index.errors import ConfigError
from qa.answerer import CONFIDENCE_FEATURES, AnswerParams

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


def load_params(path: Path | None = None, threshold: float | None = None) -> AnswerParams:
    """Answer parameters from the calibration file (if present), threshold optionally forced.

    Args:
        path: calibration JSON; defaults to the file shipped beside this module.
        threshold: an abstention threshold that overrides the calibrated one.
    """
    source = path or CALIBRATION_FILE
    values: dict[str, Any] = {}
    if source.is_file():
        raw = json.loads(source.read_text("utf-8"))
        known = {f.name for f in fields(AnswerParams)}
        values = {k: v for k, v in raw.get("params", {}).items() if k in known}
        if "confidence_weights" in values:
            values["confidence_weights"] = tuple(values["confidence_weights"])
            if len(values["confidence_weights"]) != len(CONFIDENCE_FEATURES):
                raise ConfigError(
                    f"{source} has {len(values['confidence_weights'])} confidence weights for "
                    f"{len(CONFIDENCE_FEATURES)} features; refit with: python -m eval.confidence"
                )
    if threshold is not None:
        values["threshold"] = threshold
    return AnswerParams(**values)


def save_params(params: AnswerParams, report: dict[str, Any], path: Path | None = None) -> Path:
    """Write calibrated parameters with the dev figures that justified them."""
    target = path or CALIBRATION_FILE
    target.write_text(
        json.dumps({"params": asdict(params), "dev": report}, indent=2) + "\n", "utf-8"
    )
    return target
